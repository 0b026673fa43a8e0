#pragma once
// Slice: a filtered back-projection of one detector row (parallel beam) at
// the file's measured angles, and the centre of rotation from the data.
//
// Rules
//   - The sinogram is n_angles rows of `width` line integrals (−log of the
//     normalised transmission), angle-major: sinogram[i * width + x].
//   - Geometry (the simulator's and skimage.transform.iradon's): the output
//     is size × size pixels of the detector's pitch, centred on the rotation
//     axis; pixel (row r, column c) sits at x = c − (size − 1) / 2,
//     y = r − (size − 1) / 2 and projects at angle θ onto the detector column
//     centre + x·cos θ − y·sin θ. Values are attenuation per pixel (divide by
//     the pixel size for 1/length). Pixels outside the field of view (the
//     circle of radius min(centre, width − 1 − centre) + 0.5 about the axis) are 0.
//   - Non-uniform angles: each projection is weighted by its angular interval
//     (angle_weights: half the gap to each neighbour, angles taken modulo 180°
//     since θ + 180° sees the same lines), weights summing to π; so a 0..180°
//     scan with both ends, a 360° scan, and jittered or missing angles are
//     all weighted right.
//   - Filters: the band-limited ramp (the spatial-domain kernel h(0) = 1/4,
//     h(odd n) = −1/(πn)², h(even n) = 0; Kak & Slaney eq. 61, as iradon
//     builds it) on a zero-padded transform of twice the power of two ≥ width,
//     optionally times sinc (Shepp–Logan).
//   - Methods: `direct` interpolates each filtered projection linearly for
//     every pixel (n_angles · size² updates); `gridrec` (the default) puts the
//     filtered projections' Fourier transforms onto a 2× oversampled Cartesian
//     grid with a Kaiser–Bessel kernel (width 4; Beatty et al. 2005's β) and
//     transforms back once (Fourier slice theorem), dividing by the kernel's
//     transform — O(size² log size + n_angles · width). Both reconstruct the
//     same function; the unit tests hold them to each other and to analytic
//     cases.
//   - Pure computation (FFTW single precision, no I/O). Parallel work goes
//     through the caller's ParallelFor (none: everything on the calling
//     thread). A SliceReconstructor keeps its buffers and FFT plans across
//     calls (fresh memory is slow on this machine's VMs); one call at a time
//     per object. FFTW's planner is not thread-safe: construct reconstructors
//     from one thread at a time.
//   - Errors: std::invalid_argument naming the bad input (sizes, angles,
//     a centre outside the detector, no 180° pair for estimate_centre).
//
// Example:
//   dx::SliceReconstructor r(width, {.filter = dx::SliceFilter::shepp_logan});
//   auto cor = dx::estimate_centre(sino, width, theta);
//   std::vector<float> img = r.reconstruct(sino, theta, cor.centre);  // width × width
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace pandafly::dx {

enum class SliceFilter { ramp, shepp_logan };
enum class SliceMethod { gridrec, direct };

/// "ramp"/"shepp-logan" and "gridrec"/"direct" (std::invalid_argument otherwise).
[[nodiscard]] SliceFilter parse_slice_filter(std::string_view name);
[[nodiscard]] SliceMethod parse_slice_method(std::string_view name);

/// Runs task(0) … task(count − 1), possibly concurrently, and returns when all
/// have run. Tasks touch disjoint output; an empty function runs them in order.
using ParallelFor =
    std::function<void(std::size_t count, const std::function<void(std::size_t)>& task)>;

/// Each angle's weight in radians (see Rules); they sum to π. Throws for no
/// angles or a non-finite one.
[[nodiscard]] std::vector<double> angle_weights(std::span<const double> theta_deg);

/// The padded transform length for `width` detector columns: 2 × the power of
/// two ≥ width (at least 64).
[[nodiscard]] std::size_t padded_length(std::size_t width);
/// The filter's frequency response H(k), k = 0 … padded / 2 (real: the kernel is even).
[[nodiscard]] std::vector<double> filter_response(std::size_t padded, SliceFilter filter);

struct CentreEstimate {
  double centre = 0;       ///< detector column of the rotation axis (0 = first pixel's centre)
  std::size_t first = 0;   ///< the pair of projections used: index of θ
  std::size_t second = 0;  ///< … and of the one nearest θ + 180°
  double correlation = 0;  ///< their normalised cross-correlation at the best integer shift
};
/// The centre of rotation from the projection pair nearest 180° apart: the
/// second, mirrored, is the first shifted by 2·centre − (width − 1); the shift
/// maximises their normalised cross-correlation (overlap ≥ width / 4), refined
/// to a fraction of a pixel by a parabola through the peak and its
/// neighbours. Throws if no pair is within `tolerance_deg` of 180° apart.
[[nodiscard]] CentreEstimate estimate_centre(std::span<const float> sinogram, std::size_t width,
                                             std::span<const double> theta_deg,
                                             double tolerance_deg = 1.0);

struct SliceOptions {
  SliceFilter filter = SliceFilter::ramp;
  SliceMethod method = SliceMethod::gridrec;
  std::size_t size = 0;  ///< output pixels per side; 0: the detector width
  ParallelFor parallel{};
  std::size_t threads = 1;  ///< tasks handed to `parallel` at once (its thread count)
};

class SliceReconstructor {
 public:
  /// For sinograms `width` columns wide. Throws std::invalid_argument for width < 2.
  SliceReconstructor(std::size_t width, SliceOptions options);
  ~SliceReconstructor();
  SliceReconstructor(SliceReconstructor&&) noexcept;
  SliceReconstructor& operator=(SliceReconstructor&&) noexcept;

  [[nodiscard]] std::size_t width() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept;
  /// The size × size slice (row-major) of `sinogram` (theta_deg.size() rows)
  /// about detector column `centre`. Throws std::invalid_argument for a
  /// sinogram of the wrong size, no angles, or a centre outside [0, width − 1].
  [[nodiscard]] std::vector<float> reconstruct(std::span<const float> sinogram,
                                               std::span<const double> theta_deg, double centre);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::dx
