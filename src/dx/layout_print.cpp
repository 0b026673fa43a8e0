// dx::Layout's queries and its canonical XML text (rules in include/pandafly/dx/layout.hpp).
// Canonical form: two-space indent, one element per line, attributes in a
// fixed order, only those that matter for the element's source, `type` always
// written for constants. Inside a group: attributes, datasets, groups,
// hardlinks. Directly under <hdf5_layout>: global, groups, then datasets,
// attributes and hardlinks — the plugin has a current element for root-level
// items only once a group has closed.
#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "pandafly/dx/layout.hpp"
#include "pandafly/util/xml_escape.hpp"

namespace pandafly::dx {
namespace {

using util::xml_escape;

std::string_view type_name(ValueType t) {
  switch (t) {
    case ValueType::int32:
      return "int";
    case ValueType::float64:
      return "float";
    case ValueType::string:
      return "string";
  }
  return "string";
}

std::string_view when_name(When w) {
  switch (w) {
    case When::on_file_open:
      return "OnFileOpen";
    case When::on_file_close:
      return "OnFileClose";
    case When::on_frame:
      return "OnFileWrite";
  }
  return "OnFileWrite";
}

class Printer {
 public:
  std::string text;

  void attribute(const Attribute& a, int depth) {
    open(depth, "attribute", a.name);
    if (a.source == Source::ndattribute) {
      field("source", "ndattribute");
      field("ndattribute", a.ndattribute);
      if (a.when == When::on_file_close) field("when", "OnFileClose");
    } else {
      constant(a.value, a.type);
    }
    text += "/>\n";
  }

  void dataset(const Dataset& d, int depth) {
    open(depth, "dataset", d.name);
    if (d.source == Source::detector) {
      field("source", "detector");
      if (d.det_default) field("det_default", "true");
    } else if (d.source == Source::ndattribute) {
      field("source", "ndattribute");
      field("ndattribute", d.ndattribute);
      if (d.when != When::on_frame) field("when", when_name(d.when));
      if (d.type != ValueType::string) field("type", type_name(d.type));
    } else {
      constant(d.value, d.type);
    }
    if (d.attributes.empty()) {
      text += "/>\n";
      return;
    }
    text += ">\n";
    for (const auto& a : d.attributes) attribute(a, depth + 1);
    close(depth, "dataset");
  }

  void hardlink(const Hardlink& h, int depth) {
    open(depth, "hardlink", h.name);
    field("target", h.target);
    text += "/>\n";
  }

  void group(const Group& g, int depth) {
    open(depth, "group", g.name);
    if (g.ndattr_default) field("ndattr_default", "true");
    if (g.attributes.empty() && g.datasets.empty() && g.groups.empty() && g.hardlinks.empty()) {
      text += "/>\n";
      return;
    }
    text += ">\n";
    for (const auto& a : g.attributes) attribute(a, depth + 1);
    for (const auto& d : g.datasets) dataset(d, depth + 1);
    for (const auto& s : g.groups) group(s, depth + 1);
    for (const auto& h : g.hardlinks) hardlink(h, depth + 1);
    close(depth, "group");
  }

  void root(const Layout& l) {
    text += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hdf5_layout";
    if (!l.auto_ndattr_default) field("auto_ndattr_default", "false");
    text += ">\n";
    if (l.destination_attribute) {
      text += "  <global";
      field("name", "detector_data_destination");
      field("ndattribute", *l.destination_attribute);
      text += "/>\n";
    }
    for (const auto& g : l.root.groups) group(g, 1);
    for (const auto& d : l.root.datasets) dataset(d, 1);
    for (const auto& a : l.root.attributes) attribute(a, 1);
    for (const auto& h : l.root.hardlinks) hardlink(h, 1);
    text += "</hdf5_layout>\n";
  }

 private:
  void open(int depth, std::string_view element, std::string_view name) {
    text.append(static_cast<std::size_t>(depth) * 2, ' ');
    text += '<';
    text += element;
    field("name", name);
  }
  void close(int depth, std::string_view element) {
    text.append(static_cast<std::size_t>(depth) * 2, ' ');
    text += fmt::format("</{}>\n", element);
  }
  void field(std::string_view key, std::string_view value) {
    text += fmt::format(" {}=\"{}\"", key, xml_escape(value));
  }
  void constant(std::string_view value, ValueType type) {
    field("source", "constant");
    field("value", value);
    field("type", type_name(type));
  }
};

std::string join(const std::string& prefix, const std::string& name) {
  return prefix + "/" + name;
}

void detectors(const Group& g, const std::string& path, std::vector<std::string>& out) {
  for (const auto& d : g.datasets)
    if (d.source == Source::detector) out.push_back(join(path, d.name));
  for (const auto& s : g.groups) detectors(s, join(path, s.name), out);
}

const Dataset* det_default(const Group& g, const std::string& path, std::string& found) {
  for (const auto& d : g.datasets) {
    if (d.source == Source::detector && d.det_default) {
      found = join(path, d.name);
      return &d;
    }
  }
  for (const auto& s : g.groups)
    if (const auto* d = det_default(s, join(path, s.name), found)) return d;
  return nullptr;
}

std::optional<std::string> ndattr_default(const Group& g, const std::string& path) {
  for (const auto& s : g.groups) {
    const auto p = join(path, s.name);
    if (s.ndattr_default) return p;
    if (auto inner = ndattr_default(s, p)) return inner;
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> Layout::detector_paths() const {
  std::vector<std::string> out;
  detectors(root, "", out);
  return out;
}

std::optional<std::string> Layout::default_detector_path() const {
  std::string found;
  if (det_default(root, "", found)) return found;
  auto all = detector_paths();
  if (all.empty()) return std::nullopt;
  return *std::min_element(all.begin(), all.end());
}

std::optional<std::string> Layout::ndattr_default_path() const {
  return ndattr_default(root, "");
}

std::string to_xml(const Layout& layout) {
  Printer p;
  p.root(layout);
  return std::move(p.text);
}

namespace {

void clear_lines(Group& g) {
  g.line = 0;
  for (auto& a : g.attributes) a.line = 0;
  for (auto& h : g.hardlinks) h.line = 0;
  for (auto& d : g.datasets) {
    d.line = 0;
    for (auto& a : d.attributes) a.line = 0;
  }
  for (auto& s : g.groups) clear_lines(s);
}

}  // namespace

Layout without_lines(Layout layout) {
  clear_lines(layout.root);
  return layout;
}

}  // namespace pandafly::dx
