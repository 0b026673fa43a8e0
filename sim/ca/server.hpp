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
// The devices' simulation time runs on the steady clock (tick 0 =
// construction); their time stamps use the system clock. Every device is
// advanced on a timer at its next_wake() (at most every 10 ms, at least every
// 100 ms) and before each batch of client bytes is dispatched, so put
// handlers see current device state.
//
// The constructor calls publish(*db) of every device, then binds. To
// simulate an IOC restart, kill_connections() closes every circuit and keeps
// answering searches: libca re-searches and reconnects — within 10 s, its
// fixed "disconnect governor" period, which beacons do not shorten.
//
// Threading: everything runs on the io_context, which must be run by one
// thread (PVs and devices have no locks). port(), repeater_port(), clients(),
// channels() and now() may be called from any thread; stop() and
// kill_connections() from any thread (they post to the io_context). The
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
#include "sim/ticks.hpp"

namespace pandafly::sim::ca {

class CaServer {
 public:
  struct Options {
    std::uint16_t port = 15064;           // TCP + UDP search; 0: ephemeral (same number for both)
    std::uint16_t repeater_port = 15065;  // 0: ephemeral
    bool answer_repeater = true;          // false: no repeater port at all
    std::size_t max_payload = kDefaultMaxPayload;    // largest client message
    std::function<void(std::string_view)> log = {};  // empty: lines to stderr
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
  /// Open circuits and their channels (thread-safe).
  [[nodiscard]] std::size_t clients() const;
  [[nodiscard]] std::size_t channels() const;
  /// Simulation time since construction (thread-safe).
  [[nodiscard]] Tick now() const;

  struct State;  // shared with the connection coroutines (server.cpp)

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
  std::uint16_t port_ = 0;
  std::uint16_t repeater_port_ = 0;
};

}  // namespace pandafly::sim::ca
