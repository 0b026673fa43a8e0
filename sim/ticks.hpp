#pragma once
// Simulation time shared by every simulator: ticks of the PandA's 125 MHz
// clock since the simulation's epoch (the moment its clock started). The
// PandA FPGA counts in them; the motor simulator plans its moves in them, so
// the PandA encoder can follow the motor exactly.
#include <cstdint>

namespace pandafly::sim {

/// A point in simulation time or a duration, in 8 ns ticks.
using Tick = std::int64_t;
inline constexpr Tick kTicksPerSecond = 125'000'000;
inline constexpr double kSecondsPerTick = 8e-9;
/// "Never": later than any event.
inline constexpr Tick kNever = INT64_MAX;

}  // namespace pandafly::sim
