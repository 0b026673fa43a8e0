// libFuzzer target: any bytes as an NDFileHDF5 layout XML document, given to
// dx::parse_layout.
// Invariant: every input parses or yields one LayoutError with a message
// ("line N: ..." when it knows the line) — never a crash, an assert or a
// stray exception; a parsed layout round-trips: parse_layout(to_xml(l)) == l
// ignoring line numbers, and to_xml of that is the same text; the default
// detector dataset is one of the detector datasets.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "pandafly/dx/layout.hpp"

namespace {

using namespace pandafly::dx;

void check_error(const LayoutError& e) {
  if (e.message.empty() || e.line < 0) std::abort();
  if (e.line > 0 && e.message.rfind("line " + std::to_string(e.line) + ": ", 0) != 0) std::abort();
}

void check_queries(const Layout& l) {
  const auto all = l.detector_paths();
  const auto def = l.default_detector_path();
  if (all.empty() != !def) std::abort();
  if (def && std::find(all.begin(), all.end(), *def) == all.end()) std::abort();
  (void)l.ndattr_default_path();
}

void check_round_trip(Layout l) {
  const std::string text = to_xml(l);
  auto again = parse_layout(text);
  if (!std::holds_alternative<Layout>(again)) std::abort();
  auto& l2 = std::get<Layout>(again);
  if (to_xml(l2) != text) std::abort();
  if (!(without_lines(std::move(l)) == without_lines(std::move(l2)))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = parse_layout(text);
  if (const auto* e = std::get_if<LayoutError>(&r)) {
    check_error(*e);
    return 0;
  }
  const auto& l = std::get<Layout>(r);
  check_queries(l);
  check_round_trip(l);
  return 0;
}
