// Preview shrinking (dx/preview.hpp) and chart files (dx/plot.hpp).
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>
#include <unistd.h>

#include "pandafly/dx/plot.hpp"
#include "pandafly/dx/preview.hpp"

namespace dx = pandafly::dx;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const char* name) {
  auto dir = fs::temp_directory_path() / ("pandafly_dx_preview_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir / name;
}

// The PNG signature and the IHDR's big-endian width and height.
std::array<std::uint32_t, 2> png_size(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<unsigned char, 24> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  REQUIRE(in.gcount() == 24);
  const std::array<unsigned char, 8> signature{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  REQUIRE(std::equal(signature.begin(), signature.end(), head.begin()));
  const auto be = [&](std::size_t i) {
    return std::uint32_t{head[i]} << 24 | std::uint32_t{head[i + 1]} << 16 |
           std::uint32_t{head[i + 2]} << 8 | std::uint32_t{head[i + 3]};
  };
  return {be(16), be(20)};
}

}  // namespace

TEST_CASE("shrink_factor: the smallest integer factor fitting both sides") {
  CHECK(dx::shrink_factor(2048, 1536, 0) == 1);
  CHECK(dx::shrink_factor(2048, 1536, 1000) == 3);
  CHECK(dx::shrink_factor(2048, 1536, 1024) == 2);
  CHECK(dx::shrink_factor(256, 256, 256) == 1);
  CHECK(dx::shrink_factor(256, 257, 256) == 2);
}

TEST_CASE("shrink: block means, edge blocks average what they hold, NaN left out") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // 3 × 2:  1 2 3
  //         5 6 nan
  const std::vector<float> image{1, 2, 3, 5, 6, nan};
  std::size_t w = 3, h = 2;
  const auto small = dx::shrink(image, w, h, 2);
  CHECK(w == 2);
  CHECK(h == 1);
  REQUIRE(small.size() == 2);
  CHECK(small[0] == doctest::Approx(3.5));  // (1 + 2 + 5 + 6) / 4
  CHECK(small[1] == doctest::Approx(3));    // only 3 counts
  std::size_t bad_w = 2, bad_h = 2;
  CHECK_THROWS_AS((void)dx::shrink(image, bad_w, bad_h, 2), std::invalid_argument);
}

TEST_CASE(
    "draw_chart: a PNG of the chart's size, also with no finite point; errors name the file") {
  dx::Chart c{.title = "t", .x_label = "x (s)", .y_label = "y (deg)"};
  c.series.push_back({.x = {0, 1, 2}, .y = {0.5, std::nan(""), 2.5}});
  c.marks = {1.0};
  c.marks_label = "missing";
  const auto file = scratch("chart.png");
  dx::draw_chart(c, file);
  CHECK(png_size(file) == std::array<std::uint32_t, 2>{800, 480});
  CHECK_FALSE(fs::exists(fs::path(file).concat(".tmp")));

  dx::Chart empty{.title = "nothing", .x_label = "x", .y_label = "y"};
  empty.series.push_back({.x = {std::nan("")}, .y = {1.0}});
  empty.width = 320, empty.height = 200;
  const auto file2 = scratch("empty.png");
  dx::draw_chart(empty, file2);
  CHECK(png_size(file2) == std::array<std::uint32_t, 2>{320, 200});

  const auto nowhere = scratch("no/such/dir/chart.png");
  try {
    dx::draw_chart(c, nowhere);
    FAIL("no error for an unwritable file");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(nowhere.string()) != std::string::npos);
  }
  fs::remove_all(file.parent_path());
}
