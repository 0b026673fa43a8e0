#include "pandafly/h5/attribute.hpp"

#include <algorithm>
#include <cstring>

#include "pandafly/h5/error.hpp"

namespace pandafly::h5 {
namespace {

Handle scalar_space() {
  return {call({"H5Screate"}, H5Screate, H5S_SCALAR), Kind::dataspace};
}

// The attribute `name` of `type` and shape `space`, made anew (an existing one is deleted).
Handle recreate(hid_t loc, const std::string& name, const Handle& type, const Handle& space) {
  if (has_attribute(loc, name)) call({"H5Adelete", loc, name}, H5Adelete, loc, name.c_str());
  hid_t id = call({"H5Acreate2", loc, name}, H5Acreate2, loc, name.c_str(), type.get(), space.get(),
                  H5P_DEFAULT, H5P_DEFAULT);
  return {id, Kind::attribute};
}

Handle recreate(hid_t loc, const std::string& name, const Handle& type) {
  return recreate(loc, name, type, scalar_space());
}

Handle open(hid_t loc, const std::string& name) {
  return {call({"H5Aopen", loc, name}, H5Aopen, loc, name.c_str(), H5P_DEFAULT), Kind::attribute};
}

std::string read_vlen(const Handle& attr, const std::string& name) {
  const Handle type = make_vlen_string_type();
  char* text = nullptr;
  call({"H5Aread", attr.get(), name}, H5Aread, attr.get(), type.get(), &text);
  std::string out = text ? text : "";
  H5free_memory(text);  // allocated inside the library
  return out;
}

std::string read_fixed(const Handle& attr, const Handle& file_type, const std::string& name) {
  std::string out(H5Tget_size(file_type.get()), '\0');
  call({"H5Aread", attr.get(), name}, H5Aread, attr.get(), file_type.get(), out.data());
  out.resize(out.find('\0') == std::string::npos ? out.size() : out.find('\0'));
  return out;
}

}  // namespace

void write_attribute(hid_t loc, const std::string& name, std::string_view value) {
  const Handle type = make_vlen_string_type();
  Handle attr = recreate(loc, name, type);
  const std::string text(value);
  const char* ptr = text.c_str();
  call({"H5Awrite", attr.get(), name}, H5Awrite, attr.get(), type.get(), &ptr);
  attr.close();
}

void write_c_string_attribute(hid_t loc, const std::string& name, std::string_view value) {
  const Handle type = make_c_string_type(value.size() + 1, is_utf8_text(value));
  Handle attr = recreate(loc, name, type);
  const std::string text(value);  // with its NUL
  call({"H5Awrite", attr.get(), name}, H5Awrite, attr.get(), type.get(), text.c_str());
  attr.close();
}

void write_c_string_array_attribute(hid_t loc, const std::string& name,
                                    std::span<const char* const> values) {
  std::size_t size = 1;
  bool utf8 = false;
  for (const char* v : values) {
    size = std::max(size, std::strlen(v) + 1);
    utf8 = utf8 || is_utf8_text(v);
  }
  std::string bytes(size * values.size(), '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(bytes.data() + i * size, values[i], std::strlen(values[i]));
  const Handle type = make_c_string_type(size, utf8);
  const hsize_t dims[1] = {values.size()};
  const Handle space{call({"H5Screate_simple"}, H5Screate_simple, 1, dims, nullptr),
                     Kind::dataspace};
  Handle attr = recreate(loc, name, type, space);
  call({"H5Awrite", attr.get(), name}, H5Awrite, attr.get(), type.get(), bytes.data());
  attr.close();
}

void write_attribute_bytes(hid_t loc, const std::string& name, Type type, const void* value) {
  const Handle file_type = make_type(type);
  Handle attr = recreate(loc, name, file_type);
  call({"H5Awrite", attr.get(), name}, H5Awrite, attr.get(), file_type.get(), value);
  attr.close();
}

void write_attribute_array(hid_t loc, const std::string& name, Type type, const void* values,
                           std::size_t count) {
  const Handle file_type = make_type(type);
  if (has_attribute(loc, name)) call({"H5Adelete", loc, name}, H5Adelete, loc, name.c_str());
  const hsize_t dims[1] = {count};
  const Handle space{call({"H5Screate_simple"}, H5Screate_simple, 1, dims, nullptr),
                     Kind::dataspace};
  Handle attr{call({"H5Acreate2", loc, name}, H5Acreate2, loc, name.c_str(), file_type.get(),
                   space.get(), H5P_DEFAULT, H5P_DEFAULT),
              Kind::attribute};
  call({"H5Awrite", attr.get(), name}, H5Awrite, attr.get(), file_type.get(), values);
  attr.close();
}

bool has_attribute(hid_t loc, const std::string& name) {
  return call({"H5Aexists", loc, name}, H5Aexists, loc, name.c_str()) > 0;
}

std::string read_string_attribute(hid_t loc, const std::string& name) {
  const Handle attr = open(loc, name);
  const Handle type{call({"H5Aget_type", attr.get(), name}, H5Aget_type, attr.get()),
                    Kind::datatype};
  if (H5Tis_variable_str(type.get()) > 0) return read_vlen(attr, name);
  return read_fixed(attr, type, name);
}

void read_attribute_bytes(hid_t loc, const std::string& name, Type type, void* out) {
  const Handle attr = open(loc, name);
  const Handle mem_type = make_type(type);
  call({"H5Aread", attr.get(), name}, H5Aread, attr.get(), mem_type.get(), out);
}

}  // namespace pandafly::h5
