#include "sim/panda/time_units.hpp"

#include <cmath>

#include "sim/panda/parse.hpp"

namespace pandafly::sim {
namespace {

double ticks_per_unit(TimeUnit unit) {
  constexpr auto hz = static_cast<double>(kClockHz);
  switch (unit) {
    case TimeUnit::min:
      return 60.0 * hz;
    case TimeUnit::s:
      return hz;
    case TimeUnit::ms:
      return hz / 1e3;
    case TimeUnit::us:
      return hz / 1e6;
  }
  return hz;
}

}  // namespace

std::optional<TimeUnit> time_unit_from(std::string_view label) {
  for (std::size_t i = 0; i < kTimeUnitLabels.size(); ++i) {
    if (kTimeUnitLabels[i] == label) return static_cast<TimeUnit>(i);
  }
  return std::nullopt;
}

std::string_view time_unit_label(TimeUnit unit) {
  return kTimeUnitLabels[static_cast<std::size_t>(unit)];
}

Expected<std::uint64_t> time_to_ticks(std::string_view text, TimeUnit unit) {
  auto value = parse_double(text);
  if (!value.ok()) return Error{value.error()};
  double ticks = value.value() * ticks_per_unit(unit);
  // The range check comes before rounding so that huge inputs never reach llround.
  if (!(ticks >= 0.0 && ticks <= static_cast<double>(kMaxTicks))) {
    return Error{"Time setting out of range"};
  }
  return static_cast<std::uint64_t>(std::llround(ticks));
}

std::string ticks_to_time(std::uint64_t ticks, TimeUnit unit) {
  return format_double(static_cast<double>(ticks) / ticks_per_unit(unit));
}

}  // namespace pandafly::sim
