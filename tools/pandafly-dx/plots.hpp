#pragma once
// `pandafly-dx plots`: how a scan went, as PNG charts (dx::render_plots:
// theta, theta - planned, trigger intervals, camera against PandA time stamps
// and their difference, the slot status), listed by --json with the plots skipped and why
// and the slots marked (missing, no angle, events). Exit codes: 0 written,
// 2 the file cannot be read or a PNG cannot be written.
#include <string>

namespace pandafly_dx {

struct PlotsCmdOptions {
  std::string file;
  std::string out = "plots";
  bool json = false;
};

int cmd_plots(const PlotsCmdOptions& o);

}  // namespace pandafly_dx
