#include "sim/sim_clock.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/panda/iso_time.hpp"

namespace pandafly::sim {

namespace {

std::int64_t system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SimClock::SimClock(double speed)
    : speed_(speed), start_unix_ns_(system_now_ns()), origin_(Steady::now()) {
  if (!std::isfinite(speed) || speed <= 0)
    throw std::invalid_argument("simulation speed must be a finite number > 0");
}

Tick SimClock::now_locked(Steady::time_point at) const {
  if (holds_ > 0 || at <= origin_) return origin_tick_;
  const double elapsed_s = std::chrono::duration<double>(at - origin_).count();
  return origin_tick_ +
         static_cast<Tick>(elapsed_s * speed_ * static_cast<double>(kTicksPerSecond));
}

Tick SimClock::now() const {
  std::scoped_lock lock(mutex_);
  return now_locked(Steady::now());
}

SimClock::Steady::time_point SimClock::steady_deadline(Tick t) const {
  std::scoped_lock lock(mutex_);
  if (holds_ > 0 || t == kNever) return Steady::time_point::max();
  if (t <= origin_tick_) return origin_;
  const double wall_s = static_cast<double>(t - origin_tick_) * kSecondsPerTick / speed_;
  if (wall_s > 1e9) return Steady::time_point::max();
  return origin_ + std::chrono::duration_cast<Steady::duration>(
                       std::chrono::duration<double>(wall_s) + std::chrono::nanoseconds(1));
}

void SimClock::hold() {
  std::scoped_lock lock(mutex_);
  if (holds_ == 0) {  // now_locked() before counting the hold, else it reads the old origin
    const auto at = Steady::now();
    origin_tick_ = now_locked(at);
    origin_ = at;
  }
  ++holds_;
}

void SimClock::release() {
  std::scoped_lock lock(mutex_);
  if (holds_ == 0) return;
  if (--holds_ == 0) origin_ = Steady::now();
}

bool SimClock::held() const {
  std::scoped_lock lock(mutex_);
  return holds_ > 0;
}

std::int64_t SimClock::unix_ns(Tick t) const {
  return start_unix_ns_ + t * 8;
}

double SimClock::epics_seconds(Tick t) const {
  return static_cast<double>(unix_ns(t) - kEpicsEpochUnixSeconds * 1'000'000'000) * 1e-9;
}

std::string SimClock::iso_utc(Tick t) const {
  const std::chrono::system_clock::time_point at{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(unix_ns(t)))};
  return sim::iso_utc(at, 9);
}

}  // namespace pandafly::sim
