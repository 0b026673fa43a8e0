// Axis scales and histogram bins (contracts in include/pandafly/dx/plot_scale.hpp).
#include "pandafly/dx/plot_scale.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace pandafly::dx {
namespace {

double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * magnitude >= raw * (1 - 1e-12)) return m * magnitude;
  return 10.0 * magnitude;
}

}  // namespace

Axis nice_axis(double lo, double hi, std::size_t target) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw std::invalid_argument(fmt::format("axis from {} to {}: not finite", lo, hi));
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = std::max(std::abs(lo) * 0.05, 0.5);
    lo -= pad, hi += pad;
  }
  Axis a;
  a.step = nice_step((hi - lo) / static_cast<double>(std::max<std::size_t>(target, 1)));
  // The tolerance keeps a bound that is a multiple up to rounding on it.
  const double first = std::floor(lo / a.step + 1e-9), last = std::ceil(hi / a.step - 1e-9);
  a.lo = first * a.step, a.hi = last * a.step;
  for (double k = first; k <= last + 0.5; k += 1) a.ticks.push_back(k * a.step);
  return a;
}

int decimals(double step) {
  if (!(step > 0) || step >= 1) return 0;
  return static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
}

std::string tick_label(double value, double step) {
  const int d = decimals(step);
  auto s = fmt::format("{:.{}f}", value, d);
  if (s.find_first_not_of("-0.") == std::string::npos && s.front() == '-') s.erase(0, 1);
  return s;
}

std::optional<Range> finite_range(std::span<const double> values) {
  std::optional<Range> r;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    if (!r)
      r = Range{v, v};
    else
      r->lo = std::min(r->lo, v), r->hi = std::max(r->hi, v);
  }
  return r;
}

Histogram histogram(std::span<const double> values, std::size_t bins) {
  if (bins == 0) throw std::invalid_argument("histogram: 0 bins");
  Histogram h;
  for (double v : values)
    if (!std::isfinite(v)) ++h.ignored;
  const auto range = finite_range(values);
  if (!range) {
    h.counts.assign(bins, 0);
    return h;
  }
  if (range->lo == range->hi) {
    h.width = std::max(std::abs(range->lo) * 1e-3, 1e-9);
    h.lo = range->lo - h.width / 2;
    h.counts.assign(1, values.size() - h.ignored);
    return h;
  }
  h.lo = range->lo;
  h.width = (range->hi - range->lo) / static_cast<double>(bins);
  h.counts.assign(bins, 0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    const auto k = static_cast<std::size_t>(std::floor((v - h.lo) / h.width));
    ++h.counts[std::min(k, bins - 1)];
  }
  return h;
}

std::size_t default_bins(std::size_t n) {
  const auto root = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(n))));
  return std::clamp<std::size_t>(root, 5, 60);
}

}  // namespace pandafly::dx
