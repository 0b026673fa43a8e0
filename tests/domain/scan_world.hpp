#pragma once
// ScanWorld: the beamline as the fly-scan state machine sees it, in simulated
// time, for domain tests. It carries out scan::ScanMachine's commands with
// plausible timing (a motor at constant speed, a camera that delivers a frame
// `exposure + readout` after each trigger, a PandA row at each exposure's end)
// and injects faults. For a continuous scan (kind cont) the camera
// free-runs once started (a frame every frame time), rotation moves can
// follow the motor record's trapezoid (Faults::ramp) and each projection's
// exposure is recorded with the stage's position and speed. It knows nothing of sockets or files;
// it is the environment model, not a second implementation of the scan: the scan's decisions are
// checked against what the world was told to do.
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "pandafly/scan/scan_machine.hpp"

namespace pandafly::scan::testing {

struct Faults {
  std::set<std::uint64_t> drop_frames;      ///< trigger k's frame never arrives
  std::set<std::uint64_t> missed_triggers;  ///< the camera ignores trigger k (row still comes)
  std::optional<std::uint64_t> panda_lost_after_row;  ///< rows ≥ this never come; data lost
  std::optional<std::pair<double, double>>
      camera_stall;                      ///< [from, to) s: no frames, triggers missed
  std::optional<double> motor_stall_at;  ///< rotation jams at this angle
  std::optional<double> hard_limit_at;   ///< rotation high limit switch here
  bool soft_limit_run_up = false;        ///< the run-up target is beyond a soft limit (LVIO)
  std::optional<double> interrupt_at;    ///< Ctrl-C at this time
  std::optional<double> interrupt2_at;   ///< a second one
  std::optional<double> writer_failure_at;
  std::string hang;                ///< a command kind that never completes ("ArmPanda", …)
  std::string refuse;              ///< a command kind that fails ("PutPandaFields", …)
  std::string cleanup_hang;        ///< a command kind that never completes once cleanup began
  double slow = 1;                 ///< the rotation moves this many times slower than commanded
  double rbv_period = 0;           ///< > 0: MotorStatus position updates this often while moving
  double trigger_latency = 0.002;  ///< s from TriggerCamera to its completion
  /// Rotation moves ramp from 0 to the speed in ACCL (seq.acceleration_time)
  /// and back down (the motor record's trapezoid with VBAS 0), instead of
  /// running at full speed from the start.
  bool ramp = false;
  bool soft_limit_scan_move = false;  ///< kind cont: the scan move is refused (LVIO)
  bool frozen_scan_move = false;      ///< kind cont: the scan move is accepted, never moves
  /// Every rotation move ends this far (EGU) short of its target, no switch
  /// active: a motor that gave up outside its deadband.
  double rotation_miss = 0;
};

/// A continuous scan's projection exposure as the world made it.
struct Exposure {
  double t0 = 0, t1 = 0;    ///< s
  double from = 0, to = 0;  ///< the stage's position at t0 and t1
  bool at_speed = false;    ///< at the scan speed (constant) from t0 to t1
};

/// A scan of n projections from a0 in steps of `step` degrees.
struct Geometry {
  std::uint64_t n = 0;
  double a0 = 0;
  double step = 0;
};

class ScanWorld {
 public:
  ScanWorld(ScanSequence seq, Geometry g, Faults f = {})
      : seq_(std::move(seq)),
        g_(g),
        f_(std::move(f)),
        speed_(seq_.normal_speed),
        pos_(seq_.start_position) {
    if (f_.interrupt_at) at(*f_.interrupt_at, Interrupted{"interrupted by SIGINT"});
    if (f_.interrupt2_at) at(*f_.interrupt2_at, Interrupted{"interrupted by SIGINT"});
    if (f_.writer_failure_at) at(*f_.writer_failure_at, Failure{"writer: disk full"});
  }

  /// Runs the scan to its end (or throws after `max_steps` events).
  void run(ScanMachine& scan, std::size_t max_steps = 1000000) {
    scan.start(now_);
    for (std::size_t i = 0; !scan.finished(); ++i) {
      if (i == max_steps) throw std::runtime_error("the scan did not finish");
      for (auto& c : scan.take_commands()) execute(c);
      const auto d = scan.deadline();
      const bool have_event = !pending_.empty();
      if (!have_event && !d) throw std::runtime_error("no event and no deadline: the scan hangs");
      if (have_event && (!d || pending_.begin()->first <= *d)) {
        auto it = pending_.begin();
        now_ = std::max(now_, it->first);
        Event e = std::move(it->second.event);
        pending_.erase(it);
        scan.handle(e, now_);
      } else {
        now_ = std::max(now_, *d);
        scan.handle(Tick{}, now_);
      }
    }
    for (auto& c : scan.take_commands()) execute(c);  // nothing may follow the end
  }

