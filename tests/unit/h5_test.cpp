// pandafly::h5: RAII handles, checked calls, files, attributes, datasets and
// the disk-space reserve, on real files in a scratch directory.
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"
#include "pandafly/h5/handle.hpp"
#include "pandafly/h5/space_reserve.hpp"
#include "temp_dir.hpp"
#include "tiny_disk.hpp"

namespace fs = std::filesystem;
using namespace pandafly;

namespace {

using test::TempDir;

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
  return std::as_bytes(std::span(v));
}

// Everything written to fd 2 while `fn` runs.
template <class Fn>
std::string stderr_of(Fn&& fn) {
  std::fflush(stderr);
  char name[] = "/tmp/pandafly_stderr_XXXXXX";
  const int tmp = ::mkstemp(name);
  const int saved = ::dup(2);
  ::dup2(tmp, 2);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(tmp);
  std::ifstream in(name);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(name);
  return text;
}

}  // namespace

TEST_CASE("h5::call throws an Error naming the operation, the object and HDF5's stack, silently") {
  TempDir dir("h5_error");
  const fs::path missing = dir.path / "missing.h5";
  std::string caught_operation, caught_object, caught_stack;
  const std::string printed = stderr_of([&] {
    try {
      (void)h5::File::open(missing);
    } catch (const h5::Error& e) {
      caught_operation = e.operation();
      caught_object = e.object();
      caught_stack = e.stack();
    }
  });
  CHECK(caught_operation == "H5Fopen");
  CHECK(caught_object == missing.string());
  CHECK(caught_stack.find("H5Fopen") != std::string::npos);
  CHECK(printed.empty());  // H5Eset_auto2 silenced HDF5's own printing
}

TEST_CASE("h5::Error for an object names its path and file") {
  TempDir dir("h5_error_object");
  auto file = h5::File::create(dir.path / "f.h5");
  auto d = h5::Dataset::create(file.id(), "/x", {.type = h5::Type::int32, .chunk_rows = 4});
  try {
    h5::call({"H5Dset_extent", d.id()}, H5Dset_extent, d.id(), nullptr);
    FAIL("no exception");
  } catch (const h5::Error& e) {
    CHECK(e.object() == "/x in " + (dir.path / "f.h5").string());
    CHECK(std::string(e.what()).find("H5Dset_extent failed on /x") == 0);
  }
}

TEST_CASE("Handle: move-only owner that closes with the right H5*close") {
  h5::Handle space(h5::call({"H5Screate"}, H5Screate, H5S_SCALAR), h5::Kind::dataspace);
  const hid_t id = space.get();
  CHECK(H5Iis_valid(id) > 0);
  h5::Handle moved = std::move(space);
  CHECK_FALSE(space);  // NOLINT(bugprone-use-after-move): moved-from owns nothing
  CHECK(moved.get() == id);
  moved.reset();
  CHECK(H5Iis_valid(id) <= 0);

  h5::Handle plist = h5::make_property_list(H5P_DATASET_CREATE);
  const hid_t raw = plist.release();
  CHECK_FALSE(plist);
  CHECK(H5Iis_valid(raw) > 0);
  CHECK(H5Pclose(raw) >= 0);

  h5::Handle type = h5::make_type(h5::Type::float64);
  type.close();
  CHECK_FALSE(type);
  type.close();  // closing nothing is fine
}

TEST_CASE("File::create refuses an existing file unless asked to overwrite") {
  TempDir dir("h5_create");
  const fs::path path = dir.path / "f.h5";
  h5::File::create(path).close();
  CHECK_THROWS_AS((void)h5::File::create(path), h5::Error);
  auto f = h5::File::create(path, {.overwrite = true});
  CHECK(f.is_open());
  CHECK(f.descriptor() >= 0);
  CHECK(f.size() > 0);
  f.close();
  CHECK_FALSE(f.is_open());
}

