#include "sim/fault_plan.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace pandafly::sim {

namespace {

[[noreturn]] void bad(std::string_view spec, std::string_view why) {
  throw std::invalid_argument(fmt::format("--fault {}: {}", spec, why));
}

std::uint64_t index_of(std::string_view spec, std::string_view text, std::string_view what) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v == 0)
    bad(spec, fmt::format("{} must be a whole number >= 1, got '{}'", what, text));
  return v;
}

double number_of(std::string_view spec, std::string_view text, std::string_view what,
                 bool non_negative) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v))
    bad(spec, fmt::format("{} must be a number, got '{}'", what, text));
  if (non_negative && v < 0) bad(spec, fmt::format("{} must be >= 0, got {}", what, v));
  return v;
}

/// "A:B" split at the last ':' (B alone when there is none: first empty).
std::pair<std::string_view, std::string_view> split(std::string_view value) {
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos) return {{}, value};
  return {value.substr(0, colon), value.substr(colon + 1)};
}

}  // namespace

void add_fault(FaultPlan& plan, std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) bad(spec, "expected KIND=VALUE");
  const std::string_view kind = spec.substr(0, eq), value = spec.substr(eq + 1);
  if (kind == "drop-frame") {
    plan.drop_frames.push_back(index_of(spec, value, "the frame"));
  } else if (kind == "duplicate-frame") {
    plan.duplicate_frames.push_back(index_of(spec, value, "the frame"));
  } else if (kind == "swap-frames") {
    plan.swap_frames.push_back(index_of(spec, value, "the frame"));
  } else if (kind == "miss-trigger") {
    plan.miss_triggers.push_back(index_of(spec, value, "the trigger"));
  } else if (kind == "stall-camera") {
    const auto [frame, seconds] = split(value);
    if (frame.empty()) bad(spec, "expected stall-camera=FRAME:SECONDS");
    plan.camera_stalls.push_back(
        {index_of(spec, frame, "the frame"), number_of(spec, seconds, "the seconds", true)});
  } else if (kind == "close-panda-data") {
    plan.close_panda_data_at_row = index_of(spec, value, "the row");
  } else if (kind == "motor-stall" || kind == "hard-limit") {
    const auto [motor, position] = split(value);
    (kind == "motor-stall" ? plan.motor_stalls : plan.hard_limits)
        .push_back({std::string(motor), number_of(spec, position, "the position", false)});
  } else if (kind == "ca-restart") {
    const auto [at, downtime] = split(value);
    if (at.empty()) bad(spec, "expected ca-restart=AT:DOWNTIME (simulated seconds)");
    plan.ca_restarts.push_back(
        {number_of(spec, at, "the time", true), number_of(spec, downtime, "the downtime", true)});
  } else {
    bad(spec,
        "unknown fault (drop-frame, duplicate-frame, swap-frames, stall-camera, miss-trigger, "
        "close-panda-data, motor-stall, hard-limit, ca-restart)");
  }
}

std::vector<std::string> fault_specs(const FaultPlan& plan) {
  std::vector<std::string> out;
  for (auto k : plan.drop_frames) out.push_back(fmt::format("drop-frame={}", k));
  for (auto k : plan.duplicate_frames) out.push_back(fmt::format("duplicate-frame={}", k));
  for (auto k : plan.swap_frames) out.push_back(fmt::format("swap-frames={}", k));
  for (auto k : plan.miss_triggers) out.push_back(fmt::format("miss-trigger={}", k));
  for (const auto& s : plan.camera_stalls)
    out.push_back(fmt::format("stall-camera={}:{}", s.frame, s.seconds));
  if (plan.close_panda_data_at_row)
    out.push_back(fmt::format("close-panda-data={}", *plan.close_panda_data_at_row));
  const auto motor_at = [](const FaultPlan::MotorAt& m) {
    return m.motor.empty() ? fmt::format("{}", m.position)
                           : fmt::format("{}:{}", m.motor, m.position);
  };
  for (const auto& m : plan.motor_stalls) out.push_back("motor-stall=" + motor_at(m));
  for (const auto& m : plan.hard_limits) out.push_back("hard-limit=" + motor_at(m));
  for (const auto& r : plan.ca_restarts)
    out.push_back(fmt::format("ca-restart={}:{}", r.at, r.downtime));
  return out;
}

}  // namespace pandafly::sim
