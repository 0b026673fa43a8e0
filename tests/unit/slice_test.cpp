// dx::angle_weights, filter_response, estimate_centre and SliceReconstructor
// against analytic cases: a disc's Radon transform (2μ·√(R² − t²)) must
// reconstruct to μ inside and 0 outside, by either method, at uniform,
// jittered and 360° angle sets; the centre from a disc placed off the axis.
#include "pandafly/dx/slice.hpp"

#include <cmath>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

#include <doctest/doctest.h>

namespace dx = pandafly::dx;

namespace {

// Sinogram of a disc of radius r and attenuation mu at (x0, y0) (pixels from
// the axis), axis at detector column `centre`; each pixel integrates over its
// width (16 sub-samples) as a detector does.
std::vector<float> disc_sinogram(std::size_t width, const std::vector<double>& theta, double centre,
                                 double r, double mu, double x0 = 0, double y0 = 0) {
  std::vector<float> s(theta.size() * width);
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double th = theta[i] * std::numbers::pi / 180;
    const double t0 = x0 * std::cos(th) - y0 * std::sin(th);
    for (std::size_t x = 0; x < width; ++x) {
      double sum = 0;
      for (int k = 0; k < 16; ++k) {
        const double t = static_cast<double>(x) - 0.5 + (k + 0.5) / 16 - centre - t0;
        sum += t * t < r * r ? 2 * mu * std::sqrt(r * r - t * t) : 0.0;
      }
      s[i * width + x] = static_cast<float>(sum / 16);
    }
  }
  return s;
}

std::vector<double> uniform(std::size_t n, double span, bool endpoint = false) {
  std::vector<double> t(n);
  const double step = span / static_cast<double>(endpoint ? n - 1 : n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<double>(i) * step;
  return t;
}

struct Stats {
  double inside_mean = 0, inside_rms = 0, outside_rms = 0;
};

// μ error statistics inside radius r − 2 and outside r + 2 (within the field of view).
Stats disc_stats(const std::vector<float>& img, std::size_t n, double r, double mu, double x0 = 0,
                 double y0 = 0) {
  Stats s;
  std::size_t ni = 0, no = 0;
  const double mid = (static_cast<double>(n) - 1) / 2;
  for (std::size_t row = 0; row < n; ++row)
    for (std::size_t c = 0; c < n; ++c) {
      const double x = static_cast<double>(c) - mid, y = static_cast<double>(row) - mid;
      const double d = std::hypot(x - x0, y - y0), fov = std::hypot(x, y);
      const double v = img[row * n + c];
      if (d < r - 2) {
        s.inside_mean += v, s.inside_rms += (v - mu) * (v - mu), ++ni;
      } else if (d > r + 2 && fov < mid - 4) {
        s.outside_rms += v * v, ++no;
      }
    }
  s.inside_mean /= static_cast<double>(ni);
  s.inside_rms = std::sqrt(s.inside_rms / static_cast<double>(ni));
  s.outside_rms = std::sqrt(s.outside_rms / static_cast<double>(no));
  return s;
}

}  // namespace

TEST_CASE("angle_weights: half gaps modulo 180 degrees, summing to pi") {
  SUBCASE("0..180 with both ends: the ends share one interval") {
    auto w = dx::angle_weights(uniform(181, 180, true));
    CHECK(std::accumulate(w.begin(), w.end(), 0.0) == doctest::Approx(std::numbers::pi));
    CHECK(w[0] == doctest::Approx(0.5 * std::numbers::pi / 180));
    CHECK(w[90] == doctest::Approx(std::numbers::pi / 180));
    CHECK(w[180] == doctest::Approx(0.5 * std::numbers::pi / 180));
  }
  SUBCASE("a gap: its neighbours take half of it each") {
    std::vector<double> t = {0, 10, 20, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170};
    auto w = dx::angle_weights(t);
    CHECK(w[2] == doctest::Approx(20.0 * std::numbers::pi / 180));  // (50 − 10) / 2
    CHECK(w[3] == doctest::Approx(20.0 * std::numbers::pi / 180));  // (60 − 20) / 2
    CHECK(std::accumulate(w.begin(), w.end(), 0.0) == doctest::Approx(std::numbers::pi));
  }
  SUBCASE("360 degrees: every line seen twice, each half weight") {
    auto w = dx::angle_weights(uniform(360, 360));
    CHECK(w[7] == doctest::Approx(0.5 * std::numbers::pi / 180));
    CHECK(std::accumulate(w.begin(), w.end(), 0.0) == doctest::Approx(std::numbers::pi));
  }
  CHECK_THROWS_AS((void)dx::angle_weights({}), std::invalid_argument);
}

