// Placeholder until the behaviours land.
#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {

void add_timing_behaviours(BehaviourRegistry&) {}

}  // namespace pandafly::sim::fpga
