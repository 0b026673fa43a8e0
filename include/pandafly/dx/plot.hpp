#pragma once
// Line, point and bar charts as PNG files, drawn with Cairo (Debian
// libcairo2-dev: lines, text and PNG output in one maintained library, so no
// font rasteriser or PNG encoder of our own).
//
// Rules
//   - Axes span the finite data (bars from 0; the ends 6 px inside the
//     frame) rounded out to ticks of 1, 2
//     or 5 × 10^k (plot_scale.hpp), with tick labels, axis labels (with
//     units) and a title; points with a non-finite x or y are left out (a
//     line breaks there). `marks` are vertical lines (red unless marks_r/g/b
//     say otherwise) at those x values, named in the legend by `marks_label`.
//     A given `y_axis` is used as it is (e.g. categories 0, 1, 2).
//   - A chart without any finite point still gets its axes and title.
//   - The PNG (32-bit RGB, width × height) is written to PATH.tmp and renamed
//     over PATH; std::runtime_error names the file and Cairo's reason.
//   - Any thread; no shared state.
//
// Example:
//   dx::Chart c{.title = "Measured angle", .x_label = "projection", .y_label = "theta (deg)"};
//   c.series.push_back({.x = index, .y = theta, .style = dx::Series::Style::points});
//   dx::draw_chart(c, "theta.png");
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/dx/plot_scale.hpp"

namespace pandafly::dx {

struct Series {
  enum class Style { line, points, bars };
  std::vector<double> x{}, y{};
  Style style = Style::line;
  std::string label{};  ///< in the legend ("": none)
  double r = 0.12, g = 0.35, b = 0.7;
  double bar_width = 0;  ///< bars: x is the bar's left edge
};

struct Chart {
  std::string title{}, x_label{}, y_label{};
  std::vector<Series> series{};
  std::vector<double> marks{};
  std::string marks_label{};
  double marks_r = 0.85, marks_g = 0, marks_b = 0;
  std::optional<Axis> y_axis{};  ///< given: the y axis as it is (else from the data)
  std::size_t width = 800, height = 480;
};

void draw_chart(const Chart& chart, const std::filesystem::path& path);

}  // namespace pandafly::dx
