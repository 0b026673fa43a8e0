// plan_fly(): the fly scan's plan from the scan file and the motor's and
// camera's facts (rules in include/pandafly/scan/plan.hpp).
#include "pandafly/scan/plan.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace pandafly::scan {
namespace {

// ceil() that forgives the last bits of rounding: d_acc/step + 0.5 that is an
// integer on paper must not become the next one.
double ceil_steps(double x) {
  return std::ceil(x - 1e-9);
}

bool fits_panda_position(double counts) {
  return counts >= static_cast<double>(std::numeric_limits<std::int32_t>::min()) &&
         counts <= static_cast<double>(std::numeric_limits<std::int32_t>::max());
}

// A positioning move of the motor record: |Δ|/VELO + 2·ACCL (channel-access.md
// §5.1, exact for VBAS = 0); nothing when the stage is already there.
double move_time(double from, double to, double velo, double accl) {
  const double d = std::abs(to - from);
  if (d == 0 || velo <= 0) return 0;
  return d / velo + 2 * std::max(accl, 0.0);
}

class Planner {
 public:
  Planner(const ScanConfig& c, const MotorFacts& m, const CameraFacts& cam,
          const std::optional<MotorFacts>& sample)
      : c_(c), m_(m), cam_(cam), sample_(sample) {}

  PlanResult run_step() {
    p_.kind = ScanKind::step;
    check_camera();
    frame_time();
    const auto& s = c_.scan;
    p_.projections = s.projections;
    p_.first_deg = s.start_deg;
    p_.step_deg = s.step_deg;
    p_.speed_deg_s = m_.velo;
    p_.accel_time_s = std::max(m_.accl, 0.0);
    p_.run_up_start_deg = p_.first_deg;
    p_.run_down_end_deg = p_.last_deg();
    if (!(m_.velo > 0))
      refuse(
          fmt::format("motor: VELO {} deg/s: the moves between points need a speed > 0", m_.velo));
    check_limits("first point", "last point");
    check_units();
    frames();
    check_sample();
    auto& d = p_.durations;
    const double velo = m_.velo > 0 ? m_.velo : 1;
    d.to_start_s = move_time(m_.rbv, p_.first_deg, velo, m_.accl);
    d.darks_s = static_cast<double>(p_.darks_before + p_.darks_after) * p_.frame_time_s;
    d.flats_s =
        static_cast<double>(p_.flats_before + p_.flats_after) * p_.frame_time_s + sample_moves_s();
    const double per_move = move_time(0, p_.step_deg, velo, m_.accl) + s.settle_s;
    d.projections_s = static_cast<double>(p_.projections - 1) * per_move +
                      static_cast<double>(p_.projections) * p_.frame_time_s;
    d.return_s = s.return_to_start ? move_time(p_.last_deg(), p_.first_deg, velo, m_.accl) : 0;
    d.total_s = d.to_start_s + d.darks_s + d.flats_s + d.projections_s + d.return_s;
    p_.notes = r_.notes;
    if (r_.refusals.empty()) r_.plan = p_;
    return std::move(r_);
  }

