#pragma once
// plan_fly(): a fly scan's plan — frame time, stage speed, run-up and
// run-down, trigger geometry in encoder counts, expected durations — from the
// scan file and what the shell read from the motor record and the camera
// before anything moves. Pure: values in, values out; any thread.
//
// Rules (motor record semantics: /work/shared/reference/channel-access.md §4.1,
// §5; tomoscan's: file-formats.md §5.2)
//   - Readout: the camera.readout row of the camera's DataType with the
//     smallest size_y ≥ its SizeY; none fits: camera.readout_time.
//     frame_time = exposure + readout + camera.readout_margin (seconds; the
//     camera misses a trigger that comes during its exposure or readout).
//   - Counts: step_counts = round(step·counts_per_degree) (≠ 0), trigger 0 at
//     first_counts = round(start·counts_per_degree) + offset; the planned
//     angles are the counts' angles: first_deg = (first_counts − offset)/cpd,
//     step_deg = step_counts/cpd (a note says when snapping moved the step).
//   - speed v = |step_deg| / frame_time (deg/s); the motor record clamps VELO
//     into [VBAS, VMAX] silently, so v > VMAX (VMAX > 0) and v < VBAS are refused.
//   - The record ramps from VBAS to VELO in ACCL seconds: the ramp covers
//     d_acc = (VBAS + v)/2 · ACCL (= ½·v·ACCL when VBAS = 0).
//   - Run-up (tomoscan's taxi): an integer number of steps covering at least
//     d_acc + ½ step: run_up = ceil(d_acc/|step| + 0.5)·|step| before trigger 0.
//     Run-down: the stage keeps the speed until the last exposure has ended
//     (exposure·v after the last trigger) plus half a step, then ramps down:
//     run_down = ceil((exposure·v + d_acc)/|step| + 0.5)·|step| after the last
//     trigger. (tomoscan uses the run-up distance at both ends; it is short
//     when the exposure covers more than half a step.)
//     run_up_start = first − dir·run_up, run_down_end = last + dir·run_down,
//     dir = sign(step); start > end scans towards lower angles and counts.
//   - Soft limits: run_up_start and run_down_end within [LLM, HLM] (user),
//     unless DHLM = DLLM = 0 (the record then has no soft limits).
//   - EGU must name degrees: "deg", "degree", "degrees", "°" (any case).
//   - ACCL must be > 0 (the record refuses ACCL 0).
//   - rotation.encoder_is_motor: counts_per_degree must equal 1/|ERES| when
//     the motor has an encoder resolution (ERES ≠ 0), else 1/|MRES| (relative
//     difference ≤ 1e-6), and DIR must be Pos (the motor's encoder counts dial
//     positions; DIR Neg makes user degrees run against them, which a positive
//     counts_per_degree cannot say). Off: nothing is checked against the motor.
//   - Every trigger position must fit the PandA's 32-bit signed position
//     fields; the camera's model must be camera.model when that is set.
//   - Flats (when taken and the sample motor's facts are given):
//     flats.sample_out (and sample_in when set) within that motor's soft
//     limits, same rule (a put beyond a soft limit "completes" unmoved).
//   - Every reason is collected: a refused plan lists them all; plan_fly never
//     throws for a plan that cannot work.
//   - Durations: run_up_s = ACCL + (run_up − d_acc)/v; projections_s =
//     (n − 1)·frame_time (trigger 0 to the last trigger); run_down_s =
//     (run_down − d_acc)/v + ACCL; darks_s/flats_s = frames × frame_time
//     (shutter moves not included); to_start_s and return_s =
//     |Δ|/VELO + 2·ACCL (moves at the record's VELO as read; 0 when Δ = 0);
//     total = to_start + settle + darks + flats + run_up + projections +
//     run_down + return. flats_s adds, per set of flats, the sample motor's
//     move out and back (|out − in|/VELO + 2·ACCL each) when its facts are given.
//
//   - plan_step() (a step scan: no PandA, no encoder): the points are
//     start + k·step as the scan file says (no snapping to counts); the
//     camera is software-triggered at rest, so frame_time only bounds how
//     fast a point can be (no VMAX/VBAS check: every move is at VELO); the
//     first and last points within the soft limits (same rule); EGU degrees;
//     flats as above. speed_deg_s = VELO; no run-up or run-down
//     (run_up_start = first point, run_down_end = last). Durations:
//     projections_s = (n − 1)·(|step|/VELO + 2·ACCL + scan.settle) +
//     n·frame_time (settle is each point's rest before its trigger there);
//     to_start and return as above; settle_s 0 (it is in projections_s).
//     Counts, the encoder and the PandA are not checked.
//
//   - plan_cont() (a continuous scan: no PandA, no encoder; the camera
//     free-runs in internal trigger while the stage moves at constant speed):
//     the frame rate is the camera's own (GC_AcqResFrameRate_RBV, read by the
//     shell after AcquireTime/AcquirePeriod are set): refused when ≤ 0 or not
//     finite, or when faster than 1/exposure (the camera cannot expose
//     `exposure` that often: its AcquireTime was not applied); frame_time =
//     1/rate, and a note when it differs by more than 1 % from exposure +
//     readout + margin (the camera's rate wins: slower is possible, e.g. a
//     bandwidth limit; faster than 1/(exposure + readout) is possible on a
//     camera that overlaps readout with the next exposure; only faster than
//     1/exposure is not). The projections' nominal
//     angles are start + k·step as written (no snapping); speed v = |step|·rate,
//     refused above VMAX (VMAX > 0) or below VBAS; ACCL > 0; d_acc as above.
//     Run-up as the fly scan's: run_up = ceil(d_acc/|step| + 0.5)·|step|.
//     camera_start = run_up_start + dir·(d_acc + ½|step|): the sequence starts
//     the camera once a MotorStatus shows the stage past it. The ramp ends at
//     d_acc; the ½ step margin is the fly scan's (trigger 0 is ≥ ½ step past
//     the ramp) and absorbs a real controller's ramp being a little longer
//     than the record's trapezoid; camera_start ≤ first by construction. The
//     RBV lags the true position (it is read at the poll), so the stage is
//     further on when the crossing is seen: the margin is never eaten.
//     The camera starts up to kContStartAllowanceS after the stage passed
//     camera_start (RBV poll interval while moving, the crossing's monitor,
//     Acquire's put, the camera's start), then takes N frames in N·frame_time
//     (N·|step| of travel) at constant speed; so the run-down, after the last
//     nominal angle, keeps the speed for that allowance plus one step and
//     then ramps: run_down = ceil((allowance·v + d_acc)/|step| + 1.5)·|step|.
//     So the N frames span N·|step| (the nominal range plus one step) at
//     constant speed, beginning between camera_start (½ step before the
//     first nominal angle) and allowance·v after it; their angles are the
//     interpolated RBV's, not the nominal ones (which only size the scan).
//     Soft limits of run_up_start and run_down_end, EGU degrees, flats as
//     above. Durations: run_up_s and run_down_s as the fly scan's;
//     projections_s = N·frame_time (the camera's N frames); the rest as the
//     fly scan's. The PandA, counts and the encoder are not checked.
//
// Example:
//   const auto r = scan::plan_fly(config, motor, camera);
//   if (!r.plan) for (const auto& why : r.refusals) fmt::print("refused: {}\n", why);
//   else fmt::print("{}", scan::describe(*r.plan, config, panda_fields));
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_machine.hpp"
#include "pandafly/scan/trigger_geometry.hpp"

