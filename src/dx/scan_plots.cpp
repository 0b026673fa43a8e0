// Plots of how a scan went (contracts in include/pandafly/dx/scan_plots.hpp).
#include "pandafly/dx/scan_plots.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "pandafly/dx/plot.hpp"
#include "pandafly/dx/plot_scale.hpp"
#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"

namespace pandafly::dx {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kStatus = "/process/acquisition/projection_status";
constexpr const char* kEvents = "/process/acquisition/projection_events";
constexpr const char* kPlanned = "/process/acquisition/planned_theta";

std::optional<std::vector<double>> read_column(hid_t file, const std::string& path) {
  if (!h5::path_exists(file, path)) return std::nullopt;
  return h5::Dataset::open(file, path).read<double>();
}

std::vector<std::string> read_strings(hid_t file, const std::string& path) {
  const auto d = h5::Dataset::open(file, path);
  const auto bytes = d.read_bytes();
  const std::size_t size = d.row_bytes();
  std::vector<std::string> out;
  for (std::size_t i = 0; size > 0 && i + size <= bytes.size(); i += size) {
    std::string s(reinterpret_cast<const char*>(bytes.data() + i), size);
    out.push_back(s.substr(0, s.find('\0')));
  }
  return out;
}

// What the plots are drawn from.
struct Data {
  std::vector<double> index, theta;
  std::optional<std::vector<double>> planned, panda_trig;
  std::vector<double> camera;  // per slot (NaN: none); empty: no time stamps
  std::vector<std::uint8_t> status;
};

void read_slots(const ScanReader& scan, Data& d, ScanPlots& out) {
  const hid_t f = scan.file_id();
  if (!h5::path_exists(f, kStatus)) return;
  const auto status = h5::Dataset::open(f, kStatus);
  d.status = status.read<std::uint8_t>();
  out.has_status = true;
  for (std::size_t k = 0; k < d.status.size(); ++k) {
    if (d.status[k] == 0) out.missing.push_back(k);
    if (d.status[k] == 2) out.no_angle.push_back(k);
  }
  if (h5::path_exists(f, std::string(kEvents) + "/slot")) {
    const auto slots = h5::Dataset::open(f, std::string(kEvents) + "/slot").read<std::uint64_t>();
    const auto what = read_strings(f, std::string(kEvents) + "/what");
    const auto dataset = read_strings(f, std::string(kEvents) + "/dataset");
    for (std::size_t i = 0; i < slots.size() && i < what.size(); ++i)
      if (i >= dataset.size() || dataset[i] == "/exchange/data")
        out.events.push_back({static_cast<std::size_t>(slots[i]), what[i]});
  }
  const char* stamps = "/defaults/NDArrayTimeStamp";
  if (!h5::has_attribute(status.id(), "ndattribute_row_first") || !h5::path_exists(f, stamps))
    return;
  const auto first = h5::read_attribute<std::int64_t>(status.id(), "ndattribute_row_first");
  const auto t = h5::Dataset::open(f, stamps).read<double>();
  if (first < 0 || static_cast<std::size_t>(first) + d.status.size() > t.size()) return;
  d.camera.assign(d.status.size(), nan);
  for (std::size_t k = 0; k < d.status.size(); ++k)
    if (d.status[k] != 0) d.camera[k] = t[static_cast<std::size_t>(first) + k];
}

Data read_data(const ScanReader& scan, ScanPlots& out) {
  Data d;
  d.theta = scan.theta();
  for (std::size_t k = 0; k < d.theta.size(); ++k) d.index.push_back(static_cast<double>(k));
  d.planned = read_column(scan.file_id(), kPlanned);
  for (const char* name : {"PCAP.TS_TRIG.Value", "TS_TRIG"}) {
    d.panda_trig = read_column(scan.file_id(), fmt::format("/measurement/panda/{}", name));
    if (d.panda_trig) break;
  }
  read_slots(scan, d, out);
  if (d.camera.empty() && scan.has_times()) {
    for (std::size_t k = 0; k < d.theta.size(); ++k) d.camera.push_back(scan.projection_time(k));
  }
  return d;
}

// The median of the finite values (NaN: none).
double median(std::vector<double> v) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  if (v.empty()) return nan;
  const auto mid = v.begin() + static_cast<long>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

std::vector<double> as_doubles(const std::vector<std::size_t>& v) {
  return {v.begin(), v.end()};
}

struct Plotter {
  const std::filesystem::path& dir;
  const Data& d;
  ScanPlots& out;