  PlanResult run_cont(double rate) {
    p_.kind = ScanKind::cont;
    check_camera();
    check_frames_over_zmq("a continuous scan");
    frame_time();
    const auto& s = c_.scan;
    p_.projections = s.projections;
    p_.first_deg = s.start_deg;
    p_.step_deg = s.step_deg;
    p_.frame_rate_hz = rate;
    if (s.step_deg == 0) refuse("scan: step 0°: a continuous scan needs the stage to move");
    const bool rate_ok = std::isfinite(rate) && rate > 0;
    if (!rate_ok) {
      refuse(fmt::format(
          "camera: frame rate {} frames/s (GC_AcqResFrameRate_RBV): a continuous scan needs the "
          "camera's rate > 0",
          rate));
    } else if (rate * p_.exposure_s > 1 + 1e-9) {
      refuse(fmt::format(
          "camera: frame rate {:.6g} frames/s is faster than 1/exposure = {:.6g} frames/s: the "
          "camera cannot expose {:.6g} s that often (AcquireTime not applied?)",
          rate, 1 / p_.exposure_s, p_.exposure_s));
    } else {
      const double planned = p_.frame_time_s;
      p_.frame_time_s = 1 / rate;
      if (std::abs(p_.frame_time_s - planned) > 0.01 * planned)
        r_.notes.push_back(fmt::format(
            "the camera runs at {:.6g} frames/s (frame time {:.6g} s), not 1/(exposure + readout "
            "+ margin) = {:.6g} frames/s: its rate is used",
            rate, p_.frame_time_s, 1 / planned));
    }
    if (rate_ok && s.step_deg != 0 && p_.exposure_s * rate <= 1 + 1e-9) {
      cont_kinematics();
      check_motor_speed();
      check_limits();
    }
    check_units();
    frames();
    check_sample();
    if (r_.refusals.empty()) cont_durations();
    p_.notes = r_.notes;
    if (r_.refusals.empty()) r_.plan = p_;
    return std::move(r_);
  }

  PlanResult run() {
    check_camera();
    check_frames_over_zmq("a fly scan");
    frame_time();
    counts();
    if (p_.geometry.step_counts != 0) {
      kinematics();
      check_motor_speed();
      check_limits();
      check_positions_fit();
    }
    check_units();
    check_encoder();
    frames();
    check_sample();
    if (p_.geometry.step_counts != 0) durations();
    p_.notes = r_.notes;
    if (r_.refusals.empty()) r_.plan = p_;
    return std::move(r_);
  }

 private:
  void refuse(std::string why) { r_.refusals.push_back(std::move(why)); }

  // Frames over Channel Access cost a read per frame (hundreds of ms for a
  // full one): a free-running or triggered stream must come over ZMQ.
  void check_frames_over_zmq(std::string_view scan) {
    if (c_.camera.frames == FrameSource::ca)
      refuse(
          fmt::format("camera.frames = \"ca\": {} takes its frames over ZMQ (camera.zmq); "
                      "frames over Channel Access are for step scans",
                      scan));
  }

  void check_camera() {
    if (c_.shutter.command.empty() && c_.darks.count > 0 && c_.darks.when != When::none)
      refuse(
          "darks: no shutter to close (shutter.command is \"\"): take no darks, or name the "
          "shutter");
    if (!c_.camera.model.empty() && cam_.model != c_.camera.model)
      refuse(fmt::format(
          "camera: the readout table is for model \"{}\" (camera.model) but the camera is \"{}\"",
          c_.camera.model, cam_.model));
  }

  void frame_time() {
    auto [readout, from] = readout_for(c_.camera, cam_);
    p_.exposure_s = c_.scan.exposure_s;
    p_.readout_s = readout;
    p_.readout_from = std::move(from);
    p_.frame_time_s = p_.exposure_s + p_.readout_s + c_.camera.readout_margin_s;
  }

  void counts() {
    const auto& s = c_.scan;
    const double cpd = c_.rotation.counts_per_degree;
    const std::int64_t offset = c_.rotation.encoder_offset_counts;
    const double step_counts = std::round(s.step_deg * cpd);
    const double first_counts = std::round(s.start_deg * cpd) + static_cast<double>(offset);
    p_.projections = s.projections;
    if (step_counts == 0) {
      refuse(fmt::format("scan: step {}° is less than half an encoder count ({} counts/degree)",
                         s.step_deg, cpd));
      return;
    }
    if (!fits_panda_position(first_counts) ||
        !fits_panda_position(first_counts + static_cast<double>(s.projections - 1) * step_counts)) {
      refuse(fmt::format(
          "scan: triggers at {} … {} counts lie outside the PandA's 32-bit positions", first_counts,
          first_counts + static_cast<double>(s.projections - 1) * step_counts));
      return;
    }
    auto& g = p_.geometry;
    g.first_counts = static_cast<std::int64_t>(first_counts);
    g.step_counts = static_cast<std::int64_t>(step_counts);
    g.pulses = s.projections;
    g.counts_per_degree = cpd;
    g.offset_counts = offset;
    p_.first_deg = (first_counts - static_cast<double>(offset)) / cpd;
    p_.step_deg = step_counts / cpd;
    if (std::abs(step_counts - s.step_deg * cpd) > 1e-6)
      r_.notes.push_back(fmt::format(
          "step {:.10g}° is {:.10g} counts: snapped to {} counts = {:.10g}° (last angle {:.10g}°)",
          s.step_deg, s.step_deg * cpd, g.step_counts, p_.step_deg, p_.last_deg()));
    if (std::abs(std::round(s.start_deg * cpd) - s.start_deg * cpd) > 1e-6)
      r_.notes.push_back(fmt::format("start {:.10g}° snapped to the nearest count: {:.10g}°",
                                     s.start_deg, p_.first_deg));
    if (std::abs(p_.last_deg() - s.end_deg) > 0.5 / cpd)
      r_.notes.push_back(fmt::format("the last projection is at {:.10g}°, not at end {:.10g}°",
                                     p_.last_deg(), s.end_deg));
  }

