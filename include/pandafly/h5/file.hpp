#pragma once
// File: one open HDF5 file, and groups inside it.
//
// Rules:
//   - create() makes a new file with library-version bounds "latest" (what
//     SWMR needs). It fails if the file exists unless `overwrite` is set.
//   - Closing degree is "strong": closing the File closes every object still
//     open in it, so a file is always finished by close() even if a dataset
//     handle is still alive (that handle's later close is a harmless no-op).
//   - SWMR writing: create every group, dataset and attribute first, then
//     start_swmr_write(); afterwards only raw data may change (datasets grow,
//     values are rewritten). flush() makes written data visible to SWMR readers.
//   - One thread at a time per File (HDF5 serializes calls anyway).
//
// Example:
//   auto file = h5::File::create("/data/scan.h5", {.overwrite = false});
//   h5::Handle g = h5::create_group(file.id(), "end");
//   ... create datasets and attributes ...
//   file.start_swmr_write();
//   ... append rows, file.flush() once a second ...
//   file.close();  // throws h5::Error if the last flush fails
#include <cstdint>
#include <filesystem>
#include <string>

#include "pandafly/h5/handle.hpp"

namespace pandafly::h5 {

/// True when the descriptor's file system keeps files in memory (tmpfs,
/// ramfs): there is no disk behind the page cache to write back to or bypass.
[[nodiscard]] bool on_memory_file_system(int fd) noexcept;

class File {
 public:
  enum class Access { read_only, read_write, swmr_read };
  struct CreateOptions {
    bool overwrite = false;  ///< truncate an existing file instead of failing
    /// > 1: every object of at least `align_threshold` bytes (e.g. a frame's
    /// chunk) starts at a multiple of `alignment` in the file (H5Pset_alignment).
    hsize_t alignment = 1;
    hsize_t align_threshold = 1;
    /// Write whole-page raw data past the page cache (h5/direct_driver.hpp);
    /// pair with alignment = 4096 and page-aligned chunk buffers.
    bool direct_raw_data = false;
  };

  File() = default;
  [[nodiscard]] static File create(const std::filesystem::path& path, CreateOptions options);
  [[nodiscard]] static File create(const std::filesystem::path& path) { return create(path, {}); }
  [[nodiscard]] static File open(const std::filesystem::path& path,
                                 Access access = Access::read_only);
  /// What `h5clear -s` does: clears the superblock's status flags a writer
  /// killed in SWMR mode left set (until then the file opens only as an SWMR
  /// reader). Uses HDF5 1.10's file-access property "clear_status_flags",
  /// which h5clear itself sets. Returns true if the file then opens plainly.
  /// Throws h5::Error if HDF5 cannot open the file read-write.
  static bool clear_status_flags(const std::filesystem::path& path);

  [[nodiscard]] hid_t id() const noexcept { return handle_.get(); }
  [[nodiscard]] bool is_open() const noexcept { return static_cast<bool>(handle_); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  /// Switches to SWMR writing (H5Fstart_swmr_write); no attribute may be open.
  void start_swmr_write();
  /// Writes everything cached for this file (H5Fflush, local scope).
  void flush();
  /// max(end of file, end of allocated space) in bytes: where HDF5 may write up to.
  [[nodiscard]] std::uint64_t size() const;
  /// The POSIX descriptor under HDF5's sec2 or the direct driver; valid until close().
  [[nodiscard]] int descriptor() const;
  /// Flushes and closes; throws h5::Error if HDF5 fails. Closed afterwards either way.
  void close();

 private:
  File(Handle handle, std::filesystem::path path)
      : handle_(std::move(handle)), path_(std::move(path)) {}
  Handle handle_;
  std::filesystem::path path_;
};

/// Creates group `name` (a path relative to `loc`, or absolute) and returns it.
[[nodiscard]] Handle create_group(hid_t loc, const std::string& name);
[[nodiscard]] Handle open_group(hid_t loc, const std::string& name);
/// True if `name` names a link in `loc` (every intermediate group must exist).
[[nodiscard]] bool exists(hid_t loc, const std::string& name);
/// True if every group on the way to `path` exists and `path` names a link
/// (exists() without the precondition). Absolute paths; "/" is true.
[[nodiscard]] bool path_exists(hid_t loc, const std::string& path);
/// Creates hard link `name` (missing intermediate groups created) to the
/// existing object `target` (H5Lcreate_hard). Not under SWMR.
void create_hard_link(hid_t loc, const std::string& target, const std::string& name);

}  // namespace pandafly::h5
