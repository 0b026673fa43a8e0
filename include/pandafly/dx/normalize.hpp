#pragma once
// Normalisation of projections by dark and flat fields, with the per-pixel
// uncertainty propagated from counting statistics.
//
// Rules (the noise model; also written into the output file's /process)
//   - A pixel's value D is in ADU; the detector's offset is the dark field d.
//     Its variance in ADU² is var(D) = max(D − d, 0) / gain + read_noise²:
//     Poisson on the gain·(D − d) photo-electrons (gain in e⁻/ADU, default 1)
//     plus Gaussian read noise (ADU, default 0). A dark frame has var = read_noise².
//   - A field (darks, or one set of flats) is the per-pixel mean or median of
//     its n frames; its variance is var(one frame) / n for the mean and
//     (π/2)·var / n for the median (the median's asymptotic efficiency).
//   - Flats taken before and after the projections are interpolated by time:
//     F = (1 − a)·F_before + a·F_after with a = (t − t_before)/(t_after −
//     t_before) clamped to [0, 1] (t: the frame's time stamp, t_before/after:
//     each set's mean time), var F = (1 − a)²·var F_before + a²·var F_after.
//     With one set, that set.
//   - T = (D − d)/(F − d). First-order propagation with d shared by numerator
//     and denominator: var T = var D / Δ² + var F·N²/Δ⁴ + var d·(N − Δ)²/Δ⁴,
//     N = D − d, Δ = F − d. With −log: L = −ln T, σ_L = σ_T / T.
//   - A pixel whose Δ ≤ min_denominator (ADU), or (with −log) whose T ≤ 0, is
//     not a number: its value and σ are NaN and its flag bits say why
//     (flag_denominator, flag_nonpositive); normalize_frame counts them. No
//     ±inf is ever written.
//   - Pure computation: spans in, spans out. Sizes that disagree throw
//     std::invalid_argument naming them.
//
// Example:
//   auto dark = dx::combine_fields(darks, pixels, FieldStatistic::mean, noise, {});
//   auto flat = dx::combine_fields(flats, pixels, FieldStatistic::mean, noise, dark.value);
//   dx::normalize_frame(frame, dark, flat, options, value, sigma, flags);
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace pandafly::dx {

enum class FieldStatistic { mean, median };
/// "mean"/"median" (std::invalid_argument otherwise).
[[nodiscard]] FieldStatistic parse_field_statistic(std::string_view name);

struct NoiseModel {
  double gain = 1.0;        ///< e⁻ (counted quanta) per ADU, > 0
  double read_noise = 0.0;  ///< ADU, ≥ 0
};

/// A per-pixel field estimate and the variance of that estimate (ADU²).
struct Field {
  std::vector<float> value;
  std::vector<float> variance;
};

/// The mean or median of `frames` (n frames of `pixels` values each, frame
/// after frame) and its variance by the noise model, relative to `offset`
/// (the dark field's values; empty: the frames are darks, offset = their own
/// value). Throws for no frames or a size that is not a multiple of `pixels`.
[[nodiscard]] Field combine_fields(std::span<const std::uint16_t> frames, std::size_t pixels,
                                   FieldStatistic statistic, const NoiseModel& noise,
                                   std::span<const float> offset);

/// a of the time interpolation (see Rules).
[[nodiscard]] double flat_weight(double t, double t_before, double t_after) noexcept;
/// (1 − a)·before + a·after, variances likewise with squared weights.
[[nodiscard]] Field interpolate_fields(const Field& before, const Field& after, double a);

inline constexpr std::uint8_t flag_denominator = 1;  ///< flat − dark ≤ min_denominator
inline constexpr std::uint8_t flag_nonpositive = 2;  ///< −log of T ≤ 0

struct NormalizeOptions {
  bool minus_log = false;
  NoiseModel noise{};
  double min_denominator = 1.0;  ///< ADU: flat − dark at or below this is flagged
};

/// Normalises one frame into value/sigma/flags (each `frame.size()` long);
/// returns how many pixels were flagged.
std::size_t normalize_frame(std::span<const std::uint16_t> frame, const Field& dark,
                            const Field& flat, const NormalizeOptions& options,
                            std::span<float> value, std::span<float> sigma,
                            std::span<std::uint8_t> flags);

}  // namespace pandafly::dx
