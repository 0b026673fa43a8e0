// The motion sources that drive the simulated encoder: closed-form positions of
// trapezoidal and triangular moves, STOP, and next_change() checked step by step
// (every count visited once, nothing skipped), against a tick-by-tick scan, at
// large positions and late times, and with a second thread appending moves.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "sim/panda/fpga/motion.hpp"

using namespace pandafly::sim::fpga;

namespace {

// Ticks in `seconds` of virtual time (125 MHz).
Tick ticks(double seconds) {
  return static_cast<Tick>(std::llround(seconds * static_cast<double>(kTicksPerSecond)));
}

// Follows next_change() from `from` until kNever. Each step must change the
// count by exactly one, with the old count still there one tick before.
// Returns the counts seen, starting with count(from).
std::vector<std::int32_t> walk(const MotionSource& m, Tick from) {
  std::vector<std::int32_t> seen{m.count(from)};
  for (Tick t = from, u = m.next_change(from); u != kNever; t = u, u = m.next_change(u)) {
    REQUIRE(u > t);
    REQUIRE(m.count(u - 1) == m.count(t));
    const int step = m.count(u) - m.count(t);
    REQUIRE((step == 1 || step == -1));
    seen.push_back(m.count(u));
  }
  return seen;
}

// first, first±1, ..., last (inclusive) appended to `out`.
void append_counts(std::vector<std::int32_t>& out, std::int32_t first, std::int32_t last) {
  const std::int32_t dir = last >= first ? 1 : -1;
  for (std::int32_t c = first; c != last + dir; c += dir) out.push_back(c);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace

TEST_CASE("motion: a trapezoidal move follows the closed-form profile") {
  // 0 -> 10000 counts at 1000 counts/s, 500 counts/s^2: accelerate for
  // 1000/500 = 2 s over 0.5*500*2^2 = 1000 counts, cruise 8000 counts in 8 s,
  // decelerate for 2 s over 1000 counts: 12 s in all.
  TrapezoidMotion axis(0.0);
  const Tick end = axis.move_to(0, 10000.0, 1000.0, 500.0);
  CHECK(end == ticks(12));
  CHECK(axis.end_tick() == end);
  CHECK(axis.position(-5) == 0.0);
  CHECK(axis.position(ticks(1)) == doctest::Approx(250.0).epsilon(1e-12));  // 0.5*500*1^2
  CHECK(axis.velocity(ticks(1)) == doctest::Approx(500.0).epsilon(1e-12));
  CHECK(axis.position(ticks(2)) == doctest::Approx(1000.0).epsilon(1e-12));  // end of accel
  CHECK(axis.position(ticks(7)) == doctest::Approx(6000.0).epsilon(1e-12));  // 1000 + 5*1000
  CHECK(axis.velocity(ticks(7)) == doctest::Approx(1000.0).epsilon(1e-12));
  CHECK(axis.position(ticks(10)) == doctest::Approx(9000.0).epsilon(1e-12));  // decel starts
  CHECK(axis.position(ticks(11)) == doctest::Approx(9750.0).epsilon(1e-12));  // 10000-0.5*500*1
  CHECK(axis.velocity(ticks(11)) == doctest::Approx(500.0).epsilon(1e-12));
  CHECK(axis.position(end) == 10000.0);
  CHECK(axis.velocity(end) == 0.0);
  CHECK(axis.count(end + ticks(3600)) == 10000);
}

TEST_CASE("motion: a short move is triangular with peak velocity sqrt(a*d)") {
  // 100 counts at 10000 counts/s^2 never reaches 5000 counts/s: the peak is
  // sqrt(10000*100) = 1000 counts/s after 1000/10000 = 0.1 s, at 50 counts.
  TrapezoidMotion axis(0.0);
  CHECK(axis.move_to(0, 100.0, 5000.0, 10000.0) == ticks(0.2));
  CHECK(axis.position(ticks(0.1)) == doctest::Approx(50.0).epsilon(1e-12));
  CHECK(axis.velocity(ticks(0.1)) == doctest::Approx(1000.0).epsilon(1e-9));
  double peak = 0;
  for (Tick t = 0; t <= ticks(0.2); t += 1000) peak = std::max(peak, axis.velocity(t));
  CHECK(peak == doctest::Approx(1000.0).epsilon(1e-6));
  CHECK(peak <= 1000.0 + 1e-9);
}

TEST_CASE("motion: next_change visits every count once, up then down") {
  TrapezoidMotion axis(0.0);
  const Tick end1 = axis.move_to(0, 1000.0, 5000.0, 20000.0);
  const Tick end2 = axis.move_to(end1 + 1000, -200.0, 5000.0, 20000.0);
  std::vector<std::int32_t> expected;
  append_counts(expected, 0, 1000);
  append_counts(expected, 999, -200);
  CHECK(walk(axis, -1) == expected);
  // Both moves end exactly on an integer count: no phantom change afterwards.
  CHECK(axis.count(end1) == 1000);
  CHECK(axis.next_change(end1) > end1 + 1000);  // nothing while at rest in between
  CHECK(axis.count(end2) == -200);
  CHECK(axis.next_change(end2 - 1) == kNever);
  CHECK(axis.next_change(end2) == kNever);
  CHECK(axis.next_change(kNever) == kNever);
}

TEST_CASE("motion: next_change agrees with a tick-by-tick scan") {
  // Short, fast moves between non-integer positions (about 400000 ticks in all).
  TrapezoidMotion axis(0.5);
  const Tick end1 = axis.move_to(10, 5.5, 1e5, 1e7);
  const Tick end2 = axis.move_to(end1 + 7, -2.0, 4000.0, 1e7);
  std::vector<Tick> scanned;
  std::int32_t last = axis.count(0);
  for (Tick t = 1; t <= end2 + 10; ++t) {
    const std::int32_t c = axis.count(t);
    if (c != last) scanned.push_back(t);
    last = c;
  }
  std::vector<Tick> stepped;
  for (Tick t = axis.next_change(0); t != kNever; t = axis.next_change(t)) stepped.push_back(t);
  CHECK(scanned.size() == 5 + 7);  // 0 -> 5, then 5 -> -2
  CHECK(stepped == scanned);
}

TEST_CASE("motion: stop decelerates to rest and drops queued moves") {
  SUBCASE("while cruising up") {
    // At 7 s the axis cruises at 6000 counts, 1000 counts/s. Stopping at
    // 2000 counts/s^2 takes 0.5 s over 1000^2/(2*2000) = 250 counts: 6250 at 7.5 s.
    TrapezoidMotion axis(0.0);
    axis.move_to(0, 10000.0, 1000.0, 500.0);
    axis.stop(ticks(7), 2000.0);
    CHECK(axis.end_tick() == ticks(7.5));
    CHECK(axis.position(ticks(6.5)) == doctest::Approx(5500.0).epsilon(1e-12));   // unchanged
    CHECK(axis.position(ticks(7.25)) == doctest::Approx(6187.5).epsilon(1e-12));  // 6250-62.5
    CHECK(axis.velocity(ticks(7.25)) == doctest::Approx(500.0).epsilon(1e-12));
    CHECK(axis.position(ticks(7.5)) == doctest::Approx(6250.0).epsilon(1e-12));
    std::vector<std::int32_t> expected;
    append_counts(expected, 0, 6250);
    CHECK(walk(axis, 0) == expected);
  }
  SUBCASE("while accelerating down, with a move queued") {
    // At 1 s: -0.5*500*1^2 = -250 counts, -500 counts/s. Stopping at 500
    // counts/s^2 takes 1 s over 250 counts: rest at -500 at 2 s.
    TrapezoidMotion axis(0.0);
    const Tick end = axis.move_to(0, -10000.0, 1000.0, 500.0);
    axis.move_to(end + 5, 0.0, 1000.0, 500.0);
    axis.stop(ticks(1), 500.0);
    CHECK(axis.end_tick() == ticks(2));
    CHECK(axis.position(ticks(2)) == doctest::Approx(-500.0).epsilon(1e-12));
    CHECK(axis.position(end + ticks(100)) == doctest::Approx(-500.0).epsilon(1e-12));
    std::vector<std::int32_t> expected;
    append_counts(expected, 0, -500);
    CHECK(walk(axis, 0) == expected);
    CHECK_THROWS_AS(axis.move_to(ticks(2) - 1, 0.0, 1000.0, 500.0), std::invalid_argument);
    CHECK(axis.move_to(ticks(2), -400.0, 1000.0, 500.0) > ticks(2));
  }
  SUBCASE("at rest: only the queued moves go") {
    TrapezoidMotion axis(3.0);
    const Tick end = axis.move_to(0, 10.0, 1000.0, 500.0);
    axis.move_to(end + 100, 20.0, 1000.0, 500.0);
    axis.stop(end + 50, 1000.0);
    CHECK(axis.end_tick() == end);
    CHECK(axis.next_change(end) == kNever);
  }
}

TEST_CASE("motion: at rest for ever") {
  const Stationary fixed(12.5);
  CHECK(fixed.count(0) == 12);
  CHECK(fixed.next_change(0) == kNever);
  CHECK(Stationary(-0.5).count(ticks(3600)) == -1);
  const TrapezoidMotion idle(7.0);
  CHECK(idle.count(123) == 7);
  CHECK(idle.next_change(0) == kNever);
  CHECK(idle.end_tick() == std::numeric_limits<Tick>::min());
  CHECK(MotionSource::to_count(1e12) == std::numeric_limits<std::int32_t>::max());
  CHECK(MotionSource::to_count(-1e12) == std::numeric_limits<std::int32_t>::min());
}

TEST_CASE("motion: invalid arguments are refused, naming the value") {
  TrapezoidMotion axis(0.0);
  const Tick end = axis.move_to(100, 50.0, 1000.0, 500.0);
  auto move = [&](Tick start, double target, double v, double a) {
    return message_of([&] { axis.move_to(start, target, v, a); });
  };
  const std::string v = move(end, 0.0, -5.0, 500.0);
  CHECK(v.find("velocity") != std::string::npos);
  CHECK(v.find("-5") != std::string::npos);
  const std::string a = move(end, 0.0, 1000.0, 0.0);
  CHECK(a.find("acceleration") != std::string::npos);
  CHECK(a.find("got 0") != std::string::npos);
  CHECK(move(end, NAN, 1000.0, 500.0).find("target") != std::string::npos);
  const std::string early = move(end - 1, 0.0, 1000.0, 500.0);
  CHECK(early.find(std::to_string(end - 1)) != std::string::npos);
  CHECK(early.find(std::to_string(end)) != std::string::npos);
  CHECK(move(kNever - 10, 0.0, 1.0, 1.0).find("beyond the tick range") != std::string::npos);
  CHECK(message_of([&] { axis.stop(end, -1.0); }).find("deceleration") != std::string::npos);
  CHECK(message_of([] { TrapezoidMotion bad(INFINITY); }).find("inf") != std::string::npos);
  CHECK(message_of([] { Stationary bad(NAN); }).find("nan") != std::string::npos);
  CHECK(axis.end_tick() == end);  // nothing appended by the failed calls
}

TEST_CASE("motion: large positions and late times still step by one count") {
  const Tick hour = ticks(3600);
  CHECK(hour == 450'000'000'000);
  TrapezoidMotion axis(1e8 + 0.25);
  const Tick end1 = axis.move_to(hour, 1e8 + 300.25, 20000.0, 1e5);
  axis.move_to(end1, 1e8 - 100.0, 20000.0, 1e5);
  std::vector<std::int32_t> expected;
  append_counts(expected, 100'000'000, 100'000'300);
  append_counts(expected, 100'000'299, 99'999'900);
  CHECK(walk(axis, hour - 1) == expected);

  // A slow move (2 counts/s, ~10 s) near 1e9 counts, one hour in: ~62.5e6 ticks per count.
  TrapezoidMotion slow(1e9);
  slow.move_to(hour, 1e9 + 20, 2.0, 4.0);
  expected.clear();
  append_counts(expected, 1'000'000'000, 1'000'000'020);
  CHECK(walk(slow, 0) == expected);
}

TEST_CASE("motion: one thread appends moves while another steps the encoder") {
  TrapezoidMotion axis(0.0);
  constexpr int kMoves = 200;
  std::thread motor([&] {
    Tick start = 0;
    for (int i = 0; i < kMoves; ++i)
      start = axis.move_to(start, i % 2 == 0 ? 10.0 : 0.0, 1e5, 1e7) + 3;
  });
  // Ticks before end_tick() never change afterwards, so every step seen so far must hold.
  for (int round = 0; round < 50; ++round) {
    const Tick known = axis.end_tick();
    for (Tick t = 0, u = axis.next_change(0); u != kNever && u <= known;
         t = u, u = axis.next_change(u))
      REQUIRE(axis.count(u - 1) == axis.count(t));
  }
  motor.join();
  std::vector<std::int32_t> expected{0};
  for (int i = 0; i < kMoves; ++i) {
    expected.pop_back();
    append_counts(expected, i % 2 == 0 ? 0 : 10, i % 2 == 0 ? 10 : 0);
  }
  CHECK(walk(axis, 0) == expected);
}
