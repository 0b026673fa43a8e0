// SliceReconstructor: direct and gridding back-projection (contracts in
// include/pandafly/dx/slice.hpp).
//
// Gridding in short. With P_i(k) the length-G transform of projection i
// (zero-padded), H(k) the ramp and w_i the angle weights, the slice is
//   f(x) = Σ_i Σ_k c_ik · exp(2πi k (n_i·x) / G),  c_ik = w_i H(k) P_i(k) e^{2πik·centre/G} / G,
// n_i = (cos θ_i, −sin θ_i): a sum of samples at the grid points
// (u, v) = k·n_i — a type-1 non-uniform FFT. Each sample is spread onto the
// G × G grid with a separable Kaiser–Bessel kernel φ, the grid is
// transformed back, and the result divided by φ's transform at x/G. f is
// real, so only k ≥ 0 is gridded (doubled for k > 0) and the real part kept.
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <stdexcept>

#include <fftw3.h>
#include <fmt/format.h>

#include "pandafly/dx/slice.hpp"

namespace pandafly::dx {
namespace {

using cfloat = std::complex<float>;

struct FftwFree {
  void operator()(void* p) const noexcept { fftwf_free(p); }
};
template <class T>
using FftwBuffer = std::unique_ptr<T[], FftwFree>;
template <class T>
FftwBuffer<T> fftw_buffer(std::size_t n) {
  auto* p = static_cast<T*>(fftwf_malloc(sizeof(T) * n));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(static_cast<void*>(p), 0, sizeof(T) * n);  // touch it now, not inside a timed call
  return FftwBuffer<T>(p);
}

struct PlanFree {
  void operator()(fftwf_plan p) const noexcept { fftwf_destroy_plan(p); }
};
using Plan = std::unique_ptr<std::remove_pointer_t<fftwf_plan>, PlanFree>;

constexpr int kKernelWidth = 4;      // grid points the kernel spans per axis
constexpr int kTablePerUnit = 1024;  // kernel samples per grid unit
constexpr double kOversampling = 2.0;
constexpr std::size_t kColumnBlock = 16;  // columns per strided transform

double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 60; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

void run(const ParallelFor& parallel, std::size_t count,
         const std::function<void(std::size_t)>& task) {
  if (parallel) {
    parallel(count, task);
  } else {
    for (std::size_t i = 0; i < count; ++i) task(i);
  }
}

// [begin, end) of part `p` of `parts` over n items.
std::pair<std::size_t, std::size_t> part_range(std::size_t n, std::size_t parts, std::size_t p) {
  return {n * p / parts, n * (p + 1) / parts};
}

}  // namespace

struct SliceReconstructor::Impl {
  std::size_t width;
  std::size_t size;
  std::size_t padded;  // G of the projection transforms (and the grid)
  SliceOptions options;
  std::vector<double> response;  // H(k), k = 0 … G/2
  std::size_t parts = 1;         // tasks handed to ParallelFor
  // Per task: a real line and its transform.
  std::vector<FftwBuffer<float>> lines;
  std::vector<FftwBuffer<fftwf_complex>> spectra;
  Plan forward;   // r2c, G
  Plan backward;  // c2r, G (direct method)
  // Gridding.
  std::vector<float> kernel;      // φ(z), z = 0 … kKernelWidth/2 in 1/kTablePerUnit steps
  std::vector<double> deapodize;  // 1 / φ̂(x / G) for x = 0 … size
  FftwBuffer<fftwf_complex> grid;
  Plan grid_rows;               // G transforms along u of every grid row
  Plan grid_columns;            // kColumnBlock of the `size` needed columns along v
  Plan grid_columns_rest;       // the last size % kColumnBlock of them
  std::vector<cfloat> samples;  // c_ik for the current call, k = 0 … G/2 − 1
  std::vector<float> filtered;  // direct: filtered projections, n × G

