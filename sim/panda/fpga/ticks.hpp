#pragma once
// Virtual time of the simulated PandA FPGA: ticks of its 125 MHz clock.
#include <cstdint>

namespace pandafly::sim::fpga {

/// A point in virtual time or a duration, in FPGA clock ticks (8 ns).
using Tick = std::int64_t;
inline constexpr Tick kTicksPerSecond = 125'000'000;
inline constexpr double kSecondsPerTick = 8e-9;
/// "Never": later than any event.
inline constexpr Tick kNever = INT64_MAX;

}  // namespace pandafly::sim::fpga
