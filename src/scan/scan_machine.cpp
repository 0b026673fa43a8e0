#include "pandafly/scan/scan_machine.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "pandafly/util/overloaded.hpp"

namespace pandafly::scan {

namespace {

const char* axis_name(Axis axis) {
  return axis == Axis::rotation ? "rotation" : "sample";
}

const char* kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::dark:
      return "dark";
    case FrameKind::flat:
      return "flat";
    case FrameKind::projection:
      return "projection";
  }
  return "?";
}

}  // namespace

const char* phase_name(Phase p) noexcept {
  switch (p) {
    case Phase::idle:
      return "idle";
    case Phase::darks_before:
      return "darks before";
    case Phase::flats_before:
      return "flats before";
    case Phase::projections:
      return "projections";
    case Phase::flats_after:
      return "flats after";
    case Phase::darks_after:
      return "darks after";
    case Phase::returning:
      return "returning";
    case Phase::closing:
      return "closing";
    case Phase::cleanup:
      return "cleanup";
    case Phase::done:
      return "done";
  }
  return "?";
}

ScanMachine::ScanMachine(ScanSequence sequence) : seq_(std::move(sequence)) {
  if (seq_.projections == 0) throw std::invalid_argument("scan: no projections planned");
  if (!(seq_.normal_speed > 0) || (seq_.kind != ScanKind::step && !(seq_.scan_speed > 0)))
    throw std::invalid_argument("scan: the scan and normal speeds must be > 0");
  if (!(seq_.frame_time > 0) || !(seq_.exposure > 0))
    throw std::invalid_argument("scan: exposure and frame time must be > 0");
  if (seq_.kind == ScanKind::step && seq_.points.size() != seq_.projections)
    throw std::invalid_argument("step scan: one point per projection");
  rotation_at_ = seq_.start_position;
  sample_at_ = seq_.sample_in;
  build_phases();
}

// ---- the sequence ----

void ScanMachine::add_step(Phase phase, std::optional<CommandBody> body, std::string label,
                           double timeout, Wait wait) {
  Step s;
  s.body = std::move(body);
  s.label = std::move(label);
  s.timeout = timeout;
  s.wait = wait;
  steps_.emplace_back(phase, std::move(s));
}

void ScanMachine::add_frames_wait(Phase phase, FrameKind kind, std::uint64_t n) {
  // N frames at the free-running rate, twice over, plus the usual margin.
  const double t = 2.0 * static_cast<double>(n) * seq_.frame_time + seq_.step_timeout;
  add_step(phase, std::nullopt, fmt::format("wait for {} {} frames", n, kind_name(kind)), t,
           Wait::frames);
  steps_.back().second.frames = n;
  steps_.back().second.kind = kind;
}

double ScanMachine::move_timeout(double from, double to, double speed) const {
  const double travel = std::abs(to - from) / speed + 2 * seq_.acceleration_time;
  return 1.5 * travel + seq_.move_margin;
}

void ScanMachine::add_field_frames(Phase phase, FrameKind kind, std::uint64_t n) {
  const Trigger trigger = seq_.triggered_fields ? seq_.point_trigger : Trigger::internal;
  add_configure_camera(phase, trigger, n);
  add_start_camera(phase, trigger, fmt::format("start the camera ({}s)", kind_name(kind)));
  if (seq_.triggered_fields) {
    for (std::uint64_t i = 0; i < n; ++i) {
      add_step(phase, TriggerCamera{i, kind},
               fmt::format("{} {}: trigger the camera", kind_name(kind), i), trigger_timeout());
      add_one_frame_wait(phase, kind, fmt::format("{} {}: the frame", kind_name(kind), i));
    }
  } else {
    add_frames_wait(phase, kind, n);
  }
  add_step(phase, StopCamera{}, "stop the camera", seq_.step_timeout);
}

void ScanMachine::add_one_frame_wait(Phase phase, FrameKind kind, std::string label) {
  add_step(phase, std::nullopt, std::move(label),
           seq_.exposure + seq_.frame_time + seq_.step_timeout, Wait::frames);
  steps_.back().second.frames = 1;
  steps_.back().second.kind = kind;
}