TEST_CASE("filter_response: the band-limited ramp is |k|/G away from DC and 1/4·(…) at DC") {
  const std::size_t g = 512;
  auto h = dx::filter_response(g, dx::SliceFilter::ramp);
  // The sampled ramp kernel's transform approaches |ω| (cycles/pixel) with a
  // positive DC term (what avoids the DC offset of a plain |k| filter).
  CHECK(h[0] > 0);
  CHECK(h[0] < 0.01);
  CHECK(h[g / 4] == doctest::Approx(0.25).epsilon(0.01));
  CHECK(h[g / 2] == doctest::Approx(0.5).epsilon(0.01));
  auto sl = dx::filter_response(g, dx::SliceFilter::shepp_logan);
  CHECK(sl[g / 2] == doctest::Approx(h[g / 2] * 2 / std::numbers::pi).epsilon(1e-6));
  CHECK(sl[0] == doctest::Approx(h[0]));
}

TEST_CASE("SliceReconstructor: a centred disc reconstructs to mu inside and 0 outside") {
  // Even and odd widths: the image grid sits half a pixel off the transform's
  // origin for even sizes only.
  for (std::size_t w : {std::size_t{128}, std::size_t{101}}) {
    const double r = 30, mu = 0.02, centre = (static_cast<double>(w) - 1) / 2;
    const auto theta = uniform(180, 180);
    const auto sino = disc_sinogram(w, theta, centre, r, mu);
    for (auto method : {dx::SliceMethod::direct, dx::SliceMethod::gridrec}) {
      CAPTURE(w);
      CAPTURE(static_cast<int>(method));
      dx::SliceReconstructor rec(w, {.method = method});
      const auto img = rec.reconstruct(sino, theta, centre);
      const auto s = disc_stats(img, w, r, mu);
      CHECK(s.inside_mean == doctest::Approx(mu).epsilon(0.02));
      CHECK(s.inside_rms < 0.05 * mu);
      CHECK(s.outside_rms < 0.03 * mu);
    }
  }
}

TEST_CASE("SliceReconstructor: gridrec and direct agree on an off-centre disc, any angles") {
  const std::size_t w = 96;
  const double centre = 50.25, r = 12, mu = 0.05, x0 = 15, y0 = -8;
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> jitter(-0.4, 0.4);
  auto theta = uniform(240, 360);  // 360° with jitter and a gap
  for (auto& t : theta) t += jitter(rng);
  theta.erase(theta.begin() + 30, theta.begin() + 40);
  const auto sino = disc_sinogram(w, theta, centre, r, mu, x0, y0);
  for (auto filter : {dx::SliceFilter::ramp, dx::SliceFilter::shepp_logan}) {
    dx::SliceReconstructor d(w, {.filter = filter, .method = dx::SliceMethod::direct});
    dx::SliceReconstructor g(w, {.filter = filter, .method = dx::SliceMethod::gridrec});
    const auto a = d.reconstruct(sino, theta, centre);
    const auto b = g.reconstruct(sino, theta, centre);
    // Away from the disc's edge (where the direct method's linear
    // interpolation blurs and gridding does not) they agree to 1 % of mu.
    double diff = 0;
    std::size_t count = 0;
    const double mid = (w - 1) / 2.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double x = static_cast<double>(i % w) - mid, y = static_cast<double>(i / w) - mid;
      if (std::fabs(std::hypot(x - x0, y - y0) - r) < 3 || std::hypot(x, y) > mid - 4) continue;
      diff += (a[i] - b[i]) * (a[i] - b[i]), ++count;
    }
    CHECK(std::sqrt(diff / static_cast<double>(count)) < 0.01 * mu);
    const auto s = disc_stats(b, w, r, mu, x0, y0);
    CHECK(s.inside_mean == doctest::Approx(mu).epsilon(0.03));
  }
}

