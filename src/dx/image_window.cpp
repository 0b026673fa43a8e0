// Percentile windowing (contracts in include/pandafly/dx/image_window.hpp).
#include "pandafly/dx/image_window.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace pandafly::dx {

Window percentile_window(std::span<const float> values, double low, double high) {
  if (!(low >= 0 && low < high && high <= 100))
    throw std::invalid_argument(
        fmt::format("percentiles {} and {}: need 0 ≤ low < high ≤ 100", low, high));
  std::vector<float> v;
  v.reserve(values.size());
  for (float x : values)
    if (std::isfinite(x)) v.push_back(x);
  if (v.empty()) return {};
  const auto rank = [&](double pct) {
    const auto last = static_cast<double>(v.size() - 1);
    return static_cast<std::size_t>(std::lround(pct / 100.0 * last));
  };
  const auto lo = rank(low), hi = rank(high);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(lo), v.end());
  const double a = v[lo];
  std::nth_element(v.begin(), v.begin() + static_cast<long>(hi), v.end());
  return {a, v[hi]};
}

std::vector<std::uint8_t> to_gray8(std::span<const float> values, Window window) {
  std::vector<std::uint8_t> out(values.size(), 0);
  const double width = window.high - window.low;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double x = values[i];
    if (!std::isfinite(x)) continue;
    if (!(width > 0)) {
      out[i] = 128;
      continue;
    }
    const double g = std::clamp((x - window.low) / width, 0.0, 1.0) * 255.0;
    out[i] = static_cast<std::uint8_t>(std::lround(g));
  }
  return out;
}

}  // namespace pandafly::dx
