#pragma once
// Time fields: 48-bit counts of 125 MHz FPGA ticks, shown in one of the units
// `min s ms us` (reference §1.6). Conversion rounds to the nearest tick; changing
// the units never changes the ticks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/panda/reply.hpp"

namespace pandafly::sim {

inline constexpr std::uint64_t kClockHz = 125'000'000;
inline constexpr std::uint64_t kMaxTicks = (std::uint64_t{1} << 48) - 1;

enum class TimeUnit { min, s, ms, us };

/// Labels in enumeration order, as `*ENUMS.B.F.UNITS?` lists them.
inline constexpr std::array<std::string_view, 4> kTimeUnitLabels{"min", "s", "ms", "us"};

[[nodiscard]] std::optional<TimeUnit> time_unit_from(std::string_view label);
[[nodiscard]] std::string_view time_unit_label(TimeUnit unit);

/// Ticks for `text` in `unit`, rounded to the nearest tick;
/// `Time setting out of range` outside 0..kMaxTicks.
[[nodiscard]] Expected<std::uint64_t> time_to_ticks(std::string_view text, TimeUnit unit);
/// `ticks` shown in `unit` ("%.10g").
[[nodiscard]] std::string ticks_to_time(std::uint64_t ticks, TimeUnit unit);

}  // namespace pandafly::sim
