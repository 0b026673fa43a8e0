// PULSE, CLOCK and COUNTER: the time-keeping blocks of the simulated FPGA
// (reference §4.2, PandABlocks-FPGA modules/pulse, clock, counter).
//
// Timing conventions (PCOMP/PCAP and test authors may rely on them)
//   * An input edge seen at tick t (on_inputs() at t) changes an output at t+1
//     at the earliest: the FPGA's register stage, enforced by the engine.
//   * A register write made between runs (engine.now() == w, tick w already
//     processed) takes effect at w+1; a mux write is seen as an edge at w+1.
//   * PULSE: a matching TRIG edge at t rises at r = t + max(1, DELAY); pulse k
//     (0 <= k < max(1, PULSES)) rises at r + k*STEP' and falls WIDTH ticks after
//     its rise, STEP' = max(STEP, WIDTH+1) when PULSES > 1 (pulses never merge).
//     WIDTH 0: a delay line, each TRIG edge (TRIG_EDGE ignored) is replayed at
//     t + max(1, DELAY), so the output keeps the input's widths.
//   * CLOCK: ENABLE rising at t (or PERIOD/WIDTH taking new values at w while
//     enabled: the clock restarts) gives rising edges at o + k*PERIOD', o = t+1
//     (or w+1), each high WIDTH' ticks; ENABLE falling at t: OUT low at t+1.
//   * COUNTER: ENABLE/TRIG/DIR edges at t change OUT/CARRY at t+1.
// Timed changes (PULSE, CLOCK) are wakes at their exact ticks; no block steps
// tick by tick. Wakes cannot be cancelled, so each block keeps its own agenda
// and acts only on what is due at now() (a stale wake does nothing).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {
namespace {

/// TRIG_EDGE / SET_EDGE enum: 0 Rising, 1 Falling, 2 Either.
bool edge_matches(std::int64_t edge, bool rose, bool fell) {
  if (edge == 0) return rose;
  if (edge == 1) return fell;
  return rose || fell;
}

/// Asks for a wake only when the wanted tick differs from the last one asked
/// (still pending), so an agenda that does not change costs no events.
class WakePlan {
 public:
  void request(Behaviour& who, Engine& e, Tick at) {
    if (at == kNever || at == asked_) return;
    e.wake(who, at);
    asked_ = at;
  }
  void arrived(Tick now) {
    if (now == asked_) asked_ = kNever;
  }

 private:
  Tick asked_ = kNever;
};

// ------------------------------------------------------------------ PULSE
// Rules: a ring of pending entries (delay line: one output edge each; train
// mode: the first rise of one train). The front train is emitted edge by edge:
// rise_ is the rise of its current pulse, high_ whether that rise is out,
// done_ how many of its pulses are complete; it leaves the ring after its last
// fall. QUEUED counts entries not yet started (firmware pops an entry when its
// output starts). A trigger is DROPPED when 1023 entries wait, or (train mode)
// when its first rise would not come after the previous train's last fall
// (firmware: "pulses too close together"; we require at least one low tick,
// firmware's pipeline needs a few more). ENABLE rising zeroes DROPPED; ENABLE
// falling, or DELAY/WIDTH/STEP/PULSES/TRIG_EDGE taking new values, empties the
// ring and drives OUT low. Deviation: firmware raises 0 < DELAY < 5 (WIDTH 0)
// and 0 < WIDTH < 5 (DELAY 0) to 5 or 6 ticks for its FIFO; we keep the exact
// values so delays compose arithmetically.
class Pulse final : public Behaviour {
 public:
  Pulse() : ring_(kRing) {}

  void configure(const InstanceConfig& c, Engine& e) override {
    enable_ = c.bit_in("ENABLE");
    trig_ = c.bit_in("TRIG");
    out_ = c.bit_out("OUT");
    const Params p{c.param("DELAY"), c.param("WIDTH"), c.param("STEP"),
                   std::max<std::int64_t>(1, c.param("PULSES")), c.param("TRIG_EDGE")};
    if (p == params_) return;
    params_ = p;
    step_ = p.pulses > 1 ? std::max(p.step, p.width + 1) : p.step;
    clear(e, e.now() + 1);
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(enable_);
    bits.push_back(trig_);
  }

