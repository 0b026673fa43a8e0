#pragma once
// Virtual time of the simulated PandA FPGA: the simulation's ticks (sim/ticks.hpp).
#include "sim/ticks.hpp"

namespace pandafly::sim::fpga {

using sim::kNever;
using sim::kSecondsPerTick;
using sim::kTicksPerSecond;
using sim::Tick;

}  // namespace pandafly::sim::fpga
