// BITS, LUT, SRGATE, DIV, CALC and TTLOUT: the combinational and small
// sequential blocks of the simulated FPGA (reference §4.2, PandABlocks-FPGA
// modules/bits, lut, srgate, div, calc).
//
// Timing conventions (the same as timing_blocks.cpp)
//   * An input change seen at tick t changes an output at t+1 (one register
//     stage, enforced by the engine): LUT, SRGATE, DIV and CALC all have exactly
//     this one-tick latency.
//   * A register write made between runs (engine.now() == w) takes effect at
//     w+1: BITS.A..D, a new LUT FUNC/TYPE, CALC TYPE/SHIFT, SRGATE FORCE_SET /
//     FORCE_RST and WHEN_DISABLED; a mux write is seen as an edge at w+1 (so its
//     effect shows at w+2).
//   * TTLOUT has no bus output: engine.ttl_edge(n, level, t) reports the tick
//     t at which VAL changed on the bus (the pin follows the bus, no extra
//     register), n = instance number 1-based.
// Blocks keep the level they last drove and only schedule real changes.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {
namespace {

bool edge_matches(std::int64_t edge, bool rose, bool fell) {
  if (edge == 0) return rose;  // Rising
  if (edge == 1) return fell;  // Falling
  return rose || fell;         // Either
}

/// One bit output and the level this block last scheduled on it.
struct BitOut {
  Signal signal = 0;
  bool level = false;
  void drive(Engine& e, bool v, Tick at) {
    if (v == level) return;
    e.set_bit(signal, v, at);
    level = v;
  }
};

// ------------------------------------------------------------------ BITS
// OUTA..OUTD follow the params A..D (a software-settable bit bus source).
class Bits final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine& e) override {
    static constexpr std::array<std::string_view, 4> kParams{"A", "B", "C", "D"};
    static constexpr std::array<std::string_view, 4> kOuts{"OUTA", "OUTB", "OUTC", "OUTD"};
    for (std::size_t i = 0; i < out_.size(); ++i) {
      out_[i].signal = c.bit_out(kOuts[i]);
      out_[i].drive(e, c.param(kParams[i]) != 0, e.now() + 1);
    }
  }
  void inputs(std::vector<Signal>&, std::vector<Signal>&) const override {}
  void on_inputs(Engine&) override {}

 private:
  std::array<BitOut, 4> out_{};
};

// ------------------------------------------------------------------ TTLOUT
class TtlOut final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine&) override {
    val_ = c.bit_in("VAL");
    number_ = c.number() + 1;
  }
  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(val_);
  }
  void on_inputs(Engine& e) override {
    const bool v = e.bit(val_);
    if (v == level_) return;
    level_ = v;
    e.ttl_edge(number_, v, e.now());
  }

 private:
  Signal val_ = 0;
  std::size_t number_ = 1;
  bool level_ = false;
};

// ------------------------------------------------------------------ LUT
// OUT(t+1) = FUNC bit (A<<4 | B<<3 | C<<2 | D<<1 | E), A the MSB (lut.cpp's
// table: A = 0xFFFF0000 … E = 0xAAAAAAAA). TYPEx: 0 Input-Level (the level),
// 1/2/3 Pulse-On-Rising/Falling/Either-Edge: the input is 1 only in the tick of
// such an edge, so its effect on OUT lasts exactly one tick (the block pokes
// itself to re-evaluate the tick after a pulse).
class Lut final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine& e) override {
    static constexpr std::array<std::string_view, 5> kInputs{"INPA", "INPB", "INPC", "INPD",
                                                             "INPE"};
    static constexpr std::array<std::string_view, 5> kTypes{"TYPEA", "TYPEB", "TYPEC", "TYPED",
                                                            "TYPEE"};
    for (std::size_t i = 0; i < in_.size(); ++i) {
      in_[i] = c.bit_in(kInputs[i]);
      type_[i] = c.param(kTypes[i]);
    }
    func_ = static_cast<std::uint32_t>(c.param("FUNC"));
    out_.signal = c.bit_out("OUT");
    unsigned index = 0;  // levels as last seen, pulses off
    for (std::size_t i = 0; i < in_.size(); ++i) {
      if (type_[i] == 0 && prev_[i]) index |= 1u << (4 - i);
    }
    out_.drive(e, ((func_ >> index) & 1u) != 0, e.now() + 1);
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.insert(bits.end(), in_.begin(), in_.end());
  }

  void on_inputs(Engine& e) override {
    unsigned index = 0;
    bool pulsed = false;
    for (std::size_t i = 0; i < in_.size(); ++i) {
      const bool v = e.bit(in_[i]);
      const bool rose = v && !prev_[i];
      const bool fell = !v && prev_[i];
      prev_[i] = v;
      const bool x = type_[i] == 0 ? v : edge_matches(type_[i] - 1, rose, fell);
      pulsed = pulsed || (x && type_[i] != 0);
      if (x) index |= 1u << (4 - i);
    }
    out_.drive(e, ((func_ >> index) & 1u) != 0, e.now() + 1);
    if (pulsed) e.poke(*this);  // the pulse input is 0 again next tick
  }

 private:
  std::array<Signal, 5> in_{};
  std::array<std::int64_t, 5> type_{};
  std::array<bool, 5> prev_{};
  std::uint32_t func_ = 0;
  BitOut out_;
};

