// MotorRecord: the motion state machine.
//
// Rules
//   Phases: idle (DMOV 1) -> moving (DMOV 0; the planned motion runs until
//   end_, a driver poll every 0.1 s from the start) -> settling (controller
//   done, DMOV held 0 for DLY s; skipped when DLY = 0) -> idle (DMOV 1, the
//   pending put-callbacks complete, then the queued ones are processed).
//   held: DMOV 0 at rest, a target waiting for SPMG Go/Move (paused, or
//   written while Stop/Pause). A limit switch releases the move early
//   (released_: DMOV 1, callbacks done) while it still coasts to rest.
//   Every motion is planned completely when it is commanded — the move, its
//   cut at a limit switch, a homing's way back — so the encoder view sees the
//   future as it will happen unless a later command (STOP, SPMG, a new
//   target, a homing) cuts it short at the current tick.
//   Ending says what finish() does with VAL: target (keep), limit / stop /
//   home (VAL <- RBV), pause (keep, resumed by SPMG Go/Move).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "sim/ca/motor_record.hpp"
#include "sim/fault_log.hpp"

namespace pandafly::sim::ca {
namespace {

constexpr Tick kPollTicks = kTicksPerSecond / 10;  // the driver's poll period
constexpr double kMinRampSeconds = 1e-3;           // VELO == VBAS: nearly instant
constexpr double kLongestMoveSeconds = 1e9;        // longer moves are refused

Tick ticks_of(double seconds) {
  return static_cast<Tick>(std::llround(seconds * static_cast<double>(kTicksPerSecond)));
}

}  // namespace

void MotorRecord::advance(Tick now, EpicsTime wall) {
  now_ = std::max(now, now_);
  wall_ = wall;
  run_until(now_);
  stamp_ = wall_;
}

Tick MotorRecord::next_wake() const {
  switch (phase_) {
    case Phase::idle:
    case Phase::held:
      return kNever;
    case Phase::moving:
      return std::min(end_, next_poll_);
    case Phase::settling:
      return settle_end_;
  }
  return kNever;
}

void MotorRecord::run_until(Tick t) {
  for (Tick next = next_wake(); next <= t; next = next_wake()) {
    stamp_ = wall_at(next);
    if (phase_ == Phase::settling) {
      settled();
    } else if (end_ <= next_poll_) {
      finish(end_);
    } else {
      poll(next_poll_);
    }
  }
}

EpicsTime MotorRecord::wall_at(Tick t) const {
  return wall_time_at(t, now_, wall_);
}

double MotorRecord::accel_for(double speed) const {
  if (speed > vbas_) return (speed - vbas_) / accl_;
  return speed / kMinRampSeconds;
}

// ------------------------------------------------------------ commands

std::uint32_t MotorRecord::request_move(double dial, double user, Pv::Completion& done) {
  if (std::abs(dial - drbv_) / velo_ > kLongestMoveSeconds) return kEcaPutFail;
  const bool soft_limits = dhlm_ != 0 || dllm_ != 0;
  if (soft_limits && (dial > dhlm_ || dial < dllm_)) {
    // Refused: the old target is kept, VAL is posted back and DMOV pulses.
    val_ = to_user(dval_);
    pvs_.find("VAL")->second->set(Doubles{val_}, stamp_, true);
    post_dval();
    post_short("LVIO", 1);
    dmov_pulse();
    return kEcaNormal;
  }
  // The real record's order at the put: DMOV 0, VAL, (TDIR,) MSTA, MOVN.
  if (phase_ == Phase::idle) post_short("DMOV", 0);
  val_ = user;
  dval_ = dial;
  pvs_.find("VAL")->second->set(Doubles{val_}, stamp_, true);
  post_dval();
  post_short("LVIO", 0);
  if (is_callback(done)) pending_.push_back(std::exchange(done, nullptr));
  // Stop or Pause: the target waits for Go, DMOV 0 until then; jammed: until STOP.
  if (spmg_ <= 1 || stalled_) {
    if (phase_ == Phase::moving) {
      ending_ = Ending::pause;  // decelerating: hold the new target at rest
    } else if (phase_ == Phase::idle) {
      phase_ = Phase::held;
    }
    return kEcaNormal;
  }
  start_motion(dial, velo_, 0);
  return kEcaNormal;
}

std::uint32_t MotorRecord::request_home(int direction, Pv::Completion& done) {
  const char* field = direction > 0 ? "HOMF" : "HOMR";
  post_short(field, 1);
  if (spmg_ <= 1 || stalled_) {  // Stop or Pause or jammed: no motion
    post_short(field, 0);
    dmov_pulse();
    return kEcaNormal;
  }
  if (is_callback(done)) pending_.push_back(std::exchange(done, nullptr));
  start_motion(config_.home, hvel_, direction);
  return kEcaNormal;
}

void MotorRecord::start_motion(double dial, double speed, int homing, double accel) {
  Tick start = now_;
  if (phase_ == Phase::moving) {
    // Stop first (overshooting by the deceleration); the driver poll that sees
    // the axis at rest starts the new move.
    const Tick stopped = std::max(motion_->stop(now_, accel_), now_);
    start = next_poll_;
    while (start < stopped) start += kPollTicks;
  }
  if (homing_ != 0 && homing_ != homing) post_short(homing_ > 0 ? "HOMF" : "HOMR", 0);
  homing_ = homing;
  accel_ = accel > 0 ? accel : accel_for(speed);
  if (jogging_ != 0 && accel <= 0) {  // a move or homing ends a jog
    post_short(jogging_ > 0 ? "JOGF" : "JOGR", 0);
    jogging_ = 0;
  }
  const double from = motion_->position(start);
  const double target = quantize(dial);
  bool cut = false;
  if (homing == 0 || homing * (target - from) >= 0) {
    cut = plan(start, target, speed);
  } else {
    // Home lies behind: run to the limit switch ahead (if any), then back home.
    const auto& limit = homing > 0 ? config_.high_switch : config_.low_switch;
    if (limit) {
      plan(start, *limit + homing * (speed * speed / accel_ + 1.0), speed);
      motion_->move_to(std::max(motion_->end_tick(), start), target, speed, accel_);
    } else {
      plan(start, target, speed);
    }
  }
  end_ = std::max(motion_->end_tick(), now_);
  ending_ = homing != 0 ? Ending::home : cut ? Ending::limit : Ending::target;
  (void)jam_ahead();
  if (phase_ != Phase::moving) next_poll_ = now_ + kPollTicks;
  phase_ = Phase::moving;
  released_ = false;
  post_short("DMOV", 0);
  post_msta();
  if (end_ > now_) post_short("MOVN", 1);
  motion_changed(now_);
  if (end_ <= now_) finish(now_);
}

bool MotorRecord::plan(Tick start, double target, double speed) {
  const double from = motion_->position(start);
  motion_->move_to(start, target, speed, accel_);
  if (target == from) return false;
  const double dir = target > from ? 1.0 : -1.0;
  const auto& limit = dir > 0 ? config_.high_switch : config_.low_switch;
  if (!limit) return false;
  // Already on the switch: no motion further that way.
  const Tick at = dir * (from - *limit) >= 0 ? start : motion_->reach_tick(start, *limit);
  if (at == kNever || at >= motion_->end_tick()) return false;
  motion_->stop(at, accel_);
  return true;
}

void MotorRecord::stop_motion(Ending ending) {
  if (phase_ == Phase::held && ending == Ending::stop) {  // forget the waiting target
    if (stalled_) clear_stall();
    dval_ = drbv_;
    post_positions();
    settled();
    return;
  }
  if (phase_ != Phase::moving) return;
  end_ = std::max(motion_->stop(now_, accel_), now_);
  ending_ = ending;
  (void)jam_ahead();  // the deceleration may still run into the jam
  motion_changed(now_);
  if (end_ <= now_) finish(now_);
}

void MotorRecord::jog(int direction, bool on) {
  if (!on) {  // JOGF/JOGR 0: decelerate at JAR, VAL <- RBV
    if (jogging_ == direction) stop_motion(Ending::stop);
    return;
  }
  if (phase_ != Phase::idle || spmg_ <= 1) return;  // the record jogs only from rest
  const auto& limit = direction > 0 ? config_.high_switch : config_.low_switch;
  if (limit && direction * (drbv_ - *limit) >= 0) return;  // on the switch that way
  const bool soft_limits = dhlm_ != 0 || dllm_ != 0;
  double target = drbv_ + direction * jvel_ * kLongestMoveSeconds / 2;
  if (soft_limits) target = direction > 0 ? dhlm_ : dllm_;
  jogging_ = direction;
  start_motion(target, jvel_, 0, jar_);
  if (ending_ != Ending::stall) ending_ = Ending::stop;  // however it ends: VAL <- RBV
}

void MotorRecord::resume() {
  if (stalled_) return;  // jammed: only STOP / SPMG Stop releases it
  if (phase_ == Phase::held || (phase_ == Phase::moving && ending_ == Ending::pause))
    start_motion(dval_, velo_, 0);
}

// ------------------------------------------------------------ progress

void MotorRecord::poll(Tick t) {
  read_back(t);
  note_limit_trip(t);
  polled_ = true;  // the driver reports MOVING (and the direction) from now on
  post_msta();
  next_poll_ += kPollTicks;
  // The record sees the switch in the direction of travel: the move is over
  // for it (VAL <- RBV, DMOV 1) though the axis still decelerates.
  if (!released_ && ending_ == Ending::limit && (tdir_ ? hls_ : lls_)) {
    post_short("MOVN", 0);  // the record's MOVN is 0 on an active limit switch
    dval_ = drbv_;
    val_ = to_user(dval_);
    post("VAL", val_);
    post_dval();
    release();
  }
}

void MotorRecord::finish(Tick t) {
  if (ending_ == Ending::stall) return stall(t);
  read_back(t);
  note_limit_trip(t);
  if (ending_ == Ending::home && athm_) homed_ = true;
  // The controller is done; a paused move holds its target with DMOV 0.
  phase_ = released_ ? Phase::idle : ending_ == Ending::pause ? Phase::held : Phase::settling;
  next_poll_ = kNever;
  polled_ = false;
  tdir_ = false;  // at rest: TDIR 0, MSTA DIRECTION cleared
  post_short("TDIR", 0);
  post_msta();
  post_short("MOVN", 0);
  if (released_ || ending_ == Ending::pause) {
    released_ = false;
    return;
  }
  if (ending_ != Ending::target && ending_ != Ending::pause) {
    dval_ = drbv_;
    val_ = to_user(dval_);
    post("VAL", val_);
    post_dval();
  }
  if (homing_ != 0) post_short(homing_ > 0 ? "HOMF" : "HOMR", 0);
  homing_ = 0;
  if (jogging_ != 0) post_short(jogging_ > 0 ? "JOGF" : "JOGR", 0);
  jogging_ = 0;
  if (spmg_ == 2 && ending_ != Ending::stop) {  // Move: once, then Pause
    spmg_ = 1;
    post_enum("SPMG", spmg_);
  }
  settle_end_ = t + ticks_of(dly_);
  if (settle_end_ <= t) settled();
}

void MotorRecord::settled() {
  phase_ = Phase::idle;
  settle_end_ = kNever;
  release();
}

void MotorRecord::release() {
  released_ = phase_ == Phase::moving;
  post_short("DMOV", 1);
  complete_pending();
  drain_queue();
}

void MotorRecord::drain_queue() {
  if (draining_) return;  // a queued put that completes at once comes back here
  draining_ = true;
  while (!queued_.empty() && !busy()) {
    Queued q = std::move(queued_.front());
    queued_.erase(queued_.begin());
    const std::uint32_t eca = on_put(q.field, q.value, q.done);
    if (q.done) q.done(eca);
  }
  draining_ = false;
}

void MotorRecord::read_back(Tick t) {
  const double dial = motion_->position(t);
  if (const double v = motion_->velocity(t); v != 0) tdir_ = v > 0;
  drbv_ = quantize(dial);
  hls_ = config_.high_switch && dial >= *config_.high_switch;
  lls_ = config_.low_switch && dial <= *config_.low_switch;
  athm_ = drbv_ == quantize(config_.home);
  post("RBV", to_user(drbv_));
  pvs_.find("RRBV")->second->set(Longs{raw(drbv_)}, stamp_);
  post("DRBV", drbv_);
  post("DIFF", dval_ - drbv_);
  // hls_/lls_ are the raw (dial) switches, as the driver reports them (MSTA
  // PLUS_LS/MINUS_LS); HLS/LLS are the user ones: the record swaps them when
  // DIR = Neg (or MRES < 0): hls = ((DIR == Pos) == (MRES >= 0)) ? rhls : rlls.
  const bool swapped = dir_negative_ != (mres_ < 0);
  post_short("HLS", (swapped ? lls_ : hls_) ? 1 : 0);
  post_short("LLS", (swapped ? hls_ : lls_) ? 1 : 0);
  post_short("ATHM", athm_ ? 1 : 0);
  post_short("TDIR", tdir_ ? 1 : 0);
}

void MotorRecord::post_msta() {
  // DONE clears when the record commands a move; MOVING and DIRECTION come
  // from the driver's status, so only from the first poll of the move on.
  const bool moving = phase_ == Phase::moving && polled_;
  unsigned bits = 0;
  if (moving && tdir_) bits |= 1U << 0;                       // DIRECTION
  if (phase_ != Phase::moving && !stalled_) bits |= 1U << 1;  // DONE
  if (hls_) bits |= 1U << 2;                                  // PLUS_LS
  if (stalled_) bits |= 1U << 6;                              // SLIP_STALL
  if (athm_) bits |= 1U << 7;                                 // HOME
  if (stalled_) bits |= 1U << 9;                              // PROBLEM
  if (moving) bits |= 1U << 10;                               // MOVING
  if (lls_) bits |= 1U << 13;                                 // MINUS_LS
  if (homed_) bits |= 1U << 14;                               // HOMED
  post("MSTA", static_cast<double>(bits));
}

void MotorRecord::dmov_pulse() {
  if (phase_ != Phase::idle) return;  // DMOV is 0 already; it rises when the move ends
  post_short("DMOV", 0);
  post_short("DMOV", 1);
}

void MotorRecord::complete_pending() {
  auto pending = std::exchange(pending_, {});
  for (auto& done : pending)
    if (done) done(kEcaNormal);
}

void MotorRecord::motion_changed(Tick from) {
  motion_changes_.notify(from);
}

// ------------------------------------------------------------ faults

void MotorRecord::set_faults(MotorFaults faults, std::function<void(std::string_view)> log) {
  fault_log_ = std::move(log);
  jams_.clear();
  for (const double user : faults.stall_at) jams_.push_back({to_dial(user), user});
  for (const double user : faults.hard_limit_at) place_limit({to_dial(user), user});
  if (phase_ == Phase::moving && (ending_ == Ending::target || ending_ == Ending::stall) &&
      jam_ahead())
    motion_changed(now_);
}

bool MotorRecord::jam_ahead() {
  jam_hit_.reset();
  Tick first = kNever;
  for (std::size_t i = 0; i < jams_.size(); ++i) {
    const Tick at = motion_->reach_tick(now_, jams_[i].dial);
    // A move that ends on the jam position is not stopped by it.
    if (at < first && at < motion_->end_tick()) {
      first = at;
      jam_hit_ = i;
    }
  }
  if (!jam_hit_) return false;
  end_ = std::max(motion_->halt(first), now_);
  ending_ = Ending::stall;
  return true;
}

void MotorRecord::stall(Tick t) {
  // Stopped dead on the jam; the controller reports the stall, the record
  // keeps DMOV 0 and the callbacks pending until STOP / SPMG Stop.
  const double user = jam_hit_ ? jams_[*jam_hit_].user : to_user(motion_->position(t));
  if (jam_hit_) jams_.erase(jams_.begin() + static_cast<std::ptrdiff_t>(*jam_hit_));
  jam_hit_.reset();
  stalled_ = true;
  read_back(t);
  phase_ = Phase::held;
  next_poll_ = kNever;
  polled_ = false;
  tdir_ = false;
  post_short("TDIR", 0);
  post_msta();
  post_short("MOVN", 0);
  post_enum("STAT", 7);  // STATE
  post_enum("SEVR", 2);  // MAJOR
  for (const char* field : {"RBV", "MSTA"}) pvs_.find(field)->second->set_alarm({7, 2});
  log_fault(fmt::format("motor {} stalled at {}", config_.name, user), t);
}

void MotorRecord::clear_stall() {
  stalled_ = false;
  post_msta();
  post_enum("STAT", 0);
  post_enum("SEVR", 0);
  for (const char* field : {"RBV", "MSTA"}) pvs_.find(field)->second->set_alarm({});
}

void MotorRecord::place_limit(FaultAt limit) {
  const double at = motion_->position(now_);
  const bool high = limit.dial >= at;
  auto& side = high ? config_.high_switch : config_.low_switch;
  if (side && (high ? *side <= limit.dial : *side >= limit.dial)) return;  // never reached
  side = limit.dial;
  limits_.push_back(limit);
  // A move under way that would now reach the switch decelerates from it on.
  if (phase_ != Phase::moving || ending_ != Ending::target) return;
  const double rest = motion_->position(end_);
  if (!(high ? rest >= limit.dial : rest <= limit.dial)) return;
  const Tick trip = motion_->reach_tick(now_, limit.dial);
  if (trip == kNever || trip >= motion_->end_tick()) return;
  motion_->stop(trip, accel_);
  end_ = std::max(motion_->end_tick(), now_);
  ending_ = Ending::limit;
  (void)jam_ahead();
  motion_changed(now_);
}

void MotorRecord::note_limit_trip(Tick t) {
  for (auto it = limits_.begin(); it != limits_.end(); ++it) {
    const bool tripped =
        (hls_ && config_.high_switch == it->dial) || (lls_ && config_.low_switch == it->dial);
    if (!tripped) continue;
    const double user = it->user;
    limits_.erase(it);
    log_fault(fmt::format("motor {} hit the hard limit at {}", config_.name, user), t);
    return;
  }
}

void MotorRecord::log_fault(const std::string& what, Tick t) const {
  sim::log_fault(fault_log_, what, t);
}

}  // namespace pandafly::sim::ca