  Impl(std::size_t w, SliceOptions o);
  void make_kernel();
  void transform(std::span<const float> sino, std::span<const double> theta,
                 std::span<const double> weights, double centre);
  std::vector<float> gridrec(std::span<const float> sino, std::span<const double> theta,
                             double centre);
  std::vector<float> direct(std::span<const float> sino, std::span<const double> theta,
                            double centre);
  void spread(std::span<const double> theta, std::size_t part);
  /// Where the image grid's origin projects at angle θ: pixel centres sit
  /// at integer + s (s = ⌊size/2⌋ − (size − 1)/2 in x and y) from the grid
  /// origin, which projects at t_s = n·(s, s).
  [[nodiscard]] double grid_offset(double theta_deg) const {
    const double s =
        std::floor(static_cast<double>(size) / 2) - (static_cast<double>(size) - 1) / 2;
    const double th = theta_deg * std::numbers::pi / 180.0;
    return s * std::cos(th) - s * std::sin(th);
  }
  void mask(std::vector<float>& image, double centre) const;
};

SliceReconstructor::Impl::Impl(std::size_t w, SliceOptions o)
    : width(w),
      size(o.size == 0 ? w : o.size),
      padded(padded_length(std::max(w, o.size))),
      options(std::move(o)),
      response(filter_response(padded, options.filter)) {
  parts = options.parallel ? std::max<std::size_t>(1, options.threads) : 1;
  for (std::size_t p = 0; p < parts; ++p) {
    lines.push_back(fftw_buffer<float>(padded));
    spectra.push_back(fftw_buffer<fftwf_complex>(padded / 2 + 1));
  }
  const int g = static_cast<int>(padded);
  forward.reset(fftwf_plan_dft_r2c_1d(g, lines[0].get(), spectra[0].get(), FFTW_ESTIMATE));
  backward.reset(fftwf_plan_dft_c2r_1d(g, spectra[0].get(), lines[0].get(), FFTW_ESTIMATE));
  if (!forward || !backward)
    throw std::runtime_error("FFTW could not plan the projection transforms");
  if (options.method == SliceMethod::gridrec) make_kernel();
}

void SliceReconstructor::Impl::make_kernel() {
  const double J = kKernelWidth, s = kOversampling;
  const double beta = std::numbers::pi * std::sqrt(J * J / (s * s) * (s - 0.5) * (s - 0.5) - 0.8);
  const auto n = static_cast<std::size_t>(kKernelWidth / 2 * kTablePerUnit) + 2;
  kernel.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double z = static_cast<double>(i) / kTablePerUnit;
    const double r = 2 * z / J;
    kernel[i] = r < 1 ? static_cast<float>(bessel_i0(beta * std::sqrt(1 - r * r))) : 0.0F;
  }
  // φ̂(ξ) = ∫ φ(z) cos(2πzξ) dz by the midpoint rule on the table; ξ = x / G.
  deapodize.resize(size + 1);
  for (std::size_t x = 0; x <= size; ++x) {
    const double xi = static_cast<double>(x) / static_cast<double>(padded);
    double sum = 0;
    for (std::size_t i = 0; i + 2 < n; ++i) {
      const double z = (static_cast<double>(i) + 0.5) / kTablePerUnit;
      const double r = 2 * z / J;
      if (r >= 1) break;
      sum += 2 * bessel_i0(beta * std::sqrt(1 - r * r)) * std::cos(2 * std::numbers::pi * z * xi);
    }
    deapodize[x] = kTablePerUnit / sum;
  }
  grid = fftw_buffer<fftwf_complex>(padded * padded);
  const int g = static_cast<int>(padded), block = static_cast<int>(kColumnBlock);
  const int rest = static_cast<int>(size % kColumnBlock);
  grid_rows.reset(fftwf_plan_dft_1d(g, grid.get(), grid.get(), FFTW_BACKWARD, FFTW_ESTIMATE));
  // kColumnBlock neighbouring columns per call (whole cache lines), strided by a row.
  const auto columns = [&](int count) {
    return Plan(fftwf_plan_many_dft(1, &g, count, grid.get(), nullptr, g, 1, grid.get(), nullptr, g,
                                    1, FFTW_BACKWARD, FFTW_ESTIMATE | FFTW_UNALIGNED));
  };
  grid_columns = columns(block);
  if (rest > 0) grid_columns_rest = columns(rest);
  if (!grid_rows || !grid_columns || (rest > 0 && !grid_columns_rest))
    throw std::runtime_error("FFTW could not plan the grid transforms");
}