void ScanMachine::add_darks(Phase phase, std::uint64_t n) {
  if (n == 0) return;
  const double t = seq_.step_timeout;
  if (seq_.has_shutter) add_step(phase, SetShutter{false}, "close the shutter", t);
  add_step(phase, SetFrameType{FrameKind::dark}, "FrameType dark", t);
  add_field_frames(phase, FrameKind::dark, n);
}

void ScanMachine::add_flats(Phase phase, std::uint64_t n) {
  if (n == 0) return;
  const double t = seq_.step_timeout;
  if (seq_.has_shutter) add_step(phase, SetShutter{true}, "open the shutter", t);
  if (seq_.sample_out) {
    add_step(phase, Move{Axis::sample, *seq_.sample_out},
             fmt::format("move the sample out to {}", *seq_.sample_out),
             move_timeout(seq_.sample_in, *seq_.sample_out, seq_.sample_speed));
  }
  add_step(phase, SetFrameType{FrameKind::flat}, "FrameType flat", t);
  add_field_frames(phase, FrameKind::flat, n);
  if (seq_.sample_out) {
    add_step(phase, Move{Axis::sample, seq_.sample_in},
             fmt::format("move the sample back in to {}", seq_.sample_in),
             move_timeout(*seq_.sample_out, seq_.sample_in, seq_.sample_speed));
  }
}

const char* ScanMachine::trigger_name(Trigger trigger) {
  switch (trigger) {
    case Trigger::external:
      return "external trigger";
    case Trigger::software:
      return "software trigger";
    case Trigger::single:
      return "single image";
    case Trigger::internal:
      break;
  }
  return "internal trigger";
}

void ScanMachine::add_configure_camera(Phase phase, Trigger trigger, std::uint64_t n) {
  add_step(phase, ConfigureCamera{trigger, n, seq_.exposure, seq_.frame_time},
           fmt::format("camera: {}, {} images", trigger_name(trigger), n), seq_.step_timeout);
}

void ScanMachine::add_start_camera(Phase phase, Trigger trigger, std::string label) {
  // Single: each TriggerCamera is the acquisition; nothing to start.
  if (trigger != Trigger::single)
    add_step(phase, StartCamera{}, std::move(label), seq_.step_timeout);
}

double ScanMachine::trigger_timeout() const {
  // A single image's Acquire completes when its exposure and readout ended.
  return seq_.exposure + seq_.frame_time + seq_.step_timeout;
}

void ScanMachine::add_projection_camera(Trigger trigger) {
  const Phase p = Phase::projections;
  const double t = seq_.step_timeout;
  if (seq_.has_shutter) add_step(p, SetShutter{true}, "open the shutter", t);
  add_step(p, SetFrameType{FrameKind::projection}, "FrameType projection", t);
  add_configure_camera(p, trigger, seq_.projections);
}

void ScanMachine::add_run_up() {
  const Phase p = Phase::projections;
  add_step(p, Move{Axis::rotation, seq_.run_up_start},
           fmt::format("move rotation to the run-up start {}", seq_.run_up_start),
           move_timeout(seq_.start_position, seq_.run_up_start, seq_.normal_speed));
  if (seq_.settle > 0)
    add_step(p, std::nullopt, fmt::format("settle {} s at the run-up start", seq_.settle),
             seq_.settle, Wait::pause);
}

void ScanMachine::add_projections() {
  const Phase p = Phase::projections;
  const double t = seq_.step_timeout;
  add_projection_camera(Trigger::external);
  add_step(p, PutPandaFields{}, "put the PandA fields", t);
  add_run_up();
  add_step(p, ArmPanda{}, "arm the PandA", t);
  add_step(p, SetSpeed{Axis::rotation, seq_.scan_speed},
           fmt::format("rotation speed {} deg/s", seq_.scan_speed), t);
  add_step(p, StartCamera{}, "start the camera (projections)", t);
  add_step(p, Move{Axis::rotation, seq_.run_down_end},
           fmt::format("scan: move rotation to {}", seq_.run_down_end),
           move_timeout(seq_.run_up_start, seq_.run_down_end, seq_.scan_speed), Wait::collect);
  add_step(p, DisarmPanda{}, "disarm the PandA", t);
  add_step(p, StopCamera{}, "stop the camera", t);
  add_step(p, SetSpeed{Axis::rotation, seq_.normal_speed},
           fmt::format("rotation speed back to {} deg/s", seq_.normal_speed), t);
}

