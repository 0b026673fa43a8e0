// motionbox::Homing in simulated time against a small motor-record model
// written here from the motor record's documented behaviour (reference
// channel-access.md §4.1): a move towards a limit switch stops past it with
// HLS/LLS 1 and completes its put-callback; DHLM = DLLM = 0 disables the soft
// limits, else a target outside is refused (LVIO 1, completes at once); SET =
// Set with FOFF Variable makes a VAL write change OFF only; STOP decelerates
// (here: stops at once) and completes the pending put-callback. Expected
// values come from the homing rules (issue 19), not from this model.
#include <cmath>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/motionbox/homing.hpp"

namespace mb = pandafly::motionbox;

namespace {

struct ModelMotor {
  double dial = 0, off = 0, velo = 10, accl = 0.2;
  double true_speed = -1;  // <0: VELO; the real speed (a motor slower than it says)
  double dhlm = 0, dllm = 0;
  std::optional<double> high_switch, low_switch;
  double overshoot = 0.25;  // how far past the trip point it comes to rest
  bool stuck = false;       // drives but does not move (RBV constant, DMOV 0)
  std::optional<double> stall_at;
  std::uint16_t foff = 0, spmg = 3;
  bool set_mode = false, lvio = false, stalled = false;
  std::optional<double> target;  // dial
  std::optional<std::uint64_t> pending;
  std::vector<mb::Command> log;
  std::deque<mb::Event> events;
  std::vector<std::string> refuse;  // fields whose puts fail
  std::vector<std::string> silent;  // fields whose puts never complete

  [[nodiscard]] double rbv() const { return std::round((dial + off) * 1000) / 1000; }
  [[nodiscard]] bool hls() const { return high_switch && dial >= *high_switch; }
  [[nodiscard]] bool lls() const { return low_switch && dial <= *low_switch; }
  [[nodiscard]] mb::MotorStatus status() const {
    mb::MotorStatus s;
    s.rbv = rbv();
    s.dmov = !target.has_value();
    s.hls = hls();
    s.lls = lls();
    s.lvio = lvio;
    s.msta = stalled ? (1U << 6 | 1U << 9) : 0U;
    return s;
  }
  [[nodiscard]] mb::MotorSettings settings() const {
    return {status(), velo, accl, dhlm, dllm, foff, spmg};
  }
  void complete() {
    target.reset();
    if (pending) events.push_back(mb::Done{*pending});
    pending.reset();
  }
  void execute(const mb::Command& c) {
    log.push_back(c);
    if (const auto* p = std::get_if<mb::Put>(&c.body)) {
      for (const auto& q : silent)
        if (q == p->field) return;
      for (const auto& r : refuse)
        if (r == p->field) {
          events.push_back(mb::Failed{c.id, p->field + ": put-callback: ECA_PUTFAIL"});
          return;
        }
      if (p->field == "DHLM") dhlm = p->value;
      if (p->field == "DLLM") dllm = p->value;
      if (p->field == "HLM") dhlm = p->value - off;
      if (p->field == "LLM") dllm = p->value - off;
      if (p->field == "FOFF") foff = static_cast<std::uint16_t>(p->value);
      if (p->field == "SET") set_mode = p->value != 0;
      if (p->field == "VAL") {
        REQUIRE(set_mode);  // the only VAL put is the redefinition
        REQUIRE(foff == 0);
        off = p->value - dial;
      }
      events.push_back(mb::Done{c.id});
    } else if (const auto* m = std::get_if<mb::Move>(&c.body)) {
      REQUIRE_FALSE(set_mode);
      const double d = m->target - off;
      const bool limits = dhlm != 0 || dllm != 0;
      if (limits && (d > dhlm || d < dllm)) {
        lvio = true;
        events.push_back(mb::Done{c.id});
        return;
      }
      lvio = false;
      target = d;
      pending = c.id;
    } else {  // STOP
      stalled = false;
      if (target) complete();
      events.push_back(mb::Done{c.id});
    }
  }
  void step(double dt) {
    if (!target || stuck || stalled) return;
    const double speed = true_speed > 0 ? true_speed : velo;
    const double dir = *target > dial ? 1 : -1;
    double next = dial + dir * speed * dt;
    if (stall_at && dir * (next - *stall_at) >= 0 && dir * (dial - *stall_at) < 0) {
      dial = *stall_at;
      stalled = true;
      return;
    }
    const auto& sw = dir > 0 ? high_switch : low_switch;
    if (sw && dir * (next - *sw) >= 0 && dir * (*target - *sw) > 0) {
      dial = *sw + dir * overshoot;
      complete();
      return;
    }
    if (dir * (next - *target) >= 0) {
      dial = *target;
      complete();
      return;
    }
    dial = next;
  }
};

struct Run {
  mb::Result result;
  double seconds = 0;
};

/// Drives `h` against `m` in steps of 0.05 s; `interrupt_at`: Ctrl-C then.
Run run(mb::Homing& h, ModelMotor& m, double interrupt_at = -1, double max_t = 600) {
  double t = 0;
  const double dt = 0.05;
  h.start(m.settings(), t);
  bool interrupted = false;
  while (!h.finished() && t < max_t) {
    for (const auto& c : h.take_commands()) m.execute(c);
    while (!m.events.empty()) {
      const mb::Event e = m.events.front();
      m.events.pop_front();
      h.handle(e, t);
      for (const auto& c : h.take_commands()) m.execute(c);
    }
    if (h.finished()) break;
    t += dt;
    m.step(dt);
    h.handle(mb::Status{m.status()}, t);
    if (interrupt_at >= 0 && t >= interrupt_at && !interrupted) {
      interrupted = true;
      h.handle(mb::Interrupted{"interrupted by SIGINT"}, t);
    }
    if (const auto d = h.deadline(); d && *d <= t) h.handle(mb::Tick{}, t);
  }
  REQUIRE(h.finished());
  return {h.result(), t};
}

mb::HomingParams params(mb::Direction d) {
  mb::HomingParams p;
  p.direction = d;
  p.lo_lim = -20;
  p.center = 1;
  p.hi_lim = 20;
  p.tolerance = 0.5;
  return p;
}

ModelMotor bench_motor() {
  ModelMotor m;
  m.dial = 3;
  m.off = 7;  // uncalibrated
  m.dhlm = 10;
  m.dllm = -10;  // stale soft limits that would refuse the search
  m.high_switch = 23;
  m.low_switch = -22;
  return m;
}

bool issued(const ModelMotor& m, const std::string& field, double value) {
  for (const auto& c : m.log)
    if (const auto* p = std::get_if<mb::Put>(&c.body); p && p->field == field && p->value == value)
      return true;
  return false;
}

bool stop_issued(const ModelMotor& m) {
  for (const auto& c : m.log)
    if (std::holds_alternative<mb::Stop>(c.body)) return true;
  return false;
}

}  // namespace

