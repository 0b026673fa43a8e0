#pragma once
// SimClock: the one simulated time of a joined beamline simulator. The PandA
// FPGA, the Channel Access devices and the camera all read their Tick (8 ns,
// sim/ticks.hpp) from one SimClock, and turn ticks into wall-clock time stamps
// through it, so PCAP.TS_*, CA time stamps and camera frame time stamps say
// the same thing.
//
// Rules
//   * now() is monotonic and starts at 0 at construction. It advances at
//     `speed` simulated seconds per steady-clock second (1: real time).
//   * hold() freezes simulated time (now() stays where it was) until the
//     matching release(); holds nest (a count). A component that must not fall
//     behind simulated time — the camera's renderer under a time scale — holds
//     the clock while it catches up, so simulated time waits for it.
//   * Time stamps: tick t is the system-clock moment start + t simulated
//     seconds, where start is the system clock at construction. With speed > 1
//     or after holds, time stamps run ahead of / behind the host clock; they are
//     always consistent among themselves.
//   * steady_deadline(t): the steady-clock moment at which now() reaches t if
//     nothing is held from now on (for timers); time_point::max() while held
//     or for kNever. A waiter must re-check now() when its timer fires.
//   * Thread-safe: every member may be called from any thread (one mutex).
//
// Example:
//   auto clock = std::make_shared<SimClock>(10.0);     // 10 simulated s per wall s
//   Tick t = clock->now();
//   auto stamp = ca::EpicsTime::from_unix_ns(clock->unix_ns(t));  // a CA time stamp
//   timer.expires_at(clock->steady_deadline(t + kTicksPerSecond));  // 0.1 s wall later
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "sim/ticks.hpp"

namespace pandafly::sim {

/// Seconds between the POSIX epoch (1970) and the EPICS epoch (1990).
inline constexpr std::int64_t kEpicsEpochUnixSeconds = 631152000;

class SimClock {
 public:
  using Steady = std::chrono::steady_clock;

  /// `speed` simulated seconds per wall second; finite and > 0 (else std::invalid_argument).
  explicit SimClock(double speed = 1.0);

  [[nodiscard]] double speed() const { return speed_; }
  /// Simulated ticks since construction.
  [[nodiscard]] Tick now() const;
  /// See Rules; max() while held or for kNever.
  [[nodiscard]] Steady::time_point steady_deadline(Tick t) const;

  void hold();
  void release();
  [[nodiscard]] bool held() const;

  /// Nanoseconds since the POSIX epoch of tick t.
  [[nodiscard]] std::int64_t unix_ns(Tick t) const;
  /// Seconds since the EPICS epoch of tick t (the ADZMQ time stamp).
  [[nodiscard]] double epics_seconds(Tick t) const;
  /// ISO-8601 UTC with nanoseconds ("2026-12-05T07:10:00.000000008Z"): the
  /// PandA data header's arm_time/start_time.
  [[nodiscard]] std::string iso_utc(Tick t) const;

 private:
  [[nodiscard]] Tick now_locked(Steady::time_point at) const;

  const double speed_;
  const std::int64_t start_unix_ns_;
  mutable std::mutex mutex_;
  Steady::time_point origin_;  // steady time at which simulated time was origin_tick_
  Tick origin_tick_ = 0;
  int holds_ = 0;
};

}  // namespace pandafly::sim
