#pragma once
// ca::RepeaterStandIn: answers CA repeater registrations on 127.0.0.1.
//
// Debian ships no caRepeater. libca 7.0.3.1, when it finds the repeater port
// free at context creation, forks to exec the missing program (a child that
// prints four "****" lines to stderr and stays a zombie), then retries the
// registration every second and complains after 50 tries. A process that
// holds the repeater port itself and confirms registrations avoids all of
// that: libca's bind test fails (no spawn) and the registration succeeds.
//
// Rules:
//   - Binds UDP 127.0.0.1:<port> (EPICS_CA_REPEATER_PORT, default 5065)
//     BEFORE the Context is created, and must outlive the Contexts of this
//     process. It answers every registration (an empty datagram or a 16-byte
//     REPEATER_REGISTER, command 24; other datagrams are ignored) with a 16-byte REPEATER_CONFIRM
//     (command 17, big-endian, p2 = the client's IPv4 address). It forwards no beacons, so fast
//     reconnection after a server restart still relies on libca's periodic search — exactly as
//     without a repeater.
//   - If the port is taken (a real caRepeater, or another process's stand-in
//     serves this host) start_if_free() returns null: use that one.
//   - One thread, stopped and joined by the destructor (within ~0.1 s).
//
// Example:
//   auto rep = ca::RepeaterStandIn::start_if_free(ca::Environment::current().repeater_port);
//   ca::Context ctx;
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace pandafly::ca {

class RepeaterStandIn {
 public:
  /// Binds and starts answering; throws std::system_error (e.g. EADDRINUSE).
  /// Port 0 binds a free port (tests): port() tells which.
  explicit RepeaterStandIn(std::uint16_t port);
  /// nullptr when the port is already in use; throws for other failures.
  [[nodiscard]] static std::unique_ptr<RepeaterStandIn> start_if_free(std::uint16_t port);
  ~RepeaterStandIn();
  RepeaterStandIn(const RepeaterStandIn&) = delete;
  RepeaterStandIn& operator=(const RepeaterStandIn&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// Registrations confirmed so far.
  [[nodiscard]] std::uint64_t confirmations() const noexcept { return confirmations_.load(); }

 private:
  void run() noexcept;

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> confirmations_{0};
  std::thread thread_;
};

}  // namespace pandafly::ca
