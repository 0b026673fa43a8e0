#include "sim/physics/projector.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace pandafly::sim::physics {

namespace {

constexpr double kDegree = std::numbers::pi / 180.0;

// One ellipsoid seen at one stage angle: what every row needs, worked out once.
//
// Cut at height z, the ellipsoid is the ellipse with semi-axes A = s a,
// B = s b, s = sqrt(1 - ((z - cz) / c)^2), turned by alpha = phi + theta in
// the lab. Its shadow on the x axis has half-width W with
// W^2 = A^2 cos^2(alpha) + B^2 sin^2(alpha) (the support function along x).
// The beam line x = ex + dx crosses it along
//   chord(dx) = (2 A B / W) sqrt(1 - (dx / W)^2),   |dx| < W,
// derived by mapping the ellipse to the unit circle, where the line's distance
// from the origin is |dx| / W and its parameter speed is W / (A B). Check:
// A = B = r gives 2 sqrt(r^2 - dx^2); the integral over dx is pi A B.
// Both W and the peak chord scale with s, so each row costs one sqrt.
struct Shadow {
  double ex;     // lab x of the centre, mm
  double cz;     // centre height, mm
  double c;      // vertical semi-axis, mm
  double w0;     // W at s = 1, mm
  double peak0;  // mu * 2 a b / W at s = 1 (dimensionless)
};

std::vector<Shadow> shadows(const Phantom& phantom, double theta_deg) {
  const double th = theta_deg * kDegree;
  const double ct = std::cos(th);
  const double st = std::sin(th);
  std::vector<Shadow> out;
  out.reserve(phantom.ellipsoids().size());
  for (const Ellipsoid& e : phantom.ellipsoids()) {
    const double alpha = (e.phi_deg + theta_deg) * kDegree;
    const double ca = std::cos(alpha);
    const double sa = std::sin(alpha);
    const double w0 = std::sqrt(e.a * e.a * ca * ca + e.b * e.b * sa * sa);
    out.push_back({e.x * ct - e.y * st, e.z, e.c, w0, e.mu * 2.0 * e.a * e.b / w0});
  }
  return out;
}

// splitmix64's finaliser: decorrelates seeds that differ in a few bits.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

double gaussian_profile(double offset, double extent, double sigma_frac) {
  if (sigma_frac <= 0) return 1.0;
  const double r = offset / (sigma_frac * extent);
  return std::exp(-0.5 * r * r);
}

template <typename T>
T to_pixel(double value) {
  if constexpr (std::is_same_v<T, std::uint16_t>) {
    return static_cast<std::uint16_t>(std::clamp(std::round(value), 0.0, 65535.0));
  } else {
    return static_cast<T>(value);
  }
}

template <typename T>
void check_size(std::span<T> out, std::size_t pixels) {
  if (out.size() != pixels) {
    throw std::invalid_argument("Projector: the buffer must hold width * height pixels");
  }
}

// Adds the line integrals of row v to `row` (width elements, zeroed by the caller).
void add_row(const std::vector<Shadow>& sh, const ProjectionConfig& cfg, double u0, std::size_t v,
             std::span<double> row) {
  const double p = cfg.pixel_mm;
  const double z = ((static_cast<double>(cfg.height) - 1.0) / 2.0 - static_cast<double>(v)) * p;
  const double last = static_cast<double>(cfg.width) - 1.0;
  for (const Shadow& s : sh) {
    const double t = (z - s.cz) / s.c;
    const double s2 = 1.0 - t * t;
    if (s2 <= 0) continue;
    const double scale = std::sqrt(s2);
    const double w = scale * s.w0;
    const double peak = scale * s.peak0;
    const double lo = std::max(0.0, std::ceil(u0 + (s.ex - w) / p));
    const double hi = std::min(last, std::floor(u0 + (s.ex + w) / p));
    if (lo > hi) continue;
    const double inv_w = 1.0 / w;
    for (auto u = static_cast<std::size_t>(lo); u <= static_cast<std::size_t>(hi); ++u) {
      const double r = ((static_cast<double>(u) - u0) * p - s.ex) * inv_w;
      const double q = 1.0 - r * r;
      if (q > 0) row[u] += peak * std::sqrt(q);
    }
  }
}

// A pixel value above the dark offset for a mean of `mean` photons (one count
// each) plus Gaussian read noise of sigma `read`. Below `gauss_above` the
// photons are Poisson; from there on Poisson is indistinguishable from a
// Gaussian, and photons plus read noise are one Gaussian of variance
// mean + read^2: one draw instead of two, the frame's main cost.
double sample_above_offset(double mean, double read, double gauss_above, std::mt19937_64& rng,
                           std::normal_distribution<double>& normal) {
  if (mean >= gauss_above) return mean + std::sqrt(mean + read * read) * normal(rng);
  double photons = 0;
  if (mean > 0) photons = static_cast<double>(std::poisson_distribution<std::int64_t>(mean)(rng));
  return photons + read * normal(rng);
}

}  // namespace

