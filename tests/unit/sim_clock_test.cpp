// SimClock: monotonic simulated time at a speed, holds that freeze it, time
// stamps that agree among themselves.
#include "sim/sim_clock.hpp"

#include <chrono>

#include <doctest/doctest.h>

namespace sim = pandafly::sim;
using Steady = std::chrono::steady_clock;

namespace {

/// Busy-waits (no sleep) until the steady clock has moved on by `d`.
void let_pass(Steady::duration d) {
  const auto until = Steady::now() + d;
  while (Steady::now() < until) {
  }
}

}  // namespace

TEST_CASE("sim clock: runs at its speed, monotonic") {
  sim::SimClock clock(1000.0);
  const sim::Tick a = clock.now();
  let_pass(std::chrono::milliseconds(2));
  const sim::Tick b = clock.now();
  // 2 ms of wall time at 1000x is at least 2 simulated seconds.
  CHECK(b - a >= 2 * sim::kTicksPerSecond);
  CHECK(clock.now() >= b);
}

TEST_CASE("sim clock: a hold freezes simulated time until its release; holds nest") {
  sim::SimClock clock(1000.0);
  clock.hold();
  clock.hold();
  const sim::Tick frozen = clock.now();
  let_pass(std::chrono::milliseconds(2));
  CHECK(clock.now() == frozen);
  CHECK(clock.steady_deadline(frozen + 1) == Steady::time_point::max());
  clock.release();
  CHECK(clock.held());
  let_pass(std::chrono::milliseconds(1));
  CHECK(clock.now() == frozen);
  clock.release();
  CHECK_FALSE(clock.held());
  let_pass(std::chrono::milliseconds(2));
  // Resumes from where it stood: no jump over the time it was held.
  const sim::Tick after = clock.now();
  CHECK(after > frozen);
  clock.release();  // an unmatched release is ignored
  CHECK_FALSE(clock.held());
}

TEST_CASE("sim clock: a hold freezes the time it is taken at, not the last origin") {
  sim::SimClock clock(1000.0);
  let_pass(std::chrono::milliseconds(2));
  const sim::Tick before = clock.now();
  REQUIRE(before >= 2 * sim::kTicksPerSecond);
  clock.hold();
  const sim::Tick frozen = clock.now();
  CHECK(frozen >= before);  // was 0 (the construction origin) before the fix
  clock.release();
  CHECK(clock.now() >= frozen);
}

TEST_CASE("sim clock: deadlines map simulated ticks to the steady clock at its speed") {
  sim::SimClock clock(10.0);
  const sim::Tick t = clock.now() + sim::kTicksPerSecond;  // 1 simulated s = 0.1 wall s
  const auto deadline = clock.steady_deadline(t);
  const auto from_now = deadline - Steady::now();
  CHECK(from_now <= std::chrono::milliseconds(101));
  CHECK(from_now >= std::chrono::milliseconds(90));
  CHECK(clock.steady_deadline(sim::kNever) == Steady::time_point::max());
}

TEST_CASE("sim clock: time stamps of one tick agree in every form") {
  sim::SimClock clock(5.0);
  const sim::Tick t = 3 * sim::kTicksPerSecond + 125;  // 3 s + 1000 ns
  CHECK(clock.unix_ns(t) - clock.unix_ns(0) == 3'000'001'000);
  CHECK(clock.epics_seconds(t) - clock.epics_seconds(0) == doctest::Approx(3.000001).epsilon(2e-7));
  CHECK(clock.epics_seconds(0) ==
        doctest::Approx(static_cast<double>(clock.unix_ns(0)) * 1e-9 - 631152000.0));
  const std::string iso = clock.iso_utc(t);
  CHECK(iso.size() == std::string("2026-12-05T07:10:00.000000008Z").size());
  CHECK(iso.back() == 'Z');
}

TEST_CASE("sim clock: a speed that is not a finite number > 0 is refused") {
  CHECK_THROWS_AS(sim::SimClock(0.0), std::invalid_argument);
  CHECK_THROWS_AS(sim::SimClock(-1.0), std::invalid_argument);
}
