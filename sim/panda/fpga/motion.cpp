#include "sim/panda/fpga/motion.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/tick_search.hpp"

namespace pandafly::sim::fpga {
namespace {

constexpr double kTicksPerSecondD = static_cast<double>(kTicksPerSecond);

// Seconds from tick `from` to tick `to` (to >= from). Times inside a move are
// always taken relative to its start tick so that they stay precise at late
// virtual times; the division is monotone in `to`, which keeps position()
// monotone within a move.
double seconds_between(Tick from, Tick to) {
  return static_cast<double>(to - from) / kTicksPerSecondD;
}

// The smallest tick count n >= 0 with seconds_between(0, n) >= s (s >= 0, small
// enough to fit, checked by the callers).
Tick ticks_covering(double s) {
  auto n = static_cast<Tick>(std::ceil(s * kTicksPerSecondD));
  while (n > 0 && seconds_between(0, n - 1) >= s) --n;
  while (seconds_between(0, n) < s) ++n;
  return n;
}

void require_finite(const char* what, double value) {
  if (!std::isfinite(value))
    throw std::invalid_argument(
        fmt::format("motion: {} must be a finite number, got {}", what, value));
}

void require_positive(const char* what, double value) {
  if (!(std::isfinite(value) && value > 0))
    throw std::invalid_argument(
        fmt::format("motion: {} must be a finite number > 0, got {}", what, value));
}

}  // namespace

// One move: phases of constant acceleration, each evaluated from an anchor at
// rest (accel: its start, decel: its end) or at constant speed (cruise), and
// clamped to its [x_begin, x_end] so that rounding can never make the position
// go backwards across a phase boundary. Seconds are counted from `start`.
struct TrapezoidMotion::Move {
  enum class Kind { kAccel, kCruise, kDecel };
  struct Phase {
    Kind kind;
    double s_begin, s_end;      // the seconds this phase covers
    double anchor_s, anchor_x;  // accel/cruise: where it starts; decel: where it rests
    double rate;                // |acceleration| (accel, decel) or |velocity| (cruise)
    double x_begin, x_end;      // positions at its ends, in the direction of motion

    double speed(double s) const {
      switch (kind) {
        case Kind::kAccel:
          return rate * std::max(s - anchor_s, 0.0);
        case Kind::kCruise:
          return rate;
        case Kind::kDecel:
          return rate * std::max(anchor_s - s, 0.0);
      }
      return 0;
    }
    double position(double s, double sense) const {
      double x = anchor_x;
      if (kind == Kind::kDecel) {
        const double r = std::max(anchor_s - s, 0.0);
        x -= sense * (0.5 * rate * (r * r));
      } else {
        const double u = std::max(s - anchor_s, 0.0);
        x += sense * (kind == Kind::kAccel ? 0.5 * rate * (u * u) : rate * u);
      }
      return sense > 0 ? std::clamp(x, x_begin, x_end) : std::clamp(x, x_end, x_begin);
    }
    // Seconds at which the unclamped position reaches x (x within the phase).
    double time_of(double x, double sense) const {
      const double d = std::max(sense * (kind == Kind::kDecel ? anchor_x - x : x - anchor_x), 0.0);
      switch (kind) {
        case Kind::kAccel:
          return anchor_s + std::sqrt(2 * d / rate);
        case Kind::kCruise:
          return anchor_s + d / rate;
        case Kind::kDecel:
          return anchor_s - std::sqrt(2 * d / rate);
      }
      return s_begin;
    }
  };

  Tick start;
  Tick end;  // at rest on `to` from this tick on
  double from, to;
  double dir;  // +1 or -1
  std::vector<Phase> phases;

