#pragma once
// Attributes: small named values on a file, group or dataset.
//
// Rules:
//   - Write every attribute before File::start_swmr_write(): HDF5 1.10 cannot
//     add attributes under SWMR (values known only at the end go in small
//     datasets created up front instead).
//   - Each call opens and closes its attribute, so none stays open (an open
//     attribute makes H5Fstart_swmr_write fail).
//   - Strings are variable-length UTF-8 scalars (write_attribute), or
//     NDFileHDF5's C strings (write_c_string_attribute: scalar, fixed length
//     strlen + 1, NUL-terminated, ASCII unless the text is not); numbers are
//     scalars of the matching little-endian type (see datatype.hpp).
//   - Writing an attribute that exists replaces it.
//
// Example:
//   h5::write_attribute(file.id(), "arm_time", "2026-01-15T10:00:00.000000001Z");
//   h5::write_attribute(dset.id(), "scale", 0.000125);
//   double s = h5::read_attribute<double>(dset.id(), "scale");
#include <span>
#include <string>
#include <string_view>

#include "pandafly/h5/datatype.hpp"

namespace pandafly::h5 {

void write_attribute(hid_t loc, const std::string& name, std::string_view value);
inline void write_attribute(hid_t loc, const std::string& name, const char* value) {
  write_attribute(loc, name, std::string_view(value));
}
/// A string attribute as NDFileHDF5 writes one (see Rules).
void write_c_string_attribute(hid_t loc, const std::string& name, std::string_view value);
/// A 1-D attribute of C strings (one fixed size: the longest + 1, NUL-terminated).
void write_c_string_array_attribute(hid_t loc, const std::string& name,
                                    std::span<const char* const> values);
/// Writes a scalar of `type` from the `size_of(type)` bytes at `value`.
void write_attribute_bytes(hid_t loc, const std::string& name, Type type, const void* value);
template <Scalar T>
void write_attribute(hid_t loc, const std::string& name, T value) {
  write_attribute_bytes(loc, name, type_of<T>(), &value);
}
/// A 1-D attribute of `count` values of `type` from `count * size_of(type)` bytes at `values`.
void write_attribute_array(hid_t loc, const std::string& name, Type type, const void* values,
                           std::size_t count);

[[nodiscard]] bool has_attribute(hid_t loc, const std::string& name);
/// A string attribute, fixed or variable length.
[[nodiscard]] std::string read_string_attribute(hid_t loc, const std::string& name);
/// Reads a scalar attribute converted (by HDF5) to `type` into `size_of(type)` bytes at `out`.
void read_attribute_bytes(hid_t loc, const std::string& name, Type type, void* out);
template <Scalar T>
[[nodiscard]] T read_attribute(hid_t loc, const std::string& name) {
  T value{};
  read_attribute_bytes(loc, name, type_of<T>(), &value);
  return value;
}

}  // namespace pandafly::h5
