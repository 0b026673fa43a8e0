#pragma once
// make_fly_sequence(): the plan (scan::plan_fly) made concrete for the fly
// scan's state machine (scan::FlyScan): positions, speeds, counts of darks
// and flats, the shutter and the sample's moves, and the time allowances.
// Pure; any thread.
//
// Rules
//   - The stage returns to the scan's start angle when scan.return_to_start.
//   - The sample goes back to flats.sample_in when given, else to where it
//     was before the scan (`sample_position`).
//   - The shutter is driven when shutter.command is not empty.
//   - A move must end within max(0.01°, 10·MRES) of its target (the motor
//     record's RDBD is usually a few steps).
//   - The collection waits max(2 s, 10 frame times) for data after the scan
//     move ends before it gives up on missing rows or frames.
#include <optional>

#include "pandafly/scan/fly_scan.hpp"
#include "pandafly/scan/plan.hpp"
#include "pandafly/scan/scan_config.hpp"

namespace pandafly::scan {

[[nodiscard]] FlySequence make_fly_sequence(const FlyPlan& plan, const FlyScanConfig& config,
                                            const MotorFacts& motor,
                                            std::optional<double> sample_position,
                                            double sample_speed);

}  // namespace pandafly::scan