void ScanMachine::add_points() {
  const Phase p = Phase::projections;
  const double t = seq_.step_timeout;
  const auto n = seq_.projections;
  add_projection_camera(seq_.point_trigger);
  add_start_camera(p, seq_.point_trigger, "start the camera (projections)");
  double from = seq_.start_position;
  for (std::uint64_t k = 0; k < n; ++k) {
    const double to = seq_.points[k];
    add_step(p, Move{Axis::rotation, to}, fmt::format("point {}: move rotation to {}", k, to),
             move_timeout(from, to, seq_.normal_speed));
    from = to;
    if (seq_.point_settle > 0)
      add_step(p, std::nullopt, fmt::format("point {}: settle {} s", k, seq_.point_settle),
               seq_.point_settle, Wait::pause);
    add_step(p, TriggerCamera{k}, fmt::format("point {}: trigger the camera", k),
             trigger_timeout());
    add_one_frame_wait(p, FrameKind::projection, fmt::format("point {}: the frame", k));
  }
  add_step(p, StopCamera{}, "stop the camera", t);
}

void ScanMachine::add_continuous() {
  const Phase p = Phase::projections;
  const double t = seq_.step_timeout;
  const auto n = seq_.projections;
  add_projection_camera(Trigger::internal);
  add_run_up();
  add_step(p, SetSpeed{Axis::rotation, seq_.scan_speed},
           fmt::format("rotation speed {} deg/s", seq_.scan_speed), t);
  add_step(p, Move{Axis::rotation, seq_.run_down_end},
           fmt::format("scan: move rotation to {}", seq_.run_down_end),
           move_timeout(seq_.run_up_start, seq_.run_down_end, seq_.scan_speed), Wait::launch);
  // The stage from rest to camera_start: the ramp and the rest at the scan speed.
  add_step(
      p, std::nullopt,
      fmt::format("wait for rotation past {} (at speed) to start the camera", seq_.camera_start),
      move_timeout(seq_.run_up_start, seq_.camera_start, seq_.scan_speed), Wait::position);
  add_step(p, StartCamera{}, "start the camera (projections)", t);
  add_step(p, std::nullopt,
           fmt::format("collect {} frames while rotation moves to {}", n, seq_.run_down_end),
           move_timeout(seq_.camera_start, seq_.run_down_end, seq_.scan_speed), Wait::collect);
  add_step(p, StopCamera{}, "stop the camera", t);
  add_step(p, SetSpeed{Axis::rotation, seq_.normal_speed},
           fmt::format("rotation speed back to {} deg/s", seq_.normal_speed), t);
}

void ScanMachine::build_phases() {
  add_darks(Phase::darks_before, seq_.darks_before);
  add_flats(Phase::flats_before, seq_.flats_before);
  if (seq_.kind == ScanKind::step) {
    add_points();
  } else if (seq_.kind == ScanKind::cont) {
    add_continuous();
  } else {
    add_projections();
  }
  add_flats(Phase::flats_after, seq_.flats_after);
  add_darks(Phase::darks_after, seq_.darks_after);
  if (seq_.return_position) {
    add_step(Phase::returning, Move{Axis::rotation, *seq_.return_position},
             fmt::format("return rotation to {}", *seq_.return_position),
             move_timeout(seq_.kind == ScanKind::step ? seq_.points.back() : seq_.run_down_end,
                          *seq_.return_position, seq_.normal_speed));
  }
  add_step(Phase::closing, CloseFile{}, "close the file", seq_.cleanup_timeout, Wait::close);
}

// ---- driving ----

std::uint64_t ScanMachine::emit(CommandBody body) {
  const auto id = next_id_++;
  out_.push_back(Command{id, std::move(body)});
  return id;
}

