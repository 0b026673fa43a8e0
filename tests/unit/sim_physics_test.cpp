// The simulated camera's physics: analytic chords, the projection geometry
// (sinogram traces, the 180 degree mirror), the conservation of total
// attenuation, Beer-Lambert intensities and the noise model. Expected values
// are worked out by hand in the comments.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "sim/physics/noise.hpp"
#include "sim/physics/phantom.hpp"
#include "sim/physics/projector.hpp"

using namespace pandafly::sim::physics;

namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

ProjectionConfig quiet(std::size_t width, std::size_t height, double pixel_mm) {
  ProjectionConfig c;
  c.width = width;
  c.height = height;
  c.pixel_mm = pixel_mm;
  c.noise = false;
  c.profile = {.sigma_u_frac = 0, .sigma_v_frac = 0};  // flat beam
  return c;
}

std::vector<float> integrals(const Projector& proj, const Phantom& ph, double theta_deg) {
  std::vector<float> p(proj.pixels());
  proj.line_integrals(ph, theta_deg, p);
  return p;
}

Phantom single(const Ellipsoid& e) {
  Phantom p;
  p.add(e);
  return p;
}

struct Stats {
  double mean = 0;
  double var = 0;
};

template <typename T>
Stats stats(const std::vector<T>& v) {
  Stats s;
  for (T x : v) s.mean += static_cast<double>(x);
  s.mean /= static_cast<double>(v.size());
  for (T x : v) s.var += (static_cast<double>(x) - s.mean) * (static_cast<double>(x) - s.mean);
  s.var /= static_cast<double>(v.size() - 1);
  return s;
}

}  // namespace

TEST_CASE("chord_length: spheres, rotated ellipsoids, any direction length") {
  const Ellipsoid sphere{.a = 5, .b = 5, .c = 5, .mu = 1};
  // Offset d = 3 from the centre of a radius 5 sphere: 2 sqrt(25 - 9) = 8.
  CHECK(chord_length(sphere, {3, -100, 0}, {0, 1, 0}) == doctest::Approx(8.0));
  CHECK(chord_length(sphere, {0, 3, -100}, {0, 0, 2.5}) == doctest::Approx(8.0));
  CHECK(chord_length(sphere, {6, -100, 0}, {0, 1, 0}) == 0.0);  // d > r: a miss
  // Through the centre along a diagonal: the diameter, 10.
  CHECK(chord_length(sphere, {-7, -7, -7}, {1, 1, 1}) == doctest::Approx(10.0));
  // a = 4 along x' turned by 90 degrees lies along y: the chord along y is 2a = 8,
  // along x it is 2b = 4.
  const Ellipsoid turned{.x = 1, .a = 4, .b = 2, .c = 9, .phi_deg = 90};
  CHECK(chord_length(turned, {1, 50, 0}, {0, -1, 0}) == doctest::Approx(8.0));
  // At height z = 3 of c = 9 the cut shrinks by sqrt(1 - 1/9): 8 * 0.942809 = 7.54247.
  CHECK(chord_length(turned, {1, 50, 3}, {0, -1, 0}) == doctest::Approx(7.54247));
  CHECK(chord_length(turned, {-50, 0, 0}, {1, 0, 0}) == doctest::Approx(4.0));
}

TEST_CASE("line_integrals of a sphere are mu * 2 sqrt(r^2 - d^2) at pixel centres") {
  // 64 x 64 pixels of 0.5 mm, axis at column 31.5, row 31.5 at z = 0.
  const Projector proj(quiet(64, 64, 0.5));
  const Phantom ph = single({.a = 10, .b = 10, .c = 10, .mu = 0.1});
  const auto p = integrals(proj, ph, 17.0);
  // Pixel (40, 31): x = 8.5 * 0.5 = 4.25, z = 0.5 * 0.5 = 0.25, d^2 = 18.125,
  // P = 0.1 * 2 sqrt(100 - 18.125) = 1.80970.
  CHECK(p[31 * 64 + 40] == doctest::Approx(1.80970).epsilon(1e-5));
  // Pixel (10, 31): x = -10.75: outside the sphere.
  CHECK(p[31 * 64 + 10] == 0.0f);
}

