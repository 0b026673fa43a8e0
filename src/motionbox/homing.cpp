// motionbox::Homing: see the Rules in homing.hpp.
#include "pandafly/motionbox/homing.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace pandafly::motionbox {
namespace {

constexpr double kPutTimeout = 5;                // s for a plain field write
constexpr std::uint32_t kStallBits = 1U << 6     // SLIP_STALL
                                     | 1U << 9;  // PROBLEM

}  // namespace

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::idle:
      return "start";
    case Phase::prepare:
      return "prepare";
    case Phase::search:
      return "search";
    case Phase::settle:
      return "settle";
    case Phase::redefine:
      return "redefine";
    case Phase::center:
      return "center";
    case Phase::cleanup:
      return "cleanup";
    case Phase::done:
      return "done";
  }
  return "?";
}

HomingPlan plan(const HomingParams& p, const MotorSettings& s) {
  const bool hi = p.direction == Direction::hi;
  HomingPlan out;
  const double travel = p.hi_lim - p.lo_lim + 2 * p.tolerance;
  out.search_distance = std::max(1.0, 2 * travel);
  out.search_target = s.status.rbv + (hi ? 1 : -1) * out.search_distance;
  out.search_timeout = out.search_distance / (s.velo > 0 ? s.velo : 1) + 2 * s.accl + p.margin;
  out.switch_value = hi ? p.hi_lim + p.tolerance : p.lo_lim - p.tolerance;
  out.hlm = p.hi_lim;
  out.llm = p.lo_lim;
  out.center = p.center;
  return out;
}

Homing::Homing(HomingParams params) : p_(params) {}

bool Homing::at_switch(const MotorStatus& s) const {
  return p_.direction == Direction::hi ? s.hls : s.lls;
}

bool Homing::at_other_switch(const MotorStatus& s) const {
  return p_.direction == Direction::hi ? s.lls : s.hls;
}

const char* Homing::switch_field() const {
  return p_.direction == Direction::hi ? "high limit switch (HLS)" : "low limit switch (LLS)";
}

void Homing::start(const MotorSettings& settings, double now) {
  settings_ = settings;
  status_ = settings.status;
  result_.last = status_;
  plan_ = plan(p_, settings);
  if (settings.spmg < 2) {
    fail(fmt::format("SPMG is {}: the record will not move (set it to Go)",
                     settings.spmg == 0 ? "Stop" : "Pause"),
         now);
    return;
  }
  if (!(settings.velo > 0)) {
    fail(fmt::format("VELO is {}: the motor cannot move", settings.velo), now);
    return;
  }
  if (at_switch(status_)) {
    fail(fmt::format("the {} is already active at RBV {}: the motor rests past the switch's trip "
                     "point, where no calibration is possible; move it off the switch and home "
                     "again",
                     switch_field(), status_.rbv),
         now);
    return;
  }
  other_switch_at_start_ = at_other_switch(status_);
  phase_ = Phase::prepare;
  if (settings.foff != 0) puts_.push_back({"FOFF", 0, true});
  puts_.push_back({"DHLM", 0});
  puts_.push_back({"DLLM", 0});
  next_put(now);
}

void Homing::issue(std::variant<Put, Move, Stop> body, double now, double timeout) {
  const std::uint64_t id = next_id_++;
  out_.push_back({id, std::move(body)});
  awaited_ = id;
  awaited_is_put_ = std::holds_alternative<Put>(out_.back().body);
  step_deadline_ = now + timeout;
  step_timeout_ = timeout;
}

void Homing::next_put(double now) {
  if (puts_.empty()) {
    if (phase_ == Phase::prepare) {
      begin_search(now);
    } else {
      begin_center(now);
    }
    return;
  }
  Put put = puts_.front();
  puts_.erase(puts_.begin());
  // What cleanup must undo is marked when the write is issued (it may take
  // effect even if its completion never comes).
  if (put.field == "FOFF") foff_changed_ = true;
  if (put.field == "DHLM" || put.field == "DLLM") limits_opened_ = true;
  if (put.field == "SET" && put.value != 0) set_mode_ = true;
  last_put_ = put;
  issue(std::move(put), now, kPutTimeout);
}

void Homing::begin_search(double now) {
  phase_ = Phase::search;
  start_rbv_ = status_.rbv;
  last_move_ = now;
  may_move_ = true;
  issue(Move{plan_.search_target, plan_.search_timeout}, now, plan_.search_timeout);
}

