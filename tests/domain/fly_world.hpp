#pragma once
// FlyWorld: the beamline as the fly-scan state machine sees it, in simulated
// time, for domain tests. It carries out scan::ScanMachine's commands with
// plausible timing (a motor at constant speed, a camera that delivers a frame
// `exposure + readout` after each trigger, a PandA row at each exposure's end)
// and injects faults. It knows nothing of sockets or files; it is the
// environment model, not a second implementation of the scan: the scan's
// decisions are checked against what the world was told to do.
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
};

/// A scan of n projections from a0 in steps of `step` degrees.
struct Geometry {
  std::uint64_t n = 0;
  double a0 = 0;
  double step = 0;
};

class FlyWorld {
 public:
  FlyWorld(ScanSequence seq, Geometry g, Faults f = {})
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
  [[nodiscard]] std::optional<CloseFile> closed() const { return closed_; }
  [[nodiscard]] double closed_at() const { return closed_at_; }
  [[nodiscard]] double scan_move_end() const { return scan_move_end_; }

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
  };

  void at(double t, Event e, std::uint64_t move = 0, double trigger_time = 0) {
    pending_.emplace(t, Pending{std::move(e), move, trigger_time});
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
    if (trigger_ == Trigger::internal) {
      for (std::uint64_t i = 0; i < images_; ++i)
        at(now_ + static_cast<double>(i + 1) * seq_.frame_time, FrameArrived{frame_type_});
      frames_sent_ += images_;
    }
  }
  /// A step scan's software trigger: the frame comes exposure + 2 ms later
  /// (before the trigger's completion when trigger_latency says so); the
  /// stage's position at the trigger is noted as a trigger angle.
  void apply(const Command& c, const TriggerCamera& t) {
    done(c, f_.trigger_latency);
    if (!acquiring_ || trigger_ != Trigger::software) return;
    trigger_angles_.push_back(now_ < move_t1_ ? HUGE_VAL : pos_);  // while moving: a defect
    const bool stalled =
        f_.camera_stall && now_ >= f_.camera_stall->first && now_ < f_.camera_stall->second;
    if (f_.drop_frames.count(t.point) || stalled) return;
    at(now_ + seq_.exposure + 0.002, FrameArrived{FrameKind::projection});
    ++frames_sent_;
  }
  void apply(const Command& c, const StopCamera&) {
    acquiring_ = false;
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
      pos_ =
          move_from_ + (move_to_ - move_from_) *
                           std::min(1.0, (now_ - move_t0_) / std::max(1e-9, move_t1_ - move_t0_));
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
    const double from = pos_, dir = m.position >= from ? 1.0 : -1.0;
    double to = m.position;
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
    if (f_.rbv_period > 0) {
      for (double t = now_ + f_.rbv_period; t < move_t1_; t += f_.rbv_period)
        at(t, MotorStatus{Axis::rotation, from + dir * v * (t - now_), false}, c.id, t);
    }
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
  Trigger trigger_ = Trigger::internal;
  std::uint64_t images_ = 0;
  bool acquiring_ = false, armed_ = false, cleaning_ = false;
  std::uint64_t moving_ = 0;
  double move_from_ = 0, move_to_ = 0, move_t0_ = 0, move_t1_ = 0;
  std::optional<double> stall_pos_;
  std::uint64_t rows_sent_ = 0, frames_sent_ = 0;
  std::vector<double> trigger_angles_;
  std::optional<CloseFile> closed_;
  double closed_at_ = 0;
  double scan_move_end_ = 0;
};

}  // namespace pandafly::scan::testing