void ScanMachine::start(double now) {
  if (started_) throw std::logic_error("fly scan: start() called twice");
  started_ = true;
  last_data_ = now;
  issue_next(now);
}

void ScanMachine::issue_next(double now) {
  if (next_ >= steps_.size()) {
    phase_ = Phase::done;
    current_.reset();
    outcome_.finished = true;
    outcome_.sequence_completed = true;
    return;
  }
  const auto& [phase, step] = steps_[next_];
  phase_ = phase;
  current_ = next_++;
  issue(step, now);
}

void ScanMachine::issue(const Step& step, double now) {
  step_deadline_ = now + step.timeout;
  awaiting_ = step.body.has_value() && step.wait != Wait::launch;
  if (step.wait == Wait::collect) {
    if (step.body) move_done_ = false;  // kind cont: the background move's, kept
    last_data_ = now;
  }
  if (step.wait == Wait::launch) {
    // Only positions reported from now on can show the stage past camera_start.
    reported_rotation_.reset();
    move_done_ = false;
    background_id_ = emit(*step.body);
    background_deadline_ = now + step.timeout;
    background_timeout_ = step.timeout;
    background_label_ = step.label;
    issue_next(now);
    return;
  }
  if (step.body) {
    // The frames a wait counts are those that come after the camera starts.
    if (std::holds_alternative<StartCamera>(*step.body)) {
      phase_frames_start_ =
          phase_ == Phase::darks_before || phase_ == Phase::darks_after ? darks_ : flats_;
    }
    if (const auto* trigger = std::get_if<TriggerCamera>(&*step.body))
      phase_frames_start_ = count_of(trigger->kind);
    awaited_id_ = emit(*step.body);
    return;
  }
  if (step.wait == Wait::frames) check_acquisition_done(now);  // may be satisfied already
  if (step.wait == Wait::collect && move_done_) check_collection_done(now, false);
}

bool ScanMachine::passed_camera_start(double position) const {
  const double dir = seq_.run_down_end >= seq_.run_up_start ? 1.0 : -1.0;
  return dir * (position - seq_.camera_start) >= 0;
}

void ScanMachine::handle(const Event& event, double now) {
  if (!started_ || outcome_.finished) return;
  std::visit(
      util::Overloaded{
          [&](const StepDone& e) {
            if (background_id_ && e.id == *background_id_ && phase_ != Phase::cleanup) {
              fail(fmt::format("{}: completion without the motor's position", background_label_),
                   now);
              return;
            }
            on_completion(e.id, now);
          },
          [&](const StepFailed& e) {
            if (background_id_ && e.id == *background_id_ && phase_ != Phase::cleanup) {
              fail(fmt::format("{} failed: {}", background_label_, e.what), now);
              return;
            }
            if (phase_ == Phase::cleanup) {
              if (awaiting_ && e.id == awaited_id_) {
                outcome_.notes.push_back(fmt::format("cleanup: {}", e.what));
                on_completion(e.id, now);
              }
              return;
            }
            if (!awaiting_ || e.id != awaited_id_) return;
            if (steps_[*current_].second.wait == Wait::close) {
              // Nothing is left to clean up; the file is what it is.
              outcome_.reason = fmt::format("closing the file failed: {}", e.what);
              awaiting_ = false;
              phase_ = Phase::done;
              outcome_.finished = true;
              return;
            }
            fail(fmt::format("{} failed: {}", steps_[*current_].second.label, e.what), now);
          },
          [&](const MoveDone& e) { on_move_done(e, now); },
          [&](const FrameArrived& e) {
            ++(e.kind == FrameKind::dark ? darks_ : e.kind == FrameKind::flat ? flats_ : frames_);
            on_data(now);
          },
          [&](const RowArrived&) {
            ++rows_;
            on_data(now);
          },
          [&](const PandaEnded& e) {
            if (!e.ok)
              outcome_.notes.push_back(fmt::format("PandA acquisition ended: {}", e.reason));
          },
          [&](const PandaDataLost& e) {
            if (!panda_lost_)
              outcome_.notes.push_back(fmt::format("PandA data connection lost: {}", e.reason));
            panda_lost_ = true;
            on_data(now);
          },
          [&](const MotorStatus& e) {
            if (phase_ == Phase::cleanup || !current_) return;
            const auto* move = steps_[*current_].second.body
                                   ? std::get_if<Move>(&*steps_[*current_].second.body)
                                   : nullptr;
            auto& reported = e.axis == Axis::rotation ? reported_rotation_ : reported_sample_;
            const bool moved = !reported || *reported != e.position;
            reported = e.position;
            if (e.axis == Axis::rotation && background_id_) {
              on_rotation_status(e, moved, now);
              return;
            }
            if (!e.stalled) {
              if (move && move->axis == e.axis && awaiting_ && moved) on_progress(now);
              return;
            }
            if (move && move->axis == e.axis && awaiting_) {
              fail(fmt::format("{} motor stalled at {} (MSTA: slip/stall or problem)",
                               axis_name(e.axis), e.position),
                   now);
            }
          },
          [&](const Interrupted& e) {
            if (phase_ == Phase::cleanup) {
              hurry_ = true;
              issue_cleanup(now);
              return;
            }
            if (phase_ == Phase::closing) return;  // the file is being closed anyway
            fail(e.why.empty() ? std::string("interrupted") : e.why, now, true);
          },
          [&](const Failure& e) {
            if (phase_ == Phase::cleanup || phase_ == Phase::closing) {
              outcome_.notes.push_back(e.what);
              return;
            }
            fail(e.what, now);
          },
          [&](const Tick&) { on_tick(now); },
      },
      event);
}

