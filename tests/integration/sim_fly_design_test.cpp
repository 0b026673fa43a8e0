// panda/flyscan.sav with the fields scan::fly_panda_fields() puts, on the
// simulated PandA (its FPGA on a fast virtual clock) over 127.0.0.1: one row
// per exposure including the last, the encoder's Min/Max/Mean over exactly that
// exposure and the gate's time stamps, all against values computed from the
// TriggerGeometry alone; the acquisition ends by itself with END Ok. Also shows
// why the design holds PCAP.ENABLE past PCOMP1.ACTIVE (LUT1) and delays it
// (PCAP.ENABLE.DELAY): without either, the last exposure's row is lost.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"
#include "pandafly/scan/panda_fields.hpp"
#include "sim/panda/fpga/motion.hpp"
#include "sim_fixture.hpp"

using namespace std::chrono_literals;
namespace panda = pandafly::panda;
namespace scan = pandafly::scan;
namespace sim = pandafly::sim;
using sim::fpga::kTicksPerSecond;

namespace {

struct Rows {
  std::map<std::string, std::vector<double>> columns;  // "INENC1.VAL.Mean" → values
  std::optional<panda::EndData> end;
};

std::vector<double> as_doubles(const panda::ColumnValues& values) {
  return std::visit(
      [](const auto& column) {
        std::vector<double> out;
        for (const auto& v : column)
          if constexpr (std::is_arithmetic_v<std::decay_t<decltype(v)>>)
            out.push_back(static_cast<double>(v));
        return out;
      },
      values);
}

/// Loads the design, puts `extra` then the geometry's fields, arms, turns the
/// encoder through the scan at the geometry's speed and reads one acquisition
/// to its END (never disarming: it must end by itself; 20 s idle = failure).
Rows run_scan(const scan::TriggerGeometry& g,
              const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  pandafly::test::Simulator box({.fpga = true, .design = "flyscan.sav"});
  panda::BlockingClient control;
  control.connect("127.0.0.1", box.port(), 5s);
  auto put = [&](const std::string& field, const std::string& value) {
    auto r = control.call(panda::Put(field, value), 5s);
    REQUIRE_MESSAGE(r.ok(), field, "=", value);
  };
  for (const auto& [field, value] : extra) put(field, value);
  for (const auto& [field, value] : scan::fly_panda_fields(g)) put(field, value);

  panda::BlockingDataClient data;  // SCALED
  const std::size_t before = box->data_clients_ready();
  data.connect("127.0.0.1", box.data_port(), 5s);
  REQUIRE(box.wait_for_data_clients(before + 1));
  REQUIRE(control.call(panda::Arm{}, 5s).ok());  // PCAP.ACTIVE enables PCOMP1

  // The stage: from 5000 counts before the pre-start point to one step past
  // the last trigger plus 5000, at |step| per frame time (20·v² acceleration:
  // at speed 2500 counts in, long before the first trigger).
  const double dir = g.step_counts > 0 ? 1.0 : -1.0;
  const double v = std::abs(static_cast<double>(g.step_counts)) / g.frame_time_s;
  const double first = static_cast<double>(g.first_counts);
  const double last =
      first + static_cast<double>(g.pulses - 1) * static_cast<double>(g.step_counts);
  auto axis = std::make_shared<sim::fpga::TrapezoidMotion>(
      first - dir * (static_cast<double>(g.pre_start_counts) + 5000));
  axis->move_to(box.fpga().now() + kTicksPerSecond / 1000,
                last + static_cast<double>(g.step_counts) + dir * 5000, v, v * 20);
  box.fpga().set_motion(1, axis);

  Rows out;
  std::optional<panda::ColumnDecoder> decoder;
  panda::ColumnBlock block;
  for (int idle = 0; idle < 200 && !out.end;) {
    panda::DataEvent ev = data.next(100ms);
    if (auto* s = std::get_if<panda::StartData>(&ev)) {
      auto made = panda::ColumnDecoder::make(*s, panda::ColumnDecoder::Mode::scaled);
      REQUIRE(std::holds_alternative<panda::ColumnDecoder>(made));
      decoder = std::get<panda::ColumnDecoder>(std::move(made));
      block = decoder->make_block();
    } else if (auto* f = std::get_if<panda::FrameData>(&ev)) {
      REQUIRE(decoder);
      decoder->append(*f, block);
    } else if (auto* e = std::get_if<panda::EndData>(&ev)) {
      out.end = *e;
    } else if (auto* err = std::get_if<panda::DataError>(&ev)) {
      REQUIRE_MESSAGE(err->code == panda::Errc::timed_out, err->message);
      ++idle;
    }
  }
  REQUIRE(out.end);
  REQUIRE(decoder);
  for (std::size_t c = 0; c < decoder->specs().size(); ++c)
    out.columns[decoder->specs()[c].name] = as_doubles(block.column(c));
  return out;
}

/// Every row against the geometry: trigger k at c_k = first + k·step counts,
/// the encoder moving v = |step|/frame_time counts/s, so an exposure covers
/// e = exposure·v counts from c_k in the step's sense. PandA data: the PCOMP
/// and PULSE registers open the gate 2 ticks after the crossing (µs before the
/// next count at these speeds), the gate is PULSE1.OUT: TS_END − TS_START =
/// the exposure, and PCAP captures at its fall (TS_TRIG = TS_END). Min/Max: the
/// trigger count exactly at the start end, c_k ± e within one count at the
/// other; Mean (of whole counts) within one count of c_k ± e/2. Degrees =
/// (counts − offset)/counts_per_degree.
void check_rows(const Rows& r, const scan::TriggerGeometry& g) {
  const scan::FlyPandaWiring wiring;  // the design's blocks
  const auto& min = r.columns.at(wiring.min_column());
  const auto& max = r.columns.at(wiring.max_column());
  const auto& mean = r.columns.at(wiring.mean_column());
  const auto& ts_start = r.columns.at(wiring.ts_start_column());
  const auto& ts_end = r.columns.at(wiring.ts_end_column());
  const auto& ts_trig = r.columns.at(wiring.ts_trig_column());
  REQUIRE(min.size() == g.pulses);
  CHECK(r.end->samples == g.pulses);
  CHECK(r.end->reason == panda::EndReason::ok);
  const double count = 1 / g.counts_per_degree;  // degrees
  const double dir = g.step_counts > 0 ? 1.0 : -1.0;
  const double v = std::abs(static_cast<double>(g.step_counts)) / g.frame_time_s;
  const double e = g.exposure_s * v;
  auto deg = [&](double counts) {
    return (counts - static_cast<double>(g.offset_counts)) / g.counts_per_degree;
  };
  for (std::size_t k = 0; k < min.size(); ++k) {
    INFO("row ", k);
    const double c = static_cast<double>(g.first_counts) +
                     static_cast<double>(k) * static_cast<double>(g.step_counts);
    const double at_start = dir > 0 ? min[k] : max[k];
    const double at_end = dir > 0 ? max[k] : min[k];
    CHECK(std::abs(at_start - deg(c)) <= count * 1e-6);
    CHECK(std::abs(at_end - deg(c + dir * e)) <= count * 1.001);
    CHECK(std::abs(mean[k] - deg(c + dir * e / 2)) <= count * 1.001);
    CHECK(ts_end[k] - ts_start[k] == doctest::Approx(g.exposure_s).epsilon(1e-9));
    CHECK(ts_trig[k] == ts_end[k]);
    if (k > 0) CHECK(std::abs(ts_trig[k] - ts_trig[k - 1] - g.frame_time_s) <= 2e-8);
  }
}

scan::TriggerGeometry geometry(std::int64_t first, std::int64_t step, std::uint64_t pulses,
                               double exposure, double frame_time) {
  scan::TriggerGeometry g;
  g.first_counts = first;
  g.step_counts = step;
  g.pulses = pulses;
  g.pre_start_counts = 100;
  g.exposure_s = exposure;
  g.frame_time_s = frame_time;
  g.counts_per_degree = 10000;
  return g;
}

}  // namespace

