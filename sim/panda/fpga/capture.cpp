#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {

void add_capture_behaviours(BehaviourRegistry&) {}

}  // namespace pandafly::sim::fpga
