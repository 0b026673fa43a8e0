#pragma once
// One sample of the data port's ASCII format (reference §3.5) into the
// binary layout every other format uses, so that consumers see one thing.
#include <cstddef>
#include <string>
#include <string_view>

#include "pandafly/panda/data.hpp"

namespace pandafly::panda {

/// Decodes `line` (one data line without its leading space and line end) into
/// the `start.sample_bytes` bytes at `out`, fields at their byte offsets.
/// SCALED: uint32 as decimal, doubles as text (nan/inf included); RAW: every
/// 32-bit word as 0x%08x, low word first. Returns "" on success, else what is
/// wrong (the bytes at `out` are then unspecified). Pure; no allocation on success.
[[nodiscard]] std::string decode_ascii_sample(std::string_view line, const StartData& start,
                                              std::byte* out);

}  // namespace pandafly::panda
