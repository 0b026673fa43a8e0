#pragma once
// CaServer: the Asio shell of the Channel Access simulator. It serves a
// PvDatabase to real CA clients (libca, pyepics) on 127.0.0.1 only:
//   * TCP on `port`: one CircuitConnection per client;
//   * UDP on the same port number: name searches (SearchResponder);
//   * UDP on `repeater_port`: answers repeater registrations, so libca finds
//     a "repeater" and neither spawns caRepeater nor warns about it, and
//     sends the registered clients this server's beacons (RSRV_IS_UP, every
//     20 ms doubling to 15 s) as a repeater would forward them. A client
//     whose channels were searching before the server started connects
//     within ~10 s instead of ~25 s (libca 7.0.3.1 registers 10 s after
//     its context is created; a beacon from a new server makes it search).
// Time: every device runs on one SimClock (sim/sim_clock.hpp; Options::clock,
// shared with the PandA and the camera of a joined beamline; null: the server
// makes its own real-time clock). Device ticks are clock->now(); their time
// stamps are EpicsTime::from_unix_ns(clock->unix_ns(tick)).
// Device loop: the devices are advanced wake by wake — to each due
// next_wake() tick in turn (the earliest over all devices, stamped with that
// tick), then to now — so posts go out in simulated-time order across
// devices, and each post is handed to its subscribers' sockets in the step
// that reached its tick (the circuit's on_output starts the write at once).
// The timer waits until clock->steady_deadline(next wake) — no minimum
// period, so a motor poll is not held back by a camera waking every few ms —
// and at most 100 ms wall (10 ms while the clock is held, to notice the
// release). Devices are also advanced before each batch of client bytes is
// dispatched, so put handlers see current device state; call
// devices_changed() after driving a device from outside (e.g. an external
// trigger) so the timer re-plans.
//
// The constructor calls publish(*db) of every device, then binds.
// IOC restart (restart(downtime), or Options::faults.restart_at): as an IOC
// reboot — every circuit closes (put-callbacks in flight are lost to their
// clients, subscriptions gone), the TCP listener is closed (connections are
// refused) and searches go unanswered for `downtime` of simulated time, no
// beacons; then the server listens on the same port again and beacons as a
// freshly started IOC (sequence from 0, period from 20 ms), so libca
// re-searches and reconnects (libca 7.0 retries a lost circuit's channels at
// most every 10 s wall, so it is back at most ~10 s after the server). The
// repeater port keeps answering (a repeater is a process of its own on the
// host); beacon periods are wall time, as the clients' beacon watch is.
// What survives: the devices and every PV value
// — the motor controller keeps its position and a move in progress runs on
// (the hardware does not reboot), settings come back as autosave restores
// them (here: unchanged); each device's ioc_restart() drops what only the IOC
// held (device.hpp). One log line when it goes down, one when it is back.
// kill_connections() only closes every circuit and keeps answering searches:
// libca re-searches and reconnects — within 10 s, its fixed "disconnect
// governor" period, which beacons do not shorten.
//
// Threading: everything runs on the io_context, which must be run by one
// thread (PVs and devices have no locks). port(), repeater_port(), clients(),
// channels(), down(), clock() and now() may be called from any thread;
// stop(), kill_connections() and restart() from any thread (they post to the
// io_context); devices_changed() on the io_context's thread. The
// io_context must outlive every connection (its coroutines share the state).
//
// Example:
//   boost::asio::io_context io;
//   auto db = std::make_shared<PvDatabase>();
//   db->add(std::make_shared<Pv>("test:x", Doubles{1.0}));
//   CaServer server(io, db, {}, {.port = 0, .repeater_port = 0});
//   std::thread t([&] { io.run(); });
//   // client env: EPICS_CA_ADDR_LIST=127.0.0.1:<server.port()>, EPICS_CA_AUTO_ADDR_LIST=NO,
//   //             EPICS_CA_SERVER_PORT=<server.port()>,
//   EPICS_CA_REPEATER_PORT=<server.repeater_port()> server.stop(); t.join();
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "sim/ca/device.hpp"
#include "sim/ca/protocol.hpp"
#include "sim/ca/pv.hpp"
#include "sim/sim_clock.hpp"
#include "sim/ticks.hpp"

namespace pandafly::sim::ca {

/// The server's fault on demand (the coordinator collects it into [faults]).
struct CaServerFaults {
  Tick restart_at = kNever;                     ///< simulated tick of an IOC restart; kNever: none
  Tick restart_downtime = 5 * kTicksPerSecond;  ///< how long it stays down
};

class CaServer {
 public:
  struct Options {
    std::uint16_t port = 15064;           // TCP + UDP search; 0: ephemeral (same number for both)
    std::uint16_t repeater_port = 15065;  // 0: ephemeral
    bool answer_repeater = true;          // false: no repeater port at all
    std::size_t max_payload = kDefaultMaxPayload;    // largest client message
    std::function<void(std::string_view)> log = {};  // empty: lines to stderr
    std::shared_ptr<SimClock> clock = {};            // null: a real-time clock of its own
    CaServerFaults faults = {};
    /// Called on the io_context thread with the tick the devices are about to
    /// be advanced to, before they are: a joined simulator brings the parts
    /// that drive the devices (the PandA FPGA's TTL outputs into the camera)
    /// up to the same tick first, so a device never runs ahead of its inputs.
    std::function<void(Tick)> before_advance = {};
  };

  /// Publishes the devices' PVs into `db`, binds and starts serving. Throws
  /// boost::system::system_error when a port cannot be bound,
  /// std::invalid_argument when a device publishes a name twice.
  CaServer(boost::asio::io_context& io, std::shared_ptr<PvDatabase> db,
           std::vector<std::shared_ptr<Device>> devices, Options options);
  CaServer(const CaServer&) = delete;
  CaServer& operator=(const CaServer&) = delete;
  /// stop()s.
  ~CaServer();

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::uint16_t repeater_port() const { return repeater_port_; }
  /// Closes the listeners, the UDP sockets and every circuit (asynchronously).
  void stop();
  /// Closes every circuit, keeps listening and answering searches.
  void kill_connections();
  /// An IOC reboot lasting `downtime` simulated ticks (>= 0); see the header
  /// comment. A restart while down starts the downtime again from now.
  void restart(Tick downtime);
  /// True from a restart until the server serves again (thread-safe).
  [[nodiscard]] bool down() const;
  /// Re-plans the device timer after a device was driven from outside a
  /// client request (io_context thread only).
  void devices_changed();
  /// Open circuits and their channels (thread-safe).
  [[nodiscard]] std::size_t clients() const;
  [[nodiscard]] std::size_t channels() const;
  /// The devices' simulation time: clock()->now() (thread-safe).
  [[nodiscard]] Tick now() const;
  [[nodiscard]] const std::shared_ptr<SimClock>& clock() const { return clock_; }

  struct State;  // shared with the connection coroutines (server.cpp)

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<SimClock> clock_;
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
  std::uint16_t repeater_port_ = 0;
};

}  // namespace pandafly::sim::ca
