#pragma once
// The "pandafly_direct" HDF5 file driver: POSIX I/O like HDF5's sec2 driver,
// except that whole-page raw-data writes bypass the page cache (O_DIRECT).
//
// Why: on this VM writing a file through the page cache costs the CPU a copy
// into freshly allocated pages, and that cost swings 0.15–1.4 s of system
// time per 800 MB (dd bs=512K) with the host's memory state; with O_DIRECT
// the same 800 MB took 0.09–0.10 s. A PandA capture at 60 MB/s writes 80 MB/s
// of columns, so the page-cache copy was most of its CPU (issue 4's goal:
// ≤ 5 % of one core). Debian's HDF5 1.10 has no direct driver of its own.
//
// Rules:
//   - Every write of raw data (H5FD_MEM_DRAW) whose file address, length and
//     buffer address are all multiples of 4096 goes through a second
//     descriptor opened with O_DIRECT; everything else (metadata, small or
//     unaligned raw data, all reads) through the ordinary descriptor. The
//     kernel keeps the two coherent: a direct write first writes back and
//     drops cached pages of its range, and reads see what was written.
//     H5Pset_alignment(≥ 4096) and page-aligned chunk buffers make a
//     writer's chunks qualify (h5::File::CreateOptions, capture's writer).
//   - Not on tmpfs/ramfs, whose files live in the page cache anyway (there
//     O_DIRECT only adds work). Where the file system refuses O_DIRECT
//     (EINVAL at open) or a direct write fails with EINVAL, the driver writes
//     through the page cache from then on: never an error for that alone.
//   - A direct write returns once the device has the data: one writer thread
//     then moves at the device's one-request-at-a-time rate (about 1.4 GB/s
//     for 512 KiB writes on this VM's disk), far above a PandA's 125 MB/s.
//   - Files are plain HDF5 (no driver information in the superblock):
//     h5py, h5dump and sec2 read them; SWMR writing is supported (the driver
//     declares SWMR I/O, reads go through the page cache), as is file
//     locking (flock, as sec2).
//   - Errors are pushed on HDF5's error stack in sec2's wording ("errno = N,
//     error message = '...'"), so h5::Error::os_errno() finds ENOSPC.
//   - direct_stats(file) reports the bytes written each way (for tests and
//     benchmarks); {} for files not opened with this driver.
//     set_direct_writes(file, false) sends every write through the page
//     cache until it is turned on again.
//
// Example:
//   auto f = h5::File::create(path, {.alignment = 4096, .align_threshold = 4096,
//                                    .direct_raw_data = true});
//   ... H5Dwrite_chunk from 4096-aligned buffers ...
//   auto s = h5::direct_stats(f.id());  // s.direct_bytes > 0
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>

#include <hdf5.h>

namespace pandafly::h5 {

struct DirectStats {
  std::uint64_t direct_bytes = 0;    ///< raw data written with O_DIRECT
  std::uint64_t buffered_bytes = 0;  ///< everything written through the page cache
  bool direct_available = false;     ///< the O_DIRECT descriptor is open
};

/// Sets the pandafly_direct driver on a file-access property list.
void use_direct_driver(hid_t fapl);

/// Bytes written each way so far by an open file; {} when it uses another driver.
[[nodiscard]] DirectStats direct_stats(hid_t file);

/// Off: the file's writes go through the page cache until turned on again —
/// for data rewritten soon (a partial chunk at every flush), where the page
/// cache absorbs the rewrites. No effect on files of other drivers.
void set_direct_writes(hid_t file, bool on);

/// What a direct write needs: address, length and buffer on this boundary.
inline constexpr std::size_t direct_alignment = 4096;

/// A zero-filled buffer (touched now, so reuse is cheap) that starts on a
/// direct_alignment boundary: a chunk buffer the driver can write directly.
class PageBuffer {
 public:
  PageBuffer() = default;
  explicit PageBuffer(std::size_t bytes) : size_(bytes) {
    const std::size_t whole = (bytes + direct_alignment - 1) / direct_alignment * direct_alignment;
    data_.reset(static_cast<std::byte*>(std::aligned_alloc(direct_alignment, whole)));
    if (!data_ && whole > 0) throw std::bad_alloc();
    if (whole > 0) std::memset(data_.get(), 0, whole);
  }
  [[nodiscard]] std::byte* data() noexcept { return data_.get(); }
  [[nodiscard]] const std::byte* data() const noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_.get(), size_}; }

 private:
  struct Free {
    void operator()(std::byte* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<std::byte[], Free> data_;
  std::size_t size_ = 0;
};

}  // namespace pandafly::h5