void Homing::begin_center(double now) {
  phase_ = Phase::center;
  start_rbv_ = status_.rbv;
  last_move_ = now;
  may_move_ = true;
  const double timeout =
      std::abs(p_.center - status_.rbv) / settings_.velo + 2 * settings_.accl + p_.margin;
  issue(Move{p_.center, timeout}, now, timeout);
}

void Homing::handle(const Event& event, double now) {
  if (phase_ == Phase::done) return;
  if (const auto* s = std::get_if<Status>(&event)) {
    on_status(s->status, now);
  } else if (const auto* d = std::get_if<Done>(&event)) {
    on_done(d->id, now);
  } else if (const auto* f = std::get_if<Failed>(&event)) {
    if (!awaited_ || f->id != *awaited_) return;
    if (phase_ == Phase::cleanup) {
      on_done(f->id, now);  // cleanup goes on regardless
      return;
    }
    awaited_.reset();  // completed (refused): nothing in flight
    fail(f->what, now);
  } else if (const auto* i = std::get_if<Interrupted>(&event)) {
    fail(i->reason, now, true);
  } else {
    on_tick(now);
  }
}

void Homing::on_status(const MotorStatus& s, double now) {
  if (s.rbv != status_.rbv) last_move_ = now;
  status_ = s;
  result_.last = s;
  const bool moving = phase_ == Phase::search || phase_ == Phase::center || phase_ == Phase::settle;
  if (moving && (s.msta & kStallBits) != 0) {
    fail(fmt::format("the motor stalled at RBV {} (MSTA {:#x}: SLIP_STALL/PROBLEM)", s.rbv, s.msta),
         now);
    return;
  }
  if (phase_ == Phase::search && !other_switch_at_start_ && at_other_switch(s)) {
    fail(fmt::format(
             "the {} tripped while driving towards the {}: is DIR or the wiring reversed?",
             p_.direction == Direction::hi ? "low limit switch (LLS)" : "high limit switch (HLS)",
             switch_field()),
         now);
    return;
  }
  if (phase_ == Phase::cleanup && waiting_rest_ && s.dmov) {
    waiting_rest_ = false;
    next_cleanup(now);
  }
}

void Homing::on_done(std::uint64_t id, double now) {
  if (!awaited_ || id != *awaited_) return;
  awaited_.reset();
  switch (phase_) {
    case Phase::prepare:
    case Phase::redefine:
      after_put(now);
      next_put(now);
      return;
    case Phase::search:
    case Phase::center:
      // The completion may overtake the last status updates: settle first.
      centering_ = phase_ == Phase::center;
      phase_ = Phase::settle;
      last_move_ = now;
      step_deadline_ = now + p_.settle_time + 2 * settings_.accl + p_.margin;
      return;
    case Phase::cleanup:
      if (stop_issued_ && !status_.dmov) {
        waiting_rest_ = true;  // where it stands once it has stopped
        stop_issued_ = false;
        return;
      }
      stop_issued_ = false;
      next_cleanup(now);
      return;
    default:
      return;
  }
}

void Homing::after_put(double) {
  const Put& put = last_put_;
  if (put.field == "SET" && put.value == 0) set_mode_ = false;
  if (put.field == "VAL") result_.switch_value = put.value;
  if (put.field == "LLM") limits_opened_ = false;  // HLM and LLM replaced them
}

std::optional<double> Homing::deadline() const {
  switch (phase_) {
    case Phase::idle:
    case Phase::done:
      return std::nullopt;
    case Phase::cleanup:
      return cleanup_deadline_;
    case Phase::search:
      if (!status_.dmov) return std::min(step_deadline_, last_move_ + p_.still_timeout);
      return step_deadline_;
    case Phase::settle:
      if (status_.dmov) return std::min(step_deadline_, last_move_ + p_.settle_time);
      return step_deadline_;
    default:
      return step_deadline_;
  }
}

