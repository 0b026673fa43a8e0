#pragma once
// LUT expressions (reference §1.6): a 5-input boolean expression over A..E (and
// the constants 0, 1) compiled into the 32-entry truth table the FPGA loads.
// Operators by falling precedence: ~, =, &, ^, |, =>, ?: ; parentheses group.
// A raw `0x…` number is taken as the truth table itself.
#include <cstdint>
#include <string_view>

#include "sim/panda/reply.hpp"

namespace pandafly::sim {

/// The truth table for `expression`; `Invalid token` on any syntax error.
[[nodiscard]] Expected<std::uint32_t> compile_lut(std::string_view expression);

}  // namespace pandafly::sim
