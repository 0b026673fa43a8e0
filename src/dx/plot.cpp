// Charts drawn with Cairo (contracts in include/pandafly/dx/plot.hpp).
#include "pandafly/dx/plot.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <cairo.h>
#include <fmt/format.h>

#include "pandafly/dx/plot_scale.hpp"

namespace pandafly::dx {
namespace {

constexpr double left = 90, right = 44, top = 44, bottom = 64;

struct SurfaceDeleter {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct ContextDeleter {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};

// Data → pixel coordinates of the plot area.
struct Frame {
  Axis x, y;
  double x0, x1, y0, y1;  // pixels: left, right, bottom, top
  // The axis' ends sit `inset` pixels inside the frame, so points on them
  // are not cut in half by it.
  static constexpr double inset = 6;
  [[nodiscard]] double px(double v) const {
    return x0 + inset + (v - x.lo) / (x.hi - x.lo) * (x1 - x0 - 2 * inset);
  }
  [[nodiscard]] double py(double v) const {
    return y0 - inset - (v - y.lo) / (y.hi - y.lo) * (y0 - y1 - 2 * inset);
  }
};

void widen(std::optional<Range>& r, double v) {
  if (!std::isfinite(v)) return;
  if (!r)
    r = Range{v, v};
  else
    r->lo = std::min(r->lo, v), r->hi = std::max(r->hi, v);
}

Frame frame_for(const Chart& c) {
  std::optional<Range> xr, yr;
  for (const auto& s : c.series) {
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      widen(xr, s.x[i]), widen(yr, s.y[i]);
      if (s.style == Series::Style::bars) widen(xr, s.x[i] + s.bar_width), widen(yr, 0.0);
    }
  }
  for (double m : c.marks) widen(xr, m);
  const Range x = xr.value_or(Range{0, 1}), y = yr.value_or(Range{0, 1});
  return {nice_axis(x.lo, x.hi, 8),
          c.y_axis.value_or(nice_axis(y.lo, y.hi, 6)),
          left,
          static_cast<double>(c.width) - right,
          static_cast<double>(c.height) - bottom,
          top};
}

void text(cairo_t* cr, const std::string& s, double x, double y, double ax, double ay) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_move_to(cr, x - ax * e.width - e.x_bearing, y - ay * e.height - e.y_bearing);
  cairo_show_text(cr, s.c_str());
}

void axes(cairo_t* cr, const Chart& c, const Frame& f) {
  cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
  cairo_set_line_width(cr, 1);
  for (double t : f.x.ticks) cairo_move_to(cr, f.px(t), f.y0), cairo_line_to(cr, f.px(t), f.y1);
  for (double t : f.y.ticks) cairo_move_to(cr, f.x0, f.py(t)), cairo_line_to(cr, f.x1, f.py(t));
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, f.x0, f.y1, f.x1 - f.x0, f.y0 - f.y1);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 12);
  for (double t : f.x.ticks) {
    cairo_move_to(cr, f.px(t), f.y0), cairo_line_to(cr, f.px(t), f.y0 + 5);
    text(cr, tick_label(t, f.x.step), f.px(t), f.y0 + 9, 0.5, 0);
  }
  for (double t : f.y.ticks) {
    cairo_move_to(cr, f.x0 - 5, f.py(t)), cairo_line_to(cr, f.x0, f.py(t));
    text(cr, tick_label(t, f.y.step), f.x0 - 8, f.py(t), 1, 0.5);
  }
  cairo_stroke(cr);
  cairo_set_font_size(cr, 14);
  text(cr, c.x_label, (f.x0 + f.x1) / 2, static_cast<double>(c.height) - 8, 0.5, 1);
  cairo_save(cr);
  cairo_translate(cr, 16, (f.y0 + f.y1) / 2);
  cairo_rotate(cr, -M_PI / 2);
  text(cr, c.y_label, 0, 0, 0.5, 0);
  cairo_restore(cr);
  cairo_set_font_size(cr, 16);
  text(cr, c.title, static_cast<double>(c.width) / 2, 12, 0.5, 0);
}

void series(cairo_t* cr, const Series& s, const Frame& f) {
  cairo_set_source_rgb(cr, s.r, s.g, s.b);
  cairo_set_line_width(cr, 1.5);
  bool open = false;
  for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
    const double x = s.x[i], y = s.y[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      open = false;
      continue;
    }
    switch (s.style) {
      case Series::Style::line:
        open ? cairo_line_to(cr, f.px(x), f.py(y)) : cairo_move_to(cr, f.px(x), f.py(y));
        open = true;
        break;
      case Series::Style::points:
        cairo_new_sub_path(cr);
        cairo_arc(cr, f.px(x), f.py(y), 3, 0, 2 * M_PI);
        cairo_fill(cr);
        break;
      case Series::Style::bars:
        cairo_rectangle(cr, f.px(x), f.py(y), f.px(x + s.bar_width) - f.px(x), f.py(0) - f.py(y));
        cairo_fill(cr);
        break;
    }
  }
  cairo_stroke(cr);
}

void legend(cairo_t* cr, const Chart& c, const Frame& f) {
  struct Entry {
    std::string label;
    double r, g, b;
  };
  std::vector<Entry> entries;
  for (const auto& s : c.series)
    if (!s.label.empty() && !s.x.empty()) entries.push_back({s.label, s.r, s.g, s.b});
  if (!c.marks.empty() && !c.marks_label.empty())
    entries.push_back({c.marks_label, c.marks_r, c.marks_g, c.marks_b});
  cairo_set_font_size(cr, 12);
  double y = f.y1 + 14;
  for (const auto& e : entries) {
    cairo_set_source_rgb(cr, e.r, e.g, e.b);
    cairo_rectangle(cr, f.x1 - 200, y - 9, 12, 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, e.label, f.x1 - 182, y - 4, 0, 0.5);
    y += 16;
  }
}

}  // namespace

void draw_chart(const Chart& c, const std::filesystem::path& path) {
  std::unique_ptr<cairo_surface_t, SurfaceDeleter> surface(cairo_image_surface_create(
      CAIRO_FORMAT_RGB24, static_cast<int>(c.width), static_cast<int>(c.height)));
  std::unique_ptr<cairo_t, ContextDeleter> context(cairo_create(surface.get()));
  cairo_t* cr = context.get();
  if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
    throw std::runtime_error(
        fmt::format("{}: cairo: {}", path.string(), cairo_status_to_string(cairo_status(cr))));
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  const Frame f = frame_for(c);
  axes(cr, c, f);
  cairo_save(cr);
  cairo_rectangle(cr, f.x0, f.y1, f.x1 - f.x0, f.y0 - f.y1);
  cairo_clip(cr);
  cairo_set_source_rgba(cr, c.marks_r, c.marks_g, c.marks_b, 0.6);
  cairo_set_line_width(cr, 1.5);
  for (double m : c.marks) cairo_move_to(cr, f.px(m), f.y0), cairo_line_to(cr, f.px(m), f.y1);
  cairo_stroke(cr);
  for (const auto& s : c.series) series(cr, s, f);
  cairo_restore(cr);
  legend(cr, c, f);
  cairo_surface_flush(surface.get());
  auto tmp = path;
  tmp += ".tmp";
  const auto status = cairo_surface_write_to_png(surface.get(), tmp.c_str());
  if (status != CAIRO_STATUS_SUCCESS) {
    std::filesystem::remove(tmp);
    throw std::runtime_error(
        fmt::format("{}: cairo: {}", path.string(), cairo_status_to_string(status)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw std::runtime_error(fmt::format("{}: {}", path.string(), ec.message()));
  }
}

}  // namespace pandafly::dx
