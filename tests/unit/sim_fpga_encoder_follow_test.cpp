// INENC of the simulated FPGA fed by a simulated motor record, sans-IO in
// simulated time: the encoder must follow every move the record plans — after
// a rest, a move back, a re-target and a STOP mid-move — because the record
// calls on_motion_change and the encoder asks its motion again
// (Inenc::motion_changed). Without that the encoder would stay on the count it
// had when its motion last said "no more changes" (the first rest).
//
// Every count change of the motion is checked at its tick and the tick
// before, and the whole run at irregular steps besides: INENC1.VAL ==
// floor(dial * counts_per_unit + offset) throughout.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/motor_record.hpp"
#include "sim/ca/pv.hpp"
#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/model.hpp"
#include "sim_fpga_test_util.hpp"

using namespace pandafly::sim;
using fpga::Tick;

namespace {

constexpr double kCountsPerDeg = 10000.0;
constexpr double kOffsetCounts = 123.5;  // not whole: floor() matters

Tick at_seconds(double s) {
  return static_cast<Tick>(std::llround(s * static_cast<double>(kTicksPerSecond)));
}

ca::EpicsTime wall_at(Tick t) {
  return {static_cast<std::uint32_t>(1'000'000'000 + t / kTicksPerSecond),
          static_cast<std::uint32_t>((t % kTicksPerSecond) * 8)};
}

// A motor record and the FPGA in one simulated time, as the beamline runs
// them on one thread: at each tick the record is advanced first (it plans at
// that tick), then the engine runs up to it.
struct Rig {
  Rig() {
    ca::MotorConfig c;
    c.prefix = "m";
    c.velo = 10;
    c.accl = 0.5;  // 20 deg/s^2
    c.vmax = 30;
    c.position = 3;
    motor = std::make_unique<ca::MotorRecord>(c);
    motor->publish(db);
    inenc = &dynamic_cast<fpga::Inenc&>(*engine.behaviour("INENC1"));
    val = engine.pos_index("INENC1.VAL");
    dial = motor->motion();
    follow = motor->subscribe_motion_change([this](Tick from) {
      ++changes;
      inenc->motion_changed(from, engine);
    });
    inenc->set_motion(motor->encoder_motion(kCountsPerDeg, kOffsetCounts), engine);
    motor->advance(0, wall_at(0));
  }

  [[nodiscard]] std::int32_t expected(Tick t) const {
    return static_cast<std::int32_t>(std::floor(dial->position(t) * kCountsPerDeg + kOffsetCounts));
  }
  void check_at(Tick t) {
    motor->advance(t, wall_at(t));
    engine.run_until(t);
    ++checks;
    if (engine.pos(val) != expected(t) && mismatches++ == 0) {
      first_bad = t;
      first_bad_got = engine.pos(val);
      first_bad_want = expected(t);
    }
  }
  // Runs to `end`, checking every count change of the motion as planned now
  // (at its tick and the one before), the motor's own wakes, and every
  // `step` ticks. Plans made on the way (none here: puts come between runs)
  // would be picked up through next_change() anyway.
  void run_to(Tick end, Tick step = 46'253) {
    auto enc = motor->encoder_motion(kCountsPerDeg, kOffsetCounts);
    Tick t = engine.now();
    while (t < end) {
      const Tick next = std::min({t + step, enc->next_change(t), motor->next_wake(), end});
      if (next - 1 > t) check_at(next - 1);
      check_at(next);
      t = next;
    }
  }
  void put(const std::string& field, double v) {
    (void)db.find("m." + field)->put(ca::Doubles{v}, [this](std::uint32_t) { ++completed; });
  }
  void put_short(const std::string& field, std::int16_t v) {
    (void)db.find("m." + field)->put(ca::Shorts{v}, [this](std::uint32_t) { ++completed; });
  }

  PandaModel model;
  fpga::Engine engine{model};
  ca::PvDatabase db;
  std::unique_ptr<ca::MotorRecord> motor;
  std::shared_ptr<const ca::MotorMotion> dial;
  fpga::Inenc* inenc = nullptr;
  fpga::Signal val = 0;
  int changes = 0, completed = 0;
  Subscription follow;
  std::uint64_t checks = 0, mismatches = 0;
  Tick first_bad = -1;
  std::int32_t first_bad_got = 0, first_bad_want = 0;
};

}  // namespace

TEST_CASE("fpga INENC follows a motor record: rest, move, rest, move back, re-target, STOP") {
  Rig rig;
  rig.run_to(at_seconds(1.0));  // at rest on 3 deg
  CHECK(rig.engine.pos(rig.val) == 30123);

  rig.put("VAL", 8.0);  // 5 deg up: 1 s (0.5 s ramps of 2.5 deg), at rest from 2 s
  rig.run_to(at_seconds(3.0));
  CHECK(rig.engine.pos(rig.val) == 80123);

  rig.put("VAL", -2.0);  // 10 deg back down: at rest from 4.5 s
  rig.run_to(at_seconds(5.0));
  CHECK(rig.engine.pos(rig.val) == -19877);  // floor(-20000 + 123.5)

  rig.put("VAL", 20.0);  // a long move up...
  rig.run_to(at_seconds(6.0));
  const std::int32_t mid = rig.engine.pos(rig.val);
  CHECK(mid > -19877);
  rig.put_short("STOP", 1);  // ...stopped mid-move: 0.5 s and 2.5 deg of ramp down
  rig.run_to(at_seconds(7.0));
  const double stopped_at = rig.dial->position(at_seconds(7.0));
  // 5 s: ramp 0.5 s (2.5 deg), cruise 0.5 s (5 deg) at 6 s, ramp down 2.5 deg.
  CHECK(stopped_at == doctest::Approx(-2.0 + 2.5 + 5.0 + 2.5));
  CHECK(rig.engine.pos(rig.val) == rig.expected(at_seconds(7.0)));

  rig.put("VAL", 0.0);  // down again, and a plain put re-targets it while moving
  rig.run_to(at_seconds(7.6));
  rig.put("VAL", 5.0);  // stops (overshoot), then moves up to 5 at the next poll
  rig.run_to(at_seconds(12.0));
  CHECK(rig.dial->position(at_seconds(12.0)) == doctest::Approx(5.0));
  CHECK(rig.engine.pos(rig.val) == 50123);

  INFO("first mismatch at tick ", rig.first_bad, ": INENC1.VAL ", rig.first_bad_got, ", want ",
       rig.first_bad_want);
  CHECK(rig.mismatches == 0);
  CHECK(rig.checks > 300'000);  // every count of ~60 deg of travel, twice
  CHECK(rig.changes >= 6);      // every plan reached the encoder
  CHECK(rig.inenc->late_changes() == 0);
  CHECK(rig.completed >= 5);  // the puts and STOP completed
}

TEST_CASE("fpga INENC: a motion change reported after the engine passed it counts as late") {
  Rig rig;
  rig.run_to(at_seconds(1.0));
  // The record plans at 1 s, but the engine has already run to 1.5 s.
  rig.engine.run_until(at_seconds(1.5));
  rig.put("VAL", 4.0);  // the record's own now is still 1 s: the move starts there
  CHECK(rig.inenc->late_changes() == 1);
  // From then on the encoder follows again.
  rig.run_to(at_seconds(3.0));
  CHECK(rig.engine.pos(rig.val) == rig.expected(at_seconds(3.0)));
}

TEST_CASE("fpga TTLOUT: any number of subscribers, each until its Subscription ends") {
  test::Fpga f(test::logic_and_timing_blocks());
  using E = std::tuple<std::size_t, bool, Tick>;
  std::vector<E> legacy, a, b;
  f.engine.on_ttl_out = [&](std::size_t n, bool v, Tick t) { legacy.emplace_back(n, v, t); };
  auto sub_a =
      f.engine.subscribe_ttl_out([&](std::size_t n, bool v, Tick t) { a.emplace_back(n, v, t); });
  std::optional<Subscription> sub_b =
      f.engine.subscribe_ttl_out([&](std::size_t n, bool v, Tick t) { b.emplace_back(n, v, t); });
  f.write("CLOCK1.PERIOD.RAW", "10");
  f.write("CLOCK1.WIDTH.RAW", "3");
  f.write("CLOCK1.ENABLE", "ONE");  // seen at 1: rises 2, 12, 22; falls 5, 15, 25
  f.write("TTLOUT3.VAL", "CLOCK1.OUT");
  f.engine.run_until(10);
  sub_b.reset();  // b unsubscribes: sees nothing from 12 on
  f.engine.run_until(20);
  Subscription moved = std::move(sub_a);  // a moved handle keeps subscribing
  f.engine.run_until(24);
  const std::vector<E> all{
      {3, true, 2}, {3, false, 5}, {3, true, 12}, {3, false, 15}, {3, true, 22}};
  CHECK(legacy == all);
  CHECK(a == all);
  CHECK(b == std::vector<E>{{3, true, 2}, {3, false, 5}});
  moved.reset();
  f.engine.run_until(30);
  CHECK(a == all);  // nothing after the reset
  CHECK(legacy.size() == 6);
}

TEST_CASE("fpga TTLOUT: a subscriber may unsubscribe another during the notification") {
  Subscribers<int> subs;
  std::vector<int> seen;
  Subscription second;
  auto first = subs.subscribe([&](int v) {
    seen.push_back(v);
    second.reset();
  });
  second = subs.subscribe([&](int v) { seen.push_back(100 + v); });
  subs.notify(1);  // the first drops the second before its turn
  CHECK(seen == std::vector<int>{1});
  CHECK(subs.size() == 1);
  {
    auto third = subs.subscribe([&](int v) { seen.push_back(200 + v); });
    subs.notify(2);
  }
  subs.notify(3);
  CHECK(seen == std::vector<int>{1, 2, 202, 3});
}