// samples (gridrec: the phase of the centre and of the image grid's offset
// applied) or filtered (direct) from the sinogram.
void SliceReconstructor::Impl::transform(std::span<const float> sino, std::span<const double> theta,
                                         std::span<const double> weights, double centre) {
  const std::size_t n = theta.size(), half = padded / 2;
  const bool grid_mode = options.method == SliceMethod::gridrec;
  if (grid_mode) {
    samples.resize(n * half);
  } else {
    filtered.resize(n * padded);
  }
  const double g = static_cast<double>(padded);
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(n, parts, part);
    float* line = lines[part].get();
    fftwf_complex* spec = spectra[part].get();
    for (std::size_t i = a; i < b; ++i) {
      std::copy_n(sino.begin() + static_cast<long>(i * width), width, line);
      std::fill(line + width, line + padded, 0.0F);
      fftwf_execute_dft_r2c(forward.get(), line, spec);
      if (grid_mode) {
        // The phase e^{2πik(centre + t_s)/G} by a rotation per k (double
        // precision: after G/2 steps the error is ~1e-13, far below float's).
        const std::complex<double> step =
            std::polar(1.0, 2 * std::numbers::pi * (centre + grid_offset(theta[i])) / g);
        std::complex<double> turn = 1.0;
        for (std::size_t k = 0; k < half; ++k, turn *= step) {
          const double scale = (k == 0 ? 1.0 : 2.0) * weights[i] * response[k] / g;
          const std::complex<double> p(spec[k][0], spec[k][1]);
          samples[i * half + k] = cfloat(p * turn * scale);
        }
      } else {
        for (std::size_t k = 0; k <= half; ++k) {
          const auto scale = static_cast<float>(weights[i] * response[k] / g);
          spec[k][0] *= scale;
          spec[k][1] *= scale;
        }
        fftwf_execute_dft_c2r(backward.get(), spec, line);  // plan-aligned buffers only
        std::copy_n(line, padded, filtered.begin() + static_cast<long>(i * padded));
      }
    }
  });
}

// Spreads every sample onto the grid rows of band `part` (rows are split
// between tasks, so no two tasks write the same cell).
void SliceReconstructor::Impl::spread(std::span<const double> theta, std::size_t part) {
  const std::size_t half = padded / 2, mask_bits = padded - 1;
  const auto [row_lo, row_hi] = part_range(padded, parts, part);
  const double reach = kKernelWidth / 2.0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    const double th = theta[i] * std::numbers::pi / 180.0;
    const double cu = std::cos(th), cv = -std::sin(th);
    for (std::size_t k = 0; k < half; ++k) {
      const double kk = static_cast<double>(k);
      const double v = kk * cv;
      const long v0 = static_cast<long>(std::ceil(v - reach));
      // Rows v0 … v0 + J − 1 (mod G): skip unless one is in this band.
      bool any = false;
      for (long b = 0; b < kKernelWidth; ++b) {
        const auto row = static_cast<std::size_t>(v0 + b) & mask_bits;
        any = any || (row >= row_lo && row < row_hi);
      }
      if (!any) continue;
      const double u = kk * cu;
      const long u0 = static_cast<long>(std::ceil(u - reach));
      float wu[kKernelWidth], wv[kKernelWidth];
      for (int a = 0; a < kKernelWidth; ++a) {
        wu[a] = kernel[static_cast<std::size_t>(
            std::fabs(static_cast<double>(u0 + a) - u) * kTablePerUnit + 0.5)];
        wv[a] = kernel[static_cast<std::size_t>(
            std::fabs(static_cast<double>(v0 + a) - v) * kTablePerUnit + 0.5)];
      }
      const cfloat c = samples[i * half + k];
      for (int b = 0; b < kKernelWidth; ++b) {
        const auto row = static_cast<std::size_t>(v0 + b) & mask_bits;
        if (row < row_lo || row >= row_hi) continue;
        auto* cells = reinterpret_cast<cfloat*>(grid.get() + row * padded);
        const cfloat cb = c * wv[b];
        for (int a = 0; a < kKernelWidth; ++a)
          cells[static_cast<std::size_t>(u0 + a) & mask_bits] += cb * wu[a];
      }
    }
  }
}

std::vector<float> SliceReconstructor::Impl::gridrec(std::span<const float> sino,
                                                     std::span<const double> theta, double centre) {
  const auto weights = angle_weights(theta);
  transform(sino, theta, weights, centre);
  const std::size_t g = padded;
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(g, parts, part);
    std::fill(reinterpret_cast<float*>(grid.get() + a * g),
              reinterpret_cast<float*>(grid.get() + b * g), 0.0F);
  });
  run(options.parallel, parts, [&](std::size_t part) { spread(theta, part); });
  // Rows (along u), then the `size` columns the image needs (along v).
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(g, parts, part);
    for (std::size_t r = a; r < b; ++r)
      fftwf_execute_dft(grid_rows.get(), grid.get() + r * g, grid.get() + r * g);
  });
  // The needed columns x = −⌊size/2⌋ … (mod G): wrap them into one run first.
  const std::size_t lo = size / 2;
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(g, parts, part);
    for (std::size_t r = a; r < b; ++r) {
      auto* row = reinterpret_cast<cfloat*>(grid.get() + r * g);
      // columns [G − lo, G) then [0, size − lo) → [0, size)
      std::rotate(row, row + (g - lo), row + g);
    }
  });
  const std::size_t blocks = (size + kColumnBlock - 1) / kColumnBlock;
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(blocks, parts, part);
    for (std::size_t k = a; k < b; ++k) {
      auto* first = grid.get() + k * kColumnBlock;
      const bool whole = (k + 1) * kColumnBlock <= size;
      fftwf_execute_dft(whole ? grid_columns.get() : grid_columns_rest.get(), first, first);
    }
  });
  std::vector<float> image(size * size);
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(size, parts, part);
    for (std::size_t r = a; r < b; ++r) {
      const long y = static_cast<long>(r) - static_cast<long>(lo);
      const auto gr = static_cast<std::size_t>(y) & (g - 1);
      const double dy = deapodize[static_cast<std::size_t>(std::labs(y))];
      for (std::size_t c = 0; c < size; ++c) {
        const long x = static_cast<long>(c) - static_cast<long>(lo);
        image[r * size + c] = static_cast<float>(grid[gr * g + c][0] * dy *
                                                 deapodize[static_cast<std::size_t>(std::labs(x))]);
      }
    }
  });
  return image;
}

