#pragma once
// Parsing the header the data port sends at every arm (reference §3.3).
//
// The XML form is parsed with pugixml (a real, well-kept XML parser: entity
// escapes in units, attribute order and quoting are its problem, not ours);
// the older text form by hand. Both check what a decoder relies on: every
// field has a known type, sizes add up to sample_bytes (or to sample_bytes − 4:
// the unannounced sample count of servers before 2.1, then a synthetic
// PCAP.SAMPLES field is inserted at index 0).
#include <string>
#include <string_view>
#include <variant>

#include "pandafly/panda/data.hpp"

namespace pandafly::panda {

/// Parses `<header>…</header>` (the lines, without the trailing empty line).
/// Returns the StartData or a message saying what is wrong (for DataErrc::bad_header
/// or DataErrc::sample_size_mismatch, told apart by `size_mismatch`).
struct HeaderError {
  std::string message;
  bool size_mismatch = false;
};
[[nodiscard]] std::variant<StartData, HeaderError> parse_xml_header(std::string_view xml);

/// Parses the text header: the lines from "arm_time:"/"missed:" up to, not
/// including, the empty line.
[[nodiscard]] std::variant<StartData, HeaderError> parse_text_header(std::string_view text);

/// Checks field sizes against `start.sample_bytes` (0 = not announced: set it),
/// assigns byte offsets, applies the legacy sample-count rule. Used by both
/// parsers and for NO_HEADER layouts.
[[nodiscard]] std::variant<StartData, HeaderError> finish_layout(StartData start,
                                                                 bool sample_bytes_announced);

}  // namespace pandafly::panda