void ScanMachine::on_completion(std::uint64_t id, double now) {
  if (!awaiting_ || id != awaited_id_) return;  // late or unknown: ignored
  awaiting_ = false;
  if (phase_ == Phase::cleanup) {
    issue_cleanup(now);
    return;
  }
  const auto& step = steps_[*current_].second;
  if (step.wait == Wait::close) {
    phase_ = Phase::done;
    outcome_.finished = true;
    outcome_.sequence_completed = close_reason_.empty() && outcome_.reason.empty();
    return;
  }
  if (step.body && std::holds_alternative<Move>(*step.body)) {
    // A Move must complete with MoveDone (its position), not a bare StepDone.
    fail(fmt::format("{}: completion without the motor's position", step.label), now);
    return;
  }
  issue_next(now);
}

std::optional<std::string> ScanMachine::move_error(const Move& move, const MoveDone& done) const {
  const double tolerance =
      move.axis == Axis::rotation ? seq_.rotation_tolerance : seq_.sample_tolerance;
  if (!done.soft_limit && std::abs(done.position - move.position) <= tolerance) return std::nullopt;
  const std::string why = done.soft_limit   ? " (target beyond a soft limit: LVIO)"
                          : done.high_limit ? " (high limit switch)"
                          : done.low_limit
                              ? " (low limit switch)"
                              : fmt::format(" (off by {:.6g}, more than the tolerance {:.6g})",
                                            std::abs(done.position - move.position), tolerance);
  return fmt::format("{} motor stopped at {} instead of {}{}", axis_name(move.axis), done.position,
                     move.position, why);
}

void ScanMachine::on_move_done(const MoveDone& done, double now) {
  if (background_id_ && done.id == *background_id_ && phase_ != Phase::cleanup) {
    on_background_done(done, now);
    return;
  }
  if (!awaiting_ || done.id != awaited_id_ || !current_) return;
  const auto& step = steps_[*current_].second;
  const auto* move = step.body ? std::get_if<Move>(&*step.body) : nullptr;
  if (phase_ == Phase::cleanup || !move) {
    on_completion(done.id, now);
    return;
  }
  awaiting_ = false;
  (move->axis == Axis::rotation ? rotation_at_ : sample_at_) = done.position;
  if (auto error = move_error(*move, done)) {
    fail(fmt::format("{}: {}", step.label, *error), now);
    return;
  }
  if (step.wait == Wait::collect) {
    move_done_ = true;
    last_data_ = std::max(last_data_, now);
    check_collection_done(now, false);
    return;
  }
  issue_next(now);
}