std::vector<float> SliceReconstructor::Impl::direct(std::span<const float> sino,
                                                    std::span<const double> theta, double centre) {
  const auto weights = angle_weights(theta);
  transform(sino, theta, weights, centre);
  std::vector<float> image(size * size, 0.0F);
  const double mid = (static_cast<double>(size) - 1) / 2;
  const double last = static_cast<double>(width - 1);
  run(options.parallel, parts, [&](std::size_t part) {
    const auto [a, b] = part_range(size, parts, part);
    for (std::size_t i = 0; i < theta.size(); ++i) {
      const double th = theta[i] * std::numbers::pi / 180.0;
      const double cs = std::cos(th), sn = std::sin(th);
      const float* q = filtered.data() + i * padded;
      for (std::size_t r = a; r < b; ++r) {
        const double y = static_cast<double>(r) - mid;
        float* out = image.data() + r * size;
        for (std::size_t c = 0; c < size; ++c) {
          const double t = centre + (static_cast<double>(c) - mid) * cs - y * sn;
          if (t < 0 || t > last) continue;
          const auto t0 = static_cast<std::size_t>(t);
          const double f = t - static_cast<double>(t0);
          const double v1 = t0 + 1 < width ? q[t0 + 1] : 0.0;
          out[c] += static_cast<float>(q[t0] + f * (v1 - q[t0]));
        }
      }
    }
  });
  return image;
}

void SliceReconstructor::Impl::mask(std::vector<float>& image, double centre) const {
  const double radius = std::min(centre, static_cast<double>(width - 1) - centre) + 0.5;
  const double mid = (static_cast<double>(size) - 1) / 2;
  for (std::size_t r = 0; r < size; ++r)
    for (std::size_t c = 0; c < size; ++c) {
      const double x = static_cast<double>(c) - mid, y = static_cast<double>(r) - mid;
      if (x * x + y * y > radius * radius) image[r * size + c] = 0.0F;
    }
}

SliceReconstructor::SliceReconstructor(std::size_t width, SliceOptions options) {
  if (width < 2)
    throw std::invalid_argument("SliceReconstructor: the detector row needs 2 pixels or more");
  impl_ = std::make_unique<Impl>(width, std::move(options));
}
SliceReconstructor::~SliceReconstructor() = default;
SliceReconstructor::SliceReconstructor(SliceReconstructor&&) noexcept = default;
SliceReconstructor& SliceReconstructor::operator=(SliceReconstructor&&) noexcept = default;

std::size_t SliceReconstructor::width() const noexcept {
  return impl_->width;
}
std::size_t SliceReconstructor::size() const noexcept {
  return impl_->size;
}

std::vector<float> SliceReconstructor::reconstruct(std::span<const float> sinogram,
                                                   std::span<const double> theta_deg,
                                                   double centre) {
  auto& m = *impl_;
  if (theta_deg.empty()) throw std::invalid_argument("reconstruct: no angles");
  if (sinogram.size() != theta_deg.size() * m.width)
    throw std::invalid_argument(fmt::format("reconstruct: {} values for {} angles × {} columns",
                                            sinogram.size(), theta_deg.size(), m.width));
  if (!(centre >= 0 && centre <= static_cast<double>(m.width - 1)))
    throw std::invalid_argument(fmt::format(
        "reconstruct: centre {} is outside the detector (0 … {})", centre, m.width - 1));
  auto image = m.options.method == SliceMethod::gridrec ? m.gridrec(sinogram, theta_deg, centre)
                                                        : m.direct(sinogram, theta_deg, centre);
  m.mask(image, centre);
  return image;
}

}  // namespace pandafly::dx
