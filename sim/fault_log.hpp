#pragma once
// The one line a simulator logs when a fault on demand fires (sim/fault_plan.hpp),
// the same for every device: "fault: WHAT (t=S s)", S in simulated seconds.
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "sim/ticks.hpp"

namespace pandafly::sim {

/// Where simulators log; empty: stderr.
using LogFn = std::function<void(std::string_view)>;

/// Logs "fault: `what` (t=`at` in seconds)" through `log` (stderr when empty).
inline void log_fault(const LogFn& log, std::string_view what, Tick at) {
  const std::string line =
      fmt::format("fault: {} (t={:.6f} s)", what, static_cast<double>(at) * kSecondsPerTick);
  if (log) {
    log(line);
  } else {
    fmt::print(stderr, "{}\n", line);
  }
}

}  // namespace pandafly::sim