  // The speed |step|/frame time, the record's ramp and the run-up before the
  // first angle (shared by the fly and the continuous scan); run-down after
  // the last: `extra_deg` at speed beyond the ramp, rounded up to steps + `margin_steps`.
  void ramp(double extra_deg, double margin_steps) {
    const double step = std::abs(p_.step_deg);
    const double dir = p_.step_deg > 0 ? 1.0 : -1.0;
    const double accl = std::max(m_.accl, 0.0);
    p_.speed_deg_s = step / p_.frame_time_s;
    const double v = p_.speed_deg_s;
    p_.accel_time_s = accl;
    p_.acceleration_deg_s2 = accl > 0 ? (v - m_.vbas) / accl : 0;
    p_.accel_distance_deg = (m_.vbas + v) / 2 * accl;
    p_.exposure_travel_deg = p_.exposure_s * v;
    p_.run_up_deg = ceil_steps(p_.accel_distance_deg / step + 0.5) * step;
    p_.run_down_deg = ceil_steps((extra_deg + p_.accel_distance_deg) / step + margin_steps) * step;
    p_.run_up_start_deg = p_.first_deg - dir * p_.run_up_deg;
    p_.run_down_end_deg = p_.last_deg() + dir * p_.run_down_deg;
  }

  void kinematics() {
    ramp(p_.exposure_s * std::abs(p_.step_deg) / p_.frame_time_s, 0.5);
    // PCOMP must see the encoder before trigger 0 first: half a step, which
    // the stage passes at full speed (the run-up is at least d_acc + ½ step).
    p_.geometry.pre_start_counts = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(
               std::llround(std::abs(static_cast<double>(p_.geometry.step_counts)) / 2)));
    p_.geometry.exposure_s = p_.exposure_s;
    p_.geometry.frame_time_s = p_.frame_time_s;
  }

  // The fly scan's ramp and run-up at v = |step|·rate, the camera's start
  // point and a run-down that covers the start allowance (Rules: plan_cont).
  void cont_kinematics() {
    const double step = std::abs(p_.step_deg);
    const double dir = p_.step_deg > 0 ? 1.0 : -1.0;
    ramp(kContStartAllowanceS * step / p_.frame_time_s, 1.5);
    p_.camera_start_deg = p_.run_up_start_deg + dir * (p_.accel_distance_deg + step / 2);
  }

  void cont_durations() {
    durations();
    p_.durations.projections_s = static_cast<double>(p_.projections) * p_.frame_time_s;
    auto& d = p_.durations;
    d.total_s = d.to_start_s + d.settle_s + d.darks_s + d.flats_s + d.run_up_s + d.projections_s +
                d.run_down_s + d.return_s;
  }