namespace pandafly::scan {

/// What the shell reads from the rotation motor record before planning
/// (field names in the comments). Positions in EGU (user unless "dial").
struct MotorFacts {
  double velo = 0;       ///< VELO, EGU/s
  double vmax = 0;       ///< VMAX (0: no upper bound)
  double vbas = 0;       ///< VBAS
  double accl = 0;       ///< ACCL, seconds from VBAS to VELO
  double hlm = 0;        ///< HLM (user)
  double llm = 0;        ///< LLM (user)
  double dhlm = 0;       ///< DHLM (dial); DHLM = DLLM = 0: no soft limits
  double dllm = 0;       ///< DLLM (dial)
  double mres = 0;       ///< MRES, EGU per motor step
  double rdbd = 0;       ///< RDBD, EGU: the record's retry deadband (0: none)
  double eres = 0;       ///< ERES, EGU per encoder step (0: none / not read)
  std::string egu;       ///< EGU
  bool dir_neg = false;  ///< DIR = Neg
  double rbv = 0;        ///< RBV (user), where the stage is now
};

/// What the shell reads from the camera (cam PVs Model_RBV, DataType_RBV,
/// SizeX_RBV, SizeY_RBV).
struct CameraFacts {
  std::string model;
  std::string data_type;  ///< NDDataType name, e.g. "UInt16"
  std::int64_t size_x = 0;
  std::int64_t size_y = 0;
};

struct PlanDurations {
  double to_start_s = 0;  ///< from RBV to the run-up start at VELO
  double settle_s = 0;
  double darks_s = 0;
  double flats_s = 0;
  double run_up_s = 0;       ///< run-up start → trigger 0
  double projections_s = 0;  ///< trigger 0 → last trigger
  double run_down_s = 0;     ///< last trigger → run-down end (stopped)
  double return_s = 0;       ///< run-down end → scan start (return_to_start)
  double total_s = 0;
};

struct ScanPlan {
  ScanKind kind = ScanKind::fly;  ///< step: plan_step() (no geometry, run-up or PandA)
  std::uint64_t projections = 0;
  double first_deg = 0;  ///< planned angle of trigger 0 (snapped to counts)
  double step_deg = 0;   ///< signed (snapped to counts)
  [[nodiscard]] double angle(std::uint64_t k) const {
    return first_deg + static_cast<double>(k) * step_deg;
  }
  [[nodiscard]] double last_deg() const { return angle(projections - 1); }
  /// Encoder position of trigger k: geometry.first_counts + k·step_counts.
  [[nodiscard]] std::int64_t trigger_counts(std::uint64_t k) const {
    return geometry.first_counts + static_cast<std::int64_t>(k) * geometry.step_counts;
  }

