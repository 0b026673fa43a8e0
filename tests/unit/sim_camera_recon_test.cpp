// "A reconstruction of a simulated scan must show the phantom": a small scan
// (one dark, one flat, 180 projections over 180 degrees) taken through the
// camera simulator's own Acquisition and FrameSource, flat-field corrected,
// and reconstructed by a textbook filtered back-projection (Ram-Lak filter in
// real space, linear interpolation) written here. The slice must correlate
// with the phantom's true attenuation map, with the right handedness.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <vector>

#include <doctest/doctest.h>

#include "sim/camera/acquisition.hpp"
#include "sim/camera/frame_source.hpp"

namespace pandafly::sim::camera {
namespace {

constexpr std::size_t kWidth = 96;
constexpr std::size_t kRows = 3;  // the middle row looks through z = 0
constexpr double kPixel = 0.05;   // mm
constexpr std::size_t kAngles = 180;

using Image = std::vector<double>;  // kWidth x kWidth, row-major, y down

struct Scan {
  std::vector<std::vector<double>> sinogram;  // [projection][u], line integrals
  std::vector<double> angles_deg;
  physics::Phantom phantom;
};

std::vector<float> row_of(std::span<const std::byte> frame) {
  std::vector<float> all(frame.size() / sizeof(float));
  std::memcpy(all.data(), frame.data(), frame.size());
  return {all.begin() + kWidth * (kRows / 2), all.begin() + kWidth * (kRows / 2 + 1)};
}

Scan simulate_scan() {
  FrameSourceOptions o;
  o.noise = false;
  o.pixel_mm = kPixel;
  o.phantom = physics::Phantom::shepp_logan_3d(0.95 * kWidth * kPixel);
  FrameSource src({kWidth, kRows, capture::DataType::float32}, o);
  const double rate = 100;
  Acquisition acq({.format = src.format(),
                   .rate_hz = rate,
                   .darks = 1,
                   .flats = 1,
                   .projections = kAngles,
                   .start_deg = 0,
                   .speed_deg_s = 180.0 / static_cast<double>(kAngles) * rate});
  acq.start(0);
  Scan scan{.sinogram = {}, .angles_deg = {}, .phantom = *o.phantom};
  std::vector<float> dark, flat;
  for (const FrameJob& job : acq.advance(kNever - 1)) {
    const auto row = row_of(src.render(job.kind, job.angle_deg, 1));
    if (job.kind == FrameKind::dark) dark = row;
    if (job.kind == FrameKind::flat) flat = row;
    if (job.kind != FrameKind::projection) continue;
    std::vector<double> p(kWidth);
    for (std::size_t u = 0; u < kWidth; ++u)
      p[u] = -std::log((row[u] - dark[u]) / (flat[u] - dark[u]));
    scan.sinogram.push_back(std::move(p));
    scan.angles_deg.push_back(job.angle_deg);
  }
  return scan;
}

/// Filtered back-projection; `sign` -1 reconstructs the mirror image (a wrong rotation sense).
Image fbp(const Scan& scan, double sign) {
  const auto n = static_cast<std::ptrdiff_t>(kWidth);
  std::vector<double> h(2 * kWidth);  // Ram-Lak, h[k + n] for k in (-n, n)
  for (std::ptrdiff_t k = -n + 1; k < n; ++k) {
    const double kk = static_cast<double>(k);
    h[static_cast<std::size_t>(k + n)] =
        k == 0  ? 1.0 / (4 * kPixel * kPixel)
        : k % 2 ? -1.0 / (std::numbers::pi * std::numbers::pi * kk * kk * kPixel * kPixel)
                : 0.0;
  }
  const double u0 = (static_cast<double>(kWidth) - 1) / 2;
  Image img(kWidth * kWidth, 0.0);
  for (std::size_t a = 0; a < scan.sinogram.size(); ++a) {
    std::vector<double> q(kWidth, 0.0);
    for (std::ptrdiff_t u = 0; u < n; ++u)
      for (std::ptrdiff_t j = 0; j < n; ++j)
        q[static_cast<std::size_t>(u)] += kPixel * scan.sinogram[a][static_cast<std::size_t>(j)] *
                                          h[static_cast<std::size_t>(u - j + n)];
    const double th = sign * scan.angles_deg[a] * std::numbers::pi / 180.0;
    for (std::size_t i = 0; i < kWidth * kWidth; ++i) {
      const double x = (static_cast<double>(i % kWidth) - u0) * kPixel;
      const double y = (u0 - static_cast<double>(i / kWidth)) * kPixel;
      const double u = u0 + (x * std::cos(th) - y * std::sin(th)) / kPixel;
      const double fu = std::floor(u);
      if (fu < 0 || fu + 1 >= static_cast<double>(kWidth)) continue;
      const auto k = static_cast<std::size_t>(fu);
      img[i] += (q[k] * (fu + 1 - u) + q[k + 1] * (u - fu)) * std::numbers::pi /
                static_cast<double>(scan.sinogram.size());
    }
  }
  return img;
}

double correlation(const Image& a, const Image& b) {
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= static_cast<double>(a.size());
  mb /= static_cast<double>(a.size());
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

}  // namespace

TEST_CASE("camera scan: a filtered back-projection of the simulated scan shows the phantom") {
  const Scan scan = simulate_scan();
  REQUIRE(scan.sinogram.size() == kAngles);
  CHECK(scan.angles_deg.back() == doctest::Approx(179.0));
  const double u0 = (static_cast<double>(kWidth) - 1) / 2;
  Image truth(kWidth * kWidth);
  for (std::size_t i = 0; i < truth.size(); ++i)
    truth[i] = scan.phantom.attenuation_at({(static_cast<double>(i % kWidth) - u0) * kPixel,
                                            (u0 - static_cast<double>(i / kWidth)) * kPixel, 0});
  const Image slice = fbp(scan, 1.0);
  const Image mirrored = fbp(scan, -1.0);
  const double c = correlation(slice, truth);
  const double c_mirror = correlation(mirrored, truth);
  MESSAGE("correlation with the phantom ", c, ", mirrored ", c_mirror);
  CHECK(c > 0.9);
  CHECK(c - c_mirror > 0.05);  // the ventricles and beads are not mirror symmetric
  double sum_slice = 0, sum_truth = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) sum_slice += slice[i], sum_truth += truth[i];
  // The attenuation is all there (the truncated discrete Ram-Lak filter and the
  // point-sampled edges of the truth leave a bias of several per cent).
  CHECK(sum_slice == doctest::Approx(sum_truth).epsilon(0.15));
}

}  // namespace pandafly::sim::camera
