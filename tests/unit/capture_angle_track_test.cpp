// AngleTrack: every rule of the header worked out by hand (constant speed, a
// gap, a ramp, a speed step that reaches the bound, a stop, out of order,
// duplicate stamps, extrapolation), then a property test: an analytic
// trapezoid (and triangle) motion read back the way a motor record posts RBV
// (a poll every 0.1 s with jitter, quantized, stamped at most stamp_lag after
// the reading, posted only when changed, the DMOV stamp fed at the end), fed
// partly out of order and with duplicates: the true angle lies within the
// stated bound at every query between the first and the last update.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/capture/angle_track.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim_ca_device_test_util.hpp"

namespace pandafly::capture {
namespace {

using doctest::Approx;

// 10 deg/s from 0 at t = 0, one update every 0.1 s, MRES 0.001.
AngleTrack constant_speed(AngleTrackConfig config = {.resolution = 0.001}) {
  AngleTrack track(config);
  for (int i = 0; i <= 3; ++i) REQUIRE(track.add(0.1 * i, 1.0 * i) == UpdateVerdict::added);
  return track;
}

}  // namespace

TEST_CASE("angle track: constant speed interpolates with a quantum-sized bound") {
  const AngleTrack track = constant_speed();
  // [0.1, 0.2]: angle 1 + 0.5·1; e = q/2 = 0.0005, each speed known within
  // 2e/h = 0.01, Δv = |10 − 10| + 0.01 + 0.01 = 0.02, U = e + Δv·0.05·0.05/0.1.
  const AngleEstimate a = track.angle_at(0.15);
  CHECK(a.status == AngleStatus::interpolated);
  CHECK(a.angle == Approx(1.5).epsilon(1e-12));
  CHECK(a.speed == Approx(10.0).epsilon(1e-12));
  CHECK(a.uncertainty == Approx(0.001).epsilon(1e-9));
  // At an update: its reading, within half a quantum.
  for (const double t : {0.0, 0.1, 0.3}) {
    const AngleEstimate at = track.angle_at(t);
    CHECK(at.angle == Approx(10 * t).epsilon(1e-12));
    CHECK(at.uncertainty == Approx(0.0005).epsilon(1e-12));
  }
  // The first interval has only a later neighbour: Δv = 2·|10 − 10| + 0.02.
  CHECK(track.angle_at(0.05).uncertainty == Approx(0.001).epsilon(1e-9));
  CHECK(track.update_interval() == Approx(0.1).epsilon(1e-12));
}

TEST_CASE("angle track: the stamp lag widens each reading's error by lag·speed") {
  const AngleTrack track = constant_speed({.resolution = 0.001, .stamp_lag = 0.005});
  // e = 0.0005 + 0.005·10 = 0.0505; speeds known within 2e/h = 1.01;
  // Δv = 2.02; U = 0.0505 + 2.02·0.0025/0.1 = 0.101.
  const AngleEstimate a = track.angle_at(0.15);
  CHECK(a.angle == Approx(1.5).epsilon(1e-12));
  CHECK(a.uncertainty == Approx(0.101).epsilon(1e-9));
  CHECK(a.status == AngleStatus::interpolated);
}

TEST_CASE("angle track: a missing update is a gap, judged by the median or the config") {
  AngleTrack track({.resolution = 0.001});
  for (const auto& [t, p] : {std::pair{0.0, 0.0}, {0.1, 1.0}, {0.2, 2.0}, {0.5, 5.0}, {0.6, 6.0}})
    REQUIRE(track.add(t, p) == UpdateVerdict::added);
  // The median interval with RBV changing is 0.1; [0.2, 0.5] is 3 of them.
  CHECK(track.update_interval() == Approx(0.1).epsilon(1e-12));
  const AngleEstimate a = track.angle_at(0.35);
  CHECK(a.status == AngleStatus::gap);
  CHECK(a.angle == Approx(3.5).epsilon(1e-12));
  // Δv = 0 + 0.01 + 0.01 (the neighbours' noise); U = 0.0005 + 0.02·0.15·0.15/0.3.
  CHECK(a.uncertainty == Approx(0.002).epsilon(1e-9));
  CHECK(track.angle_at(0.15).status == AngleStatus::interpolated);

  AngleTrack slow({.resolution = 0.001, .update_interval = 0.25});  // 0.3 < 1.5·0.25
  for (const auto& [t, p] : {std::pair{0.0, 0.0}, {0.1, 1.0}, {0.2, 2.0}, {0.5, 5.0}, {0.6, 6.0}})
    REQUIRE(slow.add(t, p) == UpdateVerdict::added);
  CHECK(slow.angle_at(0.35).status == AngleStatus::interpolated);
}

TEST_CASE("angle track: in a ramp the bound covers the chord error") {
  // x = 5 t² (10 deg/s²): updates 0.05, 0.2, 0.45, 0.8 at 0.1 … 0.4, q = 0.
  AngleTrack track;
  for (int i = 1; i <= 4; ++i) (void)track.add(0.1 * i, 5 * 0.01 * i * i);
  // [0.2, 0.3]: chord 0.2 + 0.5·0.25 = 0.325; true 5·0.25² = 0.3125. Speeds
  // 1.5, 2.5, 3.5 (monotone): Δv = 2, U = 2·0.05·0.05/0.1 = 0.05
  // (the monotone cap 0.5·0.25 = 0.125 is looser).
  const AngleEstimate a = track.angle_at(0.25);
  CHECK(a.status == AngleStatus::not_constant_speed);
  CHECK(a.angle == Approx(0.325).epsilon(1e-12));
  CHECK(a.uncertainty == Approx(0.05).epsilon(1e-9));
  CHECK(std::abs(a.angle - 0.3125) <= a.uncertainty);
}

TEST_CASE("angle track: a speed step in mid-interval reaches the bound exactly") {
  // 1.5 deg/s until 0.25, then 3.5 deg/s: the same three mean speeds as the
  // ramp above, so the same bound, and the true angle is exactly at it.
  const auto x = [](double t) { return t <= 0.25 ? 1.5 * t : 0.375 + 3.5 * (t - 0.25); };
  AngleTrack track;
  for (int i = 1; i <= 4; ++i) (void)track.add(0.1 * i, x(0.1 * i));
  const AngleEstimate a = track.angle_at(0.25);
  CHECK(a.angle == Approx(0.425).epsilon(1e-12));
  CHECK(a.uncertainty == Approx(0.05).epsilon(1e-9));
  CHECK(std::abs(a.angle - x(0.25)) == Approx(a.uncertainty).epsilon(1e-9));
}

TEST_CASE("angle track: a stop, then the motor at rest (the DMOV stamp fed with the RBV)") {
  AngleTrack track({.resolution = 0.001});
  for (const auto& [t, p] : {std::pair{0.0, 0.0}, {0.1, 1.0}, {0.2, 2.0}, {0.3, 2.5}, {1.0, 2.5}})
    REQUIRE(track.add(t, p) == UpdateVerdict::added);
  const AngleEstimate rest = track.angle_at(0.6);  // long, but RBV unchanged: no gap
  CHECK(rest.status == AngleStatus::at_rest);
  CHECK(rest.angle == Approx(2.5).epsilon(1e-12));
  CHECK(rest.uncertainty == Approx(0.0005).epsilon(1e-12));
  // [0.2, 0.3] decelerates: speeds 10, 5, 0 → Δv ≈ 10.01, U_interp ≈ 0.2508;
  // the monotone cap 0.0005 + 0.5·0.5 = 0.2505 is the smaller.
  const AngleEstimate stop = track.angle_at(0.25);
  CHECK(stop.status == AngleStatus::not_constant_speed);
  CHECK(stop.angle == Approx(2.25).epsilon(1e-12));
  CHECK(stop.uncertainty == Approx(0.2505).epsilon(1e-9));
}

TEST_CASE("angle track: out-of-order updates are sorted in") {
  AngleTrack track({.resolution = 0.001});
  CHECK(track.add(0.0, 0.0) == UpdateVerdict::added);
  CHECK(track.add(0.2, 2.0) == UpdateVerdict::added);
  CHECK(track.add(0.1, 1.0) == UpdateVerdict::out_of_order);
  CHECK(track.add(0.3, 3.0) == UpdateVerdict::added);
  CHECK(track.counts().out_of_order == 1);
  const AngleEstimate a = track.angle_at(0.15);  // as if fed in order
  CHECK(a.angle == Approx(1.5).epsilon(1e-12));
  CHECK(a.uncertainty == Approx(0.001).epsilon(1e-9));
  CHECK(a.status == AngleStatus::interpolated);
  CHECK_FALSE(track.covers(-0.05));
  CHECK(track.add(-0.1, -1.0) == UpdateVerdict::out_of_order);  // older than the first
  CHECK(track.covers(-0.05));
  CHECK(track.angle_at(-0.05).angle == Approx(-0.5).epsilon(1e-12));
}

TEST_CASE("angle track: the same stamp again is a duplicate or replaces the position") {
  AngleTrack track = constant_speed();
  CHECK(track.add(0.1, 1.0) == UpdateVerdict::duplicate);
  CHECK(track.size() == 4);
  CHECK(track.counts().duplicates == 1);
  CHECK(track.add(0.1, 1.002) == UpdateVerdict::replaced);
  CHECK(track.size() == 4);
  CHECK(track.counts().replaced == 1);
  CHECK(track.angle_at(0.1).angle == Approx(1.002).epsilon(1e-12));
}

TEST_CASE("angle track: outside the updates the angle is extrapolated without a bound") {
  const AngleTrack track = constant_speed();
  CHECK_FALSE(track.covers(0.35));
  CHECK(track.covers(0.3));
  const AngleEstimate after = track.angle_at(0.35);
  CHECK(after.status == AngleStatus::after_last);
  CHECK(after.angle == Approx(3.5).epsilon(1e-12));
  CHECK(after.speed == Approx(10.0).epsilon(1e-12));
  CHECK(std::isinf(after.uncertainty));
  const AngleEstimate before = track.angle_at(-0.05);
  CHECK(before.status == AngleStatus::before_first);
  CHECK(before.angle == Approx(-0.5).epsilon(1e-12));
  CHECK(std::isinf(before.uncertainty));
  CHECK(to_string(after.status) == "after_last");
  CHECK(to_string(AngleStatus::not_constant_speed) == "not_constant_speed");
}

TEST_CASE("angle track: no update, one update, two updates") {
  AngleTrack track({.resolution = 0.002});
  const AngleEstimate none = track.angle_at(1.0);
  CHECK(none.status == AngleStatus::no_data);
  CHECK(std::isnan(none.angle));
  CHECK(track.update_interval() == 0);
  REQUIRE(track.add(1.0, 7.0) == UpdateVerdict::added);
  CHECK(track.angle_at(1.0).angle == 7.0);
  CHECK(track.angle_at(1.0).uncertainty == Approx(0.001));
  CHECK(track.angle_at(2.0).status == AngleStatus::after_last);
  CHECK(track.angle_at(2.0).angle == 7.0);
  // Two updates: no neighbour to judge the speed by: only the monotone cap,
  // 0.001 + max(w, 1 − w)·|Δp| = 0.001 + 0.75·2 at w = 0.25.
  REQUIRE(track.add(2.0, 9.0) == UpdateVerdict::added);
  const AngleEstimate two = track.angle_at(1.25);
  CHECK(two.angle == Approx(7.5).epsilon(1e-12));
  CHECK(two.uncertainty == Approx(1.501).epsilon(1e-12));
}

TEST_CASE("angle track: bad input is rejected or named") {
  AngleTrack track;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(track.add(nan, 1.0) == UpdateVerdict::rejected);
  CHECK(track.add(1.0, inf) == UpdateVerdict::rejected);
  CHECK(track.size() == 0);
  CHECK(track.counts().rejected == 2);
  CHECK_THROWS_WITH_AS(AngleTrack({.resolution = -1}), doctest::Contains("resolution"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(AngleTrack({.stamp_lag = nan}), doctest::Contains("stamp_lag"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(AngleTrack({.gap_intervals = 1.0}), doctest::Contains("gap_intervals"),
                       std::invalid_argument);
}

// ------------------------------------------------------------ property test

namespace {

// The motor record's trapezoid (VBAS 0): from p0 at t0, accelerate for
// `accl` s to `speed`, cruise `cruise` s (0: a triangle), decelerate, rest.
struct Trapezoid {
  double p0, direction, speed, accl, t0, cruise;

  [[nodiscard]] double end() const { return t0 + 2 * accl + cruise; }
  [[nodiscard]] double operator()(double t) const {
    const double a = speed / accl, s = t - t0;
    double d = 0;
    if (s <= 0) {
      d = 0;
    } else if (s < accl) {
      d = a * s * s / 2;
    } else if (s < accl + cruise) {
      d = speed * accl / 2 + speed * (s - accl);
    } else if (s < 2 * accl + cruise) {
      const double u = s - accl - cruise;
      d = speed * accl / 2 + speed * cruise + speed * u - a * u * u / 2;
    } else {
      d = speed * (accl + cruise);
    }
    return p0 + direction * d;
  }
};

struct Update {
  double stamp, position;
};

// What the RBV monitor delivers: the current value at subscription (stamped
// long before the move), then a driver poll every 0.1 s ± jitter whose
// reading (lagging its stamp by up to `lag`) is posted when it changed, until
// the first poll after the motion ended; then the shell's at-rest sample at
// that DMOV stamp.
std::vector<Update> rbv_updates(const Trapezoid& m, double q, double lag, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto quantize = [q](double x) { return q * std::round(x / q); };
  std::vector<Update> out{{m.t0 - 1.3, quantize(m(m.t0 - 1.3))}};
  double t = m.t0 + 0.1 * unit(rng);
  for (;; t += 0.1 * (0.7 + 0.6 * unit(rng))) {
    const double r = quantize(m(t - lag * unit(rng)));
    if (r != out.back().position) out.push_back({t, r});
    if (t - lag > m.end()) break;
  }
  out.push_back({t, out.back().position});  // DMOV 1 (a duplicate when RBV changed at t)
  return out;
}

// Fed as a CA monitor may deliver them: ~10 % swapped with the next, ~10 % twice.
std::vector<Update> jumbled(std::vector<Update> updates, std::mt19937& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t i = 0; i + 1 < updates.size(); ++i)
    if (unit(rng) < 0.1) std::swap(updates[i], updates[i + 1]), ++i;
  std::vector<Update> out;
  for (const Update& u : updates) {
    out.push_back(u);
    if (unit(rng) < 0.1) out.push_back(u);
  }
  return out;
}

}  // namespace

TEST_CASE("angle track property: the true trapezoid angle lies within the bound") {
  // Rule checked: for EVERY query T between the first and the last update
  // (whatever its status), |x(T) − angle| ≤ uncertainty (+1e-9 for rounding),
  // for motions whose speed is monotone over three consecutive intervals
  // except at the triangle's peak (the header's heuristic). And the bound is
  // informative: in the cruise (three poll intervals clear of the ramps) the status
  // is `interpolated` and U ≤ 4·(q/2 + lag·v) (a few times one reading's
  // error at that speed: the header's "At constant speed"); at least one
  // query comes within half of its bound.
  std::mt19937 rng(18);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double speeds[] = {10.0, 3.6, 30.0}, accls[] = {0.5, 0.2, 1.0}, cruises[] = {0.0, 2.0, 5.0};
  const double quanta[] = {1e-3, 1e-4}, lags[] = {0.0, 0.005};
  std::uint64_t queries = 0, cruise_queries = 0, tight = 0;
  double worst_cruise = 0;  // the largest cruise U / (q/2 + lag·v)
  for (int run = 0; run < 60; ++run) {
    const Trapezoid m{
        unit(rng) * 360 - 180, run % 2 == 0 ? 1.0 : -1.0,      speeds[run % 3],
        accls[(run / 3) % 3],  1.7e9 + 1000 * run + unit(rng), cruises[(run / 9) % 3]};
    const double q = quanta[(run / 27) % 2], lag = lags[run % 4 < 2 ? 0 : 1];
    CAPTURE(run);
    const std::vector<Update> truth = rbv_updates(m, q, lag, rng);
    AngleTrack track({.resolution = q, .stamp_lag = lag});
    for (const Update& u : jumbled(truth, rng))
      REQUIRE(track.add(u.stamp, u.position) != UpdateVerdict::rejected);
    const double first = truth.front().stamp, last = truth.back().stamp;
    std::vector<double> stamps;
    for (const Update& u : truth) stamps.push_back(u.stamp);
    for (int i = 0; i < 2000; ++i) stamps.push_back(first + (last - first) * unit(rng));
    for (const double t : stamps) {
      const AngleEstimate a = track.angle_at(t);
      const double error = std::abs(m(t) - a.angle);
      CAPTURE(t - m.t0);
      CAPTURE(to_string(a.status));
      REQUIRE(error <= a.uncertainty + 1e-9);
      ++queries;
      if (error > a.uncertainty / 2) ++tight;
      const double s = t - m.t0;
      if (s > m.accl + 0.3 && s < m.accl + m.cruise - 0.3) {  // the neighbours too
        ++cruise_queries;
        CHECK(a.status == AngleStatus::interpolated);
        worst_cruise = std::max(worst_cruise, a.uncertainty / (q / 2 + lag * m.speed));
      }
    }
  }
  CHECK(queries > 100000);
  CHECK(cruise_queries > 10000);
  CHECK(tight > 0);
  CHECK(worst_cruise <= 4);
  MESSAGE("queries ", queries, ", within half of U ", tight, ", worst cruise U/(q/2+lag·v) ",
          worst_cruise);
}

// ------------------------------------------------------------ the simulated motor record

TEST_CASE("angle track: frames' angles from pandafly-sim's motor record RBV are within bound") {
  // The simulator's motor record (sim/ca/motor_record.cpp) without sockets:
  // RBV read back and stamped at each driver poll (every 0.1 s while moving)
  // and at the end, posted when changed, DMOV 1 in the final pass. What a CA
  // monitor would deliver — the current value at subscription, then each
  // posted change — is fed to the track; queries at random ticks are checked
  // against the record's own motion (the true stage angle).
  using namespace pandafly::sim;
  using namespace pandafly::sim::ca;
  using namespace pandafly::sim::ca::test;
  MotorConfig config;  // VELO 10 deg/s, ACCL 0.5 s, VBAS 0, MRES 1e-4
  MotorRecord motor(config);
  PvDatabase db;
  motor.publish(db);
  motor.advance(0, wall_of(0));
  // Seconds from wall_of(0) (the track takes any one clock): exact to the tick.
  const auto seconds = [](EpicsTime s) { return (s.sec - 1e9) + s.nsec * 1e-9; };
  AngleTrack track({.resolution = config.mres});  // the simulator stamps the poll: lag 0
  const auto rbv = db.find(config.prefix + ".RBV");
  REQUIRE(track.add(seconds(rbv->stamp()), number(rbv->value())) == UpdateVerdict::added);
  (void)rbv->observe([&](const Pv& p, unsigned mask) {
    if (mask & kDbeValue) (void)track.add(seconds(p.stamp()), number(p.value()));
  });
  (void)db.find(config.prefix + ".DMOV")->observe([&](const Pv& p, unsigned mask) {
    if ((mask & kDbeValue) && number(p.value()) == 1)  // at rest: the RBV again, DMOV's stamp
      (void)track.add(seconds(p.stamp()), number(rbv->value()));
  });
  const Tick start = ticks(0.5);
  motor.advance(start, wall_of(start));
  REQUIRE(db.find(config.prefix + ".VAL")->put(Doubles{30.0}, [](std::uint32_t) {}) == kEcaNormal);
  while (motor.next_wake() != kNever) motor.advance(motor.next_wake(), wall_of(motor.next_wake()));
  const Tick end = start + ticks(3.5);  // 25 deg cruise at 10 deg/s + two 0.5 s ramps of 2.5 deg
  REQUIRE(number(rbv->value()) == Approx(30.0));
  REQUIRE(track.covers(seconds(wall_of(end))));  // the final pass (RBV, DMOV) is stamped at the end
  CHECK(track.update_interval() == Approx(0.1).epsilon(1e-6));

  std::mt19937 rng(1818);
  std::uniform_int_distribution<Tick> when(0, end);
  double worst_error = 0, worst_cruise = 0, worst_ramp = 0;
  int cruise = 0;
  for (int i = 0; i < 5000; ++i) {
    const Tick t = when(rng);
    const AngleEstimate a = track.angle_at(seconds(wall_of(t)));
    const double truth = motor.motion()->position(t);
    CAPTURE(t);
    CAPTURE(to_string(a.status));
    REQUIRE(std::isfinite(a.uncertainty));  // bracketed by updates: a bound
    REQUIRE(std::abs(truth - a.angle) <= a.uncertainty + 1e-9);
    worst_error = std::max(worst_error, std::abs(truth - a.angle));
    if (t > start + ticks(0.9) && t < start + ticks(2.6)) {  // cruise 1.0 … 3.0 s, and a poll clear
      ++cruise;
      CHECK(a.status == AngleStatus::interpolated);
      worst_cruise = std::max(worst_cruise, a.uncertainty);
    } else if (t > start) {
      worst_ramp = std::max(worst_ramp, a.uncertainty);
    }
  }
  CHECK(cruise > 1000);
  CHECK(worst_cruise <= 3 * config.mres / 2);
  MESSAGE("simulated motor record: worst error ", worst_error, " deg; worst bound in the cruise ",
          worst_cruise, " deg, in the ramps ", worst_ramp, " deg");
}

}  // namespace pandafly::capture
