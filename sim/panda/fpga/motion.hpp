#pragma once
// Motion sources for the simulated encoder (INENC) of the PandA simulator: the
// axis position in encoder counts as a function of virtual FPGA time (Tick, see
// ticks.hpp). The encoder reads floor(position) as its integer count.
//
// The simulator does not step tick by tick: it asks next_change() for the next
// tick at which the count changes and jumps there. next_change() is exact with
// respect to count(): no change is skipped and none is invented.
//
// Rules (TrapezoidMotion)
//   The axis is at rest at `start_counts` until the first move. Each move starts
//   at rest where the previous one left the axis, accelerates, cruises (unless
//   the distance is too short: a triangular profile), decelerates and ends at
//   rest on its target at end tick; the axis stays there until the next move.
//   move_to() appends a move starting at or after end_tick(). stop(at) replaces
//   the rest of the move under way at `at` by a deceleration to rest and drops
//   the moves queued after it; ticks before `at` keep their position.
//   Thread-safe: one thread may append/stop while another queries (one mutex).
//
// Example:
//   TrapezoidMotion axis(0.0);                                // at rest at count 0
//   Tick end = axis.move_to(0, 1000.0, 5000.0, 20000.0);      // 0 -> 1000 counts
//   for (Tick t = 0; t != kNever; t = axis.next_change(t))
//     encoder.set_count(t, axis.count(t));                    // 0, 1, 2, ..., 1000
//   // axis.count(end) == 1000, axis.next_change(end) == kNever
#include <cstdint>
#include <mutex>
#include <vector>

#include "sim/panda/fpga/ticks.hpp"

namespace pandafly::sim::fpga {

/// A position in encoder counts as a function of virtual time. The simulated
/// encoder reads floor(position(t)) as its integer count.
class MotionSource {
 public:
  virtual ~MotionSource() = default;
  /// Continuous position in counts at tick t.
  [[nodiscard]] virtual double position(Tick t) const = 0;
  /// Encoder count at t: floor(position(t)) clamped to the int32 range.
  [[nodiscard]] std::int32_t count(Tick t) const { return to_count(position(t)); }
  /// The first tick u > t with count(u) != count(t), and count(v) == count(t) for
  /// every t <= v < u; kNever when the count never changes after t.
  [[nodiscard]] virtual Tick next_change(Tick t) const = 0;

  /// count(t) and next_change(t), evaluated together (the encoder asks both at
  /// every count change; a shared motion answers them under one lock).
  struct Step {
    std::int32_t count;
    Tick next;
  };
  [[nodiscard]] virtual Step step(Tick t) const { return {count(t), next_change(t)}; }

  /// floor(position) clamped to the int32 range (NaN reads as 0).
  [[nodiscard]] static std::int32_t to_count(double position);
};

/// At rest at one position for ever.
///   Stationary axis(12.5);  // axis.count(t) == 12, axis.next_change(t) == kNever
class Stationary final : public MotionSource {
 public:
  /// `counts` must be finite (else std::invalid_argument).
  explicit Stationary(double counts);
  [[nodiscard]] double position(Tick) const override { return counts_; }
  [[nodiscard]] Tick next_change(Tick) const override { return kNever; }

 private:
  double counts_;
};

/// A piecewise motion: trapezoidal (triangular when too short to reach the
/// velocity) point-to-point moves with rest in between; see Rules above.
class TrapezoidMotion final : public MotionSource {
 public:
  /// At rest at `start_counts` (finite, else std::invalid_argument) until the first move.
  explicit TrapezoidMotion(double start_counts);
  ~TrapezoidMotion() override;
  TrapezoidMotion(const TrapezoidMotion&) = delete;
  TrapezoidMotion& operator=(const TrapezoidMotion&) = delete;

  /// Appends a move from where the axis rests to `target` counts, starting at
  /// tick `start`, with the peak `velocity` (counts/s) and `acceleration` (used
  /// for the deceleration too, counts/s^2). Returns the tick from which the axis
  /// is at rest at `target` (== start for a move of zero length).
  /// Throws std::invalid_argument (naming the value) when target is not finite,
  /// velocity or acceleration is not a finite number > 0, start < end_tick(), or
  /// the move would end beyond the tick range; nothing is appended then.
  Tick move_to(Tick start, double target, double velocity, double acceleration);

  /// A motor STOP at tick `at`: the move under way at `at` (if any) decelerates
  /// from its velocity at `at` to rest at `deceleration` counts/s^2; moves that
  /// start at or after `at` are dropped. Positions before `at` do not change, so
  /// `at` should not be earlier than ticks already shown to the encoder.
  /// Throws std::invalid_argument when deceleration is not a finite number > 0.
  void stop(Tick at, double deceleration);
  /// A jam at tick `at`: the move under way at `at` (if any) ends there, at
  /// rest on position(at) (no deceleration); moves that start at or after
  /// `at` are dropped. Positions before `at` do not change.
  void halt(Tick at);

  [[nodiscard]] double position(Tick t) const override;
  [[nodiscard]] Tick next_change(Tick t) const override;
  /// The encoder's step of a scaled view of this motion, counts(u) =
  /// floor(position(u) * scale + offset) (to_count): counts(t) and the first
  /// tick u > t with counts(u) != counts(t) (kNever when none), exactly as
  /// evaluating counts tick by tick would find it. One lock; the crossing tick
  /// is solved in closed form in the move under way and verified at the tick
  /// before it (a search only when rounding put the estimate off).
  [[nodiscard]] Step scaled_step(Tick t, double scale, double offset) const;
  /// Signed velocity in counts/s at t (0 at rest).
  [[nodiscard]] double velocity(Tick t) const;
  /// Tick from which the last move is over (at rest afterwards); the lowest Tick
  /// when no move was ever appended (at rest since ever).
  [[nodiscard]] Tick end_tick() const;

 private:
  struct Move;  // defined in motion.cpp

  [[nodiscard]] const Move* move_at(Tick t) const;  // last move started at or before t
  [[nodiscard]] double position_locked(Tick t) const;
  [[nodiscard]] Tick end_tick_locked() const;

  mutable std::mutex mutex_;
  double start_counts_;
  std::vector<Move> moves_;  // sorted by start, not overlapping
};

}  // namespace pandafly::sim::fpga
