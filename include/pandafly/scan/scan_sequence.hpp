#pragma once
// make_sequence(): the plan (scan::plan_fly, plan_step or plan_cont) made concrete
// for the scan's state machine (scan::ScanMachine): positions, speeds, counts
// of darks and flats, the shutter and the sample's moves, and the time
// allowances. Pure; any thread.
//
// Rules
//   - A step plan: the points are the plan's angles; scan.settle is each
//     point's rest before its trigger (a fly scan's is the rest at the
//     run-up start).
//   - A cont plan: scan.settle is the rest at the run-up start (as the fly
//     scan's); the camera starts past the plan's camera_start_deg.
//   - The stage returns to the scan's start angle when scan.return_to_start.
//   - The sample goes back to flats.sample_in when given, else to where it
//     was before the scan (`sample_position`).
//   - The shutter is driven when shutter.command is not empty.
//   - A rotation move must end within the motor record's RDBD of its target
//     (the record's own "arrived": it retries until then), at least one
//     MRES; without an RDBD (0) within max(0.01°, 10·MRES).
//   - The collection waits max(2 s, 10 frame times) for data after the scan
//     move ends before it gives up on missing rows or frames.
#include <optional>

#include "pandafly/scan/plan.hpp"
#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_machine.hpp"

namespace pandafly::scan {

[[nodiscard]] ScanSequence make_sequence(const ScanPlan& plan, const ScanConfig& config,
                                         const MotorFacts& motor,
                                         std::optional<double> sample_position,
                                         double sample_speed);

}  // namespace pandafly::scan