TEST_CASE("line_integrals agree with the 3D chord formula for the head phantom") {
  ProjectionConfig cfg = quiet(96, 80, 0.125);
  cfg.axis_u0 = 45.25;
  const Projector proj(cfg);
  const Phantom ph = Phantom::shepp_logan_3d(12.0);
  for (double theta : {0.0, 33.0, 151.5, 290.0}) {
    const auto p = integrals(proj, ph, theta);
    // The beam line of pixel (u, v) in the sample frame: the lab line x = X,
    // z = Z along +y turned back by -theta: point (X cos, -X sin, Z), direction
    // (sin, cos, 0).
    const double ct = std::cos(theta * kDeg);
    const double st = std::sin(theta * kDeg);
    for (std::size_t v = 3; v < 80; v += 7) {
      for (std::size_t u = 1; u < 96; u += 5) {
        const double x = (static_cast<double>(u) - 45.25) * 0.125;
        const double z = (39.5 - static_cast<double>(v)) * 0.125;
        double expected = 0;
        for (const Ellipsoid& e : ph.ellipsoids()) {
          expected += e.mu * chord_length(e, {x * ct, -x * st, z}, {st, ct, 0});
        }
        CHECK(p[v * 96 + u] == doctest::Approx(expected).epsilon(1e-5).scale(1));
      }
    }
  }
}

TEST_CASE("a tall ellipsoid with a = b on the axis projects the same at every angle") {
  const Projector proj(quiet(48, 64, 0.25));
  // Round in every horizontal cut, so neither theta nor phi matters.
  const Phantom ph = single({.z = 1, .a = 4, .b = 4, .c = 7, .phi_deg = 37, .mu = 0.2});
  const auto p0 = integrals(proj, ph, 0);
  for (double theta : {37.0, 90.0, 211.0, -75.0}) {
    const auto p = integrals(proj, ph, theta);
    for (std::size_t i = 0; i < p.size(); ++i)
      REQUIRE(p[i] == doctest::Approx(p0[i]).epsilon(1e-6));
  }
}

TEST_CASE("an off-axis bead draws the sinogram trace u = u0 + r cos(theta + phi) / p") {
  for (double u0 : {63.5, 60.0}) {
    ProjectionConfig cfg = quiet(128, 16, 0.25);
    cfg.axis_u0 = u0;
    const Projector proj(cfg);
    // A 1 mm bead at radius 8 mm, azimuth 30 degrees: 32 cos(theta + 30) pixels
    // from the axis.
    const Phantom ph = single({.x = 8 * std::cos(30 * kDeg),
                               .y = 8 * std::sin(30 * kDeg),
                               .a = 1,
                               .b = 1,
                               .c = 1,
                               .mu = 0.5});
    for (double theta = 0; theta < 360; theta += 22.5) {
      const auto p = integrals(proj, ph, theta);
      const auto row = p.begin() + 8 * 128;  // z = -0.125 mm, through the bead
      const auto peak = static_cast<double>(std::max_element(row, row + 128) - row);
      const double expected = u0 + 32 * std::cos((theta + 30) * kDeg);
      CHECK(std::abs(peak - expected) <= 0.5 + 1e-9);
    }
  }
}

TEST_CASE("parallel beam: P(u, theta + 180) = P(2 u0 - u, theta)") {
  for (double u0 : {49.5, 47.0}) {  // the detector centre, and 2.5 columns left of it
    ProjectionConfig cfg = quiet(100, 60, 0.1);
    cfg.axis_u0 = u0;
    const Projector proj(cfg);
    const Phantom ph = Phantom::shepp_logan_3d(6.0);
    const auto a = integrals(proj, ph, 23.0);
    const auto b = integrals(proj, ph, 203.0);
    for (std::size_t v = 0; v < 60; ++v) {
      for (std::size_t u = 0; u < 100; ++u) {
        const auto mirror = static_cast<std::size_t>(2 * u0) - u;  // 2 u0 is whole here
        if (mirror >= 100) continue;
        REQUIRE(b[v * 100 + u] == doctest::Approx(a[v * 100 + mirror]).epsilon(1e-5).scale(1));
      }
    }
  }
}

