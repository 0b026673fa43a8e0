#pragma once
// The motion of a simulated motor, shared by the motor record (which plans it
// in dial units) and the PandA simulator's encoder (which reads it in counts).
//
// Rules
//   * One fpga::TrapezoidMotion in dial units is the only truth about where
//     the axis is at a tick. MotorMotion adds the tick windows of its moves
//     (within each the position is monotone, between them the axis rests) so
//     that a view with any linear scale (EncoderMotion) and the record's limit
//     switch search can find exact crossing ticks.
//   * move_to() appends a move at or after the end of the last one; stop()
//     decelerates the move under way and drops later ones, exactly as
//     TrapezoidMotion does (positions before `at` never change).
//   * Thread-safe (one mutex): the CA server's thread plans while the PandA
//     simulator's thread reads.
//
// Example:
//   auto motion = std::make_shared<MotorMotion>(0.0);        // at rest at dial 0
//   Tick end = motion->move_to(0, 5.0, 10.0, 20.0);          // 0 -> 5 in 1 s
//   EncoderMotion enc(motion, 10000.0, 0.0);                 // 10 000 counts/unit
//   enc.count(end) == 50000; enc.next_change(0) == first tick at count 1
#include <memory>
#include <mutex>
#include <vector>

#include "sim/panda/fpga/motion.hpp"
#include "sim/ticks.hpp"

namespace pandafly::sim::ca {

class MotorMotion {
 public:
  /// At rest at `dial` (finite) until the first move.
  explicit MotorMotion(double dial);

  /// Appends a move from the rest position at `start` (>= end_tick()) to
  /// `target` at peak `velocity` with `acceleration` (both > 0, dial units).
  /// Returns the tick from which the axis rests on `target`. Throws
  /// std::invalid_argument as TrapezoidMotion::move_to does.
  Tick move_to(Tick start, double target, double velocity, double acceleration);
  /// Decelerates the move under way at `at` to rest at `deceleration` and drops
  /// the moves that start at or after `at`. Returns the new end_tick().
  Tick stop(Tick at, double deceleration);
  /// Stops dead at `at` (a jam: TrapezoidMotion::halt) and drops later moves.
  /// Returns the new end_tick().
  Tick halt(Tick at);

  [[nodiscard]] double position(Tick t) const;
  [[nodiscard]] double velocity(Tick t) const;
  /// Tick from which the axis rests for good (until the next move_to()); the
  /// lowest Tick before any move.
  [[nodiscard]] Tick end_tick() const;
  /// The first tick u >= from at which the position has reached `x` (moving
  /// towards it, or resting on it at `from`); kNever when it never does.
  [[nodiscard]] Tick reach_tick(Tick from, double x) const;
  /// The first tick u > t with counts(u) != counts(t), counts(u) =
  /// floor(position(u) * scale + offset); kNever when it never changes.
  [[nodiscard]] Tick next_count_change(Tick t, double scale, double offset) const;
  /// counts(t) and next_count_change(t) together (TrapezoidMotion::scaled_step:
  /// one lock, the crossing solved in closed form) — the encoder's hot path.
  [[nodiscard]] fpga::MotionSource::Step count_step(Tick t, double scale, double offset) const {
    return dial_.scaled_step(t, scale, offset);
  }

  /// The encoder count formula shared by next_count_change() and EncoderMotion.
  [[nodiscard]] static double to_counts(double dial, double scale, double offset) {
    return dial * scale + offset;
  }

 private:
  struct Window {
    Tick start, end;  // the position may change only in [start, end]
  };

  /// The first window that ends after t (mutex_ held).
  [[nodiscard]] std::vector<Window>::const_iterator first_ending_after(Tick t) const;

  mutable std::mutex mutex_;
  fpga::TrapezoidMotion dial_;
  std::vector<Window> windows_;  // sorted, not overlapping
};

/// The motor's dial position in encoder counts, for the PandA simulator's
/// INENC: position = dial * counts_per_unit + offset_counts, at the same ticks.
class EncoderMotion final : public fpga::MotionSource {
 public:
  /// `counts_per_unit` finite and != 0, `offset_counts` finite (else std::invalid_argument).
  EncoderMotion(std::shared_ptr<const MotorMotion> motion, double counts_per_unit,
                double offset_counts);
  [[nodiscard]] double position(Tick t) const override;
  [[nodiscard]] Tick next_change(Tick t) const override;
  [[nodiscard]] Step step(Tick t) const override;

 private:
  std::shared_ptr<const MotorMotion> motion_;
  double scale_;
  double offset_;
};

}  // namespace pandafly::sim::ca
