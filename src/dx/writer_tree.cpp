// build_tree(): the layout's groups, attributes, constant and OnFileOpen
// datasets, detector datasets with their theta, made before any frame.
#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx::detail {
namespace {

constexpr hsize_t theta_chunk_rows = 1024;

void collect_placed(const Group& g, Tree& tree) {
  for (const auto& a : g.attributes) {
    if (a.source == Source::ndattribute) tree.placed.insert(a.ndattribute);
  }
  for (const auto& d : g.datasets) {
    if (d.source == Source::ndattribute) tree.placed.insert(d.ndattribute);
    for (const auto& a : d.attributes) {
      if (a.source == Source::ndattribute) tree.placed.insert(a.ndattribute);
    }
  }
  for (const auto& child : g.groups) collect_placed(child, tree);
}

// "data_dark" → "theta_dark"; nullopt for names that are not data<suffix>
// or whose theta name the layout already uses in the same group.
std::optional<std::string> theta_name(const Group& g, const std::string& name) {
  if (name.rfind("data", 0) != 0) return std::nullopt;
  std::string theta = "theta" + name.substr(4);
  const bool taken = std::any_of(g.datasets.begin(), g.datasets.end(),
                                 [&](const Dataset& d) { return d.name == theta; });
  if (taken) return std::nullopt;
  return theta;
}

class Builder {
 public:
  Builder(hid_t file, const WriterOptions& o, std::vector<h5::Filter> filters, Tree& tree)
      : file_(file), o_(o), filters_(std::move(filters)), tree_(tree) {}

  void group(const Group& g, const std::string& path) {
    h5::Handle own;
    hid_t loc = file_;
    if (path != "/") {
      own = h5::create_group(file_, path);
      loc = own.get();
    }
    attributes(loc, path, g.attributes, true);
    for (const auto& d : g.datasets) dataset(g, d, join(path, d.name));
    for (const auto& l : g.hardlinks)
      tree_.deferred.hardlinks.emplace_back(join(path, l.name), l.target);
    for (const auto& child : g.groups) group(child, join(path, child.name));
  }

 private:
  void attributes(hid_t loc, const std::string& path, const std::vector<Attribute>& list,
                  bool on_group = false) {
    for (const auto& a : list) {
      if (a.source == Source::constant) {
        write_layout_attribute(loc, a, nullptr);
      } else if (a.when == When::on_file_close) {
        tree_.deferred.close_attributes.push_back({path, {}, a, on_group});
      } else if (auto it = o_.open_attributes.find(a.ndattribute); it != o_.open_attributes.end()) {
        write_layout_attribute(loc, a, &it->second);
      } else {
        tree_.warnings.push_back(fmt::format("{}@{}: NDAttribute {} has no value at file open",
                                             path, a.name, a.ndattribute));
      }
    }
  }

  void dataset(const Group& g, const Dataset& d, const std::string& path) {
    switch (d.source) {
      case Source::detector:
        return detector(g, d, path);
      case Source::constant:
        constant(d, path);
        return with_attributes(path, d.attributes);
      case Source::ndattribute:
        return ndattribute(d, path);
    }
  }

  void with_attributes(const std::string& path, const std::vector<Attribute>& list) {
    const auto ds = h5::Dataset::open(file_, path);
    attributes(ds.id(), path, list);
  }

  void detector(const Group& g, const Dataset& d, const std::string& path) {
    Detector det;
    det.path = path;
    det.data = h5::Dataset::create(
        file_, path,
        {.type = pixel_type(o_.frame.type),
         .chunk_rows = 1,
         .row_shape = {static_cast<hsize_t>(o_.frame.height), static_cast<hsize_t>(o_.frame.width)},
         .filters = filters_});
    attributes(det.data.id(), path, d.attributes);
    if (auto theta = theta_name(g, d.name)) {
      det.theta_path = join(parent_of(path), *theta);
      det.theta = create_value_dataset(file_, det.theta_path, Kind::float64, theta_chunk_rows);
      h5::write_c_string_attribute(det.theta.id(), "units", "degrees");
      h5::write_c_string_attribute(det.theta.id(), "description",
                                   fmt::format("rotation angle of each frame in {}: NDAttribute {}",
                                               path, tree_.angle_attribute));
    } else {
      tree_.warnings.push_back(fmt::format("{}: no theta dataset beside it", path));
    }
    tree_.detectors.push_back(std::move(det));
  }

