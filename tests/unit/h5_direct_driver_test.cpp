// The pandafly_direct HDF5 driver (include/pandafly/h5/direct_driver.hpp) on
// real files: whole-page chunks from page-aligned buffers leave no pages in
// the page cache (mincore), anything else (or anything while direct writes
// are paused) goes through it, and either way
// the file reads back exactly with the default driver and with h5py; a full
// (loop-mounted ext4) disk reports ENOSPC through h5::Error.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/direct_driver.hpp"
#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"
#include "temp_dir.hpp"
#include "tiny_disk.hpp"

namespace fs = std::filesystem;
using namespace pandafly;

namespace {

constexpr hsize_t chunk_rows = 1024;  // int64: 8 KiB chunks, two pages each

h5::File::CreateOptions direct_options() {
  return {.overwrite = true,
          .alignment = h5::direct_alignment,
          .align_threshold = h5::direct_alignment,
          .direct_raw_data = true};
}

// Chunk k of the test dataset: values k * chunk_rows + i.
void fill(std::byte* out, hsize_t k) {
  for (hsize_t i = 0; i < chunk_rows; ++i) {
    const auto v = static_cast<std::int64_t>(k * chunk_rows + i);
    std::memcpy(out + i * sizeof v, &v, sizeof v);
  }
}

haddr_t chunk_address(const h5::Dataset& d, hsize_t k) {
  haddr_t addr = 0;
  hsize_t size = 0;
  const hsize_t at[1] = {k * chunk_rows};
  REQUIRE(H5Dget_chunk_info_by_coord(d.id(), at, nullptr, &addr, &size) >= 0);
  return addr;
}

// Pages of [addr, addr + bytes) of the file that are in the page cache.
std::size_t cached_pages(const fs::path& path, haddr_t addr, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(map != MAP_FAILED);
  const std::size_t page = 4096;
  std::vector<unsigned char> resident((bytes + page - 1) / page);
  REQUIRE(::mincore(static_cast<std::byte*>(map) + addr, bytes, resident.data()) == 0);
  ::munmap(map, static_cast<std::size_t>(st.st_size));
  std::size_t n = 0;
  for (auto r : resident) n += (r & 1U);
  return n;
}

}  // namespace

