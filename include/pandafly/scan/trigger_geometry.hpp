#pragma once
// TriggerGeometry: where a fly scan's triggers fall, in encoder counts — what
// scan::plan_fly() decides and scan::fly_panda_fields() turns into the PandA
// fields of the design (PCOMP/PULSE/INENC scaling). Pure data; any thread.
//
// Trigger k (k = 0 … pulses-1) fires when the encoder passes
// first_counts + k·step_counts in the direction of step_counts' sign; each
// trigger starts one exposure of exposure_s. The encoder reads
// counts = degrees·counts_per_degree + offset_counts.
#include <cstdint>

namespace pandafly::scan {

struct TriggerGeometry {
  std::int64_t first_counts = 0;  ///< encoder position of trigger 0
  std::int64_t step_counts = 0;   ///< signed: negative scans towards lower counts
  std::uint64_t pulses = 0;       ///< triggers = projections
  std::int64_t pre_start_counts =
      0;                         ///< distance before trigger 0 the encoder must pass first (≥ 0)
  double exposure_s = 0;         ///< camera exposure per trigger
  double frame_time_s = 0;       ///< time between triggers at the scan speed
  double counts_per_degree = 0;  ///< encoder scale (> 0)
  std::int64_t offset_counts = 0;  ///< counts at 0 degrees
};

}  // namespace pandafly::scan
