// Dark/flat normalisation with propagated uncertainty (contracts in
// include/pandafly/dx/normalize.hpp).
#include "pandafly/dx/normalize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include <fmt/format.h>

namespace pandafly::dx {

FieldStatistic parse_field_statistic(std::string_view name) {
  if (name == "mean") return FieldStatistic::mean;
  if (name == "median") return FieldStatistic::median;
  throw std::invalid_argument(fmt::format("unknown field statistic '{}' (mean, median)", name));
}

namespace {

double frame_variance(double value, double offset, const NoiseModel& noise) {
  return std::max(value - offset, 0.0) / noise.gain + noise.read_noise * noise.read_noise;
}

double combine(std::vector<double>& column, FieldStatistic statistic) {
  const std::size_t n = column.size();
  if (statistic == FieldStatistic::mean) {
    double sum = 0;
    for (double v : column) sum += v;
    return sum / static_cast<double>(n);
  }
  std::sort(column.begin(), column.end());
  return n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
}

}  // namespace

Field combine_fields(std::span<const std::uint16_t> frames, std::size_t pixels,
                     FieldStatistic statistic, const NoiseModel& noise,
                     std::span<const float> offset) {
  if (pixels == 0 || frames.empty() || frames.size() % pixels != 0)
    throw std::invalid_argument(fmt::format(
        "combine_fields: {} values are not whole frames of {} pixels", frames.size(), pixels));
  if (!offset.empty() && offset.size() != pixels)
    throw std::invalid_argument(fmt::format(
        "combine_fields: the offset has {} pixels, the frames {}", offset.size(), pixels));
  if (!(noise.gain > 0) || !(noise.read_noise >= 0))
    throw std::invalid_argument("combine_fields: the gain must be > 0 and the read noise ≥ 0");
  const std::size_t n = frames.size() / pixels;
  const double efficiency = statistic == FieldStatistic::median ? std::numbers::pi / 2 : 1.0;
  Field f{std::vector<float>(pixels), std::vector<float>(pixels)};
  std::vector<double> column(n);
  for (std::size_t p = 0; p < pixels; ++p) {
    for (std::size_t k = 0; k < n; ++k) column[k] = frames[k * pixels + p];
    const double value = combine(column, statistic);
    const double base = offset.empty() ? value : static_cast<double>(offset[p]);
    f.value[p] = static_cast<float>(value);
    f.variance[p] = static_cast<float>(efficiency * frame_variance(value, base, noise) /
                                       static_cast<double>(n));
  }
  return f;
}

double flat_weight(double t, double t_before, double t_after) noexcept {
  if (!(t_after > t_before) || !std::isfinite(t)) return 0.0;
  return std::clamp((t - t_before) / (t_after - t_before), 0.0, 1.0);
}

Field interpolate_fields(const Field& before, const Field& after, double a) {
  if (before.value.size() != after.value.size())
    throw std::invalid_argument(fmt::format("interpolate_fields: {} and {} pixels",
                                            before.value.size(), after.value.size()));
  Field f{std::vector<float>(before.value.size()), std::vector<float>(before.value.size())};
  const double b = 1.0 - a;
  for (std::size_t p = 0; p < f.value.size(); ++p) {
    f.value[p] = static_cast<float>(b * before.value[p] + a * after.value[p]);
    f.variance[p] = static_cast<float>(b * b * before.variance[p] + a * a * after.variance[p]);
  }
  return f;
}

std::size_t normalize_frame(std::span<const std::uint16_t> frame, const Field& dark,
                            const Field& flat, const NormalizeOptions& options,
                            std::span<float> value, std::span<float> sigma,
                            std::span<std::uint8_t> flags) {
  const std::size_t n = frame.size();
  if (dark.value.size() != n || flat.value.size() != n || value.size() != n || sigma.size() != n ||
      flags.size() != n)
    throw std::invalid_argument(fmt::format(
        "normalize_frame: frame {} pixels, dark {}, flat {}, outputs {}/{}/{}", n,
        dark.value.size(), flat.value.size(), value.size(), sigma.size(), flags.size()));
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  std::size_t flagged = 0;
  for (std::size_t p = 0; p < n; ++p) {
    const double d = dark.value[p];
    const double num = frame[p] - d, den = flat.value[p] - d;
    if (!(den > options.min_denominator)) {
      value[p] = sigma[p] = nan, flags[p] = flag_denominator, ++flagged;
      continue;
    }
    const double var_d = frame_variance(frame[p], d, options.noise);
    const double den2 = den * den, den4 = den2 * den2;
    const double var_t = var_d / den2 + flat.variance[p] * num * num / den4 +
                         dark.variance[p] * (num - den) * (num - den) / den4;
    const double t = num / den;
    if (!options.minus_log) {
      value[p] = static_cast<float>(t), sigma[p] = static_cast<float>(std::sqrt(var_t)),
      flags[p] = 0;
    } else if (t > 0) {
      value[p] = static_cast<float>(-std::log(t));
      sigma[p] = static_cast<float>(std::sqrt(var_t) / t), flags[p] = 0;
    } else {
      value[p] = sigma[p] = nan, flags[p] = flag_nonpositive, ++flagged;
    }
  }
  return flagged;
}

}  // namespace pandafly::dx
