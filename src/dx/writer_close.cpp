// What finish() adds to the closed SWMR file, reopened read-write:
// OnFileClose datasets and attributes, and the NXtomo view (§1.8).
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/file.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx::detail {
namespace {

std::optional<ValueType> close_type(const std::map<std::string, ValueType, std::less<>>& types,
                                    const Dataset& d) {
  if (auto it = types.find(d.ndattribute); it != types.end()) return it->second;
  if (auto t = declared_type(d)) return t;
  if (d.ndattribute == "AcquisitionComplete") return ValueType::int32;
  return std::nullopt;
}

void close_attribute(hid_t loc, const std::string& path, const Attribute& a,
                     const AttributeValues& values, std::vector<std::string>& warnings) {
  if (a.source == Source::constant) return write_layout_attribute(loc, a, nullptr);
  const auto it = values.find(a.ndattribute);
  if (it == values.end()) {
    warnings.push_back(fmt::format("{}@{}: NDAttribute {} has no value at file close", path, a.name,
                                   a.ndattribute));
    return;
  }
  write_layout_attribute(loc, a, &it->second);
}

void close_dataset(hid_t file, const Deferred::Item& item, const AttributeValues& values,
                   const std::map<std::string, ValueType, std::less<>>& types,
                   std::vector<std::string>& warnings) {
  const std::string& name = item.dataset.ndattribute;
  const auto it = values.find(name);
  if (it == values.end()) {
    warnings.push_back(
        fmt::format("{}: NDAttribute {} has no value at file close", item.path, name));
    return;
  }
  write_single_value(file, item.path, it->second, close_type(types, item.dataset));
  const auto ds = h5::Dataset::open(file, item.path);
  for (const auto& a : item.dataset.attributes)
    close_attribute(ds.id(), item.path, a, values, warnings);
}

void nx_class(hid_t loc, const char* cls) {
  h5::write_c_string_attribute(loc, "NX_class", cls);
}

std::optional<std::string> text_value(const AttributeValues& values, const char* name) {
  const auto it = values.find(name);
  if (it == values.end() || !std::holds_alternative<std::string>(it->second)) return std::nullopt;
  return std::get<std::string>(it->second);
}

// NXentry's optional fields, written when the scan gave them.
void entry_fields(hid_t file, const AttributeValues& values) {
  const std::pair<const char*, const char*> fields[] = {{"/entry/title", "ExperimentTitle"},
                                                        {"/entry/start_time", "DateTimeStart"},
                                                        {"/entry/end_time", "DateTimeEnd"}};
  for (const auto& [path, name] : fields) {
    if (auto v = text_value(values, name); v && !v->empty())
      (void)h5::Dataset::create_c_string(file, path, *v);
  }
}

// NeXus links: the object carries @target, its original path (NXtomo's NXdata
// lists data, rotation_angle and image_key as links).
void link(hid_t file, const std::string& target, const std::string& path) {
  h5::write_c_string_attribute(h5::Dataset::open(file, target).id(), "target", target);
  h5::create_hard_link(file, target, path);
}

void append_angles(hid_t file, const std::string& theta, std::uint64_t rows,
                   std::vector<double>& out) {
  std::vector<double> v;
  if (!theta.empty()) v = h5::Dataset::open(file, theta).read<double>();
  v.resize(rows, 0.0);  // no theta dataset: 0 for darks and flats
  out.insert(out.end(), v.begin(), v.end());
}

template <class T>
void write_column(hid_t file, const std::string& path, const std::vector<T>& values) {
  auto d = h5::Dataset::create(
      file, path, {.type = h5::type_of<T>(), .chunk_rows = std::max<hsize_t>(1, values.size())});
  d.append(std::as_bytes(std::span(values)));
}

}  // namespace

void add_closing_items(hid_t file, const Deferred& deferred, const AttributeValues& values,
                       const std::map<std::string, ValueType, std::less<>>& types,
                       std::vector<std::string>& warnings) {
  for (const auto& item : deferred.close_datasets)
    close_dataset(file, item, values, types, warnings);
  for (const auto& item : deferred.close_attributes) {
    if (item.path == "/") {
      close_attribute(file, item.path, item.attribute, values, warnings);
    } else if (item.on_group) {
      const h5::Handle g = h5::open_group(file, item.path);
      close_attribute(g.get(), item.path, item.attribute, values, warnings);
    } else {
      const auto d = h5::Dataset::open(file, item.path);
      close_attribute(d.id(), item.path, item.attribute, values, warnings);
    }
  }
}

bool add_nxtomo(hid_t file, const NxtomoInput& in, const FrameGeometry& frame,
                const AttributeValues& values) {
  if (h5::path_exists(file, "/entry")) return false;
  nx_class(h5::create_group(file, "/entry").get(), "NXentry");
  (void)h5::Dataset::create_c_string(file, "/entry/definition", "NXtomo");
  entry_fields(file, values);
  nx_class(h5::create_group(file, "/entry/instrument").get(), "NXinstrument");
  nx_class(h5::create_group(file, "/entry/instrument/detector").get(), "NXdetector");
  const auto data = h5::Dataset::create_virtual(
      file, "/entry/instrument/detector/data", pixel_type(frame.type),
      {static_cast<hsize_t>(frame.height), static_cast<hsize_t>(frame.width)},
      {{".", in.darks, in.n_darks},
       {".", in.flats, in.n_flats},
       {".", in.projections, in.n_projections}});
  h5::write_attribute(data.id(), "signal", std::int32_t{1});
  std::vector<std::int32_t> key(in.n_darks, 2);
  key.insert(key.end(), in.n_flats, 1);
  key.insert(key.end(), in.n_projections, 0);
  write_column(file, "/entry/instrument/detector/image_key", key);

  nx_class(h5::create_group(file, "/entry/sample").get(), "NXsample");
  const std::string sample = text_value(values, "SampleName").value_or("");
  (void)h5::Dataset::create_c_string(file, "/entry/sample/name", sample);
  std::vector<double> angles;
  append_angles(file, in.darks_theta, in.n_darks, angles);
  append_angles(file, in.flats_theta, in.n_flats, angles);
  append_angles(file, in.projections_theta, in.n_projections, angles);
  write_column(file, "/entry/sample/rotation_angle", angles);
  {
    const auto angle = h5::Dataset::open(file, "/entry/sample/rotation_angle");
    h5::write_c_string_attribute(angle.id(), "units", "degree");
    h5::write_attribute(angle.id(), "axis", std::int32_t{1});  // NXtomo: rotation_angle axis="1"
  }

  const h5::Handle nxdata = h5::create_group(file, "/entry/data");
  nx_class(nxdata.get(), "NXdata");
  h5::write_c_string_attribute(nxdata.get(), "signal", "data");
  // NXdata axes: frames along rotation_angle (the other two dimensions have none).
  const std::array<const char*, 3> axes = {"rotation_angle", ".", "."};
  h5::write_c_string_array_attribute(nxdata.get(), "axes", axes);
  h5::write_attribute(nxdata.get(), "rotation_angle_indices", std::int32_t{0});
  link(file, "/entry/instrument/detector/data", "/entry/data/data");
  link(file, "/entry/sample/rotation_angle", "/entry/data/rotation_angle");
  link(file, "/entry/instrument/detector/image_key", "/entry/data/image_key");
  return true;
}

}  // namespace pandafly::dx::detail
