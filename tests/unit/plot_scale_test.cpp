// Axis ticks and histogram bins of the scan plots (dx/plot_scale.hpp).
#include "pandafly/dx/plot_scale.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

namespace dx = pandafly::dx;

TEST_CASE("nice_axis: steps of 1, 2 or 5 x 10^k covering the range") {
  auto a = dx::nice_axis(0.0, 181.3);  // raw step 30.2 → 50
  CHECK(a.step == doctest::Approx(50));
  CHECK(a.lo == doctest::Approx(0));
  CHECK(a.hi == doctest::Approx(200));
  REQUIRE(a.ticks.size() == 5);
  CHECK(a.ticks.back() == doctest::Approx(200));

  a = dx::nice_axis(-0.0013, 0.0021, 6);  // raw 5.67e-4 → 1e-3
  CHECK(a.step == doctest::Approx(1e-3));
  CHECK(a.lo == doctest::Approx(-0.002));
  CHECK(a.hi == doctest::Approx(0.003));
  CHECK(a.ticks.size() == 6);

  a = dx::nice_axis(0.0, 60.0, 6);  // exactly 10: 10, not 20
  CHECK(a.step == doctest::Approx(10));
  CHECK(a.lo == doctest::Approx(0));
  CHECK(a.hi == doctest::Approx(60));  // a multiple stays the end, no extra tick
  CHECK(a.ticks.size() == 7);

  a = dx::nice_axis(3.0, 11.0, 4);  // raw 2 → 2
  CHECK(a.step == doctest::Approx(2));
  CHECK(a.lo == doctest::Approx(2));
  CHECK(a.hi == doctest::Approx(12));
}

TEST_CASE("nice_axis: an empty range is widened, a reversed one swapped, NaN refused") {
  auto a = dx::nice_axis(5.0, 5.0);
  CHECK(a.lo < 5.0);
  CHECK(a.hi > 5.0);
  auto b = dx::nice_axis(10.0, 0.0);
  CHECK(b.lo == doctest::Approx(0));
  CHECK(b.hi == doctest::Approx(10));
  CHECK_THROWS_AS((void)dx::nice_axis(0.0, std::numeric_limits<double>::quiet_NaN()),
                  std::invalid_argument);
}

TEST_CASE("tick labels have the digits the step needs") {
  CHECK(dx::decimals(50) == 0);
  CHECK(dx::decimals(1) == 0);
  CHECK(dx::decimals(0.5) == 1);
  CHECK(dx::decimals(0.2) == 1);
  CHECK(dx::decimals(0.001) == 3);
  CHECK(dx::tick_label(0.0015, 0.0005) == "0.0015");
  CHECK(dx::tick_label(150, 50) == "150");
  CHECK(dx::tick_label(-1e-17, 0.1) == "0.0");  // no "-0.0"
  CHECK(dx::tick_label(-0.2, 0.1) == "-0.2");
}

TEST_CASE("histogram: equal bins from min to max, the maximum in the last bin") {
  const std::vector<double> v{0.0, 0.1,  0.24, 0.25,
                              0.5, 0.99, 1.0,  std::numeric_limits<double>::quiet_NaN()};
  const auto h = dx::histogram(v, 4);
  CHECK(h.lo == doctest::Approx(0));
  CHECK(h.width == doctest::Approx(0.25));
  CHECK(h.counts == std::vector<std::size_t>{3, 1, 1, 2});
  CHECK(h.ignored == 1);
}

TEST_CASE("histogram: all equal → one narrow bin; none finite → empty bins; 0 bins refused") {
  const std::vector<double> same{0.013, 0.013, 0.013};
  const auto h = dx::histogram(same, 10);
  REQUIRE(h.counts.size() == 1);
  CHECK(h.counts[0] == 3);
  CHECK(h.lo < 0.013);
  CHECK(h.lo + h.width > 0.013);
  const std::vector<double> none{std::numeric_limits<double>::infinity()};
  const auto e = dx::histogram(none, 3);
  CHECK(e.counts == std::vector<std::size_t>{0, 0, 0});
  CHECK(e.ignored == 1);
  CHECK_THROWS_AS((void)dx::histogram(same, 0), std::invalid_argument);
}

TEST_CASE("default_bins: sqrt(n) within [5, 60]") {
  CHECK(dx::default_bins(1) == 5);
  CHECK(dx::default_bins(100) == 10);
  CHECK(dx::default_bins(1800) == 42);
  CHECK(dx::default_bins(1000000) == 60);
}