TEST_CASE("groups and attributes: strings, numbers, replaced in place") {
  TempDir dir("h5_attr");
  const fs::path path = dir.path / "a.h5";
  {
    auto f = h5::File::create(path);
    h5::Handle g = h5::create_group(f.id(), "/a/b");
    h5::write_attribute(f.id(), "arm_time", "2026-01-15T10:00:00.000000001Z");
    h5::write_attribute(g.get(), "scale", 0.000125);
    h5::write_attribute(g.get(), "offset_ns", std::int64_t{-5});
    h5::write_attribute(g.get(), "missed", std::uint64_t{1} << 40);
    h5::write_attribute(g.get(), "units", "deg");
    h5::write_attribute(g.get(), "units", "mm");
    f.close();
  }
  auto f = h5::File::open(path);
  CHECK(h5::exists(f.id(), "/a"));
  CHECK(h5::exists(f.id(), "/a/b"));
  CHECK_FALSE(h5::exists(f.id(), "/c"));
  h5::Handle g = h5::open_group(f.id(), "/a/b");
  CHECK(h5::read_string_attribute(f.id(), "arm_time") == "2026-01-15T10:00:00.000000001Z");
  CHECK(h5::read_attribute<double>(g.get(), "scale") == 0.000125);
  CHECK(h5::read_attribute<std::int64_t>(g.get(), "offset_ns") == -5);
  CHECK(h5::read_attribute<std::uint64_t>(g.get(), "missed") == std::uint64_t{1} << 40);
  CHECK(h5::read_string_attribute(g.get(), "units") == "mm");
  CHECK_FALSE(h5::has_attribute(g.get(), "nope"));
  CHECK_THROWS_AS((void)h5::read_string_attribute(g.get(), "nope"), h5::Error);
}

TEST_CASE("extendible datasets of every type: append, chunks, shrink, read back") {
  TempDir dir("h5_dataset");
  const fs::path path = dir.path / "d.h5";
  const std::vector<std::uint32_t> u32 = {1, 2, 3, 0xffffffffU, 5};
  const std::vector<std::int32_t> i32 = {-1, 2, -3, 4, -5};
  const std::vector<std::int64_t> i64 = {-(std::int64_t{1} << 40), 0, 7, 8, 9};
  const std::vector<double> f64 = {0.5, -1.25, 1e300, 3.0, 4.0};
  // Three little-endian 96-bit values: 5, -1, 2^64.
  const std::vector<std::array<std::uint32_t, 3>> i96 = {
      {5, 0, 0}, {0xffffffffU, 0xffffffffU, 0xffffffffU}, {0, 0, 1}};
  {
    auto f = h5::File::create(path);
    auto add = [&](const char* name, h5::Type t, std::span<const std::byte> b) {
      auto d = h5::Dataset::create(f.id(), name, {.type = t, .chunk_rows = 2});
      d.append(b.first(b.size() / 2 - b.size() / 2 % h5::size_of(t)));
      d.append(b.subspan(b.size() / 2 - b.size() / 2 % h5::size_of(t)));
      CHECK(d.rows() == b.size() / h5::size_of(t));
      CHECK(d.chunk_rows() == 2);
    };
    add("u32", h5::Type::uint32, bytes_of(u32));
    add("i32", h5::Type::int32, bytes_of(i32));
    add("i64", h5::Type::int64, bytes_of(i64));
    add("f64", h5::Type::float64, bytes_of(f64));
    add("i96", h5::Type::int96, bytes_of(i96));
    f.close();
  }
  auto f = h5::File::open(path);
  CHECK(h5::Dataset::open(f.id(), "u32").read<std::uint32_t>() == u32);
  CHECK(h5::Dataset::open(f.id(), "i32").read<std::int32_t>() == i32);
  CHECK(h5::Dataset::open(f.id(), "i64").read<std::int64_t>() == i64);
  CHECK(h5::Dataset::open(f.id(), "f64").read<double>() == f64);
  auto d96 = h5::Dataset::open(f.id(), "i96");
  CHECK(d96.row_bytes() == 12);
  const auto raw = d96.read_bytes();
  CHECK(std::memcmp(raw.data(), i96.data(), raw.size()) == 0);
  // Stored as the compound {lo uint64, hi int32} (h5py reads it; see datatype.hpp).
  CHECK(d96.read_bytes().size() == 3 * 12);
}