  [[nodiscard]] double now() const { return now_; }
  [[nodiscard]] const std::vector<Command>& log() const { return log_; }
  /// When log()[i] was issued.
  [[nodiscard]] const std::vector<double>& issue_times() const { return issued_at_; }
  [[nodiscard]] std::vector<std::string> kinds() const {
    std::vector<std::string> k;
    for (auto& c : log_) k.push_back(kind(c.body));
    return k;
  }
  [[nodiscard]] std::size_t count(const std::string& k) const {
    std::size_t n = 0;
    for (auto& c : log_) n += kind(c.body) == k;
    return n;
  }
  /// When the first command of kind `k` was issued (infinity: never).
  [[nodiscard]] double first_issue(const std::string& k) const {
    for (std::size_t i = 0; i < log_.size(); ++i)
      if (kind(log_[i].body) == k) return issued_at_[i];
    return HUGE_VAL;
  }
  [[nodiscard]] double position() const { return pos_; }
  [[nodiscard]] double speed() const { return speed_; }
  [[nodiscard]] bool armed() const { return armed_; }
  [[nodiscard]] bool acquiring() const { return acquiring_; }
  [[nodiscard]] std::uint64_t rows() const { return rows_sent_; }
  [[nodiscard]] std::uint64_t frames() const { return frames_sent_; }
  [[nodiscard]] const std::vector<double>& trigger_angles() const { return trigger_angles_; }
  [[nodiscard]] std::uint64_t acquire_while_busy() const { return acquire_while_busy_; }
  [[nodiscard]] const std::vector<std::pair<FrameKind, FrameKind>>& field_triggers() const {
    return field_triggers_;
  }
  [[nodiscard]] std::optional<CloseFile> closed() const { return closed_; }
  [[nodiscard]] double closed_at() const { return closed_at_; }
  [[nodiscard]] double scan_move_end() const { return scan_move_end_; }
  /// kind cont: each projection frame's exposure, in order.
  [[nodiscard]] const std::vector<Exposure>& exposures() const { return exposures_; }
  /// kind cont: where the stage was, and whether at the scan speed, when the
  /// projections' StartCamera was issued.
  [[nodiscard]] std::optional<std::pair<double, bool>> camera_started_at() const {
    return camera_started_at_;
  }

  static std::string kind(const CommandBody& b) {
    static const char* names[] = {
        "SetShutter", "SetFrameType",   "ConfigureCamera", "StartCamera", "TriggerCamera",
        "StopCamera", "PutPandaFields", "ArmPanda",        "DisarmPanda", "SetSpeed",
        "Move",       "StopMotor",      "CloseFile"};
    static_assert(std::size(names) == std::variant_size_v<CommandBody>);
    return names[b.index()];
  }

 private:
  struct Pending {
    Event event;
    std::uint64_t move = 0;  ///< the move whose triggers made it (0: none)
    double trigger_time = 0;
    bool free_run = false;  ///< a free-running camera's frame (StopCamera cancels it)
  };

  void at(double t, Event e, std::uint64_t move = 0, double trigger_time = 0,
          bool free_run = false) {
    pending_.emplace(t, Pending{std::move(e), move, trigger_time, free_run});
  }
  void done(const Command& c, double latency = 0.002) { at(now_ + latency, StepDone{c.id}); }

  void execute(const Command& c) {
    if (closed_) throw std::runtime_error("a command after CloseFile: " + kind(c.body));
    log_.push_back(c);
    issued_at_.push_back(now_);
    const std::string k = kind(c.body);
    if (k == "StopMotor") cleaning_ = true;  // only the cleanup stops motors
    if (cleaning_ && k == f_.cleanup_hang) return;
    if (!cleaning_ && k == f_.hang) return;
    if (!cleaning_ && k == f_.refuse) {
      at(now_ + 0.002, StepFailed{c.id, "refused by the device"});
      return;
    }
    std::visit([&](const auto& body) { apply(c, body); }, c.body);
  }

