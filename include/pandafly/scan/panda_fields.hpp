#pragma once
// fly_panda_fields(): the PandA fields a fly scan puts before it arms — exactly
// the scan-dependent ones of panda/flyscan.sav (the design, loaded once: its
// wiring, captures and constants stay as loaded). Pure; any thread.
//
// The design (panda/README.md has the picture and the reasons):
//   INENC1.VAL → PCOMP1.INP; PCAP.ACTIVE → PCOMP1.ENABLE (arming starts the
//   compare); PCOMP1.OUT → PULSE1.TRIG; PULSE1.OUT (one exposure) →
//   TTLOUT1.VAL (camera), PCAP.GATE and PCAP.TRIG (TRIG_EDGE Falling);
//   PCOMP1.ACTIVE | PULSE1.OUT → LUT1 → PCAP.ENABLE (DELAY 10 ticks), so PCAP
//   stays enabled through the last exposure and ends by itself (END Ok) just
//   after it. Captured: INENC1.VAL Min Max Mean, PCAP.TS_START/TS_END/TS_TRIG:
//   one row per exposure, the encoder over exactly that exposure.
//
// The fields, in the order to put them (units before the values they scale):
//   <enc>.VAL.SCALE     1 / counts_per_degree          (degrees per count)
//   <enc>.VAL.OFFSET    -offset_counts / counts_per_degree
//   <enc>.VAL.UNITS     deg
//   <cmp>.PRE_START     pre_start_counts
//   <cmp>.START         first_counts                    (RELATIVE=Absolute)
//   <cmp>.STEP          |step_counts|
//   <cmp>.WIDTH         max(1, |step_counts| / 2)       (the exposure is PULSE1's)
//   <cmp>.PULSES        pulses
//   <cmp>.DIR           Positive (step > 0) / Negative (step < 0)
//   <pulse>.WIDTH.UNITS s
//   <pulse>.WIDTH       exposure_s                      (decimal, ns resolution)
// Trigger k then opens exposure k when the encoder reaches first + k·step
// (PCOMP compares with >= / <= in DIR's sense; STEP and WIDTH are magnitudes).
// What the motion must do (the plan's run-up and run-down): pass first ∓
// pre_start before first (PCOMP's PRE_START), keep the scan speed through the
// last exposure (its Max/Mean measure what the stage did), and pass the last
// trigger by WIDTH counts: PCOMP1.ACTIVE falls there, and PCAP ends by itself
// (END n Ok) when that and the last exposure are both over. A stage stopping
// short of last ± WIDTH leaves PCAP running with every row delivered, until a
// disarm (END … Disarmed).
//
// Throws std::invalid_argument naming the field of TriggerGeometry when the
// geometry cannot be put: step 0; pulses 0 (PULSES 0 means "unlimited") or
// beyond uint32; a compare position (first, last trigger, pre-start point) or
// the step outside int32; pre_start < 0; counts_per_degree not > 0;
// exposure not at least one FPGA tick (8 ns) or not shorter than frame_time
// (when frame_time is given, > 0: PULSE1 would drop overlapping exposures).
//
// Example:
//   TriggerGeometry g{.first_counts = 0, .step_counts = 1000, .pulses = 181,
//                     .pre_start_counts = 100, .exposure_s = 0.01,
//                     .frame_time_s = 0.012, .counts_per_degree = 10000};
//   for (const auto& [field, value] : fly_panda_fields(g)) put(field, value);
#include <string>
#include <utility>
#include <vector>

#include "pandafly/scan/trigger_geometry.hpp"

namespace pandafly::scan {

/// Which blocks of the design play which part; the defaults are panda/flyscan.sav's.
struct FlyPandaWiring {
  std::string encoder = "INENC1";   ///< its VAL is compared and captured
  std::string compare = "PCOMP1";   ///< the position compare
  std::string exposure = "PULSE1";  ///< stretches each compare pulse to one exposure

  /// The data columns one row (one exposure) is made of, named as the data
  /// header's fields and capture options make them (NAME.CAPTURE).
  [[nodiscard]] std::string mean_column() const { return encoder + ".VAL.Mean"; }
  [[nodiscard]] std::string min_column() const { return encoder + ".VAL.Min"; }
  [[nodiscard]] std::string max_column() const { return encoder + ".VAL.Max"; }
  [[nodiscard]] static std::string ts_start_column() { return "PCAP.TS_START.Value"; }
  [[nodiscard]] static std::string ts_end_column() { return "PCAP.TS_END.Value"; }
  [[nodiscard]] static std::string ts_trig_column() { return "PCAP.TS_TRIG.Value"; }
};

/// (field, value) pairs as the control port takes them ("PCOMP1.START", "0").
using PandaFields = std::vector<std::pair<std::string, std::string>>;

/// The scan-dependent fields of the design for `geometry`, in put order (see
/// the file comment). Throws std::invalid_argument for a geometry that cannot be put.
[[nodiscard]] PandaFields fly_panda_fields(const TriggerGeometry& geometry,
                                           const FlyPandaWiring& wiring = {});

}  // namespace pandafly::scan
