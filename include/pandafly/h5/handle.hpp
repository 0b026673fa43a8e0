#pragma once
// Handle: the owner of one HDF5 identifier (hid_t).
//
// Rules:
//   - Move-only. The destructor and reset() close the id with the H5*close
//     that matches its Kind and ignore a failure (HDF5's own message is
//     dropped; closing is best effort on unwinding paths). close() is the same
//     but throws h5::Error, for callers that must know (a file's last close).
//   - A default-constructed or moved-from Handle owns nothing.
//   - Not thread-safe; HDF5 itself serializes calls (thread-safe build).
//
// Example:
//   h5::Handle space(h5::call({"H5Screate"}, H5Screate, H5S_SCALAR), h5::Kind::dataspace);
//   H5Sget_simple_extent_ndims(space.get());
//   // closed with H5Sclose when `space` goes out of scope
#include <hdf5.h>

namespace pandafly::h5 {

enum class Kind { file, group, dataset, dataspace, datatype, attribute, property_list };

class Handle {
 public:
  Handle() noexcept = default;
  /// Takes ownership of `id` (which must be valid, or negative for "none").
  Handle(hid_t id, Kind kind) noexcept : id_(id), kind_(kind) {}
  ~Handle() { reset(); }

  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  [[nodiscard]] hid_t get() const noexcept { return id_; }
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  explicit operator bool() const noexcept { return id_ >= 0; }

  /// Closes the id (if any), ignoring errors. Afterwards owns nothing.
  void reset() noexcept;
  /// Closes the id (if any); throws h5::Error if HDF5 reports a failure. The
  /// Handle owns nothing afterwards either way.
  void close();
  /// Gives up ownership without closing.
  [[nodiscard]] hid_t release() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
  Kind kind_ = Kind::property_list;
};

/// A property list of `cls` (H5P_FILE_ACCESS, H5P_DATASET_CREATE, ...).
[[nodiscard]] Handle make_property_list(hid_t cls);

}  // namespace pandafly::h5
