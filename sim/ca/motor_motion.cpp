#include "sim/ca/motor_motion.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "sim/tick_search.hpp"

namespace pandafly::sim::ca {
namespace {

// Where to start looking for the tick at which a monotone position goes from
// p_lo (at lo) to `target` (reached by hi, at p_hi): extrapolate the velocity
// at lo when it moves, else interpolate linearly over the window.
Tick guess_tick(Tick lo, Tick hi, double p_lo, double p_hi, double v_lo, double target) {
  double ticks = 0;
  if (v_lo != 0) {
    ticks = (target - p_lo) / v_lo * static_cast<double>(kTicksPerSecond);
  } else if (p_hi != p_lo) {
    ticks = (target - p_lo) / (p_hi - p_lo) * static_cast<double>(hi - lo);
  }
  if (!(ticks > 0)) return lo + 1;
  if (ticks >= static_cast<double>(hi - lo)) return hi;
  return lo + static_cast<Tick>(std::ceil(ticks));
}

}  // namespace

MotorMotion::MotorMotion(double dial) : dial_(dial) {}

Tick MotorMotion::move_to(Tick start, double target, double velocity, double acceleration) {
  std::scoped_lock lock(mutex_);
  const Tick end = dial_.move_to(start, target, velocity, acceleration);
  if (end > start) windows_.push_back({start, end});
  return end;
}

Tick MotorMotion::stop(Tick at, double deceleration) {
  std::scoped_lock lock(mutex_);
  dial_.stop(at, deceleration);
  while (!windows_.empty() && windows_.back().start >= at) windows_.pop_back();
  const Tick end = dial_.end_tick();
  // The window under way at `at` now ends where the deceleration does.
  if (!windows_.empty() && windows_.back().end > at) windows_.back().end = end;
  return end;
}

Tick MotorMotion::halt(Tick at) {
  std::scoped_lock lock(mutex_);
  dial_.halt(at);
  while (!windows_.empty() && windows_.back().start >= at) windows_.pop_back();
  const Tick end = dial_.end_tick();
  if (!windows_.empty() && windows_.back().end > at) windows_.back().end = end;
  return end;
}

double MotorMotion::position(Tick t) const {
  std::scoped_lock lock(mutex_);
  return dial_.position(t);
}

double MotorMotion::velocity(Tick t) const {
  std::scoped_lock lock(mutex_);
  return dial_.velocity(t);
}

Tick MotorMotion::end_tick() const {
  std::scoped_lock lock(mutex_);
  return dial_.end_tick();
}

std::vector<MotorMotion::Window>::const_iterator MotorMotion::first_ending_after(Tick t) const {
  // Windows do not overlap, so their ends are sorted like their starts.
  return std::partition_point(windows_.begin(), windows_.end(),
                              [t](const Window& w) { return w.end <= t; });
}

Tick MotorMotion::reach_tick(Tick from, double x) const {
  std::scoped_lock lock(mutex_);
  if (dial_.position(from) == x) return from;
  for (auto it = first_ending_after(from); it != windows_.end(); ++it) {
    const Window& w = *it;
    const Tick lo = std::max(from, w.start);
    const double p_lo = dial_.position(lo);
    const double p_hi = dial_.position(w.end);
    const double dir = p_hi > p_lo ? 1.0 : -1.0;
    if (p_hi == p_lo || dir * (p_hi - x) < 0 || dir * (x - p_lo) <= 0) continue;
    auto reached = [&](Tick u) { return dir * (dial_.position(u) - x) >= 0; };
    const Tick guess = guess_tick(lo, w.end, p_lo, p_hi, dial_.velocity(lo), x);
    return first_true_tick(lo, w.end, guess, reached);
  }
  return kNever;
}

Tick MotorMotion::next_count_change(Tick t, double scale, double offset) const {
  // The dial motion's moves are the windows (a window is a move of non-zero
  // length; one of zero length never changes the count), and it is
  // thread-safe on its own: no need for mutex_ here.
  return dial_.scaled_step(t, scale, offset).next;
}

EncoderMotion::EncoderMotion(std::shared_ptr<const MotorMotion> motion, double counts_per_unit,
                             double offset_counts)
    : motion_(std::move(motion)), scale_(counts_per_unit), offset_(offset_counts) {
  if (!motion_) throw std::invalid_argument("encoder motion: no motor motion");
  if (!std::isfinite(counts_per_unit) || counts_per_unit == 0)
    throw std::invalid_argument(fmt::format(
        "encoder motion: counts per unit must be finite and not 0, got {}", counts_per_unit));
  if (!std::isfinite(offset_counts))
    throw std::invalid_argument(
        fmt::format("encoder motion: offset must be finite, got {}", offset_counts));
}

double EncoderMotion::position(Tick t) const {
  return MotorMotion::to_counts(motion_->position(t), scale_, offset_);
}

Tick EncoderMotion::next_change(Tick t) const {
  return motion_->next_count_change(t, scale_, offset_);
}

fpga::MotionSource::Step EncoderMotion::step(Tick t) const {
  return motion_->count_step(t, scale_, offset_);
}

}  // namespace pandafly::sim::ca