  void apply(const Command& c, const SetShutter& s) {
    shutter_open_ = s.open;
    done(c, 0.5);
  }
  void apply(const Command& c, const SetFrameType& s) {
    frame_type_ = s.kind;
    done(c);
  }
  void apply(const Command& c, const ConfigureCamera& s) {
    trigger_ = s.trigger;
    images_ = s.images;
    done(c);
  }
  void apply(const Command& c, const StartCamera&) {
    acquiring_ = true;
    done(c);
    if (trigger_ == Trigger::internal && seq_.kind == ScanKind::cont &&
        frame_type_ == FrameKind::projection) {
      free_run();
      return;
    }
    if (trigger_ == Trigger::internal) {
      for (std::uint64_t i = 0; i < images_; ++i)
        at(now_ + static_cast<double>(i + 1) * seq_.frame_time, FrameArrived{frame_type_});
      frames_sent_ += images_;
    }
  }
  /// kind cont's projections: frame i exposed over [i·ft, i·ft + exposure]
  /// after the start, delivered at (i + 1)·ft; the stage's motion then noted.
  void free_run() {
    const double v = speed_ / f_.slow;
    camera_started_at_ = {move_pos(now_), std::abs(move_speed(now_) - v) < 1e-9};
    for (std::uint64_t i = 0; i < images_; ++i) {
      const double t0 = now_ + static_cast<double>(i) * seq_.frame_time;
      const double t1 = t0 + seq_.exposure;
      const bool at_speed = std::abs(move_speed(t0) - v) < 1e-9 &&
                            std::abs(move_speed(t1) - v) < 1e-9 &&
                            t1 <= move_t1_ - (f_.ramp ? ramp_time_ : 0);
      exposures_.push_back({t0, t1, move_pos(t0), move_pos(t1), at_speed});
      if (f_.drop_frames.count(i)) continue;
      at(now_ + static_cast<double>(i + 1) * seq_.frame_time, FrameArrived{frame_type_}, 0, 0,
         true);
      ++frames_sent_;
    }
  }
  /// The rotation's position at time t on the current (or last) move.
  [[nodiscard]] double move_pos(double t) const {
    if (!moving_ && !f_.ramp) return pos_;
    if (t <= move_t0_) return move_from_;
    if (t >= move_t1_) return move_to_;
    const double dir = move_to_ >= move_from_ ? 1.0 : -1.0;
    const double tt = t - move_t0_, total = move_t1_ - move_t0_;
    if (!f_.ramp) return move_from_ + dir * move_v_ * tt;
    const double a = move_v_ / ramp_time_;  // the peak speed over the ramp time
    double d = 0;
    if (tt < ramp_time_) {
      d = 0.5 * a * tt * tt;
    } else if (tt <= total - ramp_time_) {
      d = 0.5 * a * ramp_time_ * ramp_time_ + move_v_ * (tt - ramp_time_);
    } else {
      const double r = total - tt;
      d = std::abs(move_to_ - move_from_) - 0.5 * a * r * r;
    }
    return move_from_ + dir * d;
  }
  /// The rotation's speed (≥ 0) at time t on the current (or last) move.
  [[nodiscard]] double move_speed(double t) const {
    if (t <= move_t0_ || t >= move_t1_) return 0;
    const double tt = t - move_t0_, total = move_t1_ - move_t0_;
    if (!f_.ramp) return move_v_;
    const double a = move_v_ / ramp_time_;
    if (tt < ramp_time_) return a * tt;
    if (tt <= total - ramp_time_) return move_v_;
    return a * (total - tt);
  }
  /// A step scan's software trigger: the frame comes exposure + 2 ms later
  /// (before the trigger's completion when trigger_latency says so); the
  /// stage's position at the trigger is noted as a trigger angle.
  /// A dark or flat trigger (ScanSequence::triggered_fields) makes a frame of
  /// the camera's frame type likewise; drop_frames and trigger_angles are
  /// about projections only.
  /// In single image (Trigger::single) each TriggerCamera is an Acquire: it
  /// completes when the acquisition ended (exposure + 1 ms readout), the
  /// frame comes 1 ms later (the plugin); an Acquire while one is still
  /// running makes no frame (counted: a defect of the sequence).
  void apply(const Command& c, const TriggerCamera& t) {
    if (trigger_ == Trigger::single) {
      if (now_ < single_busy_until_) {
        ++acquire_while_busy_;
        done(c, single_busy_until_ - now_);
        return;
      }
      single_busy_until_ = now_ + seq_.exposure + 0.001;
      done(c, seq_.exposure + 0.001);
    } else {
      done(c, f_.trigger_latency);
      if (!acquiring_ || trigger_ != Trigger::software) return;
    }
    const bool projection = frame_type_ == FrameKind::projection;
    if (projection)
      trigger_angles_.push_back(now_ < move_t1_ ? HUGE_VAL : pos_);  // while moving: a defect
    else
      field_triggers_.push_back({t.kind, frame_type_});
    const bool stalled =
        f_.camera_stall && now_ >= f_.camera_stall->first && now_ < f_.camera_stall->second;
    if ((projection && f_.drop_frames.count(t.point)) || stalled) return;
    at(now_ + seq_.exposure + 0.002, FrameArrived{frame_type_});
    ++frames_sent_;
  }
  void apply(const Command& c, const StopCamera&) {
    acquiring_ = false;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.free_run && it->first > now_) {
        --frames_sent_;
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    done(c);
  }
  void apply(const Command& c, const PutPandaFields&) { done(c, 0.01); }
  void apply(const Command& c, const ArmPanda&) {
    armed_ = true;
    done(c);
  }
  void apply(const Command& c, const DisarmPanda&) {
    armed_ = false;
    done(c);
  }
  void apply(const Command& c, const SetSpeed& s) {
    if (s.axis == Axis::rotation) speed_ = s.speed;
    done(c);
  }
  void apply(const Command& c, const StopMotor& s) {
    if (s.axis == Axis::rotation && moving_) {
      // Everything the move would still have caused after now is cancelled.
      for (auto it = pending_.begin(); it != pending_.end();) {
        const bool of_move = it->second.move == moving_;
        const bool later =
            it->second.trigger_time > now_ || std::holds_alternative<MoveDone>(it->second.event);
        it = of_move && later ? pending_.erase(it) : std::next(it);
      }
      pos_ = f_.ramp ? move_pos(now_)
                     : move_from_ + (move_to_ - move_from_) *
                                        std::min(1.0, (now_ - move_t0_) /
                                                          std::max(1e-9, move_t1_ - move_t0_));
      if (stall_pos_) pos_ = *stall_pos_;
      moving_ = 0;
    }
    done(c, 0.05);
  }
  void apply(const Command& c, const CloseFile& s) {
    closed_ = s;
    closed_at_ = now_;
    done(c, 0.05);
  }
  void apply(const Command& c, const Move& m) {
    if (m.axis == Axis::sample) {
      at(now_ + std::abs(m.position - sample_) / seq_.sample_speed + 0.01,
         MoveDone{c.id, m.position, false, false, false});
      sample_ = m.position;
      return;
    }
    const bool run_up = std::abs(m.position - seq_.run_up_start) < 1e-12 && !armed_;
    if (run_up && f_.soft_limit_run_up) {  // the record refuses: completes at once, no motion
      at(now_ + 0.001, MoveDone{c.id, pos_, false, false, true});
      return;
    }
    const bool scan_move = seq_.kind == ScanKind::cont &&
                           std::abs(m.position - seq_.run_down_end) < 1e-12 &&
                           std::abs(speed_ - seq_.scan_speed) < 1e-12;
    if (scan_move && f_.soft_limit_scan_move) {
      at(now_ + 0.001, MoveDone{c.id, pos_, false, false, true});
      return;
    }
    if (scan_move && f_.frozen_scan_move) return;
    const double from = pos_, dir = m.position >= from ? 1.0 : -1.0;
    double to = m.position - dir * f_.rotation_miss;
    std::optional<double> stop_at;
    bool limit = false;
    if (f_.hard_limit_at && dir * (*f_.hard_limit_at - from) > 0 &&
        dir * (to - *f_.hard_limit_at) > 0) {
      to = *f_.hard_limit_at;
      limit = true;
    }
    if (f_.motor_stall_at && dir * (*f_.motor_stall_at - from) > 0 &&
        dir * (to - *f_.motor_stall_at) > 0) {
      stop_at = *f_.motor_stall_at;
      to = *stop_at;
    }
    moving_ = c.id;
    move_from_ = from;
    move_to_ = to;
    move_t0_ = now_;
    const double v = speed_ / f_.slow;
    move_t1_ = now_ + std::abs(to - from) / v;
    move_v_ = v;
    if (f_.ramp) {
      // The trapezoid: d_acc = v·ACCL/2 at each end; too short a move: a triangle.
      const double accl = seq_.acceleration_time, dist = std::abs(to - from);
      ramp_time_ = accl;
      if (dist < v * accl) {
        ramp_time_ = std::sqrt(dist * accl / v);
        move_v_ = v * ramp_time_ / accl;
        move_t1_ = now_ + 2 * ramp_time_;
      } else {
        move_t1_ = now_ + 2 * accl + (dist - v * accl) / v;
      }
    }
    if (f_.rbv_period > 0) {
      for (double t = now_ + f_.rbv_period; t < move_t1_; t += f_.rbv_period)
        at(t,
           MotorStatus{Axis::rotation, f_.ramp ? move_pos(t) : from + dir * v * (t - now_), false},
           c.id, t);
    }
    if (scan_move) scan_move_end_ = move_t1_;
    if (armed_ && acquiring_ && trigger_ == Trigger::external) {
      scan_triggers(c.id, from, to, dir);
      scan_move_end_ = move_t1_;
    }
    if (stop_at) {
      stall_pos_ = stop_at;
      at(move_t1_ + 0.1, MotorStatus{Axis::rotation, *stop_at, true}, c.id, move_t1_);
    } else {
      at(move_t1_, MoveDone{c.id, to, limit, false, false}, c.id, move_t1_);
      pos_ = to;
    }
  }