void Homing::on_tick(double now) {
  switch (phase_) {
    case Phase::search:
      if (now >= step_deadline_) {
        fail(fmt::format("never reached the {} within {:.1f} s ({:g} at VELO {:g} from RBV {:g}); "
                         "stopped at RBV {:g}",
                         switch_field(), plan_.search_timeout, plan_.search_distance,
                         settings_.velo, start_rbv_, status_.rbv),
             now);
      } else if (!status_.dmov && now >= last_move_ + p_.still_timeout) {
        fail(fmt::format("the motor does not move: RBV stayed at {:g} for {:g} s while DMOV was 0",
                         status_.rbv, p_.still_timeout),
             now);
      }
      return;
    case Phase::settle:
      if (status_.dmov && now >= last_move_ + p_.settle_time) {
        settled(now);
      } else if (now >= step_deadline_) {
        fail(fmt::format("the motor did not come to rest (DMOV {}, RBV {:g})", status_.dmov ? 1 : 0,
                         status_.rbv),
             now);
      }
      return;
    case Phase::cleanup:
      if (now >= cleanup_deadline_) finish();
      return;
    case Phase::prepare:
    case Phase::redefine:
    case Phase::center:
      if (now >= step_deadline_) {
        awaited_.reset();  // given up on: cleanup does not wait for it
        fail(fmt::format("{}: no completion within {:.1f} s",
                         phase_ == Phase::center ? std::string("the move to center")
                                                 : "the write of " + last_put_.field,
                         step_timeout_),
             now);
      }
      return;
    default:
      return;
  }
}

void Homing::settled(double now) {
  may_move_ = false;
  if (centering_) {
    if (status_.lvio) {
      fail(fmt::format("the move to center {:g} was refused by a soft limit (LVIO)", p_.center),
           now);
      return;
    }
    phase_ = Phase::done;
    finish();
    return;
  }
  if (!at_switch(status_)) {
    if (status_.lvio) {
      fail("the search move was refused by a soft limit (LVIO)", now);
    } else if (std::abs(status_.rbv - start_rbv_) <= 0) {
      fail(fmt::format("the motor did not move: RBV stayed at {:g}", status_.rbv), now);
    } else {
      fail(fmt::format("never reached the {}: moved {:g} (from RBV {:g} to {:g}) without it "
                       "tripping",
                       switch_field(), std::abs(status_.rbv - start_rbv_), start_rbv_, status_.rbv),
           now);
    }
    return;
  }
  result_.switch_before = status_.rbv;
  phase_ = Phase::redefine;
  puts_ = {{"SET", 1, true},
           {"VAL", plan_.switch_value},
           {"SET", 0, true},
           {"HLM", p_.hi_lim},
           {"LLM", p_.lo_lim}};
  next_put(now);
}

void Homing::fail(std::string why, double now, bool interrupted) {
  if (phase_ == Phase::done) return;
  if (phase_ == Phase::cleanup) {
    if (interrupted) finish();  // a second interruption skips the waits
    return;
  }
  result_.error = std::move(why);
  result_.interrupted = interrupted;
  result_.failed_in = phase_;
  cleanup_.clear();
  if (may_move_) cleanup_.emplace_back(Stop{});
  if (set_mode_) cleanup_.emplace_back(Put{"SET", 0, true});
  if (limits_opened_) {
    cleanup_.emplace_back(Put{"DHLM", settings_.dhlm});
    cleanup_.emplace_back(Put{"DLLM", settings_.dllm});
  }
  if (foff_changed_) cleanup_.emplace_back(Put{"FOFF", static_cast<double>(settings_.foff), true});
  phase_ = Phase::cleanup;
  cleanup_deadline_ = now + p_.cleanup_timeout;
  // A write in flight is awaited first: issued now, a restoring write could
  // overtake it (they run concurrently in the shell). A move in flight is not
  // (STOP must go at once; its late completion is ignored).
  if (awaited_ && awaited_is_put_) return;
  awaited_.reset();
  next_cleanup(now);
}

void Homing::next_cleanup(double now) {
  if (cleanup_.empty()) {
    finish();
    return;
  }
  auto body = std::move(cleanup_.front());
  cleanup_.erase(cleanup_.begin());
  stop_issued_ = std::holds_alternative<Stop>(body);
  issue(std::move(body), now, p_.cleanup_timeout);
}

void Homing::finish() {
  phase_ = Phase::done;
  awaited_.reset();
  result_.ok = result_.error.empty();
  result_.last = status_;
}

std::vector<Command> Homing::take_commands() {
  return std::exchange(out_, {});
}

}  // namespace pandafly::motionbox
