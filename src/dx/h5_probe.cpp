// Read-only HDF5 questions for dx::validate (rules in h5_probe.hpp).
#include "h5_probe.hpp"

#include <functional>
#include <numeric>

#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/error.hpp"

namespace pandafly::dx {
namespace {

using h5::call;
using h5::Handle;

// The object info of `path`, walking it one link at a time so that a missing
// parent (or a dataset where a group should be) answers nullopt, not an error.
std::optional<H5O_info_t> info(hid_t file, const std::string& path) {
  H5O_info_t out{};
  if (path.empty() || path == "/") {
    call({"H5Oget_info_by_name2", file, "/"}, H5Oget_info_by_name2, file, "/", &out, H5O_INFO_BASIC,
         H5P_DEFAULT);
    return out;
  }
  std::size_t at = 0;
  while (at != std::string::npos) {
    at = path.find('/', at + 1);
    const std::string prefix = path.substr(0, at);
    if (call({"H5Lexists", file, prefix}, H5Lexists, file, prefix.c_str(), H5P_DEFAULT) <= 0)
      return std::nullopt;
    if (H5Oexists_by_name(file, prefix.c_str(), H5P_DEFAULT) <= 0) return std::nullopt;  // dangles
    call({"H5Oget_info_by_name2", file, prefix}, H5Oget_info_by_name2, file, prefix.c_str(), &out,
         H5O_INFO_BASIC, H5P_DEFAULT);
    if (at != std::string::npos && out.type != H5O_TYPE_GROUP) return std::nullopt;
  }
  return out;
}

Handle dataspace(hid_t dset) {
  return {call({"H5Dget_space", dset}, H5Dget_space, dset), h5::Kind::dataspace};
}

std::vector<hsize_t> dims_of(hid_t space) {
  const int rank = call({"H5Sget_simple_extent_ndims", space}, H5Sget_simple_extent_ndims, space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  call({"H5Sget_simple_extent_dims", space}, H5Sget_simple_extent_dims, space, dims.data(),
       nullptr);
  return dims;
}

// Reads element 0 of `dset` into `out` as `mem_type`; false if the dataset is empty.
bool read_first(hid_t dset, hid_t mem_type, void* out) {
  const Handle file_space = dataspace(dset);
  const auto dims = dims_of(file_space.get());
  const hsize_t n = std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<>());
  if (n == 0) return false;
  if (!dims.empty()) {
    const std::vector<hsize_t> start(dims.size(), 0), count(dims.size(), 1);
    call({"H5Sselect_hyperslab", dset}, H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET,
         start.data(), nullptr, count.data(), nullptr);
  }
  const Handle mem_space{call({"H5Screate", dset}, H5Screate, H5S_SCALAR), h5::Kind::dataspace};
  call({"H5Dread", dset}, H5Dread, dset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT,
       out);
  return true;
}

Handle type_of(hid_t dset) {
  return {call({"H5Dget_type", dset}, H5Dget_type, dset), h5::Kind::datatype};
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

}  // namespace

ObjectKind H5Probe::kind(const std::string& path) const {
  const auto i = info(file_, path);
  if (!i) return ObjectKind::missing;
  if (i->type == H5O_TYPE_GROUP) return ObjectKind::group;
  if (i->type == H5O_TYPE_DATASET) return ObjectKind::dataset;
  return ObjectKind::other;
}

std::optional<ObjectId> H5Probe::object(const std::string& path) const {
  const auto i = info(file_, path);
  if (!i) return std::nullopt;
  return ObjectId{i->fileno, i->addr};
}

Handle H5Probe::open(const std::string& path) const {
  const hid_t id = call({"H5Oopen", file_, path}, H5Oopen, file_, path.c_str(), H5P_DEFAULT);
  switch (H5Iget_type(id)) {
    case H5I_GROUP:
      return {id, h5::Kind::group};
    case H5I_DATASET:
      return {id, h5::Kind::dataset};
    default:
      return {id, h5::Kind::datatype};  // a committed datatype: the only other object
  }
}

std::vector<hsize_t> H5Probe::shape(const std::string& dataset) const {
  const Handle d = open(dataset);
  const Handle space = dataspace(d.get());
  return dims_of(space.get());
}

bool H5Probe::is_string(const std::string& dataset) const {
  const Handle d = open(dataset);
  const Handle t = type_of(d.get());
  return H5Tget_class(t.get()) == H5T_STRING;
}

std::optional<std::string> H5Probe::first_string(const std::string& dataset) const {
  const Handle d = open(dataset);
  const Handle t = type_of(d.get());
  if (H5Tget_class(t.get()) != H5T_STRING) return std::nullopt;
  if (H5Tis_variable_str(t.get()) > 0) {
    char* text = nullptr;
    if (!read_first(d.get(), t.get(), &text)) return std::nullopt;
    std::string out = text ? text : "";
    const Handle scalar{call({"H5Screate"}, H5Screate, H5S_SCALAR), h5::Kind::dataspace};
    H5Dvlen_reclaim(t.get(), scalar.get(), H5P_DEFAULT, &text);
    return out;
  }
  std::string out(H5Tget_size(t.get()), '\0');
  if (out.empty() || !read_first(d.get(), t.get(), out.data())) return std::nullopt;
  return out.substr(0, out.find('\0'));
}

std::optional<double> H5Probe::first_number(const std::string& dataset) const {
  const Handle d = open(dataset);
  const Handle t = type_of(d.get());
  const auto c = H5Tget_class(t.get());
  if (c != H5T_INTEGER && c != H5T_FLOAT) return std::nullopt;
  double v = 0;
  if (!read_first(d.get(), H5T_NATIVE_DOUBLE, &v)) return std::nullopt;
  return v;
}

std::vector<double> H5Probe::numbers(const std::string& dataset) const {
  const Handle d = open(dataset);
  const Handle t = type_of(d.get());
  const auto c = H5Tget_class(t.get());
  if (c != H5T_INTEGER && c != H5T_FLOAT) return {};
  const Handle space = dataspace(d.get());
  const auto dims = dims_of(space.get());
  const hsize_t n = std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<>());
  std::vector<double> out(static_cast<std::size_t>(n));
  if (n == 0) return out;
  call({"H5Dread", d.get()}, H5Dread, d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
       out.data());
  return out;
}

std::optional<double> H5Probe::number_attribute(const std::string& object,
                                                const std::string& name) const {
  const Handle o = open(object);
  if (!h5::has_attribute(o.get(), name)) return std::nullopt;
  const Handle a{call({"H5Aopen", o.get(), name}, H5Aopen, o.get(), name.c_str(), H5P_DEFAULT),
                 h5::Kind::attribute};
  const Handle t{call({"H5Aget_type", a.get()}, H5Aget_type, a.get()), h5::Kind::datatype};
  const auto c = H5Tget_class(t.get());
  if (c != H5T_INTEGER && c != H5T_FLOAT) return std::nullopt;
  const Handle space{call({"H5Aget_space", a.get()}, H5Aget_space, a.get()), h5::Kind::dataspace};
  if (H5Sget_simple_extent_npoints(space.get()) != 1) return std::nullopt;
  double v = 0;
  call({"H5Aread", a.get()}, H5Aread, a.get(), H5T_NATIVE_DOUBLE, &v);
  return v;
}

std::vector<std::string> H5Probe::names(const std::string& group) const {
  std::vector<std::string> out;
  hsize_t index = 0;
  call({"H5Literate_by_name", file_, group}, H5Literate_by_name, file_, group.c_str(),
       H5_INDEX_NAME, H5_ITER_NATIVE, &index, collect_name, &out, H5P_DEFAULT);
  return out;
}

bool H5Probe::has_attribute(const std::string& object, const std::string& name) const {
  const Handle o = open(object);
  return h5::has_attribute(o.get(), name);
}

std::optional<std::string> H5Probe::string_attribute(const std::string& object,
                                                     const std::string& name) const {
  const Handle o = open(object);
  if (!h5::has_attribute(o.get(), name)) return std::nullopt;
  try {
    return h5::read_string_attribute(o.get(), name);
  } catch (const h5::Error&) {
    return std::nullopt;  // not a string
  }
}

}  // namespace pandafly::dx
