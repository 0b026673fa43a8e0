#pragma once
// A simulated EPICS device (motor record, camera): the PVs it serves and its
// behaviour in simulation time. The CA server calls advance() on a timer and
// before every batch of client requests, so put handlers run with the
// device's time current.
#include "sim/ca/pv.hpp"
#include "sim/ticks.hpp"

namespace pandafly::sim::ca {

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
};

}  // namespace pandafly::sim::ca
