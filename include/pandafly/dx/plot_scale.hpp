#pragma once
// Axis scales and histogram bins for the scan plots (pandafly-dx plots):
// pure arithmetic, no drawing.
//
// Rules
//   - nice_axis(lo, hi, target): a tick step of 1, 2 or 5 × 10^k, the
//     smallest such step ≥ (hi − lo) / target; the axis runs from lo rounded
//     down to a multiple of the step to hi rounded up to one, ticks at every
//     multiple in between (both ends included). lo == hi widens the range
//     to lo ± max(|lo| · 0.05, 0.5) first; lo > hi is swapped; non-finite
//     ends throw std::invalid_argument.
//   - decimals: the digits after the point a tick label needs for the step
//     (0 for steps ≥ 1); tick_label formats a value with them ("-0" is "0").
//   - finite_range: min and max of the finite values (none → nullopt).
//   - histogram(values, bins): `bins` equal bins from the finite values'
//     minimum to maximum; a value equal to the maximum falls in the last bin;
//     all values equal → one bin of width max(|v| · 1e-3, 1e-9) centred on
//     them; non-finite values are counted in `ignored`. bins == 0 throws.
//   - default_bins(n): √n rounded, clamped to [5, 60] (n ≥ 1).
//
// Example:
//   auto axis = dx::nice_axis(0.0, 181.3);  // 0 … 200, a tick every 50
//   auto h = dx::histogram(intervals, dx::default_bins(intervals.size()));
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pandafly::dx {

struct Axis {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> ticks;
};

[[nodiscard]] Axis nice_axis(double lo, double hi, std::size_t target = 6);
[[nodiscard]] int decimals(double step);
[[nodiscard]] std::string tick_label(double value, double step);

struct Range {
  double lo = 0, hi = 0;
};
[[nodiscard]] std::optional<Range> finite_range(std::span<const double> values);

struct Histogram {
  double lo = 0, width = 1;         ///< left edge of bin 0, bin width
  std::vector<std::size_t> counts;  ///< one per bin
  std::size_t ignored = 0;          ///< non-finite values
};
[[nodiscard]] Histogram histogram(std::span<const double> values, std::size_t bins);
[[nodiscard]] std::size_t default_bins(std::size_t n);

}  // namespace pandafly::dx
