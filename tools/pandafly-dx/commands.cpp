// pandafly-dx subcommands (contracts in commands.hpp).
#include "commands.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pandafly/dx/layout.hpp"
#include "pandafly/dx/repair.hpp"
#include "pandafly/dx/validate.hpp"
#include "pandafly/h5/error.hpp"

namespace pandafly_dx {
namespace {

namespace dx = pandafly::dx;

nlohmann::json to_json(const dx::ValidationReport& r, const ValidateOptions& o) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : r.findings)
    findings.push_back(
        {{"severity", dx::to_string(f.severity)}, {"path", f.path}, {"message", f.message}});
  return {
      {"file", o.file},           {"layout", o.layout.empty() ? nullptr : nlohmann::json(o.layout)},
      {"valid", r.valid()},       {"errors", r.errors()},
      {"warnings", r.warnings()}, {"findings", findings}};
}

void print_human(const dx::ValidationReport& r, const ValidateOptions& o) {
  for (const auto& f : r.findings)
    fmt::print("{} {}: {}\n", dx::to_string(f.severity), f.path, f.message);
  fmt::print("{}: {} ({} error{}, {} warning{})\n", o.file, r.valid() ? "valid" : "NOT valid",
             r.errors(), r.errors() == 1 ? "" : "s", r.warnings(), r.warnings() == 1 ? "" : "s");
}

int report_unreadable(const ValidateOptions& o, const std::string& why) {
  fmt::print(stderr, "pandafly-dx: {}: cannot read: {}\n", o.file, why);
  if (o.json)
    fmt::print("{}\n", nlohmann::json{{"file", o.file}, {"valid", false}, {"error", why}}.dump());
  return Exit::unreadable;
}

std::string summary(const dx::Layout& l) {
  const auto detectors = l.detector_paths();
  std::string s =
      fmt::format("{} detector dataset{}", detectors.size(), detectors.size() == 1 ? "" : "s");
  if (const auto d = l.default_detector_path()) s += fmt::format(", default {}", *d);
  if (l.destination_attribute)
    s += fmt::format(", frames routed by NDAttribute {}", *l.destination_attribute);
  if (const auto g = l.ndattr_default_path())
    s += fmt::format(", other NDAttributes in {}", *g);
  else if (l.auto_ndattr_default)
    s += ", other NDAttributes in /";
  else
    s += ", other NDAttributes not written";
  return s;
}

}  // namespace

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream out;
  out << f.rdbuf();
  if (f.bad()) return std::nullopt;
  return out.str();
}

std::variant<dx::Layout, int> load_layout(const std::string& path) {
  const auto text = read_text(path);
  if (!text) {
    fmt::print(stderr, "pandafly-dx: {}: cannot read the file\n", path);
    return Exit::unreadable;
  }
  auto r = dx::parse_layout(*text);
  if (auto* e = std::get_if<dx::LayoutError>(&r)) {
    fmt::print(stderr, "pandafly-dx: {}: {}\n", path, e->message);
    return Exit::findings;
  }
  return std::get<dx::Layout>(std::move(r));
}

int cmd_validate(const ValidateOptions& o) {
  std::optional<dx::Layout> layout;
  if (!o.layout.empty()) {
    auto l = load_layout(o.layout);
    if (std::holds_alternative<int>(l)) return Exit::unreadable;
    layout = std::get<dx::Layout>(std::move(l));
  }
  dx::ValidationReport r;
  try {
    if (o.repair) {
      for (const auto& what : dx::repair(o.file).done)
        fmt::print(stderr, "pandafly-dx validate: {}: repaired: {}\n", o.file, what);
    }
    r = layout ? dx::validate(o.file, *layout) : dx::validate(o.file);
  } catch (const pandafly::h5::Error& e) {
    std::error_code ec;
    if (!std::filesystem::exists(o.file, ec)) return report_unreadable(o, "no such file");
    return report_unreadable(o, e.operation() + " failed: not an HDF5 file");
  }
  if (o.json)
    fmt::print("{}\n", to_json(r, o).dump(2));
  else
    print_human(r, o);
  return r.valid() ? Exit::ok : Exit::findings;
}

int cmd_layout(const LayoutOptions& o) {
  auto l = load_layout(o.file);
  if (const int* rc = std::get_if<int>(&l)) return *rc;
  const auto& layout = std::get<dx::Layout>(l);
  if (o.print)
    fmt::print("{}", dx::to_xml(layout));
  else
    fmt::print("{}: ok: {}\n", o.file, summary(layout));
  return Exit::ok;
}

}  // namespace pandafly_dx