TEST_CASE(
    "direct driver: page-aligned chunks bypass the page cache, the rest does not; all reads back") {
  test::TempDir dir("h5_direct");
  const fs::path path = dir.path / "direct.h5";
  constexpr hsize_t chunks = 12;
  h5::DirectStats after_aligned;
  h5::DirectStats at_close;
  std::vector<haddr_t> addresses;
  {
    auto f = h5::File::create(path, direct_options());
    auto d = h5::Dataset::create(f.id(), "/x", {.type = h5::Type::int64, .chunk_rows = chunk_rows});
    f.start_swmr_write();  // the driver must allow SWMR writing
    h5::PageBuffer page_aligned(chunk_rows * 8);
    for (hsize_t k = 0; k < chunks - 2; ++k) {
      fill(page_aligned.data(), k);
      d.set_rows((k + 1) * chunk_rows);
      if (k == chunks - 3) h5::set_direct_writes(f.id(), false);  // the last aligned one: cached
      d.write_chunk(k * chunk_rows, page_aligned.bytes());
      h5::set_direct_writes(f.id(), true);
    }
    after_aligned = h5::direct_stats(f.id());
    // Two chunks from a buffer 8 bytes off a page: written through the page cache.
    h5::PageBuffer shifted(chunk_rows * 8 + 8);
    for (hsize_t k = chunks - 2; k < chunks; ++k) {
      fill(shifted.data() + 8, k);
      d.set_rows((k + 1) * chunk_rows);
      d.write_chunk(k * chunk_rows, {shifted.data() + 8, chunk_rows * 8});
    }
    f.flush();
    at_close = h5::direct_stats(f.id());
    for (hsize_t k = 0; k < chunks; ++k) addresses.push_back(chunk_address(d, k));
    f.close();
  }
  if (after_aligned.direct_available) {
    CHECK(after_aligned.direct_bytes == (chunks - 3) * chunk_rows * 8);
    CHECK(at_close.direct_bytes == after_aligned.direct_bytes);  // the shifted ones were not
    CHECK(at_close.buffered_bytes >= after_aligned.buffered_bytes + 2 * chunk_rows * 8);
    // Bypassed: none of the direct chunks' pages is cached; the others are.
    for (hsize_t k = 0; k < chunks - 3; ++k) {
      CAPTURE(k);
      CHECK(addresses[k] % h5::direct_alignment == 0);
      CHECK(cached_pages(path, addresses[k], chunk_rows * 8) == 0);
    }
    CHECK(cached_pages(path, addresses[chunks - 3], chunk_rows * 8) == 2);  // paused
    CHECK(cached_pages(path, addresses[chunks - 1], chunk_rows * 8) == 2);  // shifted buffer
  } else {
    MESSAGE("this file system refuses O_DIRECT: everything went through the page cache");
    CHECK(at_close.direct_bytes == 0);
    CHECK(at_close.buffered_bytes >= chunks * chunk_rows * 8);
  }
  // The default (sec2) driver reads it back, value for value.
  auto f = h5::File::open(path);
  const auto values = h5::Dataset::open(f.id(), "/x").read<std::int64_t>();
  REQUIRE(values.size() == chunks * chunk_rows);
  bool exact = true;
  for (std::size_t i = 0; i < values.size(); ++i) exact = exact && values[i] == std::int64_t(i);
  CHECK(exact);
  f.close();
  // And so does h5py, which knows nothing of the driver.
  const std::string cmd = "/usr/bin/python3 -c \"import h5py, numpy; x = h5py.File('" +
                          path.string() +
                          "', 'r')['x'][:]; assert (x == numpy.arange(x.size)).all(), x\"";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("direct driver: not for files of other drivers nor on tmpfs" *
          doctest::test_suite(test::kNeedsMount)) {
  test::TempDir dir("h5_direct_tmpfs");
  {
    auto plain = h5::File::create(dir.path / "plain.h5");
    const auto s = h5::direct_stats(plain.id());
    CHECK(s.direct_bytes == 0);
    CHECK(s.buffered_bytes == 0);
    CHECK_FALSE(s.direct_available);
  }
  {  // tmpfs is memory: nothing to bypass, the driver writes through the page cache
    test::TinyDisk memory(dir.path / "memory", "1m");
    auto f = h5::File::create(memory.dir / "m.h5", direct_options());
    CHECK_FALSE(h5::direct_stats(f.id()).direct_available);
  }
}

TEST_CASE("direct driver: a full disk: ENOSPC" * doctest::test_suite(test::kNeedsRoot)) {
  test::TempDir dir("h5_direct_full");
  test::TinyExt4 disk(dir.path / "disk", dir.path / "disk.img", 8);
  auto f = h5::File::create(disk.dir / "full.h5", direct_options());
  auto d = h5::Dataset::create(f.id(), "/x", {.type = h5::Type::int64, .chunk_rows = chunk_rows});
  f.flush();
  // Fill the disk to within 256 KiB with another file, which goes again before
  // the close: HDF5 1.10 cannot close a file whose own metadata no longer fits
  // (it then crashes at exit; h5/space_reserve.hpp), which is not this test's subject.
  const fs::path filler = disk.dir / "filler";
  {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    std::vector<char> block(64 << 10, 'x');
    while (::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size())) {
    }
    ::close(fd);
    REQUIRE(::truncate(filler.c_str(), static_cast<off_t>(fs::file_size(filler) - (256 << 10))) ==
            0);
  }
  h5::PageBuffer buffer(chunk_rows * 8);
  int os_errno = 0;
  hsize_t k = 0;
  try {
    for (; k < 1000; ++k) {  // up to 8 MiB into 256 KiB
      fill(buffer.data(), k);
      d.set_rows((k + 1) * chunk_rows);
      d.write_chunk(k * chunk_rows, buffer.bytes());
    }
  } catch (const h5::Error& e) {
    os_errno = e.os_errno();
    MESSAGE(std::string(e.what()));
  }
  CHECK(k > 5);  // some chunks fitted
  CHECK(k < 1000);
  CHECK(os_errno == ENOSPC);
  CHECK(h5::direct_stats(f.id()).direct_bytes >= 5 * chunk_rows * 8);  // ENOSPC came direct
  fs::remove(filler);
  d.set_rows(k * chunk_rows);  // the chunks that were written
  CHECK_NOTHROW(f.close());
}