  void check_motor_speed() {
    const double v = p_.speed_deg_s;
    if (m_.vmax > 0 && v > m_.vmax)
      refuse(fmt::format(
          "speed: {:.6g} deg/s (step {:.6g}° per frame time {:.6g} s) exceeds the motor's VMAX "
          "{:.6g} deg/s: take a longer exposure or a smaller step",
          v, std::abs(p_.step_deg), p_.frame_time_s, m_.vmax));
    if (v < m_.vbas)
      refuse(
          fmt::format("speed: {:.6g} deg/s is below the motor's VBAS {:.6g} deg/s (the record "
                      "would run at VBAS, faster than the camera)",
                      v, m_.vbas));
    if (m_.accl <= 0)
      refuse(fmt::format("motor: ACCL {} s: the acceleration time must be > 0", m_.accl));
  }

  void check_limits(std::string_view first = "run-up start",
                    std::string_view last = "run-down end") {
    if (m_.dhlm == 0 && m_.dllm == 0) return;  // the record's "no soft limits"
    const auto check = [&](std::string_view what, double pos) {
      if (pos > m_.hlm)
        refuse(fmt::format("limits: the {} {:.6g}° is above the high soft limit HLM {:.6g}°", what,
                           pos, m_.hlm));
      if (pos < m_.llm)
        refuse(fmt::format("limits: the {} {:.6g}° is below the low soft limit LLM {:.6g}°", what,
                           pos, m_.llm));
    };
    check(first, p_.run_up_start_deg);
    check(last, p_.run_down_end_deg);
  }

  void check_positions_fit() {
    const double cpd = c_.rotation.counts_per_degree;
    const double offset = static_cast<double>(c_.rotation.encoder_offset_counts);
    for (const double deg : {p_.run_up_start_deg, p_.run_down_end_deg})
      if (!fits_panda_position(std::round(deg * cpd) + offset))
        refuse(
            fmt::format("scan: the stage passes {}° = {} counts, outside the PandA's 32-bit "
                        "positions",
                        deg, std::round(deg * cpd) + offset));
  }

  void check_units() {
    if (!egu_is_degrees(m_.egu))
      refuse(
          fmt::format("motor: EGU \"{}\" is not degrees (deg, degree, degrees, °): the scan "
                      "file's angles and counts_per_degree would be wrong",
                      m_.egu));
  }

  void check_encoder() {
    if (!c_.rotation.encoder_is_motor) return;
    const bool eres = m_.eres != 0;
    const double res = std::abs(eres ? m_.eres : m_.mres);
    const char* name = eres ? "ERES" : "MRES";
    const double cpd = c_.rotation.counts_per_degree;
    if (res == 0)
      refuse(
          fmt::format("encoder: MRES is 0: cannot check counts_per_degree {} against the "
                      "motor (rotation.encoder_is_motor = true)",
                      cpd));
    else if (std::abs(cpd * res - 1) > 1e-6)
      refuse(
          fmt::format("encoder: counts_per_degree {} but the motor's {} {} deg gives {:.10g} "
                      "counts/degree (rotation.encoder_is_motor = true)",
                      cpd, name, res, 1 / res));
    if (m_.dir_neg)
      refuse(
          "encoder: the motor's DIR is Neg: user degrees run against the encoder's (dial) counts, "
          "which a positive counts_per_degree cannot describe; set DIR Pos");
  }

  void frames() {
    p_.darks_before = frames_before(c_.darks.count, c_.darks.when);
    p_.darks_after = frames_after(c_.darks.count, c_.darks.when);
    p_.flats_before = frames_before(c_.flats.count, c_.flats.when);
    p_.flats_after = frames_after(c_.flats.count, c_.flats.when);
  }

  // Flats move the sample motor: its out (and in) positions must be reachable.
  void check_sample() {
    if (!sample_ || p_.flats_before + p_.flats_after == 0) return;
    const MotorFacts& m = *sample_;
    if (m.dhlm == 0 && m.dllm == 0) return;
    const auto check = [&](std::string_view key, double pos) {
      if (pos > m.hlm || pos < m.llm)
        refuse(
            fmt::format("flats: {} {} is outside {}'s soft limits [{}, {}] (a move there would "
                        "end at once, unmoved)",
                        key, pos, c_.flats.sample_motor, m.llm, m.hlm));
    };
    check("flats.sample_out", c_.flats.sample_out);
    if (c_.flats.has_sample_in) check("flats.sample_in", c_.flats.sample_in);
  }

