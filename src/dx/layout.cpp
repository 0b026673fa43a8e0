// NDFileHDF5 layout XML → dx::Layout, and back (rules in include/pandafly/dx/layout.hpp).
// pugixml builds the DOM; this file walks it once, depth first, and stops at
// the first thing the plugin would not load (or that we refuse on purpose,
// see the header). Errors travel as a private exception inside this file and
// leave parse_layout() as a LayoutError value.
#include "pandafly/dx/layout.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace pandafly::dx {
namespace {

// Groups nest through recursion here and in to_xml(); a bound keeps a hostile
// file from exhausting the stack. Real layouts nest 4–5 deep.
constexpr int kMaxDepth = 64;
constexpr std::string_view kDestination = "detector_data_destination";
// parse_fragment keeps text outside the root element as nodes, so that it can
// be refused as libxml2 (the plugin's parser) refuses it; comments, the XML
// declaration and DOCTYPE are dropped.
constexpr unsigned kParseOptions = pugi::parse_default | pugi::parse_fragment;

struct Failure {
  LayoutError error;
};

// 1-based line of a byte offset into the text, from the offsets of its '\n's.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  [[nodiscard]] int line_of(std::ptrdiff_t offset) const {
    if (offset < 0) return 0;
    const auto it =
        std::lower_bound(newlines_.begin(), newlines_.end(), static_cast<std::size_t>(offset));
    return static_cast<int>(it - newlines_.begin()) + 1;
  }

 private:
  std::vector<std::size_t> newlines_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class T>
bool parses_as(std::string_view token) {
  token = trim(token);
  if (token.size() > 1 && token.front() == '+' && token[1] != '-') token.remove_prefix(1);
  T v{};
  const auto* end = token.data() + token.size();
  const auto r = std::from_chars(token.data(), end, v);
  return !token.empty() && r.ec == std::errc{} && r.ptr == end;
}

