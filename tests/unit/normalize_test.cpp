// dx::combine_fields, flat_weight, interpolate_fields and normalize_frame
// against values worked out by hand from the model in normalize.hpp.
#include "pandafly/dx/normalize.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/dx/image_window.hpp"

namespace dx = pandafly::dx;

TEST_CASE("combine_fields: mean and median, variance by the noise model") {
  // Two pixels, three frames.
  const std::vector<std::uint16_t> darks = {100, 10, 102, 12, 104, 20};
  const dx::NoiseModel noise{.gain = 2.0, .read_noise = 3.0};
  const auto d = dx::combine_fields(darks, 2, dx::FieldStatistic::mean, noise, {});
  CHECK(d.value[0] == doctest::Approx(102));
  CHECK(d.value[1] == doctest::Approx(14));
  CHECK(d.variance[0] == doctest::Approx(9.0 / 3));  // read noise² / n: no signal above itself
  const auto m = dx::combine_fields(darks, 2, dx::FieldStatistic::median, noise, {});
  CHECK(m.value[1] == doctest::Approx(12));
  CHECK(m.variance[1] == doctest::Approx(std::numbers::pi / 2 * 9.0 / 3));
  const std::vector<std::uint16_t> flats = {1102, 514, 1104, 516};
  const auto f = dx::combine_fields(flats, 2, dx::FieldStatistic::mean, noise, d.value);
  CHECK(f.value[0] == doctest::Approx(1103));
  // (1103 − 102) / 2 + 9, over 2 frames
  CHECK(f.variance[0] == doctest::Approx(((1103.0 - 102) / 2 + 9) / 2));
  CHECK_THROWS_AS((void)dx::combine_fields(flats, 3, dx::FieldStatistic::mean, noise, {}),
                  std::invalid_argument);
  CHECK_THROWS_AS((void)dx::combine_fields(flats, 2, dx::FieldStatistic::mean, {.gain = 0}, {}),
                  std::invalid_argument);
}

TEST_CASE("flat_weight and interpolate_fields: linear in time, clamped, squared weights") {
  CHECK(dx::flat_weight(5, 0, 10) == doctest::Approx(0.5));
  CHECK(dx::flat_weight(-1, 0, 10) == 0.0);
  CHECK(dx::flat_weight(11, 0, 10) == 1.0);
  CHECK(dx::flat_weight(5, 10, 10) == 0.0);  // no interval: the first set
  const dx::Field a{{100}, {4}}, b{{200}, {16}};
  const auto f = dx::interpolate_fields(a, b, 0.25);
  CHECK(f.value[0] == doctest::Approx(125));
  CHECK(f.variance[0] == doctest::Approx(0.75 * 0.75 * 4 + 0.25 * 0.25 * 16));
}

TEST_CASE("normalize_frame: T, its propagated sigma, -log and the flags") {
  const dx::Field dark{{100, 100, 100, 100}, {1, 1, 1, 1}};
  const dx::Field flat{{1100, 100.5F, 1100, 1100}, {50, 50, 50, 50}};
  const std::vector<std::uint16_t> frame = {600, 600, 90, 1100};
  std::vector<float> v(4), s(4);
  std::vector<std::uint8_t> flags(4);
  const dx::NormalizeOptions lin{.noise = {.gain = 1, .read_noise = 2}};
  CHECK(dx::normalize_frame(frame, dark, flat, lin, v, s, flags) == 1);
  // N = 500, Δ = 1000: var = (500 + 4)/1e6 + 50·500²/1e12 + 1·(−500)²/1e12
  const double var = 504.0 / 1e6 + 50.0 * 250000 / 1e12 + 250000.0 / 1e12;
  CHECK(v[0] == doctest::Approx(0.5));
  CHECK(s[0] == doctest::Approx(std::sqrt(var)));
  CHECK(flags[0] == 0);
  CHECK(std::isnan(v[1]));  // Δ = 0.5 ≤ 1 ADU
  CHECK(std::isnan(s[1]));
  CHECK(flags[1] == dx::flag_denominator);
  CHECK(v[2] == doctest::Approx(-0.01));  // below the dark: allowed without -log
  CHECK(v[3] == doctest::Approx(1.0));
  const dx::NormalizeOptions log{.minus_log = true, .noise = lin.noise};
  CHECK(dx::normalize_frame(frame, dark, flat, log, v, s, flags) == 2);
  CHECK(v[0] == doctest::Approx(std::log(2.0)));
  CHECK(s[0] == doctest::Approx(std::sqrt(var) / 0.5));
  CHECK(flags[2] == dx::flag_nonpositive);
  CHECK(std::isnan(v[2]));
  for (float x : s) CHECK(!std::isinf(x));
  std::vector<float> short_out(3);
  CHECK_THROWS_AS(dx::normalize_frame(frame, dark, flat, lin, short_out, s, flags),
                  std::invalid_argument);
}

TEST_CASE("percentile_window and to_gray8") {
  std::vector<float> v;
  for (int i = 0; i <= 100; ++i) v.push_back(static_cast<float>(i));
  v.push_back(std::nanf(""));
  const auto w = dx::percentile_window(v, 10, 90);
  CHECK(w.low == doctest::Approx(10));
  CHECK(w.high == doctest::Approx(90));
  const auto g = dx::to_gray8(std::vector<float>{0, 10, 50, 90, 100, std::nanf("")}, w);
  CHECK(g == std::vector<std::uint8_t>{0, 0, 128, 255, 255, 0});
  CHECK(dx::to_gray8(std::vector<float>{3, 3}, {3, 3}) == std::vector<std::uint8_t>{128, 128});
  CHECK_THROWS_AS((void)dx::percentile_window(v, 90, 10), std::invalid_argument);
}
