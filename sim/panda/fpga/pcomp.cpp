// PCOMP: position compare (reference §4.2) — a pulse train on OUT gated by the
// position INP crossing START + k·STEP (rising) and START + k·STEP + WIDTH
// (falling), in the direction DIR, PULSES times (0 = no limit).
//
// Rules
//   States (STATE enum): WAIT_ENABLE, WAIT_DIR, WAIT_PRE_START, WAIT_RISING,
//   WAIT_FALLING.
//   * ENABLE falling, in any state: OUT and ACTIVE low, WAIT_ENABLE.
//   * WAIT_ENABLE --ENABLE rising--> ACTIVE high, HEALTH OK, PRODUCED 0, INP
//     latched (RELATIVE); DIR=Either → WAIT_DIR, else WAIT_PRE_START. With
//     RELATIVE, START=0 and PRE_START=0 (fixed DIR) the first pulse starts at
//     once (reference: "starts immediately at enable") → WAIT_FALLING.
//   * WAIT_DIR: absolute — INP ≠ START fixes the direction towards START
//     (INP < START → positive) → WAIT_PRE_START. Relative — once |INP − latch|
//     ≥ START + PRE_START: with PRE_START > 0 the direction is the opposite of
//     the move (the axis backs off, then comes through) → WAIT_PRE_START;
//     without, the direction is the move's and the first pulse fires there →
//     WAIT_FALLING. START + PRE_START ≤ 0 → HEALTH "Can't guess DIR", ACTIVE low.
//   * WAIT_PRE_START --INP < START − PRE_START (negative: INP > START +
//     PRE_START; strict, as the reference words it)--> WAIT_RISING.
//   * WAIT_RISING --INP ≥ next (negative: ≤)--> OUT high, PRODUCED+1,
//     WAIT_FALLING; but if INP also reached that pulse's falling position (a
//     jump over a whole pulse) → HEALTH "Position jumped", ACTIVE low.
//   * WAIT_FALLING --INP ≥ rise + WIDTH--> OUT low; PRODUCED = PULSES → ACTIVE
//     low, WAIT_ENABLE; INP already at the next rising position → HEALTH
//     "Position jumped", ACTIVE low; else WAIT_RISING for rise + STEP.
//   The crossings compare in the sense of travel from the previous crossing to
//   the next (as the firmware does), so STEP=0 is a repeating comparator and a
//   negative WIDTH a Schmitt trigger; a position is never fired twice.
//
// Timing: as in the firmware, at most one transition per tick. on_inputs() runs
// on a change of ENABLE or INP (or a poke); a transition pokes the block so the
// next one is checked one tick later. Outputs land one tick after the decision
// (the engine's register latency): INP reaching START at tick t → OUT rises at
// t + 1; ENABLE rising at t → ACTIVE at t + 1.
// Parameters are read live (configure() after each write), like the registers.
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {
namespace {

enum class State : std::uint8_t {
  wait_enable,
  wait_dir,
  wait_pre_start,
  wait_rising,
  wait_falling
};
enum class Health : std::uint8_t { ok, jumped, cannot_guess };
enum class Dir : std::uint8_t { positive, negative, either };

class Pcomp final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine&) override {
    enable_ = c.bit_in("ENABLE");
    inp_ = c.pos_in("INP");
    out_ = c.bit_out("OUT");
    active_ = c.bit_out("ACTIVE");
    pre_start_ = c.param("PRE_START");
    start_ = c.param("START");
    width_ = c.param("WIDTH");
    step_ = c.param("STEP");
    pulses_ = static_cast<std::uint32_t>(c.param("PULSES"));
    relative_ = c.param("RELATIVE") != 0;
    dir_ = static_cast<Dir>(c.param("DIR"));
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>& positions) const override {
    bits.push_back(enable_);
    positions.push_back(inp_);
  }

  void on_inputs(Engine& e) override {
    const bool enable = e.bit(enable_);
    const bool rise = enable && !prev_enable_;
    const bool fall = !enable && prev_enable_;
    prev_enable_ = enable;
    if (fall) {
      set_out(e, false);
      set_active(e, false);
      state_ = State::wait_enable;
      return;
    }
    const State before = state_;
    step(e, rise);
    if (state_ != before) e.poke(*this);
  }

  void publish(const InstanceConfig& c) const override {
    c.set_read("STATE", static_cast<std::int64_t>(state_));
    c.set_read("HEALTH", static_cast<std::int64_t>(health_));
    c.set_read("PRODUCED", produced_);
  }

 private:
  // One state-machine step at e.now() (the switch of the Rules above).
  void step(Engine& e, bool rise) {
    switch (state_) {
      case State::wait_enable:
        if (rise) start(e);
        break;
      case State::wait_dir:
        guess_dir(e);
        break;
      case State::wait_pre_start:
        if (dir_pos_ ? posn(e) < pulse_start() - pre_start_
                     : posn(e) > pulse_start() + pre_start_) {
          last_ = dir_pos_ ? pulse_start() - 1 : pulse_start() + 1;
          next_ = pulse_start();
          state_ = State::wait_rising;
        }
        break;
      case State::wait_rising:
        if (!reached(e)) break;
        if (jumped(e)) return fail(e, Health::jumped);
        fire(e, next_, next_ + signed_by_dir(width_));
        break;
      case State::wait_falling:
        if (!reached(e)) break;
        set_out(e, false);
        if (produced_ == pulses_) {
          set_active(e, false);
          state_ = State::wait_enable;
        } else if (jumped(e)) {
          fail(e, Health::jumped);
        } else {
          const std::int64_t rise_at = last_;
          last_ = next_;
          next_ = rise_at + signed_by_dir(step_);
          state_ = State::wait_rising;
        }
        break;
    }
  }

  void start(Engine& e) {
    set_active(e, true);
    health_ = Health::ok;
    produced_ = 0;
    latched_ = e.pos(inp_);
    if (dir_ == Dir::either) {
      state_ = State::wait_dir;
      return;
    }
    dir_pos_ = dir_ == Dir::positive;
    if (relative_ && start_ == 0 && pre_start_ == 0) {
      fire(e, 0, signed_by_dir(width_));
      return;
    }
    state_ = State::wait_pre_start;
  }

  void guess_dir(Engine& e) {
    const std::int64_t p = posn(e);
    if (!relative_) {
      if (p == start_) return;
      dir_pos_ = p < start_;
      state_ = State::wait_pre_start;
      return;
    }
    const std::int64_t threshold = start_ + pre_start_;
    if (threshold <= 0) return fail(e, Health::cannot_guess);
    if ((p < 0 ? -p : p) < threshold) return;
    if (pre_start_ > 0) {
      dir_pos_ = p <= 0;
      state_ = State::wait_pre_start;
      return;
    }
    dir_pos_ = p > 0;
    fire(e, signed_by_dir(start_), signed_by_dir(start_ + width_));
  }

  // OUT high for the pulse rising at `rise_at`, falling at `fall_at`.
  void fire(Engine& e, std::int64_t rise_at, std::int64_t fall_at) {
    set_out(e, true);
    ++produced_;
    last_ = rise_at;
    next_ = fall_at;
    state_ = State::wait_falling;
  }

  void fail(Engine& e, Health h) {
    set_out(e, false);
    set_active(e, false);
    health_ = h;
    state_ = State::wait_enable;
  }

  [[nodiscard]] std::int64_t posn(const Engine& e) const {
    return relative_ ? std::int64_t{e.pos(inp_)} - latched_ : std::int64_t{e.pos(inp_)};
  }
  [[nodiscard]] std::int64_t signed_by_dir(std::int64_t v) const { return dir_pos_ ? v : -v; }
  [[nodiscard]] std::int64_t pulse_start() const {
    return relative_ ? signed_by_dir(start_) : start_;
  }
  // INP is at or past the next crossing, in the sense from the last one to it.
  [[nodiscard]] bool reached(const Engine& e) const {
    return next_ >= last_ ? posn(e) >= next_ : posn(e) <= next_;
  }
  // INP is at or past the crossing after next: a whole pulse would be skipped.
  [[nodiscard]] bool jumped(const Engine& e) const {
    const std::int64_t too_far = last_ + signed_by_dir(step_);
    const std::int64_t p = posn(e);
    return (last_ <= next_ && next_ <= too_far && too_far <= p) ||
           (last_ >= next_ && next_ >= too_far && too_far >= p);
  }

  void set_out(Engine& e, bool v) {
    if (out_level_ == v) return;
    out_level_ = v;
    e.set_bit(out_, v, e.now() + 1);
  }
  void set_active(Engine& e, bool v) {
    if (active_level_ == v) return;
    active_level_ = v;
    e.set_bit(active_, v, e.now() + 1);
  }

  // Wiring and parameters (configure()).
  Signal enable_ = 0, inp_ = 0, out_ = 0, active_ = 0;
  std::int64_t pre_start_ = 0, start_ = 0, width_ = 0, step_ = 0;
  std::uint32_t pulses_ = 0;
  bool relative_ = false;
  Dir dir_ = Dir::positive;
  // Runtime state.
  State state_ = State::wait_enable;
  Health health_ = Health::ok;
  bool prev_enable_ = false, out_level_ = false, active_level_ = false, dir_pos_ = true;
  std::int64_t latched_ = 0, last_ = 0, next_ = 0;
  std::uint32_t produced_ = 0;
};

}  // namespace

void add_pcomp_behaviours(BehaviourRegistry& registry) {
  registry["PCOMP"] = [](const InstanceConfig&) { return std::make_unique<Pcomp>(); };
}

}  // namespace pandafly::sim::fpga