  void on_inputs(Engine& e) override {
    const bool en = e.bit(enable_);
    const bool trig = e.bit(trig_);
    const bool rose = trig && !trig_prev_;
    const bool fell = !trig && trig_prev_;
    trig_prev_ = trig;
    if (en && !en_prev_) dropped_ = 0;
    if (!en && en_prev_) clear(e, e.now() + 1);
    en_prev_ = en;
    if (en && (rose || fell)) accept(e, trig, rose, fell);
  }

  void on_wake(Engine& e) override {
    plan_.arrived(e.now());
    while (next_edge() <= e.now()) emit_next(e);
    plan_.request(*this, e, next_edge());
  }

  void publish(const InstanceConfig& c) const override {
    c.set_read("QUEUED", queued());
    c.set_read("DROPPED", dropped_);
  }

 private:
  struct Params {
    std::int64_t delay = -1, width = 0, step = 0, pulses = 0, trig_edge = 0;
    bool operator==(const Params&) const = default;
  };
  struct Entry {
    Tick at;     // delay line: the output edge; train: the first rise
    bool level;  // delay line: the level after the edge
  };
  static constexpr std::size_t kRing = 1024;
  static constexpr std::int64_t kMaxQueued = 1023;

  [[nodiscard]] bool delay_line() const { return params_.width == 0; }

  void accept(Engine& e, bool level, bool rose, bool fell) {
    if (!delay_line() && !edge_matches(params_.trig_edge, rose, fell)) return;
    const Tick at = e.now() + std::max<Tick>(1, params_.delay);
    const bool overlaps = !delay_line() && size_ > 0 && at <= last_end_;
    if (queued() >= kMaxQueued || overlaps) {
      ++dropped_;
      return;
    }
    push({at, level});
    if (!delay_line()) last_end_ = train_end(at);
    plan_.request(*this, e, next_edge());
  }

  // Last fall of a train rising first at `start`, saturated far in the future.
  [[nodiscard]] Tick train_end(Tick start) const {
    const Tick span = params_.pulses - 1;
    if (span > 0 && step_ > (kNever / 4) / span) return kNever / 2;
    return start + span * step_ + params_.width;
  }

  void push(Entry entry) {
    if (size_ == 0) start_front(entry.at);
    ring_[(head_ + size_) % kRing] = entry;
    ++size_;
  }

  void pop() {
    head_ = (head_ + 1) % kRing;
    --size_;
    if (size_ > 0) start_front(ring_[head_].at);
  }

  void start_front(Tick at) {
    rise_ = at;
    high_ = false;
    done_ = 0;
  }

  [[nodiscard]] Tick next_edge() const {
    if (size_ == 0) return kNever;
    if (delay_line()) return ring_[head_].at;
    return high_ ? rise_ + params_.width : rise_;
  }

  void emit_next(Engine& e) {
    if (delay_line()) {
      drive(e, ring_[head_].level, e.now());
      pop();
      return;
    }
    drive(e, !high_, e.now());
    high_ = !high_;
    if (high_) return;
    if (++done_ < params_.pulses) {
      rise_ += step_;
    } else {
      pop();
    }
  }

  [[nodiscard]] std::int64_t queued() const {
    const bool started = !delay_line() && size_ > 0 && (high_ || done_ > 0);
    return static_cast<std::int64_t>(size_) - (started ? 1 : 0);
  }

  void clear(Engine& e, Tick at) {
    head_ = 0;
    size_ = 0;
    start_front(kNever);
    drive(e, false, at);
  }

  void drive(Engine& e, bool level, Tick at) {
    if (level == driven_) return;
    e.set_bit(out_, level, at);
    driven_ = level;
  }