TEST_CASE("fly_panda_fields on panda/flyscan.sav: every exposure a row, as the geometry says") {
  SUBCASE("forward, the exposure shorter than PCOMP's pulse") {
    // 1000 counts per 10 ms (100 000 counts/s); 2 ms exposures = 200 counts < WIDTH 500.
    const auto g = geometry(0, 1000, 20, 0.002, 0.01);
    check_rows(run_scan(g), g);
  }
  SUBCASE("forward, the last exposure outlasting PCOMP1.ACTIVE") {
    // 500 counts per 5 ms; 4 ms exposures = 400 counts > WIDTH 250: PCOMP1's
    // last pulse (and ACTIVE) ends 1.5 ms before the last exposure does.
    const auto g = geometry(-3000, 500, 25, 0.004, 0.005);
    check_rows(run_scan(g), g);
  }
  SUBCASE("backward, with an encoder offset") {
    auto g = geometry(20'000, -500, 15, 0.004, 0.005);
    g.offset_counts = 1000;  // 0 deg at count 1000: INENC1.VAL.OFFSET = -0.1
    check_rows(run_scan(g), g);
  }
}

TEST_CASE("without LUT1 holding PCAP.ENABLE, or without its DELAY, the last row is lost") {
  // The second geometry above: PCOMP1.ACTIVE falls mid-way through the last exposure.
  const auto g = geometry(-3000, 500, 25, 0.004, 0.005);
  SUBCASE("PCAP.ENABLE = PCOMP1.ACTIVE: disabled before the last exposure ends") {
    const Rows r = run_scan(g, {{"PCAP.ENABLE", "PCOMP1.ACTIVE"}});
    CHECK(r.end->reason == panda::EndReason::ok);
    CHECK(r.end->samples == g.pulses - 1);
  }
  SUBCASE("PCAP.ENABLE.DELAY = 0: LUT1 falls a tick after the last capture, inside its pipeline") {
    const Rows r = run_scan(g, {{"PCAP.ENABLE.DELAY", "0"}});
    CHECK(r.end->reason == panda::EndReason::ok);
    CHECK(r.end->samples == g.pulses - 1);
  }
}
