// pandafly-dx plots (contract in plots.hpp).
#include "plots.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pandafly/dx/scan_plots.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "preview.hpp"

namespace pandafly_dx {

namespace dx = pandafly::dx;

int cmd_plots(const PlotsCmdOptions& o) {
  return guarded("plots", o.file, [&] {
    dx::ScanReader scan(o.file);
    const auto p = dx::render_plots(scan, o.out);
    if (o.json) {
      auto j = rendered_json(p.rendered);
      j["file"] = o.file;
      j["projections"] = scan.projections();
      j["slot_status"] = p.has_status;
      j["missing"] = p.missing;
      j["no_angle"] = p.no_angle;
      auto events = nlohmann::json::array();
      for (const auto& e : p.events) events.push_back({{"slot", e.slot}, {"what", e.what}});
      j["events"] = events;
      j["interval_source"] = p.interval_source;
      j["intervals"] = p.intervals;
      fmt::print("{}\n", j.dump());
    } else {
      print_rendered(p.rendered);
      if (!p.missing.empty()) fmt::print("missing slots: {}\n", fmt::join(p.missing, " "));
      if (!p.no_angle.empty()) fmt::print("slots without angle: {}\n", fmt::join(p.no_angle, " "));
    }
    return static_cast<int>(Exit::ok);
  });
}

}  // namespace pandafly_dx
