// SEQ: the sequencer (reference §4.2, table layout §1.7) — runs the rows of
// TABLE: each row waits for its TRIGGER, drives OUTA..F with its phase-1 bits
// for TIME1 (skipped when 0), then its phase-2 bits for TIME2, REPEATS times
// (0 = for ever); the whole table runs REPEATS times (0 = for ever).
//
// Rules
//   States (STATE enum): UNREADY, WAIT_ENABLE, WAIT_TRIGGER, PHASE1, PHASE2.
//   * UNREADY while the table is empty, and after a table write while running
//     until ENABLE falls (the run is aborted: outputs and ACTIVE low, HEALTH 2).
//     A table write resets TABLE_REPEAT/TABLE_LINE/LINE_REPEAT to 0.
//   * ENABLE falling, in any state: outputs and ACTIVE low → WAIT_ENABLE (or
//     UNREADY with an empty table).
//   * WAIT_ENABLE --ENABLE rising--> ACTIVE high, HEALTH OK, counters 1/1/1,
//     row 1 starts.
//   * Starting a row (and each repeat of it): TRIGGER false → WAIT_TRIGGER,
//     outputs hold; true → PHASE1 (TIME1 > 0) or PHASE2, outputs set.
//   * WAIT_TRIGGER --TRIGGER true--> PHASE1 or PHASE2.
//   * PHASE1 --TIME1·PRESCALE ticks--> PHASE2.
//   * PHASE2 --TIME2·PRESCALE ticks--> the next repeat, the next row, the next
//     table repeat, or (the last of all) outputs and ACTIVE low, WAIT_ENABLE.
//   PRESCALE 0 counts as 1 tick, TIME2 0 as 1 unit (as the firmware does).
//   Trigger labels 13..15 (unused) count as Immediate.
//
// Timing: a start decided in on_inputs() at tick t (ENABLE rising, a trigger
// becoming true) sets its outputs at t + 1 (register latency); phases are timed
// by wakes, so each phase lasts exactly its ticks and the following phase, row
// or repeat (when its trigger already holds) begins in the same tick the
// previous one ends. Triggers are levels, checked when a row (repeat) starts
// and on every change of the inputs while waiting; not during the phases.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {
namespace {

enum class State : std::uint8_t { unready, wait_enable, wait_trigger, phase1, phase2 };
enum class Health : std::uint8_t { ok, underrun, overwritten };

// One decoded table row (4 words, layout in table_blocks.cpp).
struct Row {
  std::uint32_t repeats = 0;  // 0 = for ever
  std::uint32_t trigger = 0;  // label index
  std::int32_t position = 0;
  std::uint32_t time1 = 0, time2 = 0;
  std::uint8_t out1 = 0, out2 = 0;  // bit 0 = OUTA … bit 5 = OUTF
};

Row decode(std::span<const std::uint32_t, 4> w) {
  Row r;
  r.repeats = w[0] & 0xFFFFu;
  r.trigger = (w[0] >> 16) & 0xFu;
  r.out1 = static_cast<std::uint8_t>((w[0] >> 20) & 0x3Fu);
  r.out2 = static_cast<std::uint8_t>((w[0] >> 26) & 0x3Fu);
  r.position = static_cast<std::int32_t>(w[1]);
  r.time1 = w[2];
  r.time2 = w[3];
  return r;
}

constexpr std::size_t kOutputs = 6;
constexpr Tick kLongest = Tick{1} << 62;  // saturation of phase lengths

class Seq final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine&) override {
    enable_ = c.bit_in("ENABLE");
    bits_ = {c.bit_in("BITA"), c.bit_in("BITB"), c.bit_in("BITC")};
    positions_ = {c.pos_in("POSA"), c.pos_in("POSB"), c.pos_in("POSC")};
    const char* names[kOutputs] = {"OUTA", "OUTB", "OUTC", "OUTD", "OUTE", "OUTF"};
    for (std::size_t i = 0; i < kOutputs; ++i) outs_[i] = c.bit_out(names[i]);
    active_ = c.bit_out("ACTIVE");
    prescale_ = std::max<Tick>(c.param("PRESCALE"), 1);
    table_repeats_ = static_cast<std::uint32_t>(c.param("REPEATS"));
    const auto words = c.table("TABLE");
    rows_.clear();
    for (std::size_t i = 0; i + 4 <= words.size(); i += 4) {
      rows_.push_back(decode(words.subspan(i).first<4>()));
    }
    if (!running()) state_ = idle_state();
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>& positions) const override {
    bits.push_back(enable_);
    bits.insert(bits.end(), bits_.begin(), bits_.end());
    positions.insert(positions.end(), positions_.begin(), positions_.end());
  }

  void on_write(std::string_view field, Engine& e) override {
    if (field != "TABLE") return;
    table_repeat_ = table_line_ = line_repeat_ = 0;
    if (!running()) return;
    stop(e, e.now() + 1);
    aborted_ = true;
    health_ = Health::overwritten;
    state_ = State::unready;
  }

  void on_inputs(Engine& e) override {
    const bool enable = e.bit(enable_);
    const bool rise = enable && !prev_enable_;
    const bool fall = !enable && prev_enable_;
    prev_enable_ = enable;
    if (fall) {
      stop(e, e.now() + 1);
      aborted_ = false;
      state_ = idle_state();
    } else if (rise && state_ == State::wait_enable) {
      health_ = Health::ok;
      table_repeat_ = table_line_ = line_repeat_ = 1;
      set_active(e, true, e.now() + 1);
      start_row(e, e.now() + 1);
    } else if (state_ == State::wait_trigger && triggered(e, row())) {
      start_phases(e, e.now() + 1);
    }
  }

  void on_wake(Engine& e) override {
    if (e.now() != wake_at_) return;  // a phase that was stopped or replaced
    wake_at_ = kNever;
    if (state_ == State::phase1) {
      start_phase(e, State::phase2, e.now());
    } else if (state_ == State::phase2) {
      next_repeat(e, e.now());
    }
  }

  void publish(const InstanceConfig& c) const override {
    c.set_read("STATE", static_cast<std::int64_t>(state_));
    c.set_read("HEALTH", static_cast<std::int64_t>(health_));
    c.set_read("TABLE_REPEAT", table_repeat_);
    c.set_read("TABLE_LINE", table_line_);
    c.set_read("LINE_REPEAT", line_repeat_);
  }

 private:
  [[nodiscard]] bool running() const {
    return state_ == State::wait_trigger || state_ == State::phase1 || state_ == State::phase2;
  }
  [[nodiscard]] State idle_state() const {
    return rows_.empty() || aborted_ ? State::unready : State::wait_enable;
  }
  [[nodiscard]] const Row& row() const { return rows_[table_line_ - 1]; }

  [[nodiscard]] bool triggered(const Engine& e, const Row& r) const {
    if (r.trigger == 0 || r.trigger > 12) return true;
    if (r.trigger <= 6) {  // BITA=0, BITA=1, BITB=0, …
      return e.bit(bits_[(r.trigger - 1) / 2]) == (r.trigger % 2 == 0);
    }
    const std::int32_t p = e.pos(positions_[(r.trigger - 7) / 2]);  // POSA>=, POSA<=, …
    return r.trigger % 2 == 1 ? p >= r.position : p <= r.position;
  }

  // The current row (repeat) begins at `at`: its phases, or a wait for its trigger.
  void start_row(Engine& e, Tick at) {
    if (triggered(e, row())) {
      start_phases(e, at);
    } else {
      state_ = State::wait_trigger;
      wake_at_ = kNever;
    }
  }
  void start_phases(Engine& e, Tick at) {
    start_phase(e, row().time1 != 0 ? State::phase1 : State::phase2, at);
  }
  void start_phase(Engine& e, State phase, Tick at) {
    const Row& r = row();
    const bool first = phase == State::phase1;
    state_ = phase;
    set_outputs(e, first ? r.out1 : r.out2, at);
    const std::uint32_t units = first ? r.time1 : std::max<std::uint32_t>(r.time2, 1);
    const Tick length = std::min<Tick>(kLongest / prescale_, units) * prescale_;
    wake_at_ = at + length;
    e.wake(*this, wake_at_);
  }

  // Phase 2 of the current row ended at `at`.
  void next_repeat(Engine& e, Tick at) {
    if (row().repeats == 0 || line_repeat_ < row().repeats) {
      ++line_repeat_;
    } else if (table_line_ < rows_.size()) {
      ++table_line_;
      line_repeat_ = 1;
    } else if (table_repeats_ == 0 || table_repeat_ < table_repeats_) {
      ++table_repeat_;
      table_line_ = line_repeat_ = 1;
    } else {
      stop(e, at);
      state_ = State::wait_enable;
      return;
    }
    start_row(e, at);
  }

  void stop(Engine& e, Tick at) {
    set_outputs(e, 0, at);
    set_active(e, false, at);
    wake_at_ = kNever;
  }

  void set_outputs(Engine& e, std::uint8_t bits, Tick at) {
    for (std::size_t i = 0; i < kOutputs; ++i) {
      const bool v = ((static_cast<unsigned>(bits) >> i) & 1u) != 0;
      if (((static_cast<unsigned>(levels_) >> i) & 1u) == (v ? 1u : 0u)) continue;
      e.set_bit(outs_[i], v, at);
    }
    levels_ = bits;
  }
  void set_active(Engine& e, bool v, Tick at) {
    if (active_level_ == v) return;
    active_level_ = v;
    e.set_bit(active_, v, at);
  }

  // Wiring and parameters (configure()).
  Signal enable_ = 0, active_ = 0;
  std::array<Signal, 3> bits_{}, positions_{};
  std::array<Signal, kOutputs> outs_{};
  Tick prescale_ = 1;
  std::uint32_t table_repeats_ = 0;
  std::vector<Row> rows_;
  // Runtime state; counters as STATE reads show them (1-based, 0 = none).
  State state_ = State::unready;
  Health health_ = Health::ok;
  bool prev_enable_ = false, active_level_ = false, aborted_ = false;
  std::uint8_t levels_ = 0;
  Tick wake_at_ = kNever;
  std::uint32_t table_repeat_ = 0, table_line_ = 0, line_repeat_ = 0;
};

}  // namespace

void add_seq_behaviours(BehaviourRegistry& registry) {
  registry["SEQ"] = [](const InstanceConfig&) { return std::make_unique<Seq>(); };
}

}  // namespace pandafly::sim::fpga
