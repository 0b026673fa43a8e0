#pragma once
// The simulator's persistence: a design as the control-port writes that
// recreate it (the `.sav` text of reference §2, the same files `pandactl
// load/save` use), loaded into or saved from a PandaModel.
//
// save_design() writes, in this order, every reported attribute (CAPTURE,
// SCALE, OFFSET, UNITS, … — units first so time values read back in them),
// every config value, every table (`NAME<` + one word per line + an empty
// line) and every metadata value. load_design() feeds the text through a
// control connection and stops at the first line the model refuses.
//
// Example:
//   PandaModel model;
//   Status s = load_design(model, read_file("panda/flyscan.sav"));
//   if (!s.ok()) fmt::print("{}\n", s.error());   // "line 12: PCOMP1.START=x: Invalid number"
//   std::string text = save_design(model);
#include <string>
#include <string_view>

#include "sim/panda/model.hpp"
#include "sim/panda/reply.hpp"

namespace pandafly::sim {

/// Applies the design text; the error names the line number, the line and the
/// server's message.
[[nodiscard]] Status load_design(PandaModel& model, std::string_view text);
/// The current design as text that load_design() (or `pandactl load`) restores.
[[nodiscard]] std::string save_design(PandaModel& model);

}  // namespace pandafly::sim
