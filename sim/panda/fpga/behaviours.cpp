// The registry of block behaviours: which block kinds the simulated FPGA runs.
#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {

BehaviourRegistry default_behaviours() {
  BehaviourRegistry r;
  add_capture_behaviours(r);
  add_logic_behaviours(r);
  add_timing_behaviours(r);
  add_pcomp_behaviours(r);
  add_seq_behaviours(r);
  return r;
}

}  // namespace pandafly::sim::fpga