// ------------------------------------------------------------------ SRGATE
// Per PandABlocks-FPGA srgate.vhd: while ENABLE is high, FORCE_RST > FORCE_SET
// > RST edge > SET edge (reset wins when SET and RST edges coincide, as the
// firmware docs state); while ENABLE is low WHEN_DISABLED drives OUT low/high or
// keeps it, and FORCE_* writes are ignored (firmware acts on them only when
// enabled). Edges on SET/RST while disabled are tracked but do nothing.
class SrGate final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine& e) override {
    enable_ = c.bit_in("ENABLE");
    set_ = c.bit_in("SET");
    rst_ = c.bit_in("RST");
    out_.signal = c.bit_out("OUT");
    when_disabled_ = c.param("WHEN_DISABLED");
    set_edge_ = c.param("SET_EDGE");
    rst_edge_ = c.param("RST_EDGE");
    if (!en_prev_) apply_disabled(e, e.now() + 1);
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(enable_);
    bits.push_back(set_);
    bits.push_back(rst_);
  }

  void on_inputs(Engine& e) override {
    const bool en = e.bit(enable_);
    const bool s = e.bit(set_);
    const bool r = e.bit(rst_);
    const bool set_hit = edge_matches(set_edge_, s && !set_prev_, !s && set_prev_);
    const bool rst_hit = edge_matches(rst_edge_, r && !rst_prev_, !r && rst_prev_);
    set_prev_ = s;
    rst_prev_ = r;
    en_prev_ = en;
    if (!en) {
      apply_disabled(e, e.now() + 1);
    } else if (rst_hit) {
      out_.drive(e, false, e.now() + 1);
    } else if (set_hit) {
      out_.drive(e, true, e.now() + 1);
    }
  }

  void on_write(std::string_view field, Engine& e) override {
    // The bus level, not en_prev_: ENABLE=ONE then FORCE_SET with no time in
    // between must work (on hardware the writes are microseconds apart).
    if (!e.bit(enable_)) return;
    if (field == "FORCE_RST") out_.drive(e, false, e.now() + 1);
    if (field == "FORCE_SET") out_.drive(e, true, e.now() + 1);
  }

 private:
  void apply_disabled(Engine& e, Tick at) {
    if (when_disabled_ == 0) out_.drive(e, false, at);
    if (when_disabled_ == 1) out_.drive(e, true, at);
  }

  Signal enable_ = 0, set_ = 0, rst_ = 0;
  BitOut out_;
  std::int64_t when_disabled_ = 0, set_edge_ = 0, rst_edge_ = 0;
  bool en_prev_ = false, set_prev_ = false, rst_prev_ = false;
};

