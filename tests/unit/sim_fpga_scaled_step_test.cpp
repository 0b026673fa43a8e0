// The encoder's hot path: MotionSource::step(t) — the count at t and its next
// change in one call — as TrapezoidMotion::scaled_step() and EncoderMotion
// answer it (closed-form crossing, one lock). It must give exactly what a
// tick-by-tick evaluation of floor(position * scale + offset) gives, at every
// tick, for scales of either sign, fractional offsets, moves up and down, a
// STOP and a jam (halt) mid-move, rests in between, and before and after all
// moves.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/motor_motion.hpp"
#include "sim/panda/fpga/motion.hpp"

using namespace pandafly::sim;
using fpga::kNever;
using fpga::MotionSource;
using fpga::Tick;

namespace {

// Every tick in [from, to] at which `count` differs from the tick before.
template <class Count>
std::vector<Tick> scan_changes(Tick from, Tick to, Count count) {
  std::vector<Tick> out;
  std::int32_t last = count(from);
  for (Tick t = from + 1; t <= to; ++t) {
    const std::int32_t c = count(t);
    if (c != last) out.push_back(t);
    last = c;
  }
  return out;
}

// The next change after t from the scanned list (kNever past the last one:
// the callers scan beyond the end of the last move).
Tick next_from(const std::vector<Tick>& changes, Tick t) {
  auto it = std::upper_bound(changes.begin(), changes.end(), t);
  return it == changes.end() ? kNever : *it;
}

struct Mismatch {
  Tick t = 0;
  std::int32_t count = 0, want_count = 0;
  Tick next = 0, want_next = 0;
};

// Compares step(t) with the scan at every tick in [from, to]; returns the
// number of ticks that differ (and the first in `first`).
template <class Step, class Count>
std::size_t compare(Tick from, Tick to, Step step, Count count, Mismatch& first) {
  const std::vector<Tick> changes = scan_changes(from - 1, to, count);
  std::size_t bad = 0;
  for (Tick t = from; t <= to; ++t) {
    const MotionSource::Step s = step(t);
    const std::int32_t want_count = count(t);
    const Tick want_next = next_from(changes, t);
    if (s.count != want_count || s.next != want_next) {
      if (bad++ == 0) first = {t, s.count, want_count, s.next, want_next};
    }
  }
  return bad;
}

}  // namespace