TEST_CASE("the sum of P over the detector is sum(mu * 4/3 pi a b c) / p^2 within 1 %") {
  // 128 x 128 pixels of 0.1 mm; the head fits in the 12.8 mm field.
  const Projector proj(quiet(128, 128, 0.1));
  const Phantom ph = Phantom::shepp_logan_3d(12.8);
  const double expected = ph.integrated_attenuation() / (0.1 * 0.1);
  for (double theta : {0.0, 45.0, 137.0}) {
    const auto p = integrals(proj, ph, theta);
    double sum = 0;
    for (float x : p) sum += x;
    CHECK(sum == doctest::Approx(expected).epsilon(0.01));
  }
  // The same for one off-axis, tilted ellipsoid on its own.
  const Phantom one =
      single({.x = 2, .y = -1, .z = 1, .a = 3, .b = 1.5, .c = 2, .phi_deg = 40, .mu = 0.3});
  double sum = 0;
  for (float x : integrals(proj, one, 71.0)) sum += x;
  CHECK(sum == doctest::Approx(0.3 * volume(one.ellipsoids()[0]) / 0.01).epsilon(0.01));
}

TEST_CASE("Beer-Lambert: I = offset + gain * profile * exp(-P)") {
  // 65 x 65 pixels of 0.5 mm: pixel (32, 32) looks through the centre.
  ProjectionConfig cfg = quiet(65, 65, 0.5);
  const Phantom ph = single({.a = 5, .b = 5, .c = 5, .mu = 0.1});  // P = 2 * 5 * 0.1 = 1
  std::vector<std::uint16_t> frame(65 * 65);
  std::vector<float> fframe(65 * 65);
  {
    const Projector proj(cfg);
    proj.project(ph, 10, frame, 1);
    proj.project(ph, 10, fframe, 1);
    // 100 + 20000 / e = 7457.588; rounded 7458. Outside: 100 + 20000.
    CHECK(fframe[32 * 65 + 32] == doctest::Approx(7457.588).epsilon(1e-6));
    CHECK(frame[32 * 65 + 32] == 7458);
    CHECK(frame[0] == 20100);
  }
  cfg.gain = 70000;  // clamped to the uint16 range
  Projector(cfg).project(ph, 10, frame, 1);
  CHECK(frame[0] == 65535);
  CHECK(frame[32 * 65 + 32] == 25852);  // 100 + 70000 / e = 25851.56

  // With the default profile: 1 at the centre; at row 0, v - v0 = -32 of 65
  // rows, sigma 0.6 * 65 = 39: exp(-0.5 (32/39)^2) = 0.71427.
  cfg = quiet(65, 65, 0.5);
  cfg.profile = BeamProfile{};
  const Projector proj(cfg);
  CHECK(proj.profile(32, 32) == 1.0);
  CHECK(proj.profile(32, 0) == doctest::Approx(0.71427).epsilon(1e-4));
  proj.project(ph, 10, fframe, 1);
  const auto p = integrals(proj, ph, 10);
  for (std::size_t i : {std::size_t{0}, std::size_t{65 * 20 + 30}, std::size_t{65 * 33 + 31}}) {
    const double u = static_cast<double>(i % 65);
    const double v = static_cast<double>(i / 65);
    CHECK(fframe[i] == doctest::Approx(proj.expected_intensity(p[i], u, v)).epsilon(1e-6));
  }
}

