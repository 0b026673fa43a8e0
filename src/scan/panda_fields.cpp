#include "pandafly/scan/panda_fields.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace pandafly::scan {
namespace {

constexpr double kTickSeconds = 8e-9;  // the FPGA clock: 125 MHz
constexpr std::int64_t kInt32Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();

[[noreturn]] void refuse(const std::string& what) {
  throw std::invalid_argument("fly scan PandA fields: " + what);
}

void check_int32(std::int64_t v, const char* what) {
  if (v < kInt32Min || v > kInt32Max)
    refuse(fmt::format("{} = {} counts is outside the PandA's int32 position range", what, v));
}

// Every value the design's registers hold, checked before anything is formatted.
void check(const TriggerGeometry& g) {
  if (g.step_counts == 0) refuse("step_counts is 0 (triggers need a step)");
  if (g.pulses == 0) refuse("pulses is 0 (PCOMP would fire without end)");
  if (g.pulses > std::numeric_limits<std::uint32_t>::max())
    refuse(fmt::format("pulses = {} exceeds the PandA's uint32 PULSES", g.pulses));
  if (g.pre_start_counts < 0)
    refuse(fmt::format("pre_start_counts = {} is negative", g.pre_start_counts));
  if (!(g.counts_per_degree > 0) || !std::isfinite(g.counts_per_degree))
    refuse(fmt::format("counts_per_degree = {} is not a positive number", g.counts_per_degree));
  if (!(g.exposure_s >= kTickSeconds) || !std::isfinite(g.exposure_s))
    refuse(fmt::format("exposure_s = {} is shorter than one FPGA tick (8 ns)", g.exposure_s));
  if (g.frame_time_s > 0 && !(g.exposure_s < g.frame_time_s))
    refuse(fmt::format("exposure_s = {} is not shorter than frame_time_s = {}", g.exposure_s,
                       g.frame_time_s));
  check_int32(g.step_counts, "step_counts");
  check_int32(g.first_counts, "first_counts");
  // Last trigger and pre-start point, in 128-bit-safe steps: |step| < 2^31,
  // pulses < 2^32, so (pulses - 1)·step fits in int64.
  const std::int64_t last =
      g.first_counts + static_cast<std::int64_t>(g.pulses - 1) * g.step_counts;
  check_int32(last, "the last trigger (first_counts + (pulses-1)·step_counts)");
  const std::int64_t pre =
      g.step_counts > 0 ? g.first_counts - g.pre_start_counts : g.first_counts + g.pre_start_counts;
  check_int32(pre, "the pre-start point (first_counts ∓ pre_start_counts)");
}

// A decimal without exponent (the control port's time fields), nanosecond
// resolution, trailing zeros dropped: 0.01 → "0.01", 2 → "2".
std::string decimal(double v) {
  std::string s = fmt::format("{:.9f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

PandaFields fly_panda_fields(const TriggerGeometry& g, const FlyPandaWiring& w) {
  check(g);
  const std::int64_t step = g.step_counts > 0 ? g.step_counts : -g.step_counts;
  const std::string val = w.encoder + ".VAL.";
  const std::string& cmp = w.compare;
  // fmt's "{}" is the shortest text that reads back to the same double.
  return {
      {val + "SCALE", fmt::format("{}", 1.0 / g.counts_per_degree)},
      {val + "OFFSET",
       fmt::format("{}", static_cast<double>(-g.offset_counts) / g.counts_per_degree)},
      {val + "UNITS", "deg"},
      {cmp + ".PRE_START", fmt::format("{}", g.pre_start_counts)},
      {cmp + ".START", fmt::format("{}", g.first_counts)},
      {cmp + ".STEP", fmt::format("{}", step)},
      {cmp + ".WIDTH", fmt::format("{}", step / 2 > 0 ? step / 2 : 1)},
      {cmp + ".PULSES", fmt::format("{}", g.pulses)},
      {cmp + ".DIR", g.step_counts > 0 ? "Positive" : "Negative"},
      {w.exposure + ".WIDTH.UNITS", "s"},
      {w.exposure + ".WIDTH", decimal(g.exposure_s)},
  };
}

}  // namespace pandafly::scan