void ScanMachine::on_background_done(const MoveDone& done, double now) {
  background_id_.reset();
  rotation_at_ = done.position;
  if (auto error = move_error(Move{Axis::rotation, seq_.run_down_end}, done)) {
    fail(fmt::format("{}: {}", background_label_, *error), now);
    return;
  }
  const auto& step = steps_[*current_].second;
  if (step.wait == Wait::position) {
    fail(fmt::format("{} ended at {} before a motor status showed the stage past {}: the camera "
                     "was not started at speed",
                     background_label_, done.position, seq_.camera_start),
         now);
    return;
  }
  move_done_ = true;
  last_data_ = std::max(last_data_, now);
  if (step.wait == Wait::collect) check_collection_done(now, false);
}

void ScanMachine::on_rotation_status(const MotorStatus& status, bool moved, double now) {
  if (status.stalled) {
    fail(fmt::format("{}: rotation motor stalled at {} (MSTA: slip/stall or problem)",
                     background_label_, status.position),
         now);
    return;
  }
  if (!moved) return;
  background_deadline_ = std::max(background_deadline_, now + seq_.progress_timeout);
  const auto wait = steps_[*current_].second.wait;
  if (wait == Wait::position || (wait == Wait::collect && !move_done_)) on_progress(now);
  if (wait == Wait::position && passed_camera_start(status.position)) issue_next(now);
}

void ScanMachine::on_progress(double now) {
  step_deadline_ = std::max(step_deadline_, now + seq_.progress_timeout);
}

void ScanMachine::on_data(double now) {
  last_data_ = now;
  if (phase_ == Phase::cleanup || !current_) return;
  const auto& step = steps_[*current_].second;
  if (step.wait == Wait::frames || (step.wait == Wait::collect && !move_done_)) on_progress(now);
  if (step.wait == Wait::frames) check_acquisition_done(now);
  if (step.wait == Wait::collect && move_done_) check_collection_done(now, false);
}

std::uint64_t ScanMachine::count_of(FrameKind kind) const {
  return kind == FrameKind::dark ? darks_ : kind == FrameKind::flat ? flats_ : frames_;
}

void ScanMachine::check_acquisition_done(double now) {
  const auto& step = steps_[*current_].second;
  const auto have = count_of(step.kind);
  if (have - phase_frames_start_ >= step.frames) issue_next(now);
}

void ScanMachine::check_collection_done(double now, bool by_grace) {
  const auto n = seq_.projections;
  const bool fly = seq_.kind == ScanKind::fly;
  const bool all = frames_ >= n && (!fly || rows_ >= n || panda_lost_);
  if (!all && !by_grace) return;
  if (!all && fly) {
    outcome_.notes.push_back(
        fmt::format("collection ended {:.1f} s after the last data: {} of {} rows, {} of {} frames",
                    seq_.collect_grace, rows_, n, frames_, n));
  } else if (!all) {
    outcome_.notes.push_back(
        fmt::format("collection ended {:.1f} s after the last data: {} of {} frames",
                    seq_.collect_grace, frames_, n));
  }
  issue_next(now);
}

void ScanMachine::on_tick(double now) {
  if (phase_ == Phase::cleanup) {
    if (awaiting_ && now >= step_deadline_) {
      outcome_.notes.push_back("cleanup: a step did not complete in time");
      awaiting_ = false;
      issue_cleanup(now);
    }
    return;
  }
  if (!current_) return;
  if (background_id_ && now >= background_deadline_) {
    fail(fmt::format("{}: no completion within {:.1f} s", background_label_, background_timeout_),
         now);
    return;
  }
  const auto& step = steps_[*current_].second;
  if (step.wait == Wait::collect && move_done_) {
    if (now >= last_data_ + seq_.collect_grace) check_collection_done(now, true);
    return;
  }
  if (now >= step_deadline_) {
    if (step.wait == Wait::pause) {
      issue_next(now);
      return;
    }
    if (step.wait == Wait::close) {
      outcome_.notes.push_back("closing the file did not complete in time");
      phase_ = Phase::done;
      outcome_.finished = true;
      return;
    }
    if (step.wait == Wait::position) {
      fail(fmt::format("{}: not reached in time (planned {:.1f} s; last position reported: {})",
                       step.label, step.timeout,
                       reported_rotation_ ? fmt::format("{}", *reported_rotation_)
                                          : std::string("none since the scan move began")),
           now);
      return;
    }
    if (step.wait == Wait::frames) {
      const auto have = count_of(step.kind) - phase_frames_start_;
      fail(fmt::format("{}: {} of {} came within {:.1f} s", step.label, have, step.frames,
                       step.timeout),
           now);
      return;
    }
    fail(fmt::format("{}: no completion within {:.1f} s", step.label, step.timeout), now);
  }
}