TEST_CASE("noise: off is deterministic, on repeats with the seed and differs without") {
  ProjectionConfig cfg = quiet(40, 30, 0.2);
  const Phantom ph = Phantom::shepp_logan_3d(8);
  std::vector<std::uint16_t> a(1200), b(1200);
  Projector(cfg).project(ph, 5, a, 1);
  Projector(cfg).project(ph, 5, b, 2);
  CHECK(a == b);  // noise off: the seed does not matter

  cfg.noise = true;
  const Projector noisy(cfg);
  noisy.project(ph, 5, a, 7);
  noisy.project(ph, 5, b, 7);
  CHECK(a == b);
  noisy.project(ph, 5, b, 8);
  CHECK(a != b);
  cfg.seed = 1;  // the config's seed is part of every frame's
  Projector(cfg).project(ph, 5, b, 7);
  CHECK(a != b);
  noisy.dark(a, 7);
  noisy.flat(b, 7);
  CHECK(a != b);
}

TEST_CASE("dark and flat statistics") {
  ProjectionConfig cfg = quiet(128, 128, 0.1);
  cfg.noise = true;
  cfg.dark_offset = 100;
  cfg.read_noise = 2;
  std::vector<std::uint16_t> frame(128 * 128);
  std::vector<float> fframe(128 * 128);

  SUBCASE("dark: offset + read noise") {
    Projector(cfg).dark(frame, 3);
    const Stats s = stats(frame);
    CHECK(s.mean == doctest::Approx(100).epsilon(0.0005));  // 3 sigma/sqrt(N) = 0.05
    // Variance 4 plus 1/12 from rounding to whole counts.
    CHECK(s.var == doctest::Approx(4.083).epsilon(0.05));
    Projector(cfg).dark(fframe, 3);
    CHECK(stats(fframe).var == doctest::Approx(4.0).epsilon(0.05));  // float: no rounding
  }
  SUBCASE("flat, Gaussian branch: mean offset + gain, variance gain + read noise^2") {
    cfg.gain = 1000;
    Projector(cfg).flat(frame, 4);
    const Stats s = stats(frame);
    CHECK(s.mean == doctest::Approx(1100).epsilon(0.0007));  // 3 sigma/sqrt(N) = 0.74
    CHECK(s.var == doctest::Approx(1004).epsilon(0.05));
  }
  SUBCASE("flat, Poisson branch") {
    cfg.gain = 10;
    Projector(cfg).flat(frame, 5);
    const Stats s = stats(frame);
    CHECK(s.mean == doctest::Approx(110).epsilon(0.0005));  // 3 sigma/sqrt(N) = 0.09
    CHECK(s.var == doctest::Approx(14.08).epsilon(0.05));
  }
  SUBCASE("flat with the beam profile follows gain * profile") {
    cfg.gain = 5000;
    cfg.profile = BeamProfile{};
    const Projector proj(cfg);
    proj.flat(frame, 6);
    for (std::size_t v : {std::size_t{0}, std::size_t{40}, std::size_t{64}}) {
      double mean = 0;
      double expected = 0;
      for (std::size_t u = 0; u < 128; ++u) {
        mean += frame[v * 128 + u] / 128.0;
        expected +=
            proj.expected_intensity(0, static_cast<double>(u), static_cast<double>(v)) / 128;
      }
      CHECK(std::abs(mean - expected) < 20);  // 3 sqrt(5000 / 128) = 19
    }
  }
}

TEST_CASE("invalid configurations, ellipsoids and buffer sizes throw") {
  ProjectionConfig cfg = quiet(8, 8, 0.1);
  cfg.pixel_mm = 0;
  CHECK_THROWS_AS(Projector{cfg}, std::invalid_argument);
  cfg = quiet(0, 8, 0.1);
  CHECK_THROWS_AS(Projector{cfg}, std::invalid_argument);
  cfg = quiet(8, 8, 0.1);
  cfg.gain = -1;
  CHECK_THROWS_AS(Projector{cfg}, std::invalid_argument);

  Phantom ph;
  CHECK_THROWS_AS(ph.add({.a = 0}), std::invalid_argument);
  CHECK_THROWS_AS(ph.add({.mu = std::nan("")}), std::invalid_argument);
  CHECK(ph.empty());
  CHECK_THROWS_AS(Phantom::shepp_logan_3d(-1), std::invalid_argument);

  const Projector proj(quiet(8, 8, 0.1));
  std::vector<std::uint16_t> small(63, 7);
  CHECK_THROWS_AS(proj.project(ph, 0, small, 0), std::invalid_argument);
  CHECK(small == std::vector<std::uint16_t>(63, 7));
  std::vector<float> big(65);
  CHECK_THROWS_AS(proj.line_integrals(ph, 0, big), std::invalid_argument);
}