  Signal enable_ = 0, trig_ = 0, out_ = 0;
  Params params_;
  Tick step_ = 0;  // STEP' (see the file comment)
  bool en_prev_ = false, trig_prev_ = false, driven_ = false;
  std::vector<Entry> ring_;  // allocated once: no allocation per trigger
  std::size_t head_ = 0, size_ = 0;
  Tick rise_ = kNever, last_end_ = 0;
  bool high_ = false;
  std::int64_t done_ = 0, dropped_ = 0;
  WakePlan plan_;
};

// ------------------------------------------------------------------ CLOCK
// Rules: running while ENABLE is high. OUT(t) = running && t >= origin &&
// (t - origin) mod PERIOD' < WIDTH'. As the firmware documents: PERIOD and
// WIDTH both 0 stop the clock; PERIOD' = max(PERIOD, WIDTH+1, 2); WIDTH 0 means
// WIDTH' = PERIOD'/2 (rounded down). Firmware restarts the clock on every
// PERIOD/WIDTH write; we restart when the effective values change (so writing
// the same value or only .UNITS does not disturb a running clock).
class Clock final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine& e) override {
    enable_ = c.bit_in("ENABLE");
    out_ = c.bit_out("OUT");
    const Tick period = c.param("PERIOD");
    const Tick width = c.param("WIDTH");
    Tick p = 0, w = 0;
    if (period != 0 || width != 0) {
      p = std::max({period, width + 1, Tick{2}});
      w = width == 0 ? p / 2 : width;
    }
    if (p == period_ && w == width_) return;
    period_ = p;
    width_ = w;
    if (running_) restart(e, e.now() + 1);
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(enable_);
  }

  void on_inputs(Engine& e) override {
    const bool en = e.bit(enable_);
    if (en && !running_) {
      running_ = true;
      restart(e, e.now() + 1);
    } else if (!en && running_) {
      running_ = false;
      drive(e, false, e.now() + 1);
    }
  }

  void on_wake(Engine& e) override {
    plan_.arrived(e.now());
    drive(e, level(e.now()), e.now());
    plan_.request(*this, e, next_change(e.now()));
  }

 private:
  void restart(Engine& e, Tick origin) {
    origin_ = origin;
    plan_.request(*this, e, origin);
  }

  [[nodiscard]] bool level(Tick t) const {
    return running_ && period_ > 0 && t >= origin_ && (t - origin_) % period_ < width_;
  }

  [[nodiscard]] Tick next_change(Tick t) const {
    if (!running_ || period_ == 0) return kNever;
    if (t < origin_) return origin_;
    const Tick start = origin_ + (t - origin_) / period_ * period_;
    return t - start < width_ ? start + width_ : start + period_;
  }

  void drive(Engine& e, bool v, Tick at) {
    if (v == driven_) return;
    e.set_bit(out_, v, at);
    driven_ = v;
  }

  Signal enable_ = 0, out_ = 0;
  Tick period_ = 0, width_ = 0, origin_ = 0;
  bool running_ = false, driven_ = false;
  WakePlan plan_;
};

