#pragma once
// The UDP side of the CA simulator without I/O: name searches on the server
// port and repeater registrations on the repeater port (reference
// channel-access.md §2.4, §3.3).
//
// Rules
//   * A search datagram holds VERSION + SEARCH messages. The reply is one
//     datagram: VERSION(0, 1, 13, <client's sequence number>, 0) and, per
//     served name, SEARCH(8, tcp_port, 0, 0xFFFFFFFF, cid) + minor version 13
//     ("connect to the address this datagram came from"). Unknown names get
//     nothing (NOT_FOUND only when the search asked for DOREPLY). No found
//     name, no reply at all (empty output).
//   * A zero-length datagram or REPEATER_REGISTER gets REPEATER_CONFIRM with
//     p2 = the client's IPv4 address; anything else on the repeater port is
//     ignored (beacons are not forwarded).
//   * A broken datagram is reported; the names before the break are answered.
//
// Example:
//   SearchResponder search(db, 15064);
//   std::vector<std::byte> reply;
//   if (auto ec = search.answer(datagram, reply)) log(ec.message());
//   if (!reply.empty()) socket.send_to(reply, sender);
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "sim/ca/pv.hpp"

namespace pandafly::sim::ca {

class SearchResponder {
 public:
  /// `tcp_port`: the port clients connect to (the CA server's TCP port).
  SearchResponder(std::shared_ptr<const PvDatabase> db, std::uint16_t tcp_port)
      : db_(std::move(db)), tcp_port_(tcp_port) {}

  /// Builds the reply to one search datagram into `reply` (cleared first;
  /// left empty when there is nothing to say). Returns the error of a broken
  /// datagram, if any.
  [[nodiscard]] std::error_code answer(std::span<const std::byte> datagram,
                                       std::vector<std::byte>& reply);
  /// Names found by all answer() calls so far.
  [[nodiscard]] std::uint64_t names_found() const { return found_; }

 private:
  std::shared_ptr<const PvDatabase> db_;
  std::uint16_t tcp_port_;
  std::uint64_t found_ = 0;
};

/// The repeater port: REPEATER_CONFIRM into `reply` (cleared first) for a
/// registration from `client_ipv4` (host byte order); false (reply empty)
/// for anything else.
[[nodiscard]] bool answer_repeater(std::span<const std::byte> datagram, std::uint32_t client_ipv4,
                                   std::vector<std::byte>& reply);

}  // namespace pandafly::sim::ca
