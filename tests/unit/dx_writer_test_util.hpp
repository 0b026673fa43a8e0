#pragma once
// Helpers for the dx::Writer tests: frames with known pixels, a plan of what
// was pushed (JSON, read by tests/unit/dx_writer_check.py with h5py and
// dxchange), a layout built in code, and a runner for the Python checker.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "pandafly/dx/writer.hpp"

namespace pandafly::test {

// The three detector datasets of test_layout() and the shipped layouts.
inline constexpr const char* dark = "/exchange/data_dark";
inline constexpr const char* white = "/exchange/data_white";
inline constexpr const char* data = "/exchange/data";

/// Pixel of frame k at (y, x), as dx_writer_check.py computes it.
template <class T>
std::shared_ptr<const std::vector<T>> pattern(std::int64_t k, std::size_t height,
                                              std::size_t width) {
  auto v = std::make_shared<std::vector<T>>(height * width);
  for (std::size_t y = 0; y < height; ++y) {
    for (std::size_t x = 0; x < width; ++x) {
      const auto value = static_cast<std::uint64_t>(k * 131) + y * 17 + x * 3;
      (*v)[y * width + x] = static_cast<T>(value);  // wraps like `% 2**bits`
    }
  }
  return v;
}

/// What a test pushes, and what dx_writer_check.py should find.
struct Plan {
  std::size_t height = 6;
  std::size_t width = 8;
  nlohmann::json frames = nlohmann::json::array();
  nlohmann::json extra = nlohmann::json::object();  // end, meta, attrs, defaults, ...

  /// A uint16 frame k routed (by HDF5FrameLocation) to `location` (nullptr: no
  /// attribute); `to` is where it must land. (A const char*, not an
  /// optional<string>: g++ 12 -O2 warns falsely on the latter, -Wmaybe-uninitialized.)
  dx::FrameRecord frame(std::int64_t k, const char* location, std::string to,
                        std::optional<double> angle) {
    auto r = dx::FrameRecord::owning(pattern<std::uint16_t>(k, height, width));
    r.unique_id = 100 + k;
    r.timestamp = 1.0e9 + static_cast<double>(k) * 0.0125;
    r.angle = angle;
    nlohmann::json attrs = nlohmann::json::object();
    if (location != nullptr) {
      r.set("HDF5FrameLocation", std::string(location));
      attrs["HDF5FrameLocation"] = location;
    }
    r.set("ColorMode", std::int64_t{0});
    r.set("Temperature", 20.0 + 0.5 * static_cast<double>(k));
    r.set("Note", "frame " + std::to_string(k));
    attrs["ColorMode"] = 0;
    attrs["Temperature"] = 20.0 + 0.5 * static_cast<double>(k);
    attrs["Note"] = "frame " + std::to_string(k);
    frames.push_back({{"to", to},
                      {"angle", angle ? nlohmann::json(*angle) : nlohmann::json()},
                      {"uid", r.unique_id},
                      {"ts", r.timestamp},
                      {"attrs", attrs}});
    return r;
  }

