#pragma once
// Test helper for the simulated FPGA: a model, one control session and an
// Engine with the chosen behaviours; writes go through the model as a control
// client's would (so the engine's write hook reconfigures), and every bus bit
// edge is recorded.
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "sim/panda/fpga/behaviours.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/model.hpp"

namespace pandafly::sim::test {

/// A test-only behaviour for TTLIN instances: VAL follows a script of
/// (tick, level) steps given with play(), driven by wakes.
class BitScript final : public fpga::Behaviour {
 public:
  void configure(const fpga::InstanceConfig& c, fpga::Engine&) override { out_ = c.bit_out("VAL"); }
  void inputs(std::vector<fpga::Signal>&, std::vector<fpga::Signal>&) const override {}
  void on_inputs(fpga::Engine&) override {}
  void on_wake(fpga::Engine& e) override {
    for (const auto& [at, level] : steps_)
      if (at == e.now()) e.set_bit(out_, level, at);
  }
  /// Adds steps (ticks in the future) and wakes for each.
  void play(fpga::Engine& e, const std::vector<std::pair<fpga::Tick, bool>>& steps) {
    for (const auto& step : steps) {
      steps_.push_back(step);
      e.wake(*this, step.first);
    }
  }

 private:
  fpga::Signal out_ = 0;
  std::vector<std::pair<fpga::Tick, bool>> steps_;
};

// Ticks of edges; printed by doctest when a check fails.
struct Ticks : std::vector<fpga::Tick> {
  using std::vector<fpga::Tick>::vector;
  explicit Ticks(const std::vector<fpga::Tick>& v) : std::vector<fpga::Tick>(v) {}
  friend std::ostream& operator<<(std::ostream& os, const Ticks& t) {
    for (fpga::Tick x : t) os << x << ' ';
    return os;
  }
};

// Test-only INENC: VAL follows scripted legs, one wake pending at a time. A leg
// puts `from + k·inc` on VAL at tick `at + k·every`, k = 0 … count − 1.
class Ramp final : public fpga::Behaviour {
 public:
  struct Leg {
    fpga::Tick at;
    std::int32_t from, inc;
    fpga::Tick every, count;
  };
  void configure(const fpga::InstanceConfig& c, fpga::Engine&) override { out_ = c.pos_out("VAL"); }
  void inputs(std::vector<fpga::Signal>&, std::vector<fpga::Signal>&) const override {}
  void on_inputs(fpga::Engine&) override {}
  /// Replaces the script; legs in time order, the first in the future.
  void play(fpga::Engine& e, std::vector<Leg> legs) {
    legs_ = std::move(legs);
    leg_ = 0;
    k_ = 0;
    schedule(e);
  }
  void on_wake(fpga::Engine& e) override {
    if (e.now() != next_) return;
    const Leg& l = legs_[leg_];
    e.set_pos(out_, l.from + static_cast<std::int32_t>(k_) * l.inc, e.now());
    if (++k_ == l.count) {
      ++leg_;
      k_ = 0;
    }
    schedule(e);
  }

 private:
  void schedule(fpga::Engine& e) {
    next_ = fpga::kNever;
    if (leg_ >= legs_.size()) return;
    next_ = legs_[leg_].at + k_ * legs_[leg_].every;
    e.wake(*this, next_);
  }
  fpga::Signal out_ = 0;
  std::vector<Leg> legs_;
  std::size_t leg_ = 0;
  fpga::Tick k_ = 0, next_ = fpga::kNever;
};

/// Only the logic and timing blocks (BITS, LUT, …, PULSE, CLOCK, COUNTER), so
/// work in progress in other blocks cannot disturb their tests.
inline fpga::BehaviourRegistry logic_and_timing_blocks() {
  fpga::BehaviourRegistry r;
  fpga::add_logic_behaviours(r);
  fpga::add_timing_behaviours(r);
  return r;
}

/// `registry` with INENC replaced by Ramp.
inline fpga::BehaviourRegistry with_ramp_encoder(fpga::BehaviourRegistry registry) {
  registry["INENC"] = [](const fpga::InstanceConfig&) { return std::make_unique<Ramp>(); };
  return registry;
}

/// `registry` with TTLIN replaced by BitScript.
inline fpga::BehaviourRegistry with_bit_scripts(fpga::BehaviourRegistry registry) {
  registry["TTLIN"] = [](const fpga::InstanceConfig&) { return std::make_unique<BitScript>(); };
  return registry;
}

struct Fpga {
  struct Edge {
    fpga::Signal signal;
    bool value;
    fpga::Tick at;
  };

  explicit Fpga(fpga::BehaviourRegistry registry = fpga::default_behaviours())
      : session(model.open_session("config", "127.0.0.1:40000", "2026-01-01T00:00:00.000Z")),
        engine(model, std::move(registry)) {
    engine.on_bit_change = [this](fpga::Signal s, bool v, fpga::Tick t) {
      edges.push_back({s, v, t});
    };
  }

  /// Writes `value` to `name` ("PULSE1.WIDTH", "PULSE1.WIDTH.UNITS"); fails the test on ERR.
  void write(std::string_view name, std::string_view value) {
    const Reply r = model.write(name, value, *session);
    INFO(name, "=", value, " -> ", r.wire());
    REQUIRE(r.shape() == Reply::Shape::ok);
  }
  /// Runs `ticks` ticks of virtual time from now.
  void run(fpga::Tick ticks) { engine.run_until(engine.now() + ticks); }
  /// Ticks at which bus bit `name` changed to `value`, in order.
  [[nodiscard]] std::vector<fpga::Tick> edges_of(std::string_view name, bool value) const {
    std::vector<fpga::Tick> out;
    const fpga::Signal s = engine.bit_index(name);
    for (const auto& e : edges)
      if (e.signal == s && e.value == value) out.push_back(e.at);
    return out;
  }
  /// Plays a level script on TTLINn.VAL (needs with_bit_scripts()).
  void play(std::string_view ttlin, const std::vector<std::pair<fpga::Tick, bool>>& steps) {
    auto* script = dynamic_cast<BitScript*>(engine.behaviour(ttlin));
    REQUIRE(script != nullptr);
    script->play(engine, steps);
  }
  [[nodiscard]] bool bit(std::string_view name) const { return engine.bit(engine.bit_index(name)); }
  [[nodiscard]] std::int32_t pos(std::string_view name) const {
    return engine.pos(engine.pos_index(name));
  }
  /// Reads a field through the model as a client would, e.g. "PCOMP1.PRODUCED" (after publish()).
  [[nodiscard]] std::string read(std::string_view name) {
    engine.publish();
    const Reply r = model.read(name, *session);
    INFO(name, " -> ", r.wire());
    REQUIRE(r.shape() == Reply::Shape::value);
    return r.text();
  }

  PandaModel model;
  std::unique_ptr<Session> session;
  fpga::Engine engine;
  std::vector<Edge> edges;
};

/// Runs `f` to tick t-1 and writes: the write takes effect on the bus at t.
inline void write_at(Fpga& f, fpga::Tick t, std::string_view name, std::string_view value) {
  REQUIRE(f.engine.now() < t);
  f.engine.run_until(t - 1);
  f.write(name, value);
}

}  // namespace pandafly::sim::test