  void scan_triggers(std::uint64_t move, double from, double to, double dir) {
    for (std::uint64_t k = 0; k < g_.n; ++k) {
      const double a = g_.a0 + static_cast<double>(k) * g_.step;
      if (dir * (a - from) < 0 || dir * (to - a) < 0) continue;
      const double t = now_ + std::abs(a - from) / (speed_ / f_.slow);
      trigger_angles_.push_back(a);
      if (!f_.panda_lost_after_row || k < *f_.panda_lost_after_row) {
        at(t + seq_.exposure, RowArrived{}, move, t);
        ++rows_sent_;
      } else if (k == *f_.panda_lost_after_row) {
        at(t + seq_.exposure, PandaDataLost{"connection closed by the PandA"}, move, t);
      }
      const bool stalled =
          f_.camera_stall && t >= f_.camera_stall->first && t < f_.camera_stall->second;
      if (f_.missed_triggers.count(k) || stalled || f_.drop_frames.count(k)) continue;
      at(t + seq_.exposure + 0.002, FrameArrived{FrameKind::projection}, move, t);
      ++frames_sent_;
    }
  }

  ScanSequence seq_;
  Geometry g_;
  Faults f_;
  double now_ = 0;
  std::multimap<double, Pending> pending_;
  std::vector<Command> log_;
  std::vector<double> issued_at_;
  double speed_;
  double pos_;
  double sample_ = 0;
  bool shutter_open_ = false;
  FrameKind frame_type_ = FrameKind::projection;
  double single_busy_until_ = -1;  ///< Trigger::single: the acquisition running until
  std::uint64_t acquire_while_busy_ = 0;
  /// Each dark/flat TriggerCamera: the kind it named and the camera's frame type then.
  std::vector<std::pair<FrameKind, FrameKind>> field_triggers_;
  Trigger trigger_ = Trigger::internal;
  std::uint64_t images_ = 0;
  bool acquiring_ = false, armed_ = false, cleaning_ = false;
  std::uint64_t moving_ = 0;
  double move_from_ = 0, move_to_ = 0, move_t0_ = 0, move_t1_ = 0;
  double move_v_ = 0;     ///< the move's (peak) speed
  double ramp_time_ = 0;  ///< Faults::ramp: the move's ramp time at each end
  std::vector<Exposure> exposures_;
  std::optional<std::pair<double, bool>> camera_started_at_;
  std::optional<double> stall_pos_;
  std::uint64_t rows_sent_ = 0, frames_sent_ = 0;
  std::vector<double> trigger_angles_;
  std::optional<CloseFile> closed_;
  double closed_at_ = 0;
  double scan_move_end_ = 0;
};

}  // namespace pandafly::scan::testing