TEST_CASE("SliceReconstructor: a parallel_for gives the same image as serial") {
  const std::size_t w = 64;
  const auto theta = uniform(90, 180);
  const auto sino = disc_sinogram(w, theta, 31.5, 10, 0.1, 5, 3);
  dx::SliceReconstructor serial(w, {});
  std::size_t calls = 0;
  dx::SliceReconstructor parallel(
      w, {.parallel =
              [&](std::size_t n, const std::function<void(std::size_t)>& f) {
                ++calls;
                for (std::size_t i = n; i-- > 0;) f(i);  // reverse order: tasks are independent
              },
          .threads = 3});
  const auto a = serial.reconstruct(sino, theta, 31.5);
  const auto b = parallel.reconstruct(sino, theta, 31.5);
  CHECK(calls > 0);
  for (std::size_t i = 0; i < a.size(); ++i)
    REQUIRE(a[i] == doctest::Approx(b[i]).epsilon(1e-4).scale(1e-3));
}

TEST_CASE("SliceReconstructor: bad input is refused with the reason") {
  dx::SliceReconstructor r(32, {});
  std::vector<double> theta = {0, 90};
  std::vector<float> sino(64);
  CHECK_THROWS_WITH_AS((void)r.reconstruct(sino, theta, 40),
                       doctest::Contains("outside the detector"), std::invalid_argument);
  CHECK_THROWS_WITH_AS((void)r.reconstruct(std::span(sino).first(60), theta, 10),
                       doctest::Contains("60 values"), std::invalid_argument);
  CHECK_THROWS_AS((void)dx::parse_slice_filter("hann"), std::invalid_argument);
}

TEST_CASE("estimate_centre: the 0/180 pair finds the axis to a fraction of a pixel") {
  const std::size_t w = 200;
  for (double centre : {99.5, 104.3, 91.8}) {
    CAPTURE(centre);
    const auto theta = uniform(181, 180, true);
    const auto sino = disc_sinogram(w, theta, centre, 20, 0.05, 30, 10);
    const auto est = dx::estimate_centre(sino, w, theta);
    CHECK(std::fabs(est.centre - centre) < 0.2);
    CHECK(est.first == 0);
    CHECK(est.second == 180);
    CHECK(est.correlation > 0.99);
  }
  const auto short_scan = uniform(90, 90);
  CHECK_THROWS_WITH_AS(
      (void)dx::estimate_centre(disc_sinogram(w, short_scan, 99.5, 20, 0.05), w, short_scan),
      doctest::Contains("180"), std::invalid_argument);
}

TEST_CASE("SliceReconstructor: angles dense on one half and sparse on the other are weighted") {
  // 0..90° every 0.5°, 90..180° every 3°: with every projection weighted
  // alike (π/n) the first half would count ~6× the second and the disc
  // would come out stretched; weighted by interval it stays round and flat.
  std::vector<double> theta;
  for (double t = 0; t < 90; t += 0.5) theta.push_back(t);
  for (double t = 90; t < 180; t += 3) theta.push_back(t);
  const std::size_t w = 128;
  const double r = 20, mu = 0.05, x0 = 20, y0 = 10;
  const auto sino = disc_sinogram(w, theta, 63.5, r, mu, x0, y0);
  dx::SliceReconstructor rec(w, {});
  const auto s = disc_stats(rec.reconstruct(sino, theta, 63.5), w, r, mu, x0, y0);
  CHECK(s.inside_mean == doctest::Approx(mu).epsilon(0.02));
  CHECK(s.inside_rms < 0.05 * mu);
  CHECK(s.outside_rms < 0.04 * mu);
}
