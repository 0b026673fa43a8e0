#pragma once
// Test helper for the simulated FPGA: a model, one control session and an
// Engine with the chosen behaviours; writes go through the model as a control
// client's would (so the engine's write hook reconfigures), and every bus bit
// edge is recorded.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/panda/fpga/behaviours.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/model.hpp"

namespace pandafly::sim::test {

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

}  // namespace pandafly::sim::test
