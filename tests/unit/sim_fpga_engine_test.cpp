// The event engine of the simulated FPGA: ordering, latency, rewiring.
#include <doctest/doctest.h>

#include "sim_fpga_test_util.hpp"

using namespace pandafly::sim;
using fpga::Tick;

namespace {

// A test block: OUT of a "TTLIN" instance follows a scripted list of edges,
// driven by wakes; lets tests make bit edges at known ticks.
class Script final : public fpga::Behaviour {
 public:
  void configure(const fpga::InstanceConfig& c, fpga::Engine&) override { out_ = c.bit_out("VAL"); }
  void inputs(std::vector<fpga::Signal>&, std::vector<fpga::Signal>&) const override {}
  void on_inputs(fpga::Engine&) override {}
  void on_wake(fpga::Engine& e) override {
    level_ = !level_;
    e.set_bit(out_, level_, e.now());
  }
  fpga::Signal out_ = 0;
  bool level_ = false;
};

// A test block: TTLOUT records the tick its VAL input is seen changing.
class Watch final : public fpga::Behaviour {
 public:
  void configure(const fpga::InstanceConfig& c, fpga::Engine&) override { in_ = c.bit_in("VAL"); }
  void inputs(std::vector<fpga::Signal>& bits, std::vector<fpga::Signal>&) const override {
    bits.push_back(in_);
  }
  void on_inputs(fpga::Engine& e) override { seen.push_back({e.now(), e.bit(in_)}); }
  fpga::Signal in_ = 0;
  std::vector<std::pair<Tick, bool>> seen;
};

fpga::BehaviourRegistry script_registry() {
  fpga::BehaviourRegistry r;
  r["TTLIN"] = [](const fpga::InstanceConfig&) { return std::make_unique<Script>(); };
  r["TTLOUT"] = [](const fpga::InstanceConfig&) { return std::make_unique<Watch>(); };
  return r;
}

}  // namespace

TEST_CASE("engine: events apply in tick order and listeners see them in that tick") {
  test::Fpga f(script_registry());
  f.write("TTLOUT1.VAL", "TTLIN1.VAL");
  auto* src = f.engine.behaviour("TTLIN1");
  auto* dst = dynamic_cast<Watch*>(f.engine.behaviour("TTLOUT1"));
  REQUIRE(src != nullptr);
  REQUIRE(dst != nullptr);
  f.run(10);  // the rewiring poke: the watcher sees VAL = 0 once
  dst->seen.clear();
  f.engine.wake(*src, 300);
  f.engine.wake(*src, 100);
  f.engine.wake(*src, 200);
  CHECK(f.engine.next_event() == 100);
  f.engine.run_until(250);
  CHECK(f.engine.now() == 250);
  CHECK(f.edges_of("TTLIN1.VAL", true) == std::vector<Tick>{100});
  CHECK(f.edges_of("TTLIN1.VAL", false) == std::vector<Tick>{200});
  REQUIRE(dst->seen.size() == 2);
  CHECK(dst->seen[0] == std::pair<Tick, bool>{100, true});
  CHECK(dst->seen[1] == std::pair<Tick, bool>{200, false});
  f.engine.run_until(1000);
  CHECK(f.edges_of("TTLIN1.VAL", true) == std::vector<Tick>{100, 300});
}

TEST_CASE("engine: a listener runs once per tick, after all of the tick's changes") {
  test::Fpga f(script_registry());
  f.write("TTLOUT1.VAL", "TTLIN1.VAL");
  f.run(10);
  auto* src = f.engine.behaviour("TTLIN1");
  auto* dst = dynamic_cast<Watch*>(f.engine.behaviour("TTLOUT1"));
  dst->seen.clear();
  f.engine.wake(*src, 50);
  f.engine.wake(*src, 50);  // on, then off again in the same tick
  f.run(100);
  // Called once, seeing the level at the end of the tick (a block edge-detects
  // against its own previous value, so it sees no edge here).
  REQUIRE(dst->seen.size() == 1);
  CHECK(dst->seen[0] == std::pair<Tick, bool>{50, false});
}

TEST_CASE("engine: rewiring a mux is an edge the block sees, and publish() reaches *CHANGES") {
  test::Fpga f(script_registry());
  auto* dst = dynamic_cast<Watch*>(f.engine.behaviour("TTLOUT1"));
  f.run(5);
  dst->seen.clear();
  f.write("TTLOUT1.VAL", "ONE");
  f.run(5);
  REQUIRE(dst->seen.size() == 1);
  CHECK(dst->seen[0].second);
  auto* src = f.engine.behaviour("TTLIN2");
  f.engine.wake(*src, f.engine.now() + 3);
  f.run(10);
  CHECK(f.read("TTLIN2.VAL") == "1");
  CHECK_THROWS_AS((void)f.engine.bit_index("NOPE.OUT"), std::invalid_argument);
}

TEST_CASE("engine: a bit mux DELAY makes the block see its input that many ticks late") {
  test::Fpga f(script_registry());
  f.write("TTLOUT1.VAL", "TTLIN1.VAL");
  f.write("TTLOUT1.VAL.DELAY", "5");
  f.write("TTLOUT2.VAL", "TTLIN1.VAL");  // the same source, no delay
  f.run(10);
  auto* late = dynamic_cast<Watch*>(f.engine.behaviour("TTLOUT1"));
  auto* now = dynamic_cast<Watch*>(f.engine.behaviour("TTLOUT2"));
  late->seen.clear();
  now->seen.clear();
  f.engine.wake(*f.engine.behaviour("TTLIN1"), 100);
  f.engine.wake(*f.engine.behaviour("TTLIN1"), 200);
  f.run(300);
  CHECK(now->seen == std::vector<std::pair<Tick, bool>>{{100, true}, {200, false}});
  CHECK(late->seen == std::vector<std::pair<Tick, bool>>{{105, true}, {205, false}});
  // Back to no delay: the block follows the source directly again.
  f.write("TTLOUT1.VAL.DELAY", "0");
  f.run(10);
  late->seen.clear();
  f.engine.wake(*f.engine.behaviour("TTLIN1"), f.engine.now() + 10);
  f.run(20);
  REQUIRE(late->seen.size() == 1);
  CHECK(late->seen[0].first == f.engine.now() - 10);
}
