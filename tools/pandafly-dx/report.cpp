// pandafly-dx report (contract in report.hpp).
#include "report.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../report_generator.hpp"
#include "commands.hpp"
#include "pandafly/dx/report.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/util/parallel.hpp"
#include "preview.hpp"

namespace pandafly_dx {

namespace dx = pandafly::dx;
namespace util = pandafly::util;

int cmd_report(const ReportCmdOptions& o) {
  const std::string out =
      o.out.empty() ? std::filesystem::path(o.file).replace_extension(".html").string() : o.out;
  std::error_code ec;
  if (std::filesystem::equivalent(out, o.file, ec)) {
    fmt::print(stderr, "pandafly-dx report: {} is the input file\n", out);
    return Exit::unreadable;
  }
  return guarded("report", o.file, [&] {
    dx::ScanReader scan(o.file);
    const std::size_t threads = o.threads == 0 ? util::default_threads() : o.threads;
    dx::ReportOptions options{.row = o.row,
                              .max_size = o.max_size,
                              .centre = o.centre,
                              .fields = dx::parse_field_statistic(o.fields),
                              .threads = threads,
                              .generator = pandafly::tools::report_generator("pandafly-dx report")};
    if (threads > 1) options.parallel = util::parallel_on(threads);
    const auto r = dx::write_report(scan, out, options);
    if (o.json) {
      auto skipped = nlohmann::json::array();
      for (const auto& s : r.skipped) skipped.push_back({{"name", s.name}, {"reason", s.reason}});
      nlohmann::json j{
          {"file", o.file},
          {"report", r.file.string()},
          {"bytes", r.bytes},
          {"images", r.images},
          {"skipped", skipped},
          {"expected", r.expected},
          {"ok", r.ok},
          {"no_angle", r.no_angle},
          {"missing", r.missing},
          {"darks", r.darks},
          {"flats", r.flats},
          {"events", r.events},
          {"validation", {{"errors", r.validation_errors}, {"warnings", r.validation_warnings}}},
          {"problems", r.problems}};
      j["complete"] = r.complete ? nlohmann::json(*r.complete) : nlohmann::json(nullptr);
      fmt::print("{}\n", j.dump());
    } else {
      fmt::print("{}: {} images, {} skipped, {} problem(s)\n", r.file.string(), r.images.size(),
                 r.skipped.size(), r.problems.size());
      for (const auto& p : r.problems) fmt::print("  {}\n", p);
    }
    return static_cast<int>(Exit::ok);
  });
}

}  // namespace pandafly_dx
