// pandafly-dx preview (contract in preview.hpp).
#include "preview.hpp"

#include <exception>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pandafly/dx/preview.hpp"
#include "pandafly/dx/scan_reader.hpp"

namespace pandafly_dx {

namespace dx = pandafly::dx;

nlohmann::json rendered_json(const dx::Rendered& r) {
  auto images = nlohmann::json::array();
  for (const auto& i : r.images) {
    nlohmann::json j{{"name", i.name},
                     {"file", i.file.string()},
                     {"caption", i.caption},
                     {"width", i.width},
                     {"height", i.height}};
    if (i.window) j["window"] = {i.window->low, i.window->high};
    if (i.index) j["index"] = *i.index;
    if (!i.values.empty()) j["values"] = i.values;
    images.push_back(std::move(j));
  }
  auto skipped = nlohmann::json::array();
  for (const auto& s : r.skipped) skipped.push_back({{"name", s.name}, {"reason", s.reason}});
  return {{"images", images}, {"skipped", skipped}};
}

void print_rendered(const dx::Rendered& r) {
  for (const auto& i : r.images)
    fmt::print("{}: {} ({} x {})\n", i.file.string(), i.caption, i.width, i.height);
  for (const auto& s : r.skipped) fmt::print("skipped {}: {}\n", s.name, s.reason);
}

int guarded(const char* command, const std::string& file, const std::function<int()>& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx {}: {}: {}\n", command, file, e.what());
    return Exit::unreadable;
  }
}

int cmd_preview(const PreviewCmdOptions& o) {
  return guarded("preview", o.file, [&] {
    dx::ScanReader scan(o.file);
    const dx::PreviewOptions options{.row = o.row,
                                     .low = o.low,
                                     .high = o.high,
                                     .max_size = o.max_size,
                                     .fields = dx::parse_field_statistic(o.fields)};
    const auto r = dx::render_previews(scan, o.out, options);
    if (o.json) {
      auto j = rendered_json(r);
      j["file"] = o.file;
      j["percentiles"] = {o.low, o.high};
      j["projections"] = scan.projections();
      fmt::print("{}\n", j.dump());
    } else {
      print_rendered(r);
    }
    return static_cast<int>(Exit::ok);
  });
}

}  // namespace pandafly_dx
