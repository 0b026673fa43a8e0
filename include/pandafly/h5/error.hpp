#pragma once
// Errors of the HDF5 wrappers: one exception type and one checked-call wrapper.
//
// Rules:
//   - Every raw HDF5 call in pandafly goes through h5::call(), which silences
//     HDF5's automatic printing of its error stack on the calling thread (the
//     library is built thread-safe: both the stack and the "auto" setting are
//     per thread) and turns a negative return into an h5::Error.
//   - An h5::Error carries what failed (`operation`, e.g. "H5Dset_extent"),
//     on what (`object`: "/INENC1.VAL.Mean in /data/scan.h5", or a file name),
//     HDF5's own error stack as text, and the errno the file driver reported
//     (ENOSPC when the disk is full), if any.
//
// Example:
//   h5::call({"H5Dset_extent", dset}, H5Dset_extent, dset, dims);   // throws h5::Error
//   hid_t f = h5::call({"H5Fopen", H5I_INVALID_HID, path}, H5Fopen, path, flags, fapl);
#include <concepts>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <hdf5.h>

namespace pandafly::h5 {

class Error : public std::runtime_error {
 public:
  Error(std::string operation, std::string object, std::string stack, int os_errno);

  [[nodiscard]] const std::string& operation() const noexcept { return operation_; }
  [[nodiscard]] const std::string& object() const noexcept { return object_; }
  /// HDF5's error stack, outermost call first, one line per entry ("" if empty).
  [[nodiscard]] const std::string& stack() const noexcept { return stack_; }
  /// The errno the file driver saw (e.g. ENOSPC), 0 when the stack names none.
  [[nodiscard]] int os_errno() const noexcept { return errno_; }

 private:
  std::string operation_;
  std::string object_;
  std::string stack_;
  int errno_ = 0;
};

/// Where a call is made: the operation and the object it acts on, given as an
/// id (its path and file name are looked up only when the call fails) and/or
/// as a name (e.g. the file name before a file exists).
struct At {
  std::string_view operation;
  hid_t object = H5I_INVALID_HID;
  std::string_view name = {};
};

/// Turns off HDF5's printing of error stacks to stderr for the calling thread.
/// Idempotent and cheap after the first call on a thread.
void quiet_this_thread() noexcept;

/// Throws an h5::Error for `at`, with the calling thread's current HDF5 error stack.
[[noreturn]] void throw_error(const At& at);

/// Calls `fn(args...)`; a negative result throws h5::Error (see Rules).
/// Returns the result otherwise.
template <class Fn, class... Args>
auto call(const At& at, Fn&& fn, Args&&... args) {
  quiet_this_thread();
  auto result = std::invoke(std::forward<Fn>(fn), std::forward<Args>(args)...);
  static_assert(std::signed_integral<decltype(result)>, "HDF5 calls return herr_t/hid_t/htri_t");
  if (result < 0) throw_error(at);
  return result;
}

}  // namespace pandafly::h5