Projector::Projector(ProjectionConfig config)
    : config_(config),
      axis_u0_(config.axis_u0.value_or((static_cast<double>(config.width) - 1.0) / 2.0)) {
  const ProjectionConfig& c = config_;
  if (c.width == 0 || c.height == 0) throw std::invalid_argument("Projector: empty detector");
  if (!(c.pixel_mm > 0) || !std::isfinite(c.pixel_mm)) {
    throw std::invalid_argument("Projector: pixel_mm must be positive");
  }
  if (!std::isfinite(axis_u0_)) throw std::invalid_argument("Projector: axis_u0 must be finite");
  for (double v : {c.dark_offset, c.gain, c.read_noise, c.poisson_gauss_above}) {
    if (!(v >= 0) || !std::isfinite(v)) {
      throw std::invalid_argument("Projector: offset, gain and noise must be finite and >= 0");
    }
  }
}

double Projector::profile(double u, double v) const {
  const double w = static_cast<double>(config_.width);
  const double h = static_cast<double>(config_.height);
  return gaussian_profile(u - (w - 1.0) / 2.0, w, config_.profile.sigma_u_frac) *
         gaussian_profile(v - (h - 1.0) / 2.0, h, config_.profile.sigma_v_frac);
}

double Projector::expected_intensity(double p, double u, double v) const {
  return config_.dark_offset + config_.gain * profile(u, v) * std::exp(-p);
}

void Projector::line_integrals(const Phantom& phantom, double theta_deg,
                               std::span<float> out) const {
  check_size(out, pixels());
  const std::vector<Shadow> sh = shadows(phantom, theta_deg);
  std::vector<double> row(config_.width);
  for (std::size_t v = 0; v < config_.height; ++v) {
    std::fill(row.begin(), row.end(), 0.0);
    add_row(sh, config_, axis_u0_, v, row);
    std::transform(row.begin(), row.end(),
                   out.begin() + static_cast<std::ptrdiff_t>(v * row.size()),
                   [](double x) { return static_cast<float>(x); });
  }
}

template <typename T>
void Projector::render(const Phantom* phantom, double theta_deg, Kind kind, std::span<T> out,
                       std::uint64_t frame_seed) const {
  check_size(out, pixels());
  const std::size_t width = config_.width;
  const std::vector<Shadow> sh = phantom ? shadows(*phantom, theta_deg) : std::vector<Shadow>{};
  std::vector<double> profile_u(width);
  for (std::size_t u = 0; u < width; ++u) {
    profile_u[u] =
        gaussian_profile(static_cast<double>(u) - (static_cast<double>(width) - 1.0) / 2.0,
                         static_cast<double>(width), config_.profile.sigma_u_frac);
  }
  const double beam = kind == Kind::kDark ? 0.0 : config_.gain;
  const std::uint64_t frame_key =
      mix(mix(mix(config_.seed) ^ frame_seed) ^ static_cast<std::uint64_t>(kind));
  std::vector<double> row(width);
  for (std::size_t v = 0; v < config_.height; ++v) {
    std::fill(row.begin(), row.end(), 0.0);
    add_row(sh, config_, axis_u0_, v, row);
    // profile(u, v) is separable: the u factor is profile_u, the v factor this.
    const double pv =
        gaussian_profile(static_cast<double>(v) - (static_cast<double>(config_.height) - 1.0) / 2.0,
                         static_cast<double>(config_.height), config_.profile.sigma_v_frac);
    T* dst = out.data() + v * width;
    if (!config_.noise) {
      for (std::size_t u = 0; u < width; ++u) {
        dst[u] = to_pixel<T>(config_.dark_offset + beam * profile_u[u] * pv * std::exp(-row[u]));
      }
      continue;
    }
    std::mt19937_64 rng(mix(frame_key + v));
    std::normal_distribution<double> normal;
    for (std::size_t u = 0; u < width; ++u) {
      const double mean = beam * profile_u[u] * pv * std::exp(-row[u]);
      dst[u] = to_pixel<T>(config_.dark_offset + sample_above_offset(mean, config_.read_noise,
                                                                     config_.poisson_gauss_above,
                                                                     rng, normal));
    }
  }
}

void Projector::project(const Phantom& phantom, double theta_deg, std::span<std::uint16_t> out,
                        std::uint64_t frame_seed) const {
  render(&phantom, theta_deg, Kind::kProjection, out, frame_seed);
}
void Projector::project(const Phantom& phantom, double theta_deg, std::span<float> out,
                        std::uint64_t frame_seed) const {
  render(&phantom, theta_deg, Kind::kProjection, out, frame_seed);
}
void Projector::dark(std::span<std::uint16_t> out, std::uint64_t frame_seed) const {
  render<std::uint16_t>(nullptr, 0, Kind::kDark, out, frame_seed);
}
void Projector::dark(std::span<float> out, std::uint64_t frame_seed) const {
  render<float>(nullptr, 0, Kind::kDark, out, frame_seed);
}
void Projector::flat(std::span<std::uint16_t> out, std::uint64_t frame_seed) const {
  render<std::uint16_t>(nullptr, 0, Kind::kFlat, out, frame_seed);
}
void Projector::flat(std::span<float> out, std::uint64_t frame_seed) const {
  render<float>(nullptr, 0, Kind::kFlat, out, frame_seed);
}

}  // namespace pandafly::sim::physics
