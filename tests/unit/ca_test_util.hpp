#pragma once
// Test environment for the CA client unit tests: no CA traffic leaves loopback.
//
// loopback_environment() (idempotent, call before the first Context):
//   - starts a RepeaterStandIn on a free 127.0.0.1 port and sets
//     EPICS_CA_REPEATER_PORT to it, so libca neither forks for the missing
//     caRepeater nor complains about unconfirmed registrations;
//   - sets EPICS_CA_AUTO_ADDR_LIST=NO and EPICS_CA_ADDR_LIST to a free
//     127.0.0.1 UDP port nobody serves (searches go nowhere).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ca_test_helpers.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/repeater_stand_in.hpp"

namespace ca_test {

/// A UDP port on 127.0.0.1 that was free a moment ago.
inline std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct Loopback {
  std::unique_ptr<pandafly::ca::RepeaterStandIn> repeater;
  std::uint16_t search_port = 0;
};

inline Loopback& loopback_environment() {
  static Loopback env;
  static std::once_flag once;
  std::call_once(once, [] {
    env.repeater = std::make_unique<pandafly::ca::RepeaterStandIn>(0);
    env.search_port = free_udp_port();
    ::setenv("EPICS_CA_AUTO_ADDR_LIST", "NO", 1);
    ::setenv("EPICS_CA_ADDR_LIST", ("127.0.0.1:" + std::to_string(env.search_port)).c_str(), 1);
    ::setenv("EPICS_CA_SERVER_PORT", std::to_string(env.search_port).c_str(), 1);
    ::setenv("EPICS_CA_REPEATER_PORT", std::to_string(env.repeater->port()).c_str(), 1);
  });
  return env;
}

}  // namespace ca_test