TEST_CASE("write_chunk stores whole chunks; partial chunks show only up to the extent") {
  TempDir dir("h5_chunk");
  auto f = h5::File::create(dir.path / "c.h5");
  auto d = h5::Dataset::create(f.id(), "x", {.type = h5::Type::int64, .chunk_rows = 4});
  std::vector<std::int64_t> chunk = {10, 11, 12, 13};
  d.set_rows(4);
  d.write_chunk(0, bytes_of(chunk));
  chunk = {14, 15, 99, 99};  // a partial chunk: 2 rows, stale tail
  d.set_rows(6);
  d.write_chunk(4, bytes_of(chunk));
  CHECK(d.read<std::int64_t>() == std::vector<std::int64_t>{10, 11, 12, 13, 14, 15});
  chunk = {14, 15, 16, 17};
  d.set_rows(8);
  d.write_chunk(4, bytes_of(chunk));  // the same chunk again, now full
  CHECK(d.read<std::int64_t>().back() == 17);
  d.set_rows(5);
  CHECK(d.read<std::int64_t>() == std::vector<std::int64_t>{10, 11, 12, 13, 14});
  CHECK_THROWS_AS(d.write_chunk(1, bytes_of(chunk)), std::invalid_argument);
  CHECK_THROWS_AS(d.write_chunk(8, bytes_of(chunk)), std::invalid_argument);
  CHECK_THROWS_AS(d.write_rows(4, bytes_of(chunk)), std::invalid_argument);
}

TEST_CASE("rewriting a chunk (a partial chunk at every flush) reuses its file space") {
  TempDir dir("h5_chunk_reuse");
  auto f = h5::File::create(dir.path / "c.h5");
  auto d = h5::Dataset::create(f.id(), "x", {.type = h5::Type::float64, .chunk_rows = 1024});
  std::vector<double> chunk(1024, 1.0);
  d.set_rows(1);
  d.write_chunk(0, bytes_of(chunk));
  f.flush();
  const auto size = f.size();
  for (hsize_t rows = 2; rows <= 100; ++rows) {
    d.set_rows(rows);
    d.write_chunk(0, bytes_of(chunk));
    f.flush();
  }
  CHECK(f.size() <= size + 4096);
}

