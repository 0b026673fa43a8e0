#pragma once
// The block layout of a current PandABox firmware (reference §4.1-4.2), as data.
#include <string>
#include <vector>

#include "sim/panda/field.hpp"

namespace pandafly::sim {

struct BlockSpec {
  std::string name;
  unsigned count = 1;
  std::string description;
  std::vector<FieldSpec> fields;  // in UI order: a field's index is its position
};

namespace detail {
// The blocks with tables, defined in table_blocks.cpp.
[[nodiscard]] BlockSpec seq_block();
[[nodiscard]] BlockSpec pgen_block();
}  // namespace detail

/// Every block of the simulated PandA, in `*BLOCKS?` order.
[[nodiscard]] const std::vector<BlockSpec>& panda_blocks();

}  // namespace pandafly::sim
