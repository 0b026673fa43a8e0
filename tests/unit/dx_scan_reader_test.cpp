// dx::ScanReader frame times and flat sets (scan_reader.hpp Rules), on files
// dx::Writer writes: a plain file, and a slotted one (writer.hpp "Slots")
// whose empty slot leaves a row without a location or a time.
#include <cmath>
#include <vector>

#include <doctest/doctest.h>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/dx/writer.hpp"
#include "temp_dir.hpp"

using namespace pandafly;
using test::Plan;
using test::TempDir;

namespace {

// 2 darks, 2 flats, 6 projections (slot 2 never filled when `slotted`), 2 flats.
// Frame k is stamped 1e9 + 0.0125 k (Plan::frame).
void write_scan(const std::filesystem::path& file, bool slotted) {
  Plan plan;
  auto o = test::writer_options(file, plan);
  o.nxtomo = false;
  if (slotted) {
    o.frames_expected = {{test::data, 6}};
    o.slotted = {test::data};
  }
  dx::Writer w(o);
  for (std::int64_t k = 0; k < 2; ++k)
    REQUIRE(w.push(plan.frame(k, test::dark, test::dark, std::nullopt)));
  for (std::int64_t k = 2; k < 4; ++k)
    REQUIRE(w.push(plan.frame(k, test::white, test::white, 0.0)));
  for (std::uint64_t s = 0; s < 6; ++s) {
    if (slotted && s == 2) continue;
    auto r = plan.frame(10 + static_cast<std::int64_t>(s), test::data, test::data,
                        30.0 * static_cast<double>(s));
    if (slotted) r.slot = s;
    REQUIRE(w.push(std::move(r)));
  }
  for (std::int64_t k = 20; k < 22; ++k)
    REQUIRE(w.push(plan.frame(k, test::white, test::white, 0.0)));
  (void)w.finish(dx::Ending::completed());
}

double stamp(std::int64_t k) {
  return 1.0e9 + static_cast<double>(k) * 0.0125;
}

}  // namespace

TEST_CASE("scan reader: flats before and after the projections, each frame's time") {
  TempDir dir("scan_reader_plain");
  const auto file = dir.path / "plain.h5";
  write_scan(file, false);
  dx::ScanReader scan(file);
  CHECK(scan.projections() == 6);
  CHECK(scan.has_times());
  CHECK(scan.flats_before() == std::vector<std::size_t>{0, 1});
  CHECK(scan.flats_after() == std::vector<std::size_t>{2, 3});
  CHECK(scan.projection_time(3) == doctest::Approx(stamp(13)).epsilon(1e-15));
  CHECK(scan.flat_time(scan.flats_after()) ==
        doctest::Approx((stamp(20) + stamp(21)) / 2).epsilon(1e-15));
}

TEST_CASE("scan reader: a slotted file with an empty slot keeps its flat sets and times") {
  TempDir dir("scan_reader_slots");
  const auto file = dir.path / "slots.h5";
  write_scan(file, true);
  dx::ScanReader scan(file);
  CHECK(scan.projections() == 6);
  REQUIRE(scan.has_times());
  CHECK(scan.flats_before() == std::vector<std::size_t>{0, 1});
  CHECK(scan.flats_after() == std::vector<std::size_t>{2, 3});
  CHECK(std::isnan(scan.projection_time(2)));  // the slot without a frame
  CHECK(scan.projection_time(1) == doctest::Approx(stamp(11)).epsilon(1e-15));
  CHECK(scan.projection_time(3) == doctest::Approx(stamp(13)).epsilon(1e-15));
  CHECK(scan.flat_time(scan.flats_before()) ==
        doctest::Approx((stamp(2) + stamp(3)) / 2).epsilon(1e-15));
}