  void write(const std::filesystem::path& path) const {
    nlohmann::json j = extra;
    j["height"] = height;
    j["width"] = width;
    if (!j.contains("dtype")) j["dtype"] = "uint16";
    j["frames"] = frames;
    std::ofstream(path) << j.dump(1);
  }
};

struct PyResult {
  int status = -1;
  std::string output;
};

/// Runs /usr/bin/python3 on tests/unit/<script> with `args`.
inline PyResult run_python(const std::string& script, const std::string& args) {
  const std::string cmd =
      "/usr/bin/python3 " PANDAFLY_SOURCE_DIR "/tests/unit/" + script + " " + args + " 2>&1";
  PyResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char line[4096];
  while (std::fgets(line, sizeof line, pipe) != nullptr) r.output += line;
  r.status = ::pclose(pipe);
  return r;
}

/// Writes the plan beside `file` and runs dx_writer_check.py on both.
inline PyResult check_file(const std::filesystem::path& file, const Plan& plan,
                           const std::string& flags = "") {
  const auto plan_path = file.string() + ".plan.json";
  plan.write(plan_path);
  return run_python("dx_writer_check.py", "'" + file.string() + "' '" + plan_path + "' " + flags);
}

/// The DXfile tree of file-formats.md §1.9 in a few groups, built in code,
/// with every kind of layout item the writer handles. (Members are assigned:
/// g++ 12 warns about designated initializers that leave members out.)
inline dx::Attribute text_attribute(std::string name, std::string value) {
  dx::Attribute a;
  a.name = std::move(name);
  a.value = std::move(value);
  return a;
}

inline dx::Attribute typed_attribute(std::string name, std::string value, dx::ValueType type) {
  dx::Attribute a = text_attribute(std::move(name), std::move(value));
  a.type = type;
  return a;
}

inline dx::Attribute nd_attribute(std::string name, std::string ndattribute, dx::When when) {
  dx::Attribute a;
  a.name = std::move(name);
  a.source = dx::Source::ndattribute;
  a.ndattribute = std::move(ndattribute);
  a.when = when;
  return a;
}

inline dx::Dataset detector_dataset(std::string name, bool det_default, std::string description) {
  dx::Dataset d;
  d.name = std::move(name);
  d.det_default = det_default;
  d.attributes = {text_attribute("description", std::move(description)),
                  text_attribute("axes", "theta:y:x"), text_attribute("units", "counts")};
  return d;
}

inline dx::Dataset nd_dataset(std::string name, std::string ndattribute, dx::When when) {
  dx::Dataset d;
  d.name = std::move(name);
  d.source = dx::Source::ndattribute;
  d.ndattribute = std::move(ndattribute);
  d.when = when;
  return d;
}

inline dx::Dataset constant_dataset(std::string name, std::string value, dx::ValueType type) {
  dx::Dataset d;
  d.name = std::move(name);
  d.source = dx::Source::constant;
  d.value = std::move(value);
  d.type = type;
  return d;
}

inline dx::Group group(std::string name) {
  dx::Group g;
  g.name = std::move(name);
  return g;
}

inline dx::Layout test_layout() {
  using dx::When;
  auto exchange = group("exchange");
  exchange.datasets = {detector_dataset("data", true, "ImageData"),
                       detector_dataset("data_dark", false, "DarkData"),
                       detector_dataset("data_white", false, "WhiteData")};
  auto rotation = group("rotation");
  rotation.datasets = {nd_dataset("rotation_start", "RotationStart", When::on_file_open),
                       nd_dataset("num_angles", "NumAngles", When::on_file_open)};
  rotation.attributes = {typed_attribute("range", "0, 180", dx::ValueType::float64),
                         typed_attribute("version", "3", dx::ValueType::int32)};
  rotation.datasets[0].attributes = {text_attribute("units", "degrees"),
                                     nd_attribute("operator", "Operator", When::on_file_open)};
  auto acq = group("acquisition");
  acq.datasets = {nd_dataset("start_date", "DateTimeStart", When::on_file_open),
                  nd_dataset("end_date", "DateTimeEnd", When::on_file_close),
                  nd_dataset("image_theta", "PandaTheta", When::on_frame),
                  nd_dataset("temperature", "Temperature", When::on_frame),
                  constant_dataset("ints", "1, 2,3", dx::ValueType::int32),
                  constant_dataset("scan_type", "fly", dx::ValueType::string)};
  acq.datasets[2].attributes = {text_attribute("units", "degrees")};
  acq.attributes = {nd_attribute("closed_at", "DateTimeEnd", When::on_file_close)};
  acq.groups = {rotation};
  auto process = group("process");
  process.groups = {acq};
  auto defaults = group("defaults");
  defaults.ndattr_default = true;
  auto links = group("links");
  links.hardlinks.resize(2);
  links.hardlinks[0].name = "theta";
  links.hardlinks[0].target = "/exchange/theta";
  links.hardlinks[1].name = "end_date";
  links.hardlinks[1].target = "/process/acquisition/end_date";
  dx::Layout l;
  l.destination_attribute = "HDF5FrameLocation";
  l.root.groups = {exchange, process, defaults, links};
  l.root.datasets = {
      constant_dataset("implements", "exchange:measurement:process", dx::ValueType::string)};
  return l;
}

// Writer options for `path` with test_layout() and the plan's uint16 frames.
inline dx::WriterOptions writer_options(const std::filesystem::path& path, const Plan& plan) {
  dx::WriterOptions o;
  o.path = path;
  o.layout = test_layout();
  o.frame = {.height = plan.height, .width = plan.width, .type = capture::DataType::uint16};
  return o;
}

}  // namespace pandafly::test
