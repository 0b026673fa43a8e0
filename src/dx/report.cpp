// The scan report (contract in report.hpp).
#include "pandafly/dx/report.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>

#include "h5_probe.hpp"
#include "pandafly/dx/image_window.hpp"
#include "pandafly/dx/scan_plots.hpp"
#include "pandafly/dx/scan_slice.hpp"
#include "pandafly/dx/validate.hpp"
#include "pandafly/panda/base64.hpp"
#include "pandafly/util/png.hpp"
#include "pandafly/util/xml_escape.hpp"

namespace pandafly::dx {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kEventsListed = 200;
constexpr std::size_t kValuesShown = 8;  // datasets with more elements show their shape only

std::string esc(std::string_view s) {
  return util::xml_escape(s);
}

/// A directory beside the page for the images, removed when done.
class PartsDir {
 public:
  explicit PartsDir(const fs::path& html) {
    std::string pattern = html.string() + ".parts.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error(fmt::format("cannot create a directory beside {}: {}", html.string(),
                                           std::strerror(errno)));
    path_ = pattern;
  }
  ~PartsDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  PartsDir(const PartsDir&) = delete;
  PartsDir& operator=(const PartsDir&) = delete;
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

std::string data_uri(const fs::path& png) {
  std::ifstream in(png, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof())
    throw std::runtime_error(fmt::format("cannot read back {}", png.string()));
  return "data:image/png;base64," +
         panda::base64::encode(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

/// Reads the file's fields by path (the shipped layouts' tree).
class Facts {
 public:
  explicit Facts(hid_t file) : p_(file) {}

  [[nodiscard]] bool has(const std::string& path) const {
    return p_.kind(path) == ObjectKind::dataset;
  }
  /// The dataset's first value as text (strings as they are, numbers %g with
  /// their @units), nullopt when absent or empty.
  [[nodiscard]] std::optional<std::string> text(const std::string& path) const {
    if (!has(path)) return std::nullopt;
    if (p_.is_string(path)) return p_.first_string(path);
    const auto v = p_.first_number(path);
    if (!v) return std::nullopt;
    return with_units(fmt::format("{:g}", *v), path);
  }
  [[nodiscard]] std::optional<double> number(const std::string& path) const {
    return has(path) ? p_.first_number(path) : std::nullopt;
  }
  [[nodiscard]] std::vector<double> numbers(const std::string& path) const {
    return has(path) ? p_.numbers(path) : std::vector<double>{};
  }
  [[nodiscard]] std::string with_units(std::string value, const std::string& path) const {
    const auto u = p_.string_attribute(path, "units");
    if (u && !u->empty()) value += " " + *u;
    return value;
  }
  /// Every dataset under `group`, depth first: path and what it holds.
  void walk(const std::string& group, std::vector<std::pair<std::string, std::string>>& out) const {
    if (p_.kind(group) != ObjectKind::group) return;
    for (const auto& name : p_.names(group)) {
      const std::string path = (group == "/" ? "" : group) + "/" + name;
      const auto kind = p_.kind(path);
      if (kind == ObjectKind::group) {
        walk(path, out);
      } else if (kind == ObjectKind::dataset) {
        out.emplace_back(path, describe(path));
      }
    }
  }

 private:
  [[nodiscard]] std::string describe(const std::string& path) const {
    const auto shape = p_.shape(path);
    std::size_t n = 1;
    for (const auto d : shape) n *= static_cast<std::size_t>(d);
    if (n > kValuesShown || n == 0) {
      std::string dims;
      for (const auto d : shape) dims += (dims.empty() ? "" : " × ") + std::to_string(d);
      return fmt::format("[{}{}]", dims.empty() ? "scalar" : dims,
                         p_.is_string(path) ? " strings" : "");
    }
    if (p_.is_string(path)) return p_.first_string(path).value_or("") + (n > 1 ? " …" : "");
    std::string values;
    for (const double v : p_.numbers(path))
      values += (values.empty() ? "" : ", ") + fmt::format("{:g}", v);
    return with_units(values, path);
  }
  H5Probe p_;
};

struct Row {
  std::string label, value;
  bool problem = false;
};

void table(std::string& h, const std::vector<Row>& rows) {
  h += "<table class=\"kv\">\n";
  for (const auto& r : rows)
    h += fmt::format("<tr{}><th>{}</th><td>{}</td></tr>\n", r.problem ? " class=\"problem\"" : "",
                     esc(r.label), esc(r.value));
  h += "</table>\n";
}

void figure(std::string& h, const std::string& name, const fs::path& png,
            const std::string& caption, std::size_t w, std::size_t height) {
  h += fmt::format(
      "<figure id=\"img-{}\"><img src=\"{}\" alt=\"{}\" width=\"{}\" height=\"{}\">"
      "<figcaption>{}</figcaption></figure>\n",
      esc(name), data_uri(png), esc(name), w, height, esc(caption));
}

void skipped_list(std::string& h, const std::vector<Skipped>& skipped) {
  if (skipped.empty()) return;
  h += "<ul class=\"skipped\">\n";
  for (const auto& s : skipped)
    h += fmt::format("<li><b>{}</b> not drawn: {}</li>\n", esc(s.name), esc(s.reason));
  h += "</ul>\n";
}

constexpr const char* kStyle = R"(
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:0 1.5em 2em;color:#222}
h1{font-size:1.5em;margin:.8em 0 .3em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}
.verdict{padding:.6em 1em;border-radius:4px;font-weight:600}
.ok{background:#e3f4e1;border:1px solid #7bbf73}.bad{background:#fbe3e1;border:1px solid #d9736a}
table.kv{border-collapse:collapse}table.kv th{text-align:left;font-weight:500;color:#555;padding:.15em 1.2em .15em 0;vertical-align:top}
table.kv td{padding:.15em 0;font-variant-numeric:tabular-nums;word-break:break-all}
tr.problem td,tr.problem th{color:#b3261e;font-weight:600}
#findings td{vertical-align:top}
table.events{border-collapse:collapse;font-size:.9em}table.events td,table.events th{border:1px solid #ddd;padding:.1em .5em;text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;max-width:100%}
figure img{max-width:min(100%,400px);height:auto;border:1px solid #ddd;background:#000;image-rendering:pixelated}
#plots figure{max-width:580px}#plots figure img{max-width:100%;background:#fff;image-rendering:auto}figcaption{font-size:.85em;color:#444;max-width:40em}
ul.problems li{color:#b3261e}ul.skipped{color:#666;font-size:.9em}
details table.kv{font-size:.85em}footer{margin-top:2em;color:#777;font-size:.85em}
)";

}  // namespace

ReportSummary write_report(const ScanReader& scan, const fs::path& html,
                           const ReportOptions& options) {
  ReportSummary s;
  s.file = html;
  const Facts f(scan.file_id());
  const std::string acq = "/process/acquisition/";
  const std::string file_name = scan.path().filename().string();

  // The verdict and the counts.
  if (const auto c = f.number(acq + "complete")) s.complete = *c != 0;
  s.end_reason = f.text(acq + "end_reason").value_or("");
  const auto status = f.numbers(acq + "projection_status");
  for (const double v : status) {
    if (v == 1)
      ++s.ok;
    else if (v == 2)
      ++s.no_angle;
    else
      ++s.missing;
  }
  if (status.empty()) s.ok = scan.projections();
  // Projections planned: the slots (a slotted file), else the rotation's
  // num_angles, else what the file holds.
  const auto planned = f.number(acq + "rotation/num_angles");
  s.expected = !status.empty()       ? status.size()
               : planned.has_value() ? static_cast<std::size_t>(*planned)
                                     : scan.projections();
  if (status.empty() && s.expected > s.ok) s.missing = s.expected - s.ok;
  s.darks = scan.dark_count();
  s.flats = scan.flat_count();
  if (s.complete == std::optional<bool>(false))
    s.problems.push_back("the file is incomplete: " +
                         (s.end_reason.empty() ? std::string("no reason recorded") : s.end_reason));
  if (s.missing > 0) s.problems.push_back(fmt::format("{} projection(s) missing", s.missing));
  if (s.no_angle > 0)
    s.problems.push_back(fmt::format("{} projection(s) without an angle", s.no_angle));

  const auto validation = validate(scan.path());
  s.validation_errors = validation.errors();
  s.validation_warnings = validation.warnings();
  if (s.validation_errors > 0)
    s.problems.push_back(
        fmt::format("Data Exchange conventions: {} error(s)", s.validation_errors));

  // Pictures first (they decide what is skipped), into a directory beside the page.
  PartsDir parts(html);
  const auto previews =
      render_previews(scan, parts.path() / "previews",
                      {.row = options.row, .max_size = options.max_size, .fields = options.fields});
  const auto plots = render_plots(scan, parts.path() / "plots");
  s.events = plots.events.size();
  std::optional<ScanSlice> slice;
  std::string slice_reason;
  try {
    slice = slice_scan(scan, {.row = options.row,
                              .centre = options.centre,
                              .fields = options.fields,
                              .parallel = options.parallel,
                              .threads = options.threads});
  } catch (const CannotReconstruct& e) {
    slice_reason = e.what();
  }
  const fs::path slice_png = parts.path() / "slice.png";
  if (slice)
    util::write_png_gray8(slice_png, slice->size, slice->size,
                          to_gray8(slice->image, percentile_window(slice->image, 0.5, 99.5)));

  // Data policy fields.
  const std::string sample = "/measurement/sample/";
  struct PolicyField {
    const char* label;
    std::string path;
    bool required;
  };
  const std::vector<PolicyField> policy{
      {"Proposal", sample + "experiment/proposal", true},
      {"Principal investigator", sample + "experiment/principal_investigator", true},
      {"Title", sample + "experiment/title", false},
      {"Experimenters", sample + "experimenter/name", false},
      {"Affiliation", sample + "experimenter/affiliation", false},
      {"E-mail", sample + "experimenter/email", false},
      {"Facility", "/measurement/instrument/source/name", false},
      {"Beamline", "/measurement/instrument/source/beamline", false},
      {"Persistent identifier", sample + "experiment/persistent_identifier", false},
      {"Licence", acq + "license", false},
      {"Start", acq + "start_date", false},
      {"End", acq + "end_date", false},
      {"Embargo ends", acq + "embargo_end_date", false},
      {"Sample", sample + "name", false},
      {"Sample description", sample + "description", false},
      {"Sample UUID", sample + "uuid", false},
  };
  std::vector<Row> policy_rows;
  for (const auto& p : policy) {
    const auto v = f.text(p.path);
    const bool empty = !v || v->empty();
    if (empty && p.required)
      s.problems.push_back(fmt::format("data policy: {} is not in the file", p.label));
    policy_rows.push_back(
        {p.label, !v ? "not in the file" : (v->empty() ? "(empty)" : *v), empty && p.required});
  }

  // Acquisition.
  std::vector<Row> acquisition;
  const auto add = [&](const char* label, const std::string& path) {
    if (const auto v = f.text(path)) acquisition.push_back({label, *v});
  };
  add("Scan type", acq + "scan_type");
  add("Rotation start", acq + "rotation/rotation_start");
  add("Rotation step", acq + "rotation/rotation_step");
  add("Rotation speed", acq + "rotation/rotation_speed");
  add("Angles planned", acq + "rotation/num_angles");
  std::vector<double> finite;
  for (const double t : scan.theta())
    if (std::isfinite(t)) finite.push_back(t);
  if (!finite.empty()) {
    const auto [lo, hi] = std::minmax_element(finite.begin(), finite.end());
    acquisition.push_back({"Theta measured", fmt::format("{:.4f} … {:.4f} deg ({} angles)", *lo,
                                                         *hi, finite.size())});
  }
  const std::string det = "/measurement/instrument/detector/";
  add("Detector", det + "model");
  add("Manufacturer", det + "manufacturer");
  acquisition.push_back({"Frame", fmt::format("{} × {} pixels", scan.width(), scan.height())});
  add("Exposure time", det + "exposure_time");
  add("Frame rate", det + "frame_rate");
  add("Pixel size", det + "pixel_size");
  add("Binning x", det + "binning_x");
  add("Binning y", det + "binning_y");
  add("Energy", "/measurement/instrument/monochromator/energy");
  add("Camera distance", "/measurement/instrument/camera_motor_stack/setup/camera_distance");
  add("Camera time stamp", acq + "camera_timestamp");

  // The page.
  std::string h;
  h.reserve(1 << 20);
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += fmt::format("<title>Scan report: {}</title>\n<style>{}</style></head><body>\n",
                   esc(file_name), kStyle);
  h += fmt::format("<h1>Scan report: {}</h1>\n<p>{}</p>\n", esc(file_name),
                   esc(fs::absolute(scan.path()).string()));
  const bool good = s.problems.empty();
  const std::string reason = s.end_reason.empty() ? "no reason recorded" : s.end_reason;
  const std::string verdict = !s.complete   ? "The file does not say whether it is complete"
                              : *s.complete ? "Complete (" + reason + ")"
                                            : "INCOMPLETE: " + reason;
  h += fmt::format("<p id=\"verdict\" class=\"verdict {}\">{}</p>\n", good ? "ok" : "bad",
                   esc(verdict));
  // Under the verdict, the other problems (an incomplete file's is the verdict).
  const std::size_t shown = s.complete == std::optional<bool>(false) ? 1 : 0;
  if (s.problems.size() > shown) {
    h += "<ul class=\"problems\">\n";
    for (std::size_t i = shown; i < s.problems.size(); ++i)
      h += fmt::format("<li>{}</li>\n", esc(s.problems[i]));
    h += "</ul>\n";
  }

  h += "<h2 id=\"counts\">Counts</h2>\n";
  std::vector<Row> counts{
      {"Projections expected", std::to_string(s.expected)},
      {"Stored with an angle", std::to_string(s.ok), s.ok < s.expected},
      {"Stored without an angle", std::to_string(s.no_angle), s.no_angle > 0},
      {"Missing (no frame)", std::to_string(s.missing), s.missing > 0},
  };
  const auto frames_expected = f.number(acq + "frames_expected");
  const auto frames_received = f.number(acq + "frames_received");
  if (frames_expected || frames_received)
    counts.push_back({"Frames received (projections, darks, flats)",
                      fmt::format("{} of {} expected",
                                  frames_received ? fmt::format("{:g}", *frames_received) : "?",
                                  frames_expected ? fmt::format("{:g}", *frames_expected) : "?"),
                      frames_expected && frames_received && *frames_received < *frames_expected});
  counts.push_back({"Darks", std::to_string(s.darks)});
  counts.push_back({"Flats", fmt::format("{} ({} before, {} after)", s.flats,
                                         scan.flats_before().size(), scan.flats_after().size())});
  counts.push_back({"Slot events", std::to_string(s.events)});
  table(h, counts);
  if (!plots.events.empty()) {
    h += "<table class=\"events\" id=\"events\"><tr><th>slot</th><th>what happened</th></tr>\n";
    for (std::size_t i = 0; i < std::min(plots.events.size(), kEventsListed); ++i)
      h += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", plots.events[i].slot,
                       esc(plots.events[i].what));
    h += "</table>\n";
    if (plots.events.size() > kEventsListed)
      h += fmt::format("<p>… and {} more events (pandafly-dx plots --json lists them all)</p>\n",
                       plots.events.size() - kEventsListed);
  }

  h += "<h2 id=\"policy\">Data policy</h2>\n";
  table(h, policy_rows);
  h += "<h2 id=\"acquisition\">Acquisition</h2>\n";
  table(h, acquisition);

  h += fmt::format(
      "<h2 id=\"conventions\">Data Exchange conventions</h2>\n<p>{} error(s), {} "
      "warning(s) (pandafly-dx validate)</p>\n",
      s.validation_errors, s.validation_warnings);
  if (!validation.findings.empty()) {
    h += "<table class=\"events\" id=\"findings\"><tr><th>severity</th><th>where</th><th>what"
         "</th></tr>\n";
    for (const auto& x : validation.findings)
      h += fmt::format("<tr{}><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       x.severity == Severity::error ? " class=\"problem\"" : "",
                       to_string(x.severity), esc(x.path), esc(x.message));
    h += "</table>\n";
  }

  h += "<h2>Previews</h2>\n<div class=\"grid\" id=\"previews\">\n";
  for (const auto& i : previews.images) {
    std::string caption = i.caption;
    if (!i.values.empty()) caption += "; " + i.values;
    if (i.window) caption += fmt::format("; grey {:g} … {:g}", i.window->low, i.window->high);
    figure(h, i.name, i.file, caption, i.width, i.height);
    s.images.push_back(i.name);
  }
  h += "</div>\n";
  skipped_list(h, previews.skipped);
  s.skipped.insert(s.skipped.end(), previews.skipped.begin(), previews.skipped.end());

  h += "<h2>Slice</h2>\n<div class=\"grid\" id=\"slice\">\n";
  if (slice) {
    const auto& c = slice->centre;
    std::string caption = fmt::format(
        "row {}: filtered back-projection of {} projections at their measured angles{}, "
        "centre of rotation {:.2f} px{}; attenuation per pixel, grey 0.5 … 99.5 %",
        slice->row, slice->angles,
        slice->left_out ? fmt::format(" ({} without an angle left out)", slice->left_out) : "",
        c.centre,
        slice->estimated
            ? fmt::format(" (estimated from projections {} and {}, correlation {:.3f})", c.first,
                          c.second, c.correlation)
            : " (given)");
    figure(h, "slice", slice_png, caption, slice->size, slice->size);
    s.images.push_back("slice");
  }
  h += "</div>\n";
  if (!slice) {
    skipped_list(h, {{"slice", slice_reason}});
    s.skipped.push_back({"slice", slice_reason});
  }

  h += "<h2>Plots</h2>\n<div class=\"grid\" id=\"plots\">\n";
  for (const auto& i : plots.rendered.images) {
    figure(h, i.name, i.file, i.caption, i.width, i.height);
    s.images.push_back(i.name);
  }
  h += "</div>\n";
  skipped_list(h, plots.rendered.skipped);
  s.skipped.insert(s.skipped.end(), plots.rendered.skipped.begin(), plots.rendered.skipped.end());

  h +=
      "<h2>Everything else in the file</h2>\n<details id=\"datasets\"><summary>every dataset under "
      "/measurement, /process and /defaults (values when it holds at most 8)</summary>\n";
  std::vector<std::pair<std::string, std::string>> all;
  for (const char* g : {"/measurement", "/process", "/defaults"}) f.walk(g, all);
  std::vector<Row> rows;
  rows.reserve(all.size());
  for (auto& [path, what] : all) rows.push_back({path, std::move(what)});
  table(h, rows);
  h += "</details>\n";
  h += fmt::format("<footer>Made by {} from {}.</footer>\n</body></html>\n",
                   esc(options.generator.empty() ? std::string("pandafly") : options.generator),
                   esc(fs::absolute(scan.path()).string()));

  // Written whole, then renamed into place.
  const fs::path part = html.string() + ".part";
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(part, ec);
      throw std::runtime_error(fmt::format("cannot write {}", part.string()));
    }
  }
  std::error_code ec;
  fs::rename(part, html, ec);
  if (ec) {
    const auto why = ec.message();
    fs::remove(part, ec);
    throw std::runtime_error(
        fmt::format("cannot rename {} to {}: {}", part.string(), html.string(), why));
  }
  s.bytes = h.size();
  return s;
}

}  // namespace pandafly::dx