  const Phase& phase_at(double s) const {
    for (const Phase& p : phases)
      if (s < p.s_end) return p;
    return phases.back();
  }
  double position(Tick t) const {
    if (t >= end) return to;
    if (t <= start) return from;
    return phase_at(seconds_between(start, t)).position(seconds_between(start, t), dir);
  }
  double velocity(Tick t) const {
    if (t >= end || t <= start) return 0;
    return dir * phase_at(seconds_between(start, t)).speed(seconds_between(start, t));
  }
  // Estimated seconds at which the position first reaches x (between from and to).
  double crossing_time(double x) const {
    for (const Phase& p : phases)
      if (dir * (p.x_end - x) >= 0) return std::clamp(p.time_of(x, dir), p.s_begin, p.s_end);
    return phases.empty() ? 0 : phases.back().s_end;
  }
  // Ends the move `s` seconds after its start, at rest on the end of its last phase.
  void end_after(double s) {
    if (s * kTicksPerSecondD >= static_cast<double>(kNever - start))
      throw std::invalid_argument(
          fmt::format("motion: a move from {} to {} counts lasting {} s ends beyond the tick range",
                      from, to, s));
    end = start + ticks_covering(s);
    to = phases.empty() ? from : phases.back().x_end;
  }
};

std::int32_t MotionSource::to_count(double position) {
  if (std::isnan(position)) return 0;
  constexpr double lo = std::numeric_limits<std::int32_t>::min();
  constexpr double hi = std::numeric_limits<std::int32_t>::max();
  return static_cast<std::int32_t>(std::clamp(std::floor(position), lo, hi));
}

Stationary::Stationary(double counts) : counts_(counts) {
  require_finite("position", counts);
}

TrapezoidMotion::TrapezoidMotion(double start_counts) : start_counts_(start_counts) {
  require_finite("start position", start_counts);
}

TrapezoidMotion::~TrapezoidMotion() = default;

Tick TrapezoidMotion::move_to(Tick start, double target, double velocity, double acceleration) {
  require_finite("target", target);
  require_positive("velocity", velocity);
  require_positive("acceleration", acceleration);
  std::scoped_lock lock(mutex_);
  if (const Tick last = end_tick_locked(); start < last)
    throw std::invalid_argument(
        fmt::format("motion: move start tick {} is before the end of the previous move at tick {}",
                    start, last));
  const double from = moves_.empty() ? start_counts_ : moves_.back().to;
  const double dir = target >= from ? 1.0 : -1.0;
  Move m{start, start, from, target, dir, {}};
  if (const double d = std::abs(target - from); d > 0) {
    // Triangular when the velocity cannot be reached within half the distance.
    const double v = std::min(velocity, std::sqrt(acceleration * d));
    const double t_acc = v / acceleration;
    const double d_acc = v < velocity ? 0.5 * d : 0.5 * v * t_acc;
    const double t_cruise = v < velocity ? 0.0 : std::max((d - 2 * d_acc) / v, 0.0);
    const double total = 2 * t_acc + t_cruise;
    auto along = [&](double x, double a, double b) {
      return dir > 0 ? std::clamp(x, a, b) : std::clamp(x, b, a);
    };
    const double x1 = along(from + dir * d_acc, from, target);
    const double x2 = along(target - dir * d_acc, x1, target);
    using K = Move::Kind;
    m.phases.push_back({K::kAccel, 0, t_acc, 0, from, acceleration, from, x1});
    if (t_cruise > 0)
      m.phases.push_back({K::kCruise, t_acc, t_acc + t_cruise, t_acc, x1, v, x1, x2});
    m.phases.push_back(
        {K::kDecel, t_acc + t_cruise, total, total, target, acceleration, x2, target});
    m.end_after(total);
  }
  moves_.push_back(std::move(m));
  return moves_.back().end;
}

void TrapezoidMotion::stop(Tick at, double deceleration) {
  require_positive("deceleration", deceleration);
  std::scoped_lock lock(mutex_);
  const auto queued = std::partition_point(moves_.begin(), moves_.end(),
                                           [at](const Move& m) { return m.start < at; });
  if (queued != moves_.begin() && std::prev(queued)->end > at) {
    // Work on a copy so that a throw leaves the motion as it was.
    Move m = *std::prev(queued);
    const double s_at = seconds_between(m.start, at);
    const double x_at = m.position(at);
    const double v_at = std::abs(m.velocity(at));
    // Keep the phases begun before `at` (the first begins at 0 < s_at), cut the last one there.
    while (m.phases.back().s_begin >= s_at) m.phases.pop_back();
    m.phases.back().s_end = s_at;
    m.phases.back().x_end = x_at;
    const double t_dec = v_at / deceleration;
    const double x_rest = x_at + m.dir * (0.5 * v_at * t_dec);
    m.phases.push_back(
        {Move::Kind::kDecel, s_at, s_at + t_dec, s_at + t_dec, x_rest, deceleration, x_at, x_rest});
    m.end_after(s_at + t_dec);
    *std::prev(queued) = std::move(m);
  }
  moves_.erase(queued, moves_.end());
}

void TrapezoidMotion::halt(Tick at) {
  std::scoped_lock lock(mutex_);
  const auto queued = std::partition_point(moves_.begin(), moves_.end(),
                                           [at](const Move& m) { return m.start < at; });
  if (queued != moves_.begin() && std::prev(queued)->end > at) {
    Move& m = *std::prev(queued);
    const double s_at = seconds_between(m.start, at);
    const double x_at = m.position(at);
    // Keep the phases begun before `at` (the first begins at 0 < s_at), cut the last one there.
    while (m.phases.back().s_begin >= s_at) m.phases.pop_back();
    m.phases.back().s_end = s_at;
    m.phases.back().x_end = x_at;
    m.end = at;
    m.to = x_at;
  }
  moves_.erase(queued, moves_.end());
}

const TrapezoidMotion::Move* TrapezoidMotion::move_at(Tick t) const {
  auto it = std::upper_bound(moves_.begin(), moves_.end(), t,
                             [](Tick tick, const Move& m) { return tick < m.start; });
  return it == moves_.begin() ? nullptr : &*std::prev(it);
}

double TrapezoidMotion::position_locked(Tick t) const {
  const Move* m = move_at(t);
  return m ? m->position(t) : start_counts_;
}

double TrapezoidMotion::position(Tick t) const {
  std::scoped_lock lock(mutex_);
  return position_locked(t);
}

double TrapezoidMotion::velocity(Tick t) const {
  std::scoped_lock lock(mutex_);
  const Move* m = move_at(t);
  return m ? m->velocity(t) : 0.0;
}

Tick TrapezoidMotion::end_tick_locked() const {
  return moves_.empty() ? std::numeric_limits<Tick>::min() : moves_.back().end;
}

Tick TrapezoidMotion::end_tick() const {
  std::scoped_lock lock(mutex_);
  return end_tick_locked();
}

Tick TrapezoidMotion::next_change(Tick t) const {
  std::scoped_lock lock(mutex_);
  if (t == kNever) return kNever;
  const std::int32_t c = to_count(position_locked(t));
  auto changed = [&](Tick u) { return to_count(position_locked(u)) != c; };
  // Within a move the position is monotone, so the count changes in it iff the
  // count at its end differs; before that the count stays c (rest or no change).
  auto it =
      std::partition_point(moves_.begin(), moves_.end(), [t](const Move& m) { return m.end <= t; });
  for (; it != moves_.end(); ++it) {
    if (to_count(it->to) == c) continue;
    // Up: the position reaches c + 1; down: it drops below c.
    const double threshold = it->dir > 0 ? static_cast<double>(c) + 1.0 : static_cast<double>(c);
    const Tick guess = it->start + ticks_covering(it->crossing_time(threshold));
    return first_true_tick(std::max(t, it->start), it->end, guess, changed);
  }
  return kNever;
}

MotionSource::Step TrapezoidMotion::scaled_step(Tick t, double scale, double offset) const {
  std::scoped_lock lock(mutex_);
  // The same formula as position_locked() then * scale + offset, so the counts
  // are those of the tick-by-tick evaluation.
  auto counts_of = [scale, offset](double x) { return to_count(x * scale + offset); };
  const Move* under_way = move_at(t);
  const std::int32_t c = counts_of(under_way ? under_way->position(t) : start_counts_);
  if (t == kNever) return {c, kNever};
  // Within a move the position is monotone, so the count changes in it iff the
  // count at its end differs; before that the count stays c (rest or no change).
  auto it =
      std::partition_point(moves_.begin(), moves_.end(), [t](const Move& m) { return m.end <= t; });
  for (; it != moves_.end(); ++it) {
    const Move& m = *it;
    const std::int32_t at_end = counts_of(m.to);
    if (at_end == c) continue;
    // The counts reach c + 1 going up, drop below c going down: the dial
    // position of that threshold, and when the move passes it.
    const double threshold = at_end > c ? static_cast<double>(c) + 1.0 : static_cast<double>(c);
    double s = m.crossing_time((threshold - offset) / scale);
    if (!(s >= 0)) s = 0;  // NaN from a degenerate scale: start at the window's beginning
    const Tick lo = std::max(t, m.start);
    const Tick guess = s * kTicksPerSecondD >= static_cast<double>(m.end - m.start)
                           ? m.end
                           : m.start + ticks_covering(s);
    // Ticks in (lo, m.end] lie in this move (moves do not overlap; at m.end a
    // move starting there rests on m.to as this one does).
    auto changed = [&](Tick u) { return counts_of(m.position(u)) != c; };
    return {c, first_true_tick(lo, m.end, guess, changed)};
  }
  return {c, kNever};
}

}  // namespace pandafly::sim::fpga
