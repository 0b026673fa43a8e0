#pragma once
// The block behaviours of the simulated FPGA, grouped by source file. Each
// add_* function registers its block kinds; default_behaviours() (engine.hpp)
// calls them all.
#include "sim/panda/fpga/engine.hpp"

namespace pandafly::sim::fpga {

/// PCAP and INENC (capture.cpp).
void add_capture_behaviours(BehaviourRegistry& registry);
/// BITS, LUT, SRGATE, DIV, CALC, TTLOUT (logic_blocks.cpp).
void add_logic_behaviours(BehaviourRegistry& registry);
/// PULSE, CLOCK, COUNTER (timing_blocks.cpp).
void add_timing_behaviours(BehaviourRegistry& registry);
/// PCOMP (pcomp.cpp).
void add_pcomp_behaviours(BehaviourRegistry& registry);
/// SEQ (seq.cpp).
void add_seq_behaviours(BehaviourRegistry& registry);

}  // namespace pandafly::sim::fpga
