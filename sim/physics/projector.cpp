#include "sim/physics/projector.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "sim/physics/noise.hpp"

namespace pandafly::sim::physics {

namespace {

constexpr double kDegree = std::numbers::pi / 180.0;

// The row kernels are compiled twice on x86-64 (baseline SSE2, and AVX2
// chosen at run time), so everything they call is inlined into each copy.
#define PANDAFLY_KERNEL [[gnu::always_inline]] inline
#if defined(__x86_64__) && defined(__GNUC__)
#define PANDAFLY_AVX2_DISPATCH 1
#endif

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
// Both W and the peak chord scale with s, so each row costs one sqrt per
// ellipsoid, and only the columns inside [ex - W, ex + W] are visited.
struct Shadow {
  double ex;     // lab x of the centre, mm
  double cz;     // centre height, mm
  double c;      // vertical semi-axis, mm
  double w0;     // W at s = 1, mm
  double peak0;  // mu * 2 a b / W at s = 1 (dimensionless)
};

void shadows(const Phantom& phantom, double theta_deg, std::vector<Shadow>& out) {
  const double th = theta_deg * kDegree;
  const double ct = std::cos(th);
  const double st = std::sin(th);
  out.clear();
  for (const Ellipsoid& e : phantom.ellipsoids()) {
    const double alpha = (e.phi_deg + theta_deg) * kDegree;
    const double ca = std::cos(alpha);
    const double sa = std::sin(alpha);
    const double w0 = std::sqrt(e.a * e.a * ca * ca + e.b * e.b * sa * sa);
    out.push_back({e.x * ct - e.y * st, e.z, e.c, w0, e.mu * 2.0 * e.a * e.b / w0});
  }
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

// exp(-p) to 3e-7 relative for 0 <= p < 5 (4e-6 at 80, 0 beyond ~87: x = -p
// log2(e) is rounded to float), branch-free so that
// the compiler vectorises the loops calling it: exp(-p) = 2^x, x = n + f with
// n whole and |f| <= 1/2; 2^f by its Taylor series to f^7 (error < 6e-9), 2^n
// built in the float's exponent bits.
PANDAFLY_KERNEL float exp_neg(float p) {
  float x = -p * std::numbers::log2e_v<float>;
  x = x < -125.0F ? -125.0F : x;  // (std::clamp's branches would stop vectorisation)
  x = x > 125.0F ? 125.0F : x;
  const int n = static_cast<int>(x + 128.5F) - 128;  // round(x): x + 128.5 > 0
  const float f = x - static_cast<float>(n);
  float poly = 1.525273380405984e-05F;
  poly = poly * f + 1.5403530393381608e-04F;
  poly = poly * f + 1.3333558146428443e-03F;
  poly = poly * f + 9.618129107628477e-03F;
  poly = poly * f + 5.550410866482158e-02F;
  poly = poly * f + 2.402265069591007e-01F;
  poly = poly * f + 6.931471805599453e-01F;
  poly = poly * f + 1.0F;
  return poly * std::bit_cast<float>((n + 127) << 23);
}

// Rounded (half up) and clamped to [0, 65535] for uint16; as is for float.
template <typename T>
PANDAFLY_KERNEL T to_pixel(float value) {
  if constexpr (std::is_same_v<T, std::uint16_t>) {
    float v = value < 0.0F ? 0.0F : value;
    v = v > 65535.0F ? 65535.0F : v;
    return static_cast<std::uint16_t>(static_cast<int>(v + 0.5F));
  } else {
    return value;
  }
}

template <typename T>
void check_size(std::span<T> out, std::size_t pixels) {
  if (out.size() != pixels) {
    throw std::invalid_argument("Projector: the buffer must hold width * height pixels");
  }
}

// Adds the line integrals of row v to `row` (width elements, zeroed by the
// caller): for each ellipsoid whose z-range covers the row, only the columns
// inside its shadow. Returns the columns touched, [first, end) (empty:
// first >= end). The chord's argument 1 - r^2 is formed in double (it cancels
// at the shadow's edge), its square root taken in float (cheap, and exact to
// a few 1e-8 of the peak chord).
PANDAFLY_KERNEL std::pair<std::size_t, std::size_t> add_row(const std::vector<Shadow>& sh,
                                                            const ProjectionConfig& cfg, double u0,
                                                            std::size_t v, float* row) {
  const double p = cfg.pixel_mm;
  const double z = ((static_cast<double>(cfg.height) - 1.0) / 2.0 - static_cast<double>(v)) * p;
  const double last = static_cast<double>(cfg.width) - 1.0;
  std::size_t first = cfg.width;
  std::size_t end = 0;
  for (const Shadow& s : sh) {
    const double t = (z - s.cz) / s.c;
    const double s2 = 1.0 - t * t;
    if (s2 <= 0) continue;
    const double scale = std::sqrt(s2);
    const double w = scale * s.w0;
    const auto peak = static_cast<float>(scale * s.peak0);
    const double lo = std::max(0.0, std::ceil(u0 + (s.ex - w) / p));
    const double hi = std::min(last, std::floor(u0 + (s.ex + w) / p));
    if (lo > hi) continue;
    // r(u) = ((u - u0) p - ex) / w, linear in u: r0 + i dr from column lo.
    const double r0 = ((lo - u0) * p - s.ex) / w;
    const double dr = p / w;
    const int n = static_cast<int>(hi - lo) + 1;
    const auto from = static_cast<std::size_t>(lo);
    first = std::min(first, from);
    end = std::max(end, from + static_cast<std::size_t>(n));
    float* out = row + from;
    for (int i = 0; i < n; ++i) {
      const double r = r0 + static_cast<double>(i) * dr;
      const auto q = static_cast<float>(1.0 - r * r);
      out[i] += peak * std::sqrt(q < 0.0F ? 0.0F : q);
    }
  }
  return {first, end};
}

// A frame's working rows, one set per thread (Projector's const methods may
// run on several threads at once); sized on first use, so rendering
// allocates nothing once a thread has rendered a frame of this width.
struct Scratch {
  std::vector<Shadow> shadows;
  std::vector<float> line;  // line integrals of the row
  std::vector<float> mean;  // expected beam counts above the dark offset
  void fit(std::size_t width) {
    if (line.size() < width) {
      line.resize(width);
      mean.resize(width);
    }
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// What a noisy row needs besides its means.
struct NoiseTerms {
  float dark;
  float read;
  float read2;
  float gauss_above;
  std::uint64_t row_key;
};

// The slow path of one pixel, exact: Poisson photons below the Gaussian
// threshold (a mean of 0 has none) plus read noise, or a normal tail deviate.
float noisy_pixel_exact(float mean, const NoiseTerms& nt, std::uint32_t u) {
  const NormalTable& normal = NormalTable::get();
  const std::uint32_t bits = pixel_bits(nt.row_key, u);
  const double g = normal.deviate(bits, nt.row_key, u);
  if (mean >= nt.gauss_above) {
    return static_cast<float>(nt.dark + mean + std::sqrt(mean + nt.read2) * g);
  }
  Rng rng(mix(nt.row_key ^ mix(0x5DEECE66Dull + u)));
  const auto photons = static_cast<double>(poisson(mean, rng));
  return static_cast<float>(nt.dark + photons + nt.read * g);
}

// Pixel values of a noisy row: above the threshold, photons plus read noise
// are one Gaussian of variance mean + read^2 (one table deviate per pixel, a
// loop the compiler can vectorise). Pixels that need the exact path (an
// extreme tail, a mean in (0, gauss_above)) are redone afterwards, rarely.
template <typename T>
PANDAFLY_KERNEL void noisy_row(const float* mean, std::size_t width, const NoiseTerms& nt, T* dst) {
  const NormalTable& normal = NormalTable::get();
  const float* knots = normal.knots();
  const float* steps = normal.steps();
  const auto n = static_cast<std::uint32_t>(width);
  std::uint32_t slow = 0;
  for (std::uint32_t u = 0; u < n; ++u) {
    const std::uint32_t bits = pixel_bits(nt.row_key, u);
    const std::uint32_t e = NormalTable::entry(bits);
    const float g = knots[e] + static_cast<float>(NormalTable::fraction(bits)) * steps[e];
    const float m = mean[u];
    dst[u] = to_pixel<T>(nt.dark + m + std::sqrt(m + nt.read2) * g);
    slow |= static_cast<std::uint32_t>(e == kNormalBins) |
            static_cast<std::uint32_t>(e == kNormalEntries - 1) |
            (static_cast<std::uint32_t>(m > 0) & static_cast<std::uint32_t>(m < nt.gauss_above));
  }
  if (slow == 0) return;
  for (std::uint32_t u = 0; u < n; ++u) {
    const float m = mean[u];
    if (NormalTable::extreme(pixel_bits(nt.row_key, u)) || (m > 0 && m < nt.gauss_above)) {
      dst[u] = to_pixel<T>(noisy_pixel_exact(m, nt, u));
    }
  }
}

// Everything a frame's rows need; the rows are independent of each other.
struct FrameTerms {
  const ProjectionConfig* cfg;
  double u0;
  const std::vector<Shadow>* shadows;  // empty: a flat or a dark
  double beam;                         // gain, 0 for a dark
  const double* profile_u;
  const double* profile_v;
  std::uint64_t frame_key;
  Scratch* scratch;
};

template <typename T>
PANDAFLY_KERNEL void render_rows_kernel(const FrameTerms& f, T* out) {
  const ProjectionConfig& cfg = *f.cfg;
  const std::size_t width = cfg.width;
  float* line = f.scratch->line.data();
  float* mean = f.scratch->mean.data();
  const auto dark = static_cast<float>(cfg.dark_offset);
  const auto read = static_cast<float>(cfg.read_noise);
  for (std::size_t v = 0; v < cfg.height; ++v) {
    // profile(u, v) is separable: profile_u[u] * profile_v[v].
    const double bv = f.beam * f.profile_v[v];
    for (std::size_t u = 0; u < width; ++u) mean[u] = static_cast<float>(bv * f.profile_u[u]);
    if (!f.shadows->empty()) {
      std::fill(line, line + width, 0.0F);
      const auto [first, end] = add_row(*f.shadows, cfg, f.u0, v, line);
      for (std::size_t u = first; u < end; ++u) mean[u] *= exp_neg(line[u]);
    }
    T* dst = out + v * width;
    if (!cfg.noise) {
      for (std::size_t u = 0; u < width; ++u) dst[u] = to_pixel<T>(dark + mean[u]);
      continue;
    }
    const NoiseTerms nt{.dark = dark,
                        .read = read,
                        .read2 = read * read,
                        .gauss_above = static_cast<float>(cfg.poisson_gauss_above),
                        .row_key = mix(f.frame_key + v)};
    noisy_row(mean, width, nt, dst);
  }
}

template <typename T>
void render_rows_baseline(const FrameTerms& f, T* out) {
  render_rows_kernel(f, out);
}

#ifdef PANDAFLY_AVX2_DISPATCH
// The same instructions' results (no FMA contraction: -std=c++20 keeps
// -ffp-contract=off), twice as wide: the same pixels on any CPU.
template <typename T>
[[gnu::target("avx2")]] void render_rows_avx2(const FrameTerms& f, T* out) {
  render_rows_kernel(f, out);
}
#endif

template <typename T>
void render_rows(const FrameTerms& f, T* out) {
#ifdef PANDAFLY_AVX2_DISPATCH
  static const bool avx2 = __builtin_cpu_supports("avx2") != 0;
  if (avx2) return render_rows_avx2(f, out);
#endif
  render_rows_baseline(f, out);
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
  if (c.width > std::size_t{1} << 30) throw std::invalid_argument("Projector: too wide");
  profile_u_.resize(c.width);
  for (std::size_t u = 0; u < c.width; ++u) {
    profile_u_[u] =
        gaussian_profile(static_cast<double>(u) - (static_cast<double>(c.width) - 1) / 2,
                         static_cast<double>(c.width), c.profile.sigma_u_frac);
  }
  profile_v_.resize(c.height);
  for (std::size_t v = 0; v < c.height; ++v) {
    profile_v_[v] =
        gaussian_profile(static_cast<double>(v) - (static_cast<double>(c.height) - 1) / 2,
                         static_cast<double>(c.height), c.profile.sigma_v_frac);
  }
  (void)NormalTable::get();  // built here rather than in the first frame
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
  Scratch& s = scratch();
  s.fit(config_.width);
  shadows(phantom, theta_deg, s.shadows);
  for (std::size_t v = 0; v < config_.height; ++v) {
    float* row = out.data() + v * config_.width;
    std::fill(row, row + config_.width, 0.0F);
    (void)add_row(s.shadows, config_, axis_u0_, v, row);
  }
}

template <typename T>
void Projector::render(const Phantom* phantom, double theta_deg, Kind kind, std::span<T> out,
                       std::uint64_t frame_seed) const {
  check_size(out, pixels());
  Scratch& s = scratch();
  s.fit(config_.width);
  s.shadows.clear();
  if (phantom) shadows(*phantom, theta_deg, s.shadows);
  const FrameTerms terms{
      .cfg = &config_,
      .u0 = axis_u0_,
      .shadows = &s.shadows,
      .beam = kind == Kind::kDark ? 0.0 : config_.gain,
      .profile_u = profile_u_.data(),
      .profile_v = profile_v_.data(),
      .frame_key = mix(mix(mix(config_.seed) ^ frame_seed) ^ static_cast<std::uint64_t>(kind)),
      .scratch = &s};
  render_rows(terms, out.data());
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
