#include "pandafly/ca/repeater_stand_in.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pandafly::ca {
namespace {

constexpr std::uint16_t repeater_confirm = 17;
constexpr std::uint16_t repeater_register = 24;

// libca registers with an empty datagram or a REPEATER_REGISTER header; beacons
// (RSRV_IS_UP) and anything else get no answer.
bool is_registration(const unsigned char* b, ssize_t n) {
  if (n == 0) return true;
  return n >= 16 && ((b[0] << 8) | b[1]) == repeater_register;
}

void put_be16(std::array<unsigned char, 16>& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<unsigned char>(v >> 8);
  b[at + 1] = static_cast<unsigned char>(v & 0xFF);
}

}  // namespace

RepeaterStandIn::RepeaterStandIn(std::uint16_t port) : port_(port) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "repeater stand-in: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // No SO_REUSEADDR: libca's test bind of 0.0.0.0:<port> must fail.
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd_);
    throw std::system_error(e, std::generic_category(),
                            "repeater stand-in: bind 127.0.0.1:" + std::to_string(port));
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

std::unique_ptr<RepeaterStandIn> RepeaterStandIn::start_if_free(std::uint16_t port) {
  try {
    return std::make_unique<RepeaterStandIn>(port);
  } catch (const std::system_error& e) {
    if (e.code() == std::errc::address_in_use) return nullptr;
    throw;
  }
}

RepeaterStandIn::~RepeaterStandIn() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void RepeaterStandIn::run() noexcept {
  std::array<unsigned char, 1500> in{};
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const auto n =
        ::recvfrom(fd_, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (!is_registration(in.data(), n)) continue;
    std::array<unsigned char, 16> confirm{};
    put_be16(confirm, 0, repeater_confirm);
    std::memcpy(confirm.data() + 12, &from.sin_addr.s_addr, 4);  // already network order
    if (::sendto(fd_, confirm.data(), confirm.size(), 0, reinterpret_cast<sockaddr*>(&from),
                 from_len) == static_cast<ssize_t>(confirm.size())) {
      ++confirmations_;
    }
  }
}

}  // namespace pandafly::ca
