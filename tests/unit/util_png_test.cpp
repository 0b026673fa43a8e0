// util::write_png_gray8 read back with libpng's own reader; util::parallel_for.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>
#include <png.h>

#include "pandafly/util/parallel.hpp"
#include "pandafly/util/png.hpp"
#include "temp_dir.hpp"

namespace util = pandafly::util;

TEST_CASE("write_png_gray8: libpng reads back the same grey pixels") {
  pandafly::test::TempDir dir("png");
  const auto path = dir.path / "g.png";
  const std::vector<std::uint8_t> px = {0, 50, 100, 150, 200, 255};
  util::write_png_gray8(path, 3, 2, px);
  CHECK(!std::filesystem::exists(path.string() + ".tmp"));
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
  CHECK(image.width == 3);
  CHECK(image.height == 2);
  image.format = PNG_FORMAT_GRAY;
  std::vector<std::uint8_t> back(6);
  REQUIRE(png_image_finish_read(&image, nullptr, back.data(), 0, nullptr) != 0);
  CHECK(back == px);
  CHECK_THROWS_WITH_AS(util::write_png_gray8(path, 4, 2, px), doctest::Contains("needs 8 bytes"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(util::write_png_gray8(dir.path / "no" / "x.png", 3, 2, px),
                       doctest::Contains("x.png"), std::runtime_error);
}

TEST_CASE("parallel_for, parallel_on: every task once, exceptions reach the caller") {
  std::vector<std::atomic<int>> hits(100);
  util::parallel_for(4, hits.size(), [&](std::size_t i) { ++hits[i]; });
  for (auto& h : hits) CHECK(h.load() == 1);
  CHECK_THROWS_WITH_AS(util::parallel_for(3, 50,
                                          [](std::size_t i) {
                                            if (i == 7) throw std::runtime_error("task 7");
                                          }),
                       "task 7", std::runtime_error);
  // parallel_on: the same as a function object
  std::vector<std::atomic<int>> again(100);
  util::parallel_on(4)(again.size(), [&](std::size_t i) { ++again[i]; });
  for (auto& h : again) CHECK(h.load() == 1);
}