// ------------------------------------------------------------------ DIV
// Per PandABlocks-FPGA div: a rising INP edge while enabled counts; when COUNT
// reaches DIVISOR it restarts at 0 and the pulse goes to OUTD, else to OUTN;
// the falling INP edge ends it on both outputs. Reset (ENABLE falling, or
// DIVISOR/FIRST_PULSE taking new values): both outputs low, COUNT = 0 with
// FIRST_PULSE OutN, DIVISOR-1 with OutD (so the first pulse goes to OUTD).
class Div final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine& e) override {
    enable_ = c.bit_in("ENABLE");
    inp_ = c.bit_in("INP");
    outd_.signal = c.bit_out("OUTD");
    outn_.signal = c.bit_out("OUTN");
    const std::int64_t divisor = c.param("DIVISOR");
    const bool first_d = c.param("FIRST_PULSE") == 1;
    if (divisor == divisor_ && first_d == first_d_) return;
    divisor_ = divisor;
    first_d_ = first_d;
    reset(e, e.now() + 1);
  }

  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(enable_);
    bits.push_back(inp_);
  }

  void on_inputs(Engine& e) override {
    const bool en = e.bit(enable_);
    const bool inp = e.bit(inp_);
    const bool rose = inp && !inp_prev_;
    const bool fell = !inp && inp_prev_;
    const Tick next = e.now() + 1;
    inp_prev_ = inp;
    if (!en && en_prev_) {
      reset(e, next);
    } else if (en && rose) {
      if (++count_ >= divisor_) {
        count_ = 0;
        outd_.drive(e, true, next);
      } else {
        outn_.drive(e, true, next);
      }
    } else if (en && fell) {
      outd_.drive(e, false, next);
      outn_.drive(e, false, next);
    }
    en_prev_ = en;
  }

  void publish(const InstanceConfig& c) const override { c.set_read("COUNT", count_); }

 private:
  void reset(Engine& e, Tick at) {
    outd_.drive(e, false, at);
    outn_.drive(e, false, at);
    count_ = first_d_ && divisor_ > 0 ? divisor_ - 1 : 0;
  }

  Signal enable_ = 0, inp_ = 0;
  BitOut outd_, outn_;
  std::int64_t divisor_ = -1, count_ = 0;
  bool first_d_ = false, en_prev_ = false, inp_prev_ = false;
};

// ------------------------------------------------------------------ CALC
// OUT(t+1) = (±INPA ±INPB ±INPC ±INPD) >> SHIFT: TYPEx 0 "Value", 1 "-Value";
// summed in 34 bits, shifted arithmetically, truncated to 32 bits (calc.vhd).
class Calc final : public Behaviour {
 public:
  void configure(const InstanceConfig& c, Engine& e) override {
    static constexpr std::array<std::string_view, 4> kInputs{"INPA", "INPB", "INPC", "INPD"};
    static constexpr std::array<std::string_view, 4> kTypes{"TYPEA", "TYPEB", "TYPEC", "TYPED"};
    for (std::size_t i = 0; i < in_.size(); ++i) {
      in_[i] = c.pos_in(kInputs[i]);
      negate_[i] = c.param(kTypes[i]) == 1;
    }
    shift_ = std::min<std::int64_t>(c.param("SHIFT"), 31);
    out_ = c.pos_out("OUT");
    update(e);
  }

  void inputs(std::vector<Signal>&, std::vector<Signal>& positions) const override {
    positions.insert(positions.end(), in_.begin(), in_.end());
  }

  void on_inputs(Engine& e) override { update(e); }

 private:
  void update(Engine& e) {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < in_.size(); ++i) {
      const std::int64_t v = e.pos(in_[i]);
      sum += negate_[i] ? -v : v;
    }
    const auto value = static_cast<std::int32_t>(sum >> shift_);
    if (value == driven_) return;
    e.set_pos(out_, value, e.now() + 1);
    driven_ = value;
  }

  std::array<Signal, 4> in_{};
  std::array<bool, 4> negate_{};
  std::int64_t shift_ = 0;
  Signal out_ = 0;
  std::int32_t driven_ = 0;
};

template <class T>
BehaviourFactory make() {
  return [](const InstanceConfig&) { return std::make_unique<T>(); };
}

}  // namespace

void add_logic_behaviours(BehaviourRegistry& registry) {
  registry["BITS"] = make<Bits>();
  registry["LUT"] = make<Lut>();
  registry["SRGATE"] = make<SrGate>();
  registry["DIV"] = make<Div>();
  registry["CALC"] = make<Calc>();
  registry["TTLOUT"] = make<TtlOut>();
}

}  // namespace pandafly::sim::fpga