TEST_CASE(
    "homing hi: the switch's rest position reads hi_lim + tolerance, HLM/LLM set, at center") {
  ModelMotor m = bench_motor();
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK(r.result.ok);
  CHECK(r.result.error.empty());
  // The motor rests at dial 23.25 (past the switch); that reads 20.5 now.
  REQUIRE(r.result.switch_before);
  CHECK(*r.result.switch_before == doctest::Approx(23.25 + 7));
  CHECK(*r.result.switch_value == doctest::Approx(20.5));
  CHECK(23.25 + m.off == doctest::Approx(20.5));
  CHECK(m.dhlm + m.off == doctest::Approx(20));   // HLM
  CHECK(m.dllm + m.off == doctest::Approx(-20));  // LLM
  CHECK(m.rbv() == doctest::Approx(1));           // center
  CHECK_FALSE(m.set_mode);
  CHECK(r.result.last.rbv == doctest::Approx(1));
  CHECK(issued(m, "DHLM", 0));
  CHECK(issued(m, "DLLM", 0));
  CHECK_FALSE(issued(m, "FOFF", 0));  // already Variable: not written
  CHECK_FALSE(stop_issued(m));
}

TEST_CASE("homing lo mirrors hi: the switch reads lo_lim - tolerance") {
  ModelMotor m = bench_motor();
  mb::Homing h(params(mb::Direction::lo));
  const Run r = run(h, m);
  CHECK(r.result.ok);
  CHECK(-22.25 + m.off == doctest::Approx(-20.5));
  CHECK(m.dhlm + m.off == doctest::Approx(20));
  CHECK(m.dllm + m.off == doctest::Approx(-20));
  CHECK(m.rbv() == doctest::Approx(1));
}

TEST_CASE("homing the same motor twice: the second finds the switch where the first put it") {
  ModelMotor m = bench_motor();
  mb::Homing first(params(mb::Direction::hi));
  REQUIRE(run(first, m).result.ok);
  mb::Homing second(params(mb::Direction::hi));
  const Run r = run(second, m);
  CHECK(r.result.ok);
  CHECK(*r.result.switch_before == doctest::Approx(20.5));
}

TEST_CASE("FOFF Frozen is set to Variable for the redefinition and restored on failure") {
  ModelMotor m = bench_motor();
  m.foff = 1;
  m.high_switch.reset();
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(issued(m, "FOFF", 0));
  CHECK(m.foff == 1);
}

