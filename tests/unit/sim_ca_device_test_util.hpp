#pragma once
// Test helpers for the simulated CA devices (motor record, camera) driven
// without sockets: simulation ticks ↔ the EPICS time stamps a device posts
// with, and what a test records of posted changes and put completions.
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "sim/ca/pv.hpp"
#include "sim/ticks.hpp"

namespace pandafly::sim::ca::test {

inline constexpr Tick kSecond = kTicksPerSecond;

inline Tick ticks(double seconds) {
  return static_cast<Tick>(std::llround(seconds * static_cast<double>(kTicksPerSecond)));
}

/// Wall time of tick t (10^9 s after the EPICS epoch + t), so that a PV's
/// stamp tells the tick it was posted at.
inline EpicsTime wall_of(Tick t) {
  return {static_cast<std::uint32_t>(1'000'000'000 + t / kSecond),
          static_cast<std::uint32_t>((t % kSecond) * 8)};
}

inline Tick tick_of(EpicsTime stamp) {
  return (static_cast<Tick>(stamp.sec) - 1'000'000'000) * kSecond + stamp.nsec / 8;
}

/// The first element as a number (0 for strings and empty values).
inline double number(const Elements& e) {
  return std::visit(
      [](const auto& v) -> double {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_arithmetic_v<T>) {
          return v.empty() ? 0.0 : static_cast<double>(v.front());
        } else {
          return 0.0;
        }
      },
      e);
}

/// One posted change of a field.
struct Posted {
  std::string field;
  double value;
  Tick tick;
};

/// Changes posted by a device's PVs, in order.
struct PostLog {
  std::vector<Posted> log;
  [[nodiscard]] std::vector<Posted> of(const std::string& field) const {
    std::vector<Posted> out;
    for (const auto& p : log)
      if (p.field == field) out.push_back(p);
    return out;
  }
  [[nodiscard]] std::vector<double> values(const std::string& field) const {
    std::vector<double> out;
    for (const auto& p : of(field)) out.push_back(p.value);
    return out;
  }
};

/// What a put's completion reported, and when.
struct Done {
  int calls = 0;
  std::uint32_t eca = 0;
  Tick tick = -1;
};

}  // namespace pandafly::sim::ca::test