  TriggerGeometry geometry;
  double exposure_s = 0;
  double readout_s = 0;
  std::string readout_from;  ///< which table row (or the default) gave readout_s
  double frame_time_s = 0;
  double speed_deg_s = 0;          ///< > 0
  double acceleration_deg_s2 = 0;  ///< (v − VBAS)/ACCL
  double accel_time_s = 0;         ///< ACCL
  double accel_distance_deg = 0;   ///< d_acc
  double run_up_deg = 0;           ///< ≥ 0, before trigger 0
  double run_down_deg = 0;         ///< ≥ 0, after the last trigger
  double run_up_start_deg = 0;
  double run_down_end_deg = 0;
  /// kind cont: the camera starts once the stage has passed this (Rules: plan_cont).
  double camera_start_deg = 0;
  /// kind cont: the camera's frame rate as read (GC_AcqResFrameRate_RBV); 0 otherwise.
  double frame_rate_hz = 0;
  /// The stage's travel during one exposure (exposure·v): the measured mean
  /// angle of projection k is about angle(k) + dir·half of this.
  double exposure_travel_deg = 0;
  std::uint64_t darks_before = 0, darks_after = 0;
  std::uint64_t flats_before = 0, flats_after = 0;
  PlanDurations durations;
  std::vector<std::string> notes;  ///< = PlanResult::notes (describe prints them)
};

struct PlanResult {
  std::optional<ScanPlan> plan;       ///< set iff refusals is empty
  std::vector<std::string> refusals;  ///< every reason the scan cannot work
  std::vector<std::string> notes;     ///< worth saying, not blocking (e.g. step snapped)
};

/// The readout for `camera` from the table (Rules), and a description of
/// where it came from.
[[nodiscard]] std::pair<double, std::string> readout_for(const CameraConfig& table,
                                                         const CameraFacts& camera);

/// The encoder reading the scan file expects at user angle `deg`:
/// deg·counts_per_degree + encoder_offset_counts. The shell compares it with
/// the PandA's encoder at the motor's RBV before the scan (the plan cannot:
/// where the encoder's zero lies is not a motor record field).
[[nodiscard]] double expected_counts(const RotationConfig& rotation, double deg);

/// True for the EGU strings that name degrees (Rules).
[[nodiscard]] bool egu_is_degrees(std::string_view egu);

/// `sample_motor`: flats.sample_motor's facts when flats are taken (its soft
/// limits are checked and its moves timed); nullopt: neither.
[[nodiscard]] PlanResult plan_fly(const ScanConfig& config, const MotorFacts& motor,
                                  const CameraFacts& camera,
                                  const std::optional<MotorFacts>& sample_motor = std::nullopt);

/// A step scan's plan (Rules: plan_step).
[[nodiscard]] PlanResult plan_step(const ScanConfig& config, const MotorFacts& motor,
                                   const CameraFacts& camera,
                                   const std::optional<MotorFacts>& sample_motor = std::nullopt);

/// plan_cont's allowance (s) from the stage passing camera_start to the
/// camera's first exposure (Rules: plan_cont).
inline constexpr double kContStartAllowanceS = 0.5;

/// A continuous scan's plan (Rules: plan_cont); `frame_rate_hz` is the
/// camera's GC_AcqResFrameRate_RBV read after the exposure was set.
[[nodiscard]] PlanResult plan_cont(const ScanConfig& config, const MotorFacts& motor,
                                   const CameraFacts& camera,
                                   const std::optional<MotorFacts>& sample_motor,
                                   double frame_rate_hz);

/// (field, value) pairs to print, e.g. scan::fly_panda_fields()'s result.
using FieldList = std::vector<std::pair<std::string, std::string>>;

/// The dry-run text: speed, run-up/run-down, trigger positions in counts and
/// degrees (first, last, step; every one when ≤ 20), the PandA fields given,
/// expected durations. Lines end with '\n'.
[[nodiscard]] std::string describe(const ScanPlan& plan, const ScanConfig& config,
                                   const FieldList& panda_fields = {});

/// The refusal text: one "  - reason" line per refusal under a heading.
[[nodiscard]] std::string describe_refusal(const PlanResult& result, ScanKind kind = ScanKind::fly);

}  // namespace pandafly::scan