TEST_CASE("already on the switch: refused before anything is written") {
  ModelMotor m = bench_motor();
  m.dial = 23.1;  // HLS 1
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.error.find("already active") != std::string::npos);
  CHECK(m.log.empty());
  // On the other switch, homing towards this one is normal.
  ModelMotor lo = bench_motor();
  lo.dial = -22.1;  // LLS 1
  mb::Homing h2(params(mb::Direction::hi));
  CHECK(run(h2, lo).result.ok);
}

TEST_CASE("never reaches a switch: the search move ends without it; limits restored") {
  ModelMotor m = bench_motor();
  m.high_switch.reset();
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.failed_in == mb::Phase::settle);
  CHECK(r.result.error.find("never reached the high limit switch") != std::string::npos);
  CHECK(m.dhlm == 10);
  CHECK(m.dllm == -10);
  CHECK(m.off == 7);  // not redefined
  // The search went 2 x (20 - -20 + 2 x 0.5) = 82 from RBV 10.
  CHECK(m.rbv() == doctest::Approx(92));
}

TEST_CASE("a motor slower than VELO says: the deadline from distance and speed stops it") {
  ModelMotor m = bench_motor();
  m.high_switch.reset();
  m.true_speed = 0.5;  // 82 at 0.5/s: 164 s, the deadline is 82/10 + 0.4 + 10 = 18.6 s
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.failed_in == mb::Phase::search);
  CHECK(r.result.error.find("within 18.6 s") != std::string::npos);
  CHECK(r.seconds == doctest::Approx(18.6).epsilon(0.01));
  CHECK(stop_issued(m));
  CHECK_FALSE(m.target.has_value());
  CHECK(m.dhlm == 10);
  CHECK(m.dllm == -10);
}

TEST_CASE("a motor that does not move: no RBV change for still_timeout while DMOV 0") {
  ModelMotor m = bench_motor();
  m.stuck = true;
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.error.find("does not move") != std::string::npos);
  CHECK(r.seconds < 4);
  CHECK(stop_issued(m));
  CHECK(m.dhlm == 10);
}

TEST_CASE("a stall (MSTA SLIP_STALL/PROBLEM) fails at once and STOPs") {
  ModelMotor m = bench_motor();
  m.stall_at = 10;
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.error.find("stalled") != std::string::npos);
  CHECK(stop_issued(m));
  CHECK_FALSE(m.stalled);  // STOP cleared it
  CHECK(r.result.last.rbv == doctest::Approx(17));
}

TEST_CASE("the opposite switch tripping while searching: DIR or wiring reversed") {
  ModelMotor m = bench_motor();
  m.low_switch.reset();
  m.high_switch.reset();
  mb::Homing h(params(mb::Direction::hi));
  // A swapped wiring: driving + meets the switch reported as LLS.
  h.start(m.settings(), 0);
  for (const auto& c : h.take_commands()) m.execute(c);
  while (!m.events.empty()) {
    h.handle(m.events.front(), 0);
    m.events.pop_front();
    for (const auto& c : h.take_commands()) m.execute(c);
  }
  REQUIRE(h.phase() == mb::Phase::search);
  mb::MotorStatus s = m.status();
  s.dmov = false;
  s.lls = true;
  h.handle(mb::Status{s}, 1);
  CHECK(h.phase() == mb::Phase::cleanup);
  for (const auto& c : h.take_commands()) m.execute(c);
  while (!h.finished() && !m.events.empty()) {
    h.handle(m.events.front(), 1);
    m.events.pop_front();
    h.handle(mb::Status{m.status()}, 1);
    for (const auto& c : h.take_commands()) m.execute(c);
  }
  REQUIRE(h.finished());
  CHECK(h.result().error.find("reversed") != std::string::npos);
  CHECK(stop_issued(m));
}

TEST_CASE("Ctrl-C during the search: STOP, limits restored, the result says where it stands") {
  ModelMotor m = bench_motor();
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m, 1.0);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.interrupted);
  CHECK(r.result.failed_in == mb::Phase::search);
  CHECK(r.result.error == "interrupted by SIGINT");
  CHECK(stop_issued(m));
  CHECK_FALSE(m.target.has_value());
  CHECK(r.result.last.rbv == doctest::Approx(m.rbv()));
  CHECK(m.rbv() == doctest::Approx(20).epsilon(0.01));  // 10 + 1 s at 10/s
  CHECK(m.dhlm == 10);
  CHECK(m.dllm == -10);
  CHECK(m.off == 7);
}

