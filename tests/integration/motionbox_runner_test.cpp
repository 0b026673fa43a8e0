// motionbox::HomingRunner as a web page's server would use it: one runner,
// run() more than once, progress callbacks, interrupt() before a run. Against
// the CA simulator in-process (real libca over 127.0.0.1); expected values
// from the homing rules (the switch's rest position reads hi_lim + tolerance).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ca_loopback.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/motionbox/homing_runner.hpp"
#include "sim/ca/motor_record.hpp"

namespace mb = pandafly::motionbox;
namespace ca = pandafly::ca;
namespace sim = pandafly::sim::ca;

namespace {

pandafly::test::CaLoopback& loopback() {
  static const auto lb = [] {
    sim::MotorConfig m;
    m.name = "A";
    m.prefix = "rt:A";
    m.egu = "mm";
    m.mres = 0.001;
    m.velo = 20;
    m.accl = 0.1;
    m.off = 3;  // uncalibrated
    m.dhlm = 2;
    m.dllm = -2;
    m.low_switch = -6;
    m.high_switch = 6;
    return std::make_unique<pandafly::test::CaLoopback>(
        std::make_shared<sim::PvDatabase>(),
        std::vector<std::shared_ptr<sim::Device>>{std::make_shared<sim::MotorRecord>(m)},
        [](std::string_view) {});
  }();
  return *lb;
}

double get(const ca::Context& ctx, const std::string& pv) {
  return ca::Channel::connect(ctx, pv, ca::Timeout{5.0}).get<double>();
}

mb::HomeOptions options() {
  mb::HomeOptions o;
  o.direction = mb::Direction::hi;
  o.tolerance = 0.5;
  return o;
}

const mb::MotorJob kJob{"A", {"rt:A", -4, 0.5, 4}};

}  // namespace

TEST_CASE(
    "homing runner: run twice, progress in order, the second finds the switch at hi_lim + tol") {
  (void)loopback();
  ca::Context ctx;
  mb::HomingRunner runner(ctx, {kJob}, options());
  runner.connect();
  std::vector<mb::Phase> phases;
  const auto first = runner.run([&](const mb::MotorProgress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  });
  REQUIRE(first.size() == 1);
  CHECK_MESSAGE(first[0].result.ok, first[0].result.error);
  CHECK(*first[0].result.switch_value == 4.5);
  REQUIRE(phases.size() >= 5);
  CHECK(phases.front() == mb::Phase::prepare);
  CHECK(phases[1] == mb::Phase::search);
  CHECK(phases.back() == mb::Phase::done);
  CHECK(get(ctx, "rt:A.HLM") == 4);
  CHECK(get(ctx, "rt:A.LLM") == -4);
  CHECK(std::abs(get(ctx, "rt:A.RBV") - 0.5) <= 0.001);
  const auto second = runner.run();
  CHECK_MESSAGE(second[0].result.ok, second[0].result.error);
  CHECK(std::abs(*second[0].result.switch_before - 4.5) < 0.002);
  CHECK(std::abs(second[0].result.last.rbv - 0.5) <= 0.001);
}

TEST_CASE("homing runner: an interrupt() before run() stops that run at once; the next runs") {
  (void)loopback();
  ca::Context ctx;
  const double dhlm = get(ctx, "rt:A.DHLM"), dllm = get(ctx, "rt:A.DLLM");
  const double rbv = get(ctx, "rt:A.RBV");
  mb::HomingRunner runner(ctx, {kJob}, options());
  runner.connect();
  runner.interrupt("interrupted by SIGINT");
  const auto stopped = runner.run();
  CHECK_FALSE(stopped[0].result.ok);
  CHECK(stopped[0].result.interrupted);
  CHECK(stopped[0].result.error == "interrupted by SIGINT");
  CHECK(stopped[0].result.failed_in == mb::Phase::prepare);
  CHECK(get(ctx, "rt:A.DHLM") == dhlm);  // the opened soft limits restored
  CHECK(get(ctx, "rt:A.DLLM") == dllm);
  CHECK(get(ctx, "rt:A.RBV") == rbv);  // nothing moved
  const auto again = runner.run();
  CHECK_MESSAGE(again[0].result.ok, again[0].result.error);
}

TEST_CASE("homing runner: connect() names every PV that does not connect") {
  (void)loopback();
  ca::Context ctx;
  mb::HomeOptions o = options();
  o.connect_timeout = 0.5;
  mb::HomingRunner runner(ctx, {kJob, {"Z", {"rt:nosuch", -1, 0, 1}}}, o);
  try {
    runner.connect();
    FAIL("connect() should have thrown");
  } catch (const mb::ConnectError& e) {
    const std::string what = e.what();
    CHECK(what.find("17 PV(s) did not connect within 0.5 s") != std::string::npos);
    CHECK(what.find("rt:nosuch.VAL (motor Z)") != std::string::npos);
    CHECK(what.find("rt:A.") == std::string::npos);
  }
}