  void draw(Chart c, const std::string& name, std::string caption) {
    RenderedImage i{.name = name, .caption = std::move(caption)};
    i.file = dir / (name + ".png");
    i.width = c.width, i.height = c.height;
    draw_chart(c, i.file);
    out.rendered.images.push_back(std::move(i));
  }
  void skip(const std::string& name, std::string reason) {
    out.rendered.skipped.push_back({name, std::move(reason)});
  }
  [[nodiscard]] std::vector<double> missing() const { return as_doubles(out.missing); }

  void theta() {
    Chart c{.title = "Measured rotation angle",
            .x_label = "projection index",
            .y_label = "theta (deg)"};
    c.series.push_back(
        {.x = d.index, .y = d.theta, .style = Series::Style::points, .label = "/exchange/theta"});
    c.marks = missing(), c.marks_label = "missing slot";
    draw(std::move(c), "theta", "theta against projection index; red: missing projections");
  }

  void theta_error() {
    if (!d.planned) return skip("theta_error", fmt::format("no {}", kPlanned));
    if (d.planned->size() != d.theta.size())
      return skip("theta_error", fmt::format("{} has {} values for {} projections", kPlanned,
                                             d.planned->size(), d.theta.size()));
    // The constant part (a fly scan's theta is the angle at mid-exposure, the
    // plan's the trigger position) would hide the jitter: it is taken out and
    // named in the title.
    std::vector<double> error(d.theta.size());
    for (std::size_t k = 0; k < error.size(); ++k) error[k] = d.theta[k] - (*d.planned)[k];
    const double offset = std::isfinite(median(error)) ? median(error) : 0.0;
    for (auto& e : error) e = (e - offset) * 1000.0;
    Chart c{
        .title = fmt::format("Measured minus planned angle, less its median {:.4f} deg", offset),
        .x_label = "projection index",
        .y_label = "theta - planned - median (mdeg)"};
    c.series.push_back({.x = d.index,
                        .y = error,
                        .style = Series::Style::points,
                        .label = "theta - planned_theta"});
    c.marks = missing(), c.marks_label = "missing slot";
    draw(std::move(c), "theta_error",
         fmt::format("theta minus the planned angle less its median ({:.4f} deg): encoder jitter "
                     "and read-back error, mdeg",
                     offset));
  }

  void trigger_intervals() {
    std::vector<double> dt;
    if (d.panda_trig) {
      out.interval_source = "panda";
      for (std::size_t k = 1; k < d.panda_trig->size(); ++k)
        dt.push_back(((*d.panda_trig)[k] - (*d.panda_trig)[k - 1]) * 1000.0);
    } else if (!d.camera.empty()) {
      out.interval_source = "camera";
      for (std::size_t k = 1; k < d.camera.size(); ++k)
        dt.push_back((d.camera[k] - d.camera[k - 1]) * 1000.0);
    } else {
      return skip("trigger_intervals", "no PandA trigger times and no camera time stamps");
    }
    // Intervals scatter by microseconds around milliseconds: the histogram is
    // of the deviation from their median, in µs, the median in the title.
    const double typical = median(dt);
    for (auto& t : dt) t = (t - typical) * 1000.0;
    const auto h = histogram(dt, default_bins(dt.size()));
    out.intervals = dt.size() - h.ignored;
    if (out.intervals == 0)
      return skip("trigger_intervals", "fewer than two consecutive time stamps");
    Series bars{.style = Series::Style::bars, .bar_width = h.width * 0.9};
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
      bars.x.push_back(h.lo + static_cast<double>(i) * h.width + h.width * 0.05);
      bars.y.push_back(static_cast<double>(h.counts[i]));
    }
    const bool panda = out.interval_source == "panda";
    Chart c{.title = fmt::format("{} intervals, median {:.6f} ms",
                                 panda ? "Trigger (PandA TS_TRIG)" : "Frame (camera time stamp)",
                                 typical),
            .x_label = "interval - median (us)",
            .y_label = "count"};
    c.series.push_back(std::move(bars));
    draw(std::move(c), "trigger_intervals",
         fmt::format("histogram of {} intervals between {} (median {:.6f} ms)", out.intervals,
                     panda ? "PandA trigger time stamps" : "projections' camera time stamps",
                     typical));
  }