TEST_CASE("noise: the normal table's exact moments are those of N(0, 1)") {
  // Sum over the table: an interior entry is uniform on [lo, hi] (mean
  // (lo + hi) / 2, second moment (lo^2 + lo hi + hi^2) / 3); an extreme one is
  // the normal's tail beyond a: E[X; X > a] = phi(a), E[X^2; X > a] =
  // a phi(a) + P(X > a).
  const NormalTable& t = NormalTable::get();
  const double a = t.tail_start();
  CHECK(a == doctest::Approx(4.900964).epsilon(1e-6));  // the normal quantile at 1 - 2^-21
  const double phi_a = std::exp(-a * a / 2) / std::sqrt(2 * std::numbers::pi);
  double p = 0, m1 = 0, m2 = 0;
  for (std::uint32_t e = 0; e < kNormalEntries; ++e) {
    if (e == 0 || e == kNormalBins - 1) continue;  // split into sub-bins
    const double pe = NormalTable::probability(e);
    p += pe;
    if (e == kNormalBins || e == kNormalEntries - 1) {
      m1 += e == kNormalBins ? -phi_a : phi_a;
      m2 += a * phi_a + pe;
      continue;
    }
    const double lo = t.lower_edge(e), hi = t.upper_edge(e);
    REQUIRE(lo < hi);
    m1 += pe * (lo + hi) / 2;
    m2 += pe * (lo * lo + lo * hi + hi * hi) / 3;
  }
  CHECK(p == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(std::abs(m1) < 1e-9);
  CHECK(m2 == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-12));
}

TEST_CASE("noise: counter-based deviates are N(0, 1) and uncorrelated between pixels and rows") {
  const NormalTable& t = NormalTable::get();
  constexpr std::uint32_t kPixels = 1024;
  constexpr std::uint64_t kRows = 1024;
  double s1 = 0, s2 = 0, beyond3 = 0, beyond45 = 0, across = 0, down = 0;
  std::vector<double> previous(kPixels, 0.0), row(kPixels);
  for (std::uint64_t r = 0; r < kRows; ++r) {
    const std::uint64_t key = 0x1234567ull * (r + 1) ^ (r << 40);  // any per-row keys
    for (std::uint32_t u = 0; u < kPixels; ++u) {
      const double g = t.deviate(pixel_bits(key, u), key, u);
      row[u] = g;
      s1 += g;
      s2 += g * g;
      beyond3 += std::abs(g) > 3 ? 1 : 0;
      beyond45 += std::abs(g) > 4.5 ? 1 : 0;
      if (u > 0) across += g * row[u - 1];
      down += g * previous[u];
    }
    previous = row;
  }
  const double n = static_cast<double>(kPixels * kRows);
  // 2^20 draws: the standard error of the mean is 0.001, of the variance 0.0014.
  CHECK(std::abs(s1 / n) < 0.005);
  CHECK(s2 / n == doctest::Approx(1.0).epsilon(0.007));
  // P(|X| > 3) = 0.0026998 (sd 5e-5 here); P(|X| > 4.5) = 6.8e-6 (about 7 draws).
  CHECK(beyond3 / n == doctest::Approx(0.0026998).epsilon(0.08));
  CHECK(beyond45 >= 1);
  CHECK(beyond45 <= 20);
  CHECK(std::abs(across / n) < 0.005);  // neighbours in a row
  CHECK(std::abs(down / n) < 0.005);    // neighbours in a column
  // The exact tails lie beyond tail_start().
  for (std::uint32_t bits : {0u, 0xFFFFFFFFu}) {
    REQUIRE(NormalTable::extreme(bits));
    const double g = t.tail(bits, 99, 7);
    CHECK(std::abs(g) > t.tail_start());
    CHECK((g > 0) == (bits != 0));
  }
  CHECK_FALSE(NormalTable::extreme(0x00200000u));  // the first sub-bin after the extreme one
}