  void constant(const Dataset& d, const std::string& path) {
    if (d.type == ValueType::string) {  // NDFileHDF5's: shape (1,), strlen + 1, NUL-terminated
      (void)h5::Dataset::create_c_string(file_, path, d.value);
      return;
    }
    std::vector<std::byte> bytes;
    const Kind k = kind_of(d.type);
    for (const auto& item : split_list(d.value)) encode(k, AttributeValue{item}, bytes);
    auto ds = create_value_dataset(file_, path, k, bytes.size() / size_of(k));
    ds.append(bytes);
  }

  void ndattribute(const Dataset& d, const std::string& path) {
    if (d.when == When::on_frame) {
      tree_.columns.push_back({path, d.ndattribute, d.attributes, declared_type(d)});
      return;
    }
    if (d.when == When::on_file_close) {
      tree_.deferred.close_datasets.push_back({path, d, {}});
      return;
    }
    const auto it = o_.open_attributes.find(d.ndattribute);
    if (it == o_.open_attributes.end()) {
      tree_.warnings.push_back(
          fmt::format("{}: NDAttribute {} has no value at file open", path, d.ndattribute));
      return;
    }
    const auto given = o_.attribute_types.find(d.ndattribute);
    write_single_value(
        file_, path, it->second,
        given != o_.attribute_types.end() ? std::optional(given->second) : declared_type(d));
    with_attributes(path, d.attributes);
  }

  hid_t file_;
  const WriterOptions& o_;
  std::vector<h5::Filter> filters_;
  Tree& tree_;
};

// The NDAttribute the layout places at /process/acquisition/image_theta, if any.
std::optional<std::string> layout_angle(const Group& root) {
  const Group* g = &root;
  for (const char* name : {"process", "acquisition"}) {
    const auto it = std::find_if(g->groups.begin(), g->groups.end(),
                                 [&](const Group& c) { return c.name == name; });
    if (it == g->groups.end()) return std::nullopt;
    g = &*it;
  }
  for (const auto& d : g->datasets) {
    if (d.name == "image_theta" && d.source == Source::ndattribute) return d.ndattribute;
  }
  return std::nullopt;
}

}  // namespace

Tree build_tree(hid_t file, const WriterOptions& o) {
  Tree tree;
  const auto placed_angle = layout_angle(o.layout.root);
  tree.angle_attribute =
      !o.angle_attribute.empty() ? o.angle_attribute : placed_angle.value_or("PandaTheta");
  if (placed_angle && *placed_angle != tree.angle_attribute) {
    tree.warnings.push_back(
        fmt::format("/process/acquisition/image_theta holds NDAttribute {}, but the frames' angle "
                    "(/exchange/theta) is NDAttribute {}",
                    *placed_angle, tree.angle_attribute));
  }
  collect_placed(o.layout.root, tree);
  if (o.layout.auto_ndattr_default) {
    tree.defaults_group = o.layout.ndattr_default_path().value_or("/");
  }
  tree.destination_attribute = o.layout.destination_attribute.value_or("HDF5FrameLocation");
  Builder builder(file, o, filters_for(o), tree);
  builder.group(o.layout.root, "/");
  if (tree.detectors.empty()) {
    throw std::invalid_argument("dx::Writer: the layout has no detector dataset");
  }
  // det_default, else the first in alphabetical order (the plugin's rule, Layout's).
  const auto default_path = o.layout.default_detector_path();
  for (std::size_t i = 0; i < tree.detectors.size(); ++i) {
    if (tree.detectors[i].path == default_path) tree.default_detector = i;
  }
  return tree;
}

void make_hardlinks(hid_t file, Deferred& deferred) {
  auto& links = deferred.hardlinks;
  links.erase(std::remove_if(links.begin(), links.end(),
                             [&](const auto& l) {
                               if (!h5::path_exists(file, l.second)) return false;
                               if (!h5::path_exists(file, l.first)) {
                                 h5::create_hard_link(file, l.second, l.first);
                               }
                               return true;
                             }),
              links.end());
}

}  // namespace pandafly::dx::detail