  void camera_vs_panda() {
    if (!d.panda_trig)
      return skip("camera_vs_panda", "no PandA trigger times (/measurement/panda)");
    if (d.camera.empty()) return skip("camera_vs_panda", "no camera time stamps");
    const std::size_t n = std::min(d.camera.size(), d.panda_trig->size());
    std::optional<std::size_t> first;
    for (std::size_t k = 0; k < n && !first; ++k)
      if (std::isfinite(d.camera[k]) && std::isfinite((*d.panda_trig)[k])) first = k;
    if (!first) return skip("camera_vs_panda", "no projection has both time stamps");
    Series s{.style = Series::Style::points, .label = "one projection"};
    for (std::size_t k = 0; k < n; ++k) {
      s.x.push_back((*d.panda_trig)[k] - (*d.panda_trig)[*first]);
      s.y.push_back(d.camera[k] - d.camera[*first]);
    }
    Chart c{.title = "Camera against PandA time stamps",
            .x_label = "PandA trigger time from the first projection (s)",
            .y_label = "camera time stamp (s)"};
    c.series.push_back(std::move(s));
    draw(std::move(c), "camera_vs_panda",
         "each projection's camera time stamp against its PandA trigger time");
  }

  // The same pairs as a deviation: a camera that stalls or stamps late shows
  // as a step here, invisible on the straight line above.
  void time_residual() {
    if (!d.panda_trig || d.camera.empty())
      return skip("time_residual", "needs PandA trigger times and camera time stamps");
    const std::size_t n = std::min(d.camera.size(), d.panda_trig->size());
    std::vector<double> r(n);
    for (std::size_t k = 0; k < n; ++k) r[k] = d.camera[k] - (*d.panda_trig)[k];
    const double offset = median(r);
    if (!std::isfinite(offset)) return skip("time_residual", "no projection has both time stamps");
    for (auto& x : r) x = (x - offset) * 1000.0;
    Chart c{.title = "Camera minus PandA time stamp, less its median",
            .x_label = "projection index",
            .y_label = "camera - PandA - median (ms)"};
    c.series.push_back({.x = {d.index.begin(), d.index.begin() + static_cast<long>(n)},
                        .y = r,
                        .style = Series::Style::points,
                        .label = "one projection"});
    c.marks = missing(), c.marks_label = "missing slot";
    draw(std::move(c), "time_residual",
         "camera time stamp minus PandA trigger time, less its median (ms): late or stalled "
         "frames");
  }

  void frames() {
    if (!out.has_status) return skip("frames", fmt::format("no slot status ({})", kStatus));
    Series ok{.style = Series::Style::points, .label = "1 ok"};
    Series no_angle{
        .style = Series::Style::points, .label = "2 no angle", .r = 0.9, .g = 0.55, .b = 0};
    Series missing_s{
        .style = Series::Style::points, .label = "0 missing", .r = 0.85, .g = 0, .b = 0};
    for (std::size_t k = 0; k < d.status.size(); ++k) {
      auto& s = d.status[k] == 1 ? ok : d.status[k] == 2 ? no_angle : missing_s;
      s.x.push_back(static_cast<double>(k));
      s.y.push_back(static_cast<double>(d.status[k]));
    }
    Chart c{.title = "Projection slots: frames stored, missing, without angle",
            .x_label = "projection index (slot)",
            .y_label = "status (0 missing, 1 ok, 2 no angle)"};
    c.series = {std::move(ok), std::move(no_angle), std::move(missing_s)};
    for (const auto& e : out.events) c.marks.push_back(static_cast<double>(e.slot));
    c.marks_label = "event (projection_events)";
    c.marks_r = 0.5, c.marks_g = 0.1, c.marks_b = 0.7;
    c.y_axis = Axis{.lo = -0.5, .hi = 2.5, .step = 1, .ticks = {0, 1, 2}};
    draw(std::move(c), "frames",
         fmt::format("slot status: {} missing, {} without an angle, {} events", out.missing.size(),
                     out.no_angle.size(), out.events.size()));
  }
};

}  // namespace

ScanPlots render_plots(const ScanReader& scan, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  ScanPlots out;
  const Data d = read_data(scan, out);
  Plotter p{dir, d, out};
  p.theta();
  p.theta_error();
  p.trigger_intervals();
  p.camera_vs_panda();
  p.time_residual();
  p.frames();
  return out;
}

}  // namespace pandafly::dx