TEST_CASE("scaled_step: count and next change agree with a tick-by-tick scan") {
  // Fast moves between non-integer dial positions, a rest, a move back cut
  // short by a STOP, then a move cut dead by a jam: about 120 000 ticks.
  fpga::TrapezoidMotion axis(0.25);
  const Tick end1 = axis.move_to(100, 2.75, 2e4, 1e8);  // triangular
  const Tick end2 = axis.move_to(end1 + 500, -1.3, 3e4, 2e8);
  axis.stop(end1 + 500 + (end2 - end1 - 500) / 2, 1e8);
  const Tick end3 = axis.move_to(axis.end_tick() + 300, 4.0, 2e4, 1e9);  // trapezoid
  axis.halt(end3 - (end3 - axis.end_tick()) / 3);
  const Tick last = axis.end_tick() + 200;
  REQUIRE(last < 200'000);

  struct View {
    double scale, offset;
  };
  for (const View v : {View{1.0, 0.0}, View{7.0, 0.5}, View{-3.0, 0.25}, View{2.5, -1000.75}}) {
    CAPTURE(v.scale);
    CAPTURE(v.offset);
    auto count = [&](Tick u) {
      return MotionSource::to_count(axis.position(u) * v.scale + v.offset);
    };
    auto step = [&](Tick u) { return axis.scaled_step(u, v.scale, v.offset); };
    Mismatch first;
    const std::size_t bad = compare(0, last, step, count, first);
    CAPTURE(first.t);
    CAPTURE(first.count);
    CAPTURE(first.want_count);
    CAPTURE(first.next);
    CAPTURE(first.want_next);
    CHECK(bad == 0);
  }
  // Scale 1, offset 0 is the motion's own count and next_change().
  for (Tick t = 0; t <= last; t += 7) {
    const MotionSource::Step s = axis.scaled_step(t, 1.0, 0.0);
    REQUIRE(s.count == axis.count(t));
    REQUIRE(s.next == axis.next_change(t));
  }
  CHECK(axis.scaled_step(kNever, 1.0, 0.0).next == kNever);
}

TEST_CASE("scaled_step: the encoder view of a motor's motion steps exactly as it counts") {
  // A motor's dial motion seen by an encoder (10 000 counts/unit, offset
  // 123.5): a move, a STOP mid-move with a slower deceleration, a move back.
  auto motion = std::make_shared<ca::MotorMotion>(3.0);
  const Tick end1 = motion->move_to(50, 3.004, 40.0, 1e6);
  motion->move_to(end1 + 1000, 2.9985, 30.0, 1e6);
  motion->stop(end1 + 1000 + 20'000, 3e5);
  motion->move_to(motion->end_tick() + 10, 3.001, 50.0, 2e6);
  const Tick last = motion->end_tick() + 100;
  REQUIRE(last < 400'000);

  const ca::EncoderMotion encoder(motion, 10000.0, 123.5);
  Mismatch first;
  const std::size_t bad = compare(
      0, last, [&](Tick u) { return encoder.step(u); }, [&](Tick u) { return encoder.count(u); },
      first);
  CAPTURE(first.t);
  CAPTURE(first.count);
  CAPTURE(first.want_count);
  CAPTURE(first.next);
  CAPTURE(first.want_next);
  CHECK(bad == 0);
  // It changes at all (the walk is not vacuous): 40 counts up, then back down.
  CHECK(scan_changes(0, last, [&](Tick u) { return encoder.count(u); }).size() > 60);
  CHECK(encoder.step(last).next == kNever);
}

TEST_CASE("scaled_step: an encoder walking change to change sees re-plans made on the way") {
  // The encoder's pattern (Inenc): step(t) at each change it was told of, and
  // step(now) again when the plan changes (motion_changed). Mid-walk the plan
  // changes just ahead of the walker (a move appended, a STOP, a jam), as the
  // motor record changes it before the FPGA passes the tick; the walk must
  // see exactly the changes of the final plan.
  const double scale = 9.0, offset = -0.375;
  fpga::TrapezoidMotion axis(1.1);
  axis.move_to(20, 4.2, 3e4, 1e8);
  auto count = [&](Tick u) { return MotionSource::to_count(axis.position(u) * scale + offset); };

  std::vector<std::pair<Tick, std::int32_t>> walked;
  const MotionSource::Step first = axis.scaled_step(0, scale, offset);
  walked.emplace_back(0, first.count);
  Tick next = first.next;
  // The engine runs up to `now`: every change due by then is taken.
  auto run_until = [&](Tick now) {
    while (next != kNever && next <= now) {
      const MotionSource::Step s = axis.scaled_step(next, scale, offset);
      walked.emplace_back(next, s.count);
      next = s.next;
    }
  };
  // The plan changed after `now`: ask again from there (the count is unchanged).
  auto refollow = [&](Tick now) {
    const MotionSource::Step s = axis.scaled_step(now, scale, offset);
    CHECK(s.count == walked.back().second);
    next = s.next;
  };
  Tick now = axis.end_tick() / 3;
  run_until(now);
  axis.move_to(axis.end_tick() + 50, -0.7, 2e4, 3e8);  // appended: nothing before it changes
  refollow(now);
  now = axis.end_tick() - axis.end_tick() / 4;
  run_until(now);
  axis.stop(now + 1, 2e8);  // just ahead of the walker
  refollow(now);
  now = axis.end_tick() + 1000;
  run_until(now);
  REQUIRE(next == kNever);                // at rest: no change ahead until the next move
  axis.move_to(now + 10, 3.3, 4e4, 1e9);  // plans never change ticks the walker passed
  refollow(now);
  now = (now + axis.end_tick()) / 2;
  run_until(now);
  axis.halt(now + 1);  // a jam just ahead of the walker
  refollow(now);
  run_until(axis.end_tick() + 10);
  CHECK(next == kNever);

  const Tick last = axis.end_tick() + 10;
  REQUIRE(last < 400'000);
  const std::vector<Tick> changes = scan_changes(0, last, count);
  REQUIRE(changes.size() > 50);
  std::vector<std::pair<Tick, std::int32_t>> expected{{0, count(0)}};
  for (const Tick u : changes) expected.emplace_back(u, count(u));
  CHECK(walked == expected);
}

TEST_CASE("scaled_step: a re-plan the walker hears of late still shows at its next step") {
  // The FPGA may pass `from` before a motion change reaches it (counted as
  // late): its next step, at the change tick the old plan gave, must read the
  // new plan there, as position() does, not what the old plan said.
  const double scale = 10000.0, offset = 0.5;
  for (const bool jam : {true, false}) {
    CAPTURE(jam);
    fpga::TrapezoidMotion axis(0.0);
    axis.move_to(0, 1.0, 2.0, 100.0);
    Tick t = axis.end_tick() / 2;
    MotionSource::Step s = axis.scaled_step(t, scale, offset);
    const Tick planned = s.next;
    s = axis.scaled_step(planned, scale, offset);  // the walker takes this change
    t = planned;
    REQUIRE(s.next - t > 10);
    if (jam) {
      axis.halt(t + 1);  // dead stop just after the walker
    } else {
      axis.stop(t + 1, 1e9);  // a hard STOP: the next count is never reached
    }
    const MotionSource::Step late = axis.scaled_step(s.next, scale, offset);
    CHECK(late.count == MotionSource::to_count(axis.position(s.next) * scale + offset));
    CHECK(late.count == s.count);  // it stopped before the next count
    CHECK(late.next == kNever);
  }
}
