#pragma once
// `pandafly-dx report`: one self-contained HTML page about a scan
// (dx::write_report: outcome, counts, data-policy fields, acquisition,
// previews, slice, plots), replaced if present. Exit codes: 0 written,
// 2 the file cannot be read or the page cannot be written (OUT is IN: refused).
#include <cstddef>
#include <optional>
#include <string>

namespace pandafly_dx {

struct ReportCmdOptions {
  std::string file;
  std::string out;  ///< "": IN with the extension .html
  long row = -1;    ///< -1: the middle row
  std::optional<double> centre;
  std::string fields = "mean";
  std::size_t max_size = 1024;
  std::size_t threads = 0;  ///< 0: every core
  bool json = false;
};

int cmd_report(const ReportCmdOptions& o);

}  // namespace pandafly_dx