TEST_CASE("a refused write during the redefinition: SET back to Use, limits restored") {
  ModelMotor m = bench_motor();
  m.refuse = {"VAL"};
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.failed_in == mb::Phase::redefine);
  CHECK(r.result.error.find("ECA_PUTFAIL") != std::string::npos);
  CHECK_FALSE(m.set_mode);
  CHECK(m.dhlm == 10);
  CHECK(m.dllm == -10);
}

TEST_CASE("SPMG Stop or VELO 0: refused at start, nothing written") {
  ModelMotor m = bench_motor();
  m.spmg = 0;
  mb::Homing h(params(mb::Direction::hi));
  CHECK(run(h, m).result.error.find("SPMG is Stop") != std::string::npos);
  CHECK(m.log.empty());
  ModelMotor v = bench_motor();
  v.velo = 0;
  mb::Homing h2(params(mb::Direction::lo));
  CHECK(run(h2, v).result.error.find("VELO is 0") != std::string::npos);
  CHECK(v.log.empty());
}

TEST_CASE("a completion for an id not awaited is ignored") {
  ModelMotor m = bench_motor();
  mb::Homing h(params(mb::Direction::hi));
  h.start(m.settings(), 0);
  const auto cmds = h.take_commands();
  REQUIRE(cmds.size() == 1);
  h.handle(mb::Done{cmds[0].id + 100}, 0);
  CHECK(h.take_commands().empty());
  h.handle(mb::Done{cmds[0].id}, 0);
  CHECK(h.take_commands().size() == 1);
}

TEST_CASE("plan(): search distance, deadline and the values the rules give") {
  mb::MotorSettings s;
  s.status.rbv = 5;
  s.velo = 4;
  s.accl = 0.5;
  const auto p = mb::plan(params(mb::Direction::lo), s);
  CHECK(p.search_distance == doctest::Approx(82));
  CHECK(p.search_target == doctest::Approx(5 - 82));
  CHECK(p.search_timeout == doctest::Approx(82.0 / 4 + 1 + 10));
  CHECK(p.switch_value == doctest::Approx(-20.5));
  CHECK(p.hlm == 20);
  CHECK(p.llm == -20);
  CHECK(p.center == 1);
}

TEST_CASE("a write that never completes fails after 5 s and cleanup goes on") {
  ModelMotor m = bench_motor();
  m.silent = {"HLM"};
  mb::Homing h(params(mb::Direction::hi));
  const Run r = run(h, m);
  CHECK_FALSE(r.result.ok);
  CHECK(r.result.failed_in == mb::Phase::redefine);
  CHECK(r.result.error == "the write of HLM: no completion within 5.0 s");
  // The soft limits were opened and not yet replaced by HLM and LLM: restored.
  CHECK(m.dhlm == 10);
  CHECK(m.dllm == -10);
  CHECK_FALSE(m.set_mode);
}

TEST_CASE("Ctrl-C while a write is in flight: cleanup waits for it, then restores") {
  ModelMotor m = bench_motor();
  mb::Homing h(params(mb::Direction::hi));
  h.start(m.settings(), 0);
  auto cmds = h.take_commands();
  REQUIRE(cmds.size() == 1);  // DHLM = 0, not yet completed
  h.handle(mb::Interrupted{}, 0.1);
  CHECK(h.take_commands().empty());  // a restoring DHLM now could be overtaken by it
  m.execute(cmds[0]);
  h.handle(m.events.front(), 0.2);
  m.events.pop_front();
  cmds = h.take_commands();
  REQUIRE(cmds.size() == 1);
  const auto* put = std::get_if<mb::Put>(&cmds[0].body);
  REQUIRE(put != nullptr);
  CHECK(put->field == "DHLM");
  CHECK(put->value == 10);
}

TEST_CASE("Ctrl-C while the search moves: STOP goes at once") {
  ModelMotor m = bench_motor();
  mb::Homing h(params(mb::Direction::hi));
  h.start(m.settings(), 0);
  for (int i = 0; i < 2; ++i) {  // DHLM, DLLM
    const auto cmds = h.take_commands();
    REQUIRE(cmds.size() == 1);
    m.execute(cmds[0]);
    h.handle(m.events.front(), 0);
    m.events.pop_front();
  }
  const auto move = h.take_commands();
  REQUIRE(move.size() == 1);
  REQUIRE(std::holds_alternative<mb::Move>(move[0].body));
  h.handle(mb::Interrupted{}, 0.5);
  const auto stop = h.take_commands();
  REQUIRE(stop.size() == 1);
  CHECK(std::holds_alternative<mb::Stop>(stop[0].body));
}