// ------------------------------------------------------------------ COUNTER
// Rules (PandABlocks-FPGA counter.vhd and its documented timing), per tick with
// an input change, first match wins:
//   ENABLE rose  → count = START (OUT follows in On-Change mode);
//   ENABLE fell  → On-Change: CARRY low; On-Disable: OUT = count and CARRY =
//                  "wrapped since enable";
//   enabled and a TRIG_EDGE edge → count ± STEP (STEP 0 counts 1; DIR high
//                  subtracts, sampled in the same tick); leaving [MIN, MAX]
//                  wraps by MAX-MIN+1 and raises CARRY (MAX = MIN = 0: the int32
//                  range);
//   TRIG low     → CARRY low.
// So CARRY stays high while TRIG stays high after the wrapping edge (firmware
// docs; a one-tick pulse for falling-edge counting), not a fixed one-tick pulse.
// Writing SET loads count and OUT at the next tick, enabled or not.
class Counter final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine&) override {
    enable_ = c.bit_in("ENABLE");
    trig_ = c.bit_in("TRIG");
    dir_ = c.bit_in("DIR");
    out_ = c.pos_out("OUT");
    carry_ = c.bit_out("CARRY");
    trig_edge_ = c.param("TRIG_EDGE");
    on_disable_ = c.param("OUT_MODE") == 1;
    start_ = static_cast<std::int32_t>(c.param("START"));
    // STEP is a uint register the firmware adds as a signed 32-bit number.
    const auto step = static_cast<std::int32_t>(static_cast<std::uint32_t>(c.param("STEP")));
    step_ = step == 0 ? 1 : step;
    max_ = c.param("MAX");
    min_ = c.param("MIN");
    if (max_ == 0 && min_ == 0) {
      max_ = std::numeric_limits<std::int32_t>::max();
      min_ = std::numeric_limits<std::int32_t>::min();
    }
    set_ = static_cast<std::int32_t>(c.param("SET"));
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(enable_);
    bits.push_back(trig_);
    bits.push_back(dir_);
  }

  void on_inputs(Engine& e) override {
    const bool en = e.bit(enable_);
    const bool trig = e.bit(trig_);
    const bool rose = trig && !trig_prev_;
    const bool fell = !trig && trig_prev_;
    const Tick next = e.now() + 1;
    trig_prev_ = trig;
    if (en && !en_prev_) {
      count_ = start_;
      wrapped_ = false;
      if (!on_disable_) e.set_pos(out_, count_, next);
    } else if (!en && en_prev_) {
      if (on_disable_) e.set_pos(out_, count_, next);
      drive_carry(e, on_disable_ && wrapped_, next);
    } else if (en && edge_matches(trig_edge_, rose, fell)) {
      step(e, e.bit(dir_), next);
    } else if (!trig && !on_disable_) {
      drive_carry(e, false, next);
    }
    en_prev_ = en;
    // CARRY falls in the first tick TRIG is low, even with no input change then.
    if (carry_level_ && !trig && !on_disable_) e.poke(*this);
  }

  void on_write(std::string_view field, Engine& e) override {
    if (field != "SET") return;
    count_ = set_;
    e.set_pos(out_, count_, e.now() + 1);
  }

 private:
  void step(Engine& e, bool down, Tick next) {
    std::int64_t v = std::int64_t{count_} + (down ? -std::int64_t{step_} : std::int64_t{step_});
    bool wrap = true;
    if (v > max_) {
      v -= max_ - min_ + 1;
    } else if (v < min_) {
      v += max_ - min_ + 1;
    } else {
      wrap = false;
    }
    count_ = static_cast<std::int32_t>(v);  // modulo 2^32, as the 32-bit register
    wrapped_ = wrapped_ || wrap;
    if (on_disable_) return;
    e.set_pos(out_, count_, next);
    if (wrap) drive_carry(e, true, next);
  }

  void drive_carry(Engine& e, bool v, Tick at) {
    if (v == carry_level_) return;
    e.set_bit(carry_, v, at);
    carry_level_ = v;
  }

  Signal enable_ = 0, trig_ = 0, dir_ = 0, out_ = 0, carry_ = 0;
  std::int64_t trig_edge_ = 0, max_ = 0, min_ = 0;
  std::int32_t start_ = 0, step_ = 1, set_ = 0, count_ = 0;
  bool on_disable_ = false, en_prev_ = false, trig_prev_ = false;
  bool carry_level_ = false, wrapped_ = false;
};

template <class T>
BehaviourFactory make() {
  return [](const InstanceConfig&) { return std::make_unique<T>(); };
}

}  // namespace

void add_timing_behaviours(BehaviourRegistry& registry) {
  registry["PULSE"] = make<Pulse>();
  registry["CLOCK"] = make<Clock>();
  registry["COUNTER"] = make<Counter>();
}

}  // namespace pandafly::sim::fpga