TEST_CASE("noise: Poisson deviates have mean = variance = the mean") {
  for (double mean : {0.5, 3.0, 40.0, 1200.0}) {  // 1200: summed from chunks
    INFO(mean);
    Rng rng(17);
    constexpr int kDraws = 40000;
    double s1 = 0, s2 = 0;
    for (int i = 0; i < kDraws; ++i) {
      const auto k = static_cast<double>(poisson(mean, rng));
      s1 += k;
      s2 += k * k;
    }
    const double m = s1 / kDraws;
    const double var = s2 / kDraws - m * m;
    CHECK(std::abs(m - mean) < 5 * std::sqrt(mean / kDraws));
    CHECK(var == doctest::Approx(mean).epsilon(0.05));
  }
  Rng rng(1);
  CHECK(poisson(0, rng) == 0);
}

TEST_CASE("noise: a flat field at full gain has Poisson statistics, pixel by pixel independent") {
  // The camera's default beam: 20000 counts over a dark offset of 100, read
  // noise 2. Per pixel, mean 20100 and variance 20000 + 4 + 1/12 (rounding).
  ProjectionConfig cfg = quiet(512, 512, 0.1);
  cfg.noise = true;
  std::vector<std::uint16_t> frame(512 * 512);
  const Projector proj(cfg);
  proj.flat(frame, 11);
  const Stats s = stats(frame);
  CHECK(std::abs(s.mean - 20100) < 1.5);                     // 5 sigma / sqrt(N) = 1.4
  CHECK(s.var == doctest::Approx(20004.08).epsilon(0.015));  // 5 sigma of the variance: 1.4 %
  double across = 0, down = 0;
  for (std::size_t v = 1; v < 512; ++v) {
    for (std::size_t u = 1; u < 512; ++u) {
      const double d = frame[v * 512 + u] - s.mean;
      across += d * (frame[v * 512 + u - 1] - s.mean);
      down += d * (frame[(v - 1) * 512 + u] - s.mean);
    }
  }
  const double pairs = 511.0 * 511.0 * s.var;
  CHECK(std::abs(across / pairs) < 0.01);  // correlation of neighbours: 5 sigma = 0.01
  CHECK(std::abs(down / pairs) < 0.01);
  // Another frame seed: another field (not the same noise reused).
  std::vector<std::uint16_t> other(512 * 512);
  proj.flat(other, 12);
  double same = 0;
  for (std::size_t i = 0; i < frame.size(); ++i) same += frame[i] == other[i] ? 1 : 0;
  CHECK(same / static_cast<double>(frame.size()) < 0.01);  // ~1 / (sqrt(2 pi) 200) by chance
}

TEST_CASE("Beer-Lambert holds to 1e-6 at every pixel for line integrals from 0 to 4.5") {
  // A sphere of radius 15 mm and mu 0.15 / mm: P up to 4.5 at its centre.
  ProjectionConfig cfg = quiet(80, 70, 0.45);
  cfg.profile = BeamProfile{};
  cfg.axis_u0 = 41.3;
  const Projector proj(cfg);
  const Phantom ph = single({.x = 1, .a = 15, .b = 15, .c = 15, .mu = 0.15});
  std::vector<float> frame(proj.pixels());
  proj.project(ph, 33, frame, 1);
  const auto p = integrals(proj, ph, 33);
  CHECK(*std::max_element(p.begin(), p.end()) > 4.4f);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double u = static_cast<double>(i % 80);
    const double v = static_cast<double>(i / 80);
    REQUIRE(frame[i] == doctest::Approx(proj.expected_intensity(p[i], u, v)).epsilon(1e-6));
  }
}
