// Placeholder until the behaviours land.
#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {

void add_seq_behaviours(BehaviourRegistry&) {}

}  // namespace pandafly::sim::fpga