// ---- failure and cleanup ----

void ScanMachine::fail(std::string reason, double now, bool interrupted) {
  if (phase_ == Phase::cleanup || outcome_.finished) return;
  outcome_.reason = std::move(reason);
  outcome_.interrupted = interrupted;
  close_reason_ = outcome_.reason;
  close_interrupted_ = true;
  start_cleanup(now);
}

void ScanMachine::start_cleanup(double now) {
  phase_ = Phase::cleanup;
  awaiting_ = false;
  current_.reset();
  background_id_.reset();
  cleanup_.clear();
  cleanup_.push_back(StopMotor{Axis::rotation});
  if (seq_.sample_out) cleanup_.push_back(StopMotor{Axis::sample});
  if (seq_.kind == ScanKind::fly) cleanup_.push_back(DisarmPanda{});
  cleanup_.push_back(StopCamera{});
  if (seq_.kind != ScanKind::step) cleanup_.push_back(SetSpeed{Axis::rotation, seq_.normal_speed});
  cleanup_.push_back(CloseFile{true, close_reason_});
  cleanup_next_ = 0;
  issue_cleanup(now);
}

void ScanMachine::issue_cleanup(double now) {
  // In a hurry every remaining command goes out at once; only the close is awaited.
  while (cleanup_next_ < cleanup_.size()) {
    if (awaiting_ && !hurry_) return;
    const bool last = cleanup_next_ + 1 == cleanup_.size();
    if (awaiting_ && hurry_ && !last) {
      (void)emit(cleanup_[cleanup_next_++]);
      continue;
    }
    awaited_id_ = emit(cleanup_[cleanup_next_++]);
    awaiting_ = true;
    step_deadline_ = now + seq_.cleanup_timeout;
    if (!hurry_) return;
  }
  if (!awaiting_) finish_cleanup(now);
}

void ScanMachine::finish_cleanup(double) {
  phase_ = Phase::done;
  outcome_.finished = true;
  outcome_.sequence_completed = false;
}

// ---- queries ----

ExitCode exit_code(const Outcome& outcome, bool file_complete) noexcept {
  if (outcome.interrupted) return ExitCode::interrupted;
  if (!outcome.sequence_completed) return ExitCode::failed;
  return file_complete ? ExitCode::complete : ExitCode::incomplete;
}

std::vector<Command> ScanMachine::take_commands() {
  return std::exchange(out_, {});
}

std::optional<double> ScanMachine::deadline() const {
  if (outcome_.finished || !started_) return std::nullopt;
  if (phase_ != Phase::cleanup && current_) {
    const auto& step = steps_[*current_].second;
    if (step.wait == Wait::collect && move_done_) return last_data_ + seq_.collect_grace;
    if (background_id_) return std::min(step_deadline_, background_deadline_);
  }
  return step_deadline_;
}

bool ScanMachine::finished() const noexcept {
  return outcome_.finished;
}

const Outcome& ScanMachine::outcome() const noexcept {
  return outcome_;
}

Progress ScanMachine::progress() const {
  Progress p;
  p.phase = phase_;
  if (current_) p.step = steps_[*current_].second.label;
  p.rows = rows_;
  p.frames = frames_;
  p.expected = seq_.projections;
  p.darks = darks_;
  p.flats = flats_;
  return p;
}

}  // namespace pandafly::scan
