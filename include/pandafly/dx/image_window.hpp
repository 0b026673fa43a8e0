#pragma once
// Display windowing for previews: float images to 8-bit grey levels between
// two percentiles of their finite values (NaN and ±inf ignored).
//
// Rules
//   - percentile_window: the `low`th and `high`th percentiles (0 … 100,
//     low < high) of the finite values, by nearest rank; no finite values →
//     {0, 0}.
//   - to_gray8: values at or below the window's low end → 0, at or above its
//     high end → 255, linear between; non-finite values → 0; a window of zero
//     width maps everything finite to 128.
//   - Pure; throws std::invalid_argument for percentiles out of order or range.
//
// Example:
//   auto w = dx::percentile_window(slice, 1, 99);
//   std::vector<std::uint8_t> grey = dx::to_gray8(slice, w);  // then util::write_png_gray8
#include <cstdint>
#include <span>
#include <vector>

namespace pandafly::dx {

struct Window {
  double low = 0;
  double high = 0;
};

[[nodiscard]] Window percentile_window(std::span<const float> values, double low = 1.0,
                                       double high = 99.0);
[[nodiscard]] std::vector<std::uint8_t> to_gray8(std::span<const float> values, Window window);

}  // namespace pandafly::dx
