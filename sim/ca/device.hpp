#pragma once
// A simulated EPICS device (motor record, camera): the PVs it serves and its
// behaviour in simulation time. The CA server calls advance() on a timer and
// before every batch of client requests, so put handlers run with the
// device's time current.
#include <cstdint>

#include "sim/ca/pv.hpp"
#include "sim/ticks.hpp"

namespace pandafly::sim::ca {

/// The EPICS time of tick `t`, given that tick `now` is `wall_now` (for time
/// stamps of events a device computes after the fact; never before 1990).
[[nodiscard]] inline EpicsTime wall_time_at(Tick t, Tick now, EpicsTime wall_now) {
  const std::int64_t back_ns = (now - t) * 8;
  std::int64_t ns =
      static_cast<std::int64_t>(wall_now.sec) * 1'000'000'000 + wall_now.nsec - back_ns;
  if (ns < 0) ns = 0;
  return {static_cast<std::uint32_t>(ns / 1'000'000'000),
          static_cast<std::uint32_t>(ns % 1'000'000'000)};
}

class Device {
 public:
  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  virtual ~Device() = default;

  /// Adds the device's PVs to `db` (called once, before serving).
  virtual void publish(PvDatabase& db) = 0;
  /// Advances to `now` (simulation ticks; `wall` the same moment in EPICS
  /// time, for time stamps): motion, readbacks, put completions.
  virtual void advance(Tick now, EpicsTime wall) = 0;
  /// The next tick at which advance() has work to do; kNever when idle.
  [[nodiscard]] virtual Tick next_wake() const = 0;
  /// The CA server restarts as an IOC reboot (CaServer::restart) at `now`,
  /// after closing every circuit: forget what only the IOC held (e.g. queued
  /// put-callbacks not yet started); the hardware's state (a motor's position
  /// and motion) stays. Default: nothing to forget.
  virtual void ioc_restart(Tick now) { (void)now; }
};

}  // namespace pandafly::sim::ca