TEST_CASE("frames: rows with a shape (the DXfile writer's 3-D datasets)") {
  TempDir dir("h5_frames");
  auto f = h5::File::create(dir.path / "f.h5");
  auto d = h5::Dataset::create(f.id(), "/exchange/data",
                               {.type = h5::Type::uint32, .chunk_rows = 1, .row_shape = {2, 3}});
  CHECK(d.row_bytes() == 24);
  std::vector<std::uint32_t> frames(12);
  std::iota(frames.begin(), frames.end(), 0U);
  d.append(bytes_of(frames));
  CHECK(d.rows() == 2);
  d.write_rows(1, std::span(bytes_of(frames)).first(24));
  auto back = h5::Dataset::open(f.id(), "/exchange/data").read<std::uint32_t>();
  CHECK(back == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
  CHECK_THROWS_AS(d.append(std::span(bytes_of(frames)).first(20)), std::invalid_argument);
}

TEST_CASE("scalar and string datasets: allocated at creation, rewritable under SWMR") {
  TempDir dir("h5_scalar");
  const fs::path path = dir.path / "s.h5";
  {
    auto f = h5::File::create(path);
    auto n = h5::Dataset::create_scalar(f.id(), "/end/rows", h5::Type::uint64);
    auto s = h5::Dataset::create_string(f.id(), "/end/reason", 8);
    auto rows = h5::Dataset::create(f.id(), "x", {.type = h5::Type::float64, .chunk_rows = 16});
    CHECK(n.read_value<std::uint64_t>() == 0);
    CHECK(s.read_string().empty());
    f.start_swmr_write();
    rows.append(bytes_of(std::vector<double>{1, 2, 3}));
    n.write_value(std::uint64_t{3});
    s.write_string("disk full: long text");
    f.flush();
    f.close();
  }
  auto f = h5::File::open(path, h5::File::Access::swmr_read);
  CHECK(h5::Dataset::open(f.id(), "/end/rows").read_value<std::uint64_t>() == 3);
  CHECK(h5::Dataset::open(f.id(), "/end/reason").read_string() == "disk ful");
  auto x = h5::Dataset::open(f.id(), "x");
  x.refresh();
  CHECK(x.rows() == 3);
}

TEST_CASE("SpaceReserve: reserves ahead, says ENOSPC before the disk is full, gives back the rest" *
          doctest::test_suite(test::kNeedsMount)) {
  TempDir dir("h5_reserve");
  test::TinyDisk disk(dir.path / "mnt", "1m");
  const fs::path path = disk.dir / "r.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  h5::SpaceReserve reserve(fd, {.margin = 64 << 10, .step = 4 << 20});
  CHECK_FALSE(reserve.ensure(0, 256 << 10));  // the step does not fit: exactly what is needed
  CHECK(reserve.reserved_end() == (320 << 10));
  struct stat st {};
  ::fstat(fd, &st);
  CHECK(st.st_size == 0);  // KEEP_SIZE: the file's size is untouched
  CHECK(st.st_blocks * 512 >= (320 << 10));
  CHECK_FALSE(reserve.ensure(100 << 10, 100 << 10));  // inside the reserve: nothing to do
  CHECK(reserve.ensure(0, 2 << 20) == std::errc::no_space_on_device);
  CHECK(reserve.reserved_end() == (320 << 10));  // unchanged
  CHECK(reserve.enabled());
  std::vector<char> data(4096, 'x');
  CHECK(::pwrite(fd, data.data(), data.size(), 0) == 4096);
  ::close(fd);
  h5::SpaceReserve::release(path, reserve.reserved_end());
  ::stat(path.c_str(), &st);
  CHECK(st.st_size == 4096);
  CHECK(st.st_blocks * 512 == 4096);
}

TEST_CASE("SpaceReserve: with slack it reserves only once the disk comes near full, then always" *
          doctest::test_suite(test::kNeedsMount)) {
  TempDir dir("h5_reserve_slack");
  test::TinyDisk disk(dir.path / "mnt", "4m");
  const fs::path path = disk.dir / "r.bin";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  h5::SpaceReserve reserve(fd, {.margin = 64 << 10, .step = 256 << 10, .slack = 2 << 20});
  CHECK_FALSE(reserve.ensure(0, 64 << 10));  // 4 MiB free: more than slack + request
  CHECK(reserve.reserved_end() == 0);
  CHECK_FALSE(reserve.near_full());
  {  // another file takes all but about 1 MiB
    std::ofstream filler(disk.dir / "filler", std::ios::binary);
    const std::string mib(1 << 20, 'x');
    for (int i = 0; i < 3; ++i) filler << mib;
  }
  CHECK_FALSE(reserve.ensure(0, 64 << 10));
  CHECK(reserve.near_full());
  CHECK(reserve.reserved_end() == (64 << 10) + (64 << 10) + (256 << 10));
  fs::remove(disk.dir / "filler");  // room again, but once near full it keeps reserving
  CHECK_FALSE(reserve.ensure(0, 512 << 10));
  CHECK(reserve.reserved_end() == (512 << 10) + (64 << 10) + (256 << 10));
  ::close(fd);
}

TEST_CASE("SpaceReserve: a default one is disabled and always says yes") {
  h5::SpaceReserve reserve;
  CHECK_FALSE(reserve.enabled());
  CHECK_FALSE(reserve.ensure(0, std::uint64_t{1} << 50));
}

TEST_CASE("Dataset: camera pixel types, fixed-length string rows and filters round-trip") {
  TempDir dir("h5_filters");
  auto file = h5::File::create(dir.path / "f.h5");
  std::vector<std::uint16_t> frame(4 * 6);
  std::iota(frame.begin(), frame.end(), std::uint16_t{65530});  // wraps: the whole range
  for (auto id : {H5Z_filter_t{H5Z_FILTER_DEFLATE}, H5Z_filter_t{32004}, H5Z_filter_t{32008}}) {
    CAPTURE(id);
    CHECK(h5::filter_available(id));  // Debian's hdf5-filter-plugin, found by default
    std::vector<unsigned> cd = id == H5Z_FILTER_DEFLATE ? std::vector<unsigned>{4}
                               : id == 32008            ? std::vector<unsigned>{0, 2}
                                                        : std::vector<unsigned>{};
    auto d = h5::Dataset::create(
        file.id(), "/f" + std::to_string(id),
        {.type = h5::Type::uint16, .chunk_rows = 1, .row_shape = {4, 6}, .filters = {{id, cd}}});
    d.append(bytes_of(frame));
    d.append(bytes_of(frame));
    CHECK(d.read<std::uint16_t>() == [&] {
      auto two = frame;
      two.insert(two.end(), frame.begin(), frame.end());
      return two;
    }());
  }
  CHECK_FALSE(h5::filter_available(31999));
  auto s = h5::Dataset::create(file.id(), "/s", {.chunk_rows = 8, .string_bytes = 16});
  std::vector<char> rows(32, '\0');
  std::memcpy(rows.data(), "first", 5);
  std::memcpy(rows.data() + 16, "second", 6);
  s.append(std::as_bytes(std::span(rows)));
  CHECK(s.rows() == 2);
  CHECK(s.read_bytes() == std::vector<std::byte>(std::as_bytes(std::span(rows)).begin(),
                                                 std::as_bytes(std::span(rows)).end()));
  auto f32 = h5::Dataset::create(file.id(), "/f32", {.type = h5::Type::float32, .chunk_rows = 2});
  f32.append(bytes_of(std::vector<float>{1.5F, -2.25F}));
  CHECK(f32.read<float>() == std::vector<float>{1.5F, -2.25F});
  CHECK(f32.read<double>() == std::vector<double>{1.5, -2.25});  // converted by HDF5
}

TEST_CASE("Dataset::create_virtual concatenates sources; hard links and path_exists") {
  TempDir dir("h5_vds");
  const fs::path path = dir.path / "f.h5";
  {
    auto file = h5::File::create(path);
    const h5::Extendible layout{.type = h5::Type::int32, .chunk_rows = 1, .row_shape = {2}};
    auto a = h5::Dataset::create(file.id(), "/g/a", layout);
    auto b = h5::Dataset::create(file.id(), "/g/b", layout);
    a.append(bytes_of(std::vector<std::int32_t>{1, 2, 3, 4}));
    b.append(bytes_of(std::vector<std::int32_t>{5, 6}));
    auto v =
        h5::Dataset::create_virtual(file.id(), "/v", h5::Type::int32, {2},
                                    {{".", "/g/b", 1}, {".", "/nothing", 0}, {".", "/g/a", 2}});
    CHECK(v.rows() == 3);
    CHECK(v.read<std::int32_t>() == std::vector<std::int32_t>{5, 6, 1, 2, 3, 4});
    CHECK_FALSE(h5::path_exists(file.id(), "/x/y/z"));  // exists() would throw here
    CHECK(h5::path_exists(file.id(), "/g/a"));
    CHECK(h5::path_exists(file.id(), "/"));
    h5::create_hard_link(file.id(), "/g/a", "/links/deep/a");
    CHECK(h5::Dataset::open(file.id(), "/links/deep/a").read<std::int32_t>().size() == 4);
    const std::int32_t values[3] = {7, 8, 9};
    h5::write_attribute_array(a.id(), "list", h5::Type::int32, values, 3);
    file.close();
  }
  auto file = h5::File::open(path);  // the VDS reads back after reopening, too
  CHECK(h5::Dataset::open(file.id(), "/v").read<std::int32_t>() ==
        std::vector<std::int32_t>{5, 6, 1, 2, 3, 4});
  const h5::Handle attr{H5Aopen_by_name(file.id(), "/g/a", "list", H5P_DEFAULT, H5P_DEFAULT),
                        h5::Kind::attribute};
  const h5::Handle space{H5Aget_space(attr.get()), h5::Kind::dataspace};
  CHECK(H5Sget_simple_extent_npoints(space.get()) == 3);
}

TEST_CASE("File::create with alignment puts large chunks on aligned offsets") {
  TempDir dir("h5_align");
  for (const hsize_t alignment : {hsize_t{1}, hsize_t{4096}}) {
    CAPTURE(alignment);
    auto file = h5::File::create(dir.path / ("f" + std::to_string(alignment) + ".h5"),
                                 {.alignment = alignment, .align_threshold = 1024});
    auto d = h5::Dataset::create(file.id(), "/d",
                                 {.type = h5::Type::uint8, .chunk_rows = 1, .row_shape = {3000}});
    std::vector<std::uint8_t> row(3000, 7);
    for (int i = 0; i < 3; ++i) d.append(bytes_of(row));
    bool all_aligned = true;
    for (hsize_t i = 0; i < 3; ++i) {
      haddr_t addr = 0;
      hsize_t size = 0;
      const hsize_t at[2] = {i, 0};
      REQUIRE(H5Dget_chunk_info_by_coord(d.id(), at, nullptr, &addr, &size) >= 0);
      all_aligned = all_aligned && addr % 4096 == 0;
    }
    CHECK(all_aligned == (alignment == 4096));  // without alignment they are not
  }
}