  // Each set of flats: the sample out and back, at the sample motor's VELO.
  double sample_moves_s() const {
    if (!sample_) return 0;
    const MotorFacts& m = *sample_;
    const double in = c_.flats.has_sample_in ? c_.flats.sample_in : m.rbv;
    const double sets = (p_.flats_before > 0 ? 1 : 0) + (p_.flats_after > 0 ? 1 : 0);
    return sets * 2 * move_time(in, c_.flats.sample_out, m.velo, m.accl);
  }

  void durations() {
    auto& d = p_.durations;
    const double v = p_.speed_deg_s;
    const double velo = m_.velo > 0 ? m_.velo : v;
    d.to_start_s = move_time(m_.rbv, p_.run_up_start_deg, velo, m_.accl);
    d.settle_s = c_.scan.settle_s;
    d.darks_s = static_cast<double>(p_.darks_before + p_.darks_after) * p_.frame_time_s;
    d.flats_s =
        static_cast<double>(p_.flats_before + p_.flats_after) * p_.frame_time_s + sample_moves_s();
    d.run_up_s = p_.accel_time_s + (p_.run_up_deg - p_.accel_distance_deg) / v;
    d.projections_s = static_cast<double>(p_.projections - 1) * p_.frame_time_s;
    d.run_down_s = (p_.run_down_deg - p_.accel_distance_deg) / v + p_.accel_time_s;
    d.return_s =
        c_.scan.return_to_start ? move_time(p_.run_down_end_deg, p_.first_deg, velo, m_.accl) : 0;
    d.total_s = d.to_start_s + d.settle_s + d.darks_s + d.flats_s + d.run_up_s + d.projections_s +
                d.run_down_s + d.return_s;
  }

  const ScanConfig& c_;
  const MotorFacts& m_;
  const CameraFacts& cam_;
  const std::optional<MotorFacts>& sample_;
  ScanPlan p_;
  PlanResult r_;
};

}  // namespace

std::pair<double, std::string> readout_for(const CameraConfig& table, const CameraFacts& camera) {
  const ReadoutEntry* best = nullptr;
  for (const auto& e : table.readout)
    if (e.data_type == camera.data_type && e.size_y >= camera.size_y &&
        (!best || e.size_y < best->size_y))
      best = &e;
  if (best)
    return {best->readout_time_s, fmt::format("camera.readout {} size_y {} (camera SizeY {})",
                                              best->data_type, best->size_y, camera.size_y)};
  return {table.readout_time_s,
          fmt::format("camera.readout_time (no camera.readout row for {} with size_y ≥ {})",
                      camera.data_type, camera.size_y)};
}

double expected_counts(const RotationConfig& rotation, double deg) {
  return deg * rotation.counts_per_degree + static_cast<double>(rotation.encoder_offset_counts);
}

bool egu_is_degrees(std::string_view egu) {
  std::string s;
  for (const char ch : egu)
    if (ch != ' ') s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  return s == "deg" || s == "degree" || s == "degrees" || s == "°";
}

PlanResult plan_fly(const ScanConfig& config, const MotorFacts& motor, const CameraFacts& camera,
                    const std::optional<MotorFacts>& sample_motor) {
  return Planner(config, motor, camera, sample_motor).run();
}

PlanResult plan_step(const ScanConfig& config, const MotorFacts& motor, const CameraFacts& camera,
                     const std::optional<MotorFacts>& sample_motor) {
  return Planner(config, motor, camera, sample_motor).run_step();
}

PlanResult plan_cont(const ScanConfig& config, const MotorFacts& motor, const CameraFacts& camera,
                     const std::optional<MotorFacts>& sample_motor, double frame_rate_hz) {
  return Planner(config, motor, camera, sample_motor).run_cont(frame_rate_hz);
}

}  // namespace pandafly::scan