// A constant's text: one value or a comma-separated array, every element of `type`.
bool valid_constant(std::string_view value, ValueType type) {
  if (type == ValueType::string) return true;
  while (true) {
    const auto comma = value.find(',');
    const auto token = value.substr(0, comma);
    const bool ok =
        type == ValueType::int32 ? parses_as<std::int32_t>(token) : parses_as<double>(token);
    if (!ok) return false;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

bool is_namespace_attribute(std::string_view name) {
  return name == "xmlns" || name.find(':') != std::string_view::npos;
}

std::string describe(pugi::xml_node n) {
  const auto name = n.attribute("name");
  if (!name) return fmt::format("<{}>", n.name());
  return fmt::format("<{} name=\"{}\">", n.name(), name.value());
}

class Parser {
 public:
  explicit Parser(std::string_view text) : lines_(text) {}

  [[nodiscard]] int line(pugi::xml_node n) const { return lines_.line_of(n.offset_debug()); }
  [[nodiscard]] int line_of(std::ptrdiff_t offset) const { return lines_.line_of(offset); }

  [[noreturn]] void fail(pugi::xml_node n, std::string_view what) const {
    const int at = line(n);
    throw Failure{{at, fmt::format("line {}: {}: {}", at, describe(n), what)}};
  }

  Layout layout(pugi::xml_node root) {
    Layout out;
    check_unique_xml_attributes(root);
    for (const auto a : root.attributes()) {
      // XML namespace declarations and namespace-qualified attributes
      // (xmlns:xsi, xsi:noNamespaceSchemaLocation on every stock ADCore example)
      // are about the document, not the layout.
      if (is_namespace_attribute(a.name())) continue;
      if (std::string_view(a.name()) != "auto_ndattr_default")
        fail(root,
             fmt::format("unknown attribute {}= (only auto_ndattr_default is allowed)", a.name()));
      out.auto_ndattr_default = boolean(root, a);
    }
    out.root.line = line(root);
    children(root, out.root, out, 0);
    return out;
  }

 private:
  void check_unique_xml_attributes(pugi::xml_node n) const {
    for (auto a = n.first_attribute(); a; a = a.next_attribute())
      for (auto b = a.next_attribute(); b; b = b.next_attribute())
        if (std::string_view(a.name()) == b.name())
          fail(n, fmt::format("attribute {}= is given twice", a.name()));
  }

  [[nodiscard]] bool boolean(pugi::xml_node n, pugi::xml_attribute a) const {
    const std::string_view v = a.value();
    if (v == "true") return true;
    if (v == "false") return false;
    fail(n, fmt::format("{}=\"{}\" is not true or false (the plugin would read it as false)",
                        a.name(), v));
  }

  [[nodiscard]] std::string name_of(pugi::xml_node n) const {
    const auto a = n.attribute("name");
    if (!a) fail(n, "name= is missing");
    const std::string_view v = a.value();
    if (v.empty()) fail(n, "name= is empty");
    if (v.find('/') != std::string_view::npos) fail(n, "name= must not contain '/'");
    return std::string(v);
  }

  [[nodiscard]] std::string required(pugi::xml_node n, const char* attr,
                                     std::string_view why) const {
    const auto a = n.attribute(attr);
    if (!a || *a.value() == '\0') fail(n, fmt::format("{} needs a non-empty {}=", why, attr));
    return a.value();
  }

  [[nodiscard]] ValueType value_type(pugi::xml_node n) const {
    const auto a = n.attribute("type");
    if (!a) return ValueType::string;
    const std::string_view v = a.value();
    if (v == "int") return ValueType::int32;
    if (v == "float") return ValueType::float64;
    if (v == "string") return ValueType::string;
    fail(n, fmt::format("type=\"{}\" is not int, float or string", v));
  }

  void constant(pugi::xml_node n, std::string& value, ValueType& type) const {
    value = n.attribute("value").value();
    type = value_type(n);
    if (!valid_constant(value, type))
      fail(n, fmt::format("value=\"{}\" is not {} (or a comma-separated list of them)", value,
                          type == ValueType::int32 ? "an int32" : "a float"));
  }

  void no_children(pugi::xml_node n) const {
    for (const auto c : n.children())
      if (c.type() == pugi::node_element)
        fail(c, fmt::format("unexpected element inside <{}>", n.name()));
  }

  // nullopt: an attribute the plugin keeps but never writes (no source=, or an
  // ndattribute one that names no NDAttribute).
  [[nodiscard]] std::optional<Attribute> attribute(pugi::xml_node n) const {
    check_unique_xml_attributes(n);
    no_children(n);
    Attribute a;
    a.name = name_of(n);
    a.line = line(n);
    const std::string_view src = n.attribute("source").value();
    if (src == "constant") {
      a.source = Source::constant;
      constant(n, a.value, a.type);
    } else if (src == "ndattribute") {
      a.source = Source::ndattribute;
      a.ndattribute = n.attribute("ndattribute").value();
      if (a.ndattribute.empty()) return std::nullopt;
      a.when = std::string_view(n.attribute("when").value()) == "OnFileClose" ? When::on_file_close
                                                                              : When::on_file_open;
    } else if (!n.attribute("source")) {
      return std::nullopt;
    } else {
      fail(n, fmt::format("source=\"{}\" is not constant or ndattribute", src));
    }
    return a;
  }

  [[nodiscard]] static When dataset_when(pugi::xml_node n) {
    const std::string_view w = n.attribute("when").value();
    if (w == "OnFileOpen") return When::on_file_open;
    if (w == "OnFileClose") return When::on_file_close;
    return When::on_frame;  // absent, OnFileWrite or anything else: the plugin's rule
  }

  // False: a dataset the plugin creates nothing for (no source=, or an
  // ndattribute one that names no NDAttribute, e.g. NDFileHDF5's own
  // performance/timestamp); it is left out of the model.
  [[nodiscard]] bool dataset_source(pugi::xml_node n, Dataset& d) {
    const std::string_view src = n.attribute("source").value();
    if (src == "detector") {
      d.source = Source::detector;
      if (const auto a = n.attribute("det_default")) d.det_default = boolean(n, a);
      if (d.det_default && det_default_line_ > 0)
        fail(n, fmt::format("a second det_default=\"true\" (the first is on line {})",
                            det_default_line_));
      if (d.det_default) det_default_line_ = d.line;
    } else if (src == "ndattribute") {
      d.source = Source::ndattribute;
      d.ndattribute = n.attribute("ndattribute").value();
      d.when = dataset_when(n);
      // The plugin ignores type= here (the NDAttribute's own type decides; the
      // xsd allows it): pandafly stores the value as that type (int32/float64).
      if (n.attribute("type")) d.type = value_type(n);
      return !d.ndattribute.empty();
    } else if (src == "constant") {
      d.source = Source::constant;
      constant(n, d.value, d.type);
    } else if (!n.attribute("source")) {
      return false;
    } else {
      fail(n, fmt::format("source=\"{}\" is not detector, ndattribute or constant", src));
    }
    return true;
  }

  // nullopt: see dataset_source (its children are still checked).
  [[nodiscard]] std::optional<Dataset> dataset(pugi::xml_node n) {
    check_unique_xml_attributes(n);
    Dataset d;
    d.name = name_of(n);
    d.line = line(n);
    const bool kept = dataset_source(n, d);
    std::map<std::string, int, std::less<>> seen;
    for (const auto c : n.children()) {
      if (c.type() != pugi::node_element) continue;
      if (std::string_view(c.name()) != "attribute")
        fail(c, fmt::format("unexpected element inside <dataset> (only <attribute>)"));
      add_attribute(c, d.attributes, seen);
    }
    if (!kept) return std::nullopt;
    return d;
  }

  [[nodiscard]] Hardlink hardlink(pugi::xml_node n) const {
    check_unique_xml_attributes(n);
    no_children(n);
    Hardlink h;
    h.name = name_of(n);
    h.line = line(n);
    h.target = required(n, "target", "a hardlink");
    if (h.target.front() != '/')
      fail(n,
           fmt::format("target=\"{}\" is not an absolute path (it must start with '/')", h.target));
    return h;
  }

  void global(pugi::xml_node n, Layout& l) const {
    check_unique_xml_attributes(n);
    no_children(n);
    const std::string_view name = n.attribute("name").value();
    if (name != kDestination)
      fail(n, fmt::format("unknown global name \"{}\" (only {})", name, kDestination));
    if (l.destination_attribute) fail(n, fmt::format("{} is given twice", kDestination));
    l.destination_attribute = required(n, "ndattribute", "a global");
  }

  [[nodiscard]] Group group(pugi::xml_node n, Layout& l, int depth) {
    check_unique_xml_attributes(n);
    if (depth >= kMaxDepth) fail(n, fmt::format("groups nested deeper than {}", kMaxDepth));
    Group g;
    g.name = name_of(n);
    g.line = line(n);
    if (const auto a = n.attribute("ndattr_default")) g.ndattr_default = boolean(n, a);
    children(n, g, l, depth + 1);
    return g;
  }

  void add_attribute(pugi::xml_node n, std::vector<Attribute>& to,
                     std::map<std::string, int, std::less<>>& seen) const {
    auto a = attribute(n);
    if (!a) return claim(n, name_of(n), line(n), seen);
    to.push_back(std::move(*a));
    claim(n, to.back().name, to.back().line, seen);
  }

  void claim(pugi::xml_node n, const std::string& name, int at,
             std::map<std::string, int, std::less<>>& seen) const {
    const auto [it, fresh] = seen.emplace(name, at);
    if (!fresh)
      fail(n, fmt::format("name \"{}\" is already used here (line {})", name, it->second));
  }

  // The children of <hdf5_layout> (depth 0) or of a <group>.
  void children(pugi::xml_node n, Group& g, Layout& l, int depth) {
    std::map<std::string, int, std::less<>> links;  // groups, datasets, hardlinks share names
    std::map<std::string, int, std::less<>> attributes;
    for (const auto c : n.children()) {
      if (c.type() != pugi::node_element) continue;  // text and CDATA are ignored, as by the plugin
      const std::string_view kind = c.name();
      if (kind == "group") {
        g.groups.push_back(group(c, l, depth));
        claim(c, g.groups.back().name, g.groups.back().line, links);
      } else if (kind == "dataset") {
        auto d = dataset(c);
        if (!d) {
          claim(c, name_of(c), line(c), links);
          continue;
        }
        g.datasets.push_back(std::move(*d));
        claim(c, g.datasets.back().name, g.datasets.back().line, links);
      } else if (kind == "hardlink") {
        g.hardlinks.push_back(hardlink(c));
        claim(c, g.hardlinks.back().name, g.hardlinks.back().line, links);
      } else if (kind == "attribute") {
        add_attribute(c, g.attributes, attributes);
      } else if (kind == "global" && depth == 0) {
        global(c, l);
      } else if (kind == "global") {
        fail(c, "<global> belongs directly under <hdf5_layout>");
      } else {
        fail(c, fmt::format("unknown element <{}> (group, dataset, attribute, hardlink{})", kind,
                            depth == 0 ? ", global" : ""));
      }
    }
  }

  LineIndex lines_;
  int det_default_line_ = 0;
};

// The one root element, or a Failure.
pugi::xml_node root_element(const pugi::xml_document& doc, const Parser& p) {
  pugi::xml_node root;
  for (const auto c : doc.children()) {
    if (c.type() == pugi::node_element) {
      if (root) p.fail(c, "a second root element");
      root = c;
    } else if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      // The node starts at its leading whitespace; name the line of the text itself.
      const std::string_view text = c.value();
      const auto skip = std::min(text.find_first_not_of(" \t\r\n"), text.size());
      const int at = p.line_of(c.offset_debug() + static_cast<std::ptrdiff_t>(skip));
      throw Failure{{at, fmt::format("line {}: text outside the root element", at)}};
    }
  }
  if (!root) throw Failure{{0, "no root element (expected <hdf5_layout>)"}};
  if (std::string_view(root.name()) != "hdf5_layout")
    p.fail(root, "the root element must be <hdf5_layout>");
  return root;
}

}  // namespace

std::variant<Layout, LayoutError> parse_layout(std::string_view xml) {
  Parser parser(xml);
  pugi::xml_document doc;
  const auto r = doc.load_buffer(xml.data(), xml.size(), kParseOptions);
  if (r.status == pugi::status_no_document_element)
    return LayoutError{0, "no root element (expected <hdf5_layout>)"};
  if (!r) {
    const int at = parser.line_of(r.offset);
    return LayoutError{at, fmt::format("line {}: not well-formed XML: {}", at, r.description())};
  }
  try {
    return parser.layout(root_element(doc, parser));
  } catch (const Failure& f) {
    return f.error;
  }
}

}  // namespace pandafly::dx
