#include "pandafly/panda/io/blocking_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pandafly::panda {
namespace {

using Clock = BlockingClient::Clock;

[[nodiscard]] int millis_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1 << 30));
}

/// Connects a fresh non-blocking socket to `ai` by `deadline`; returns the fd,
/// or -1 with `ec` set (the socket is closed then).
[[nodiscard]] int try_connect(const addrinfo& ai, Clock::time_point deadline, std::error_code& ec) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    ec = {errno, std::system_category()};
    return -1;
  }
  int err = ::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, millis_left(deadline));
    socklen_t len = sizeof err;
    if (n == 0)
      err = ETIMEDOUT;
    else if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      err = errno;
  }
  if (err == 0) return fd;
  ::close(fd);
  ec = {err, std::system_category()};
  return -1;
}

/// getaddrinfo()'s own error codes (EAI_*) and texts.
class ResolveCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "getaddrinfo"; }
  [[nodiscard]] std::string message(int rc) const override { return ::gai_strerror(rc); }
};
const ResolveCategory resolve_category;

/// The last call failed only for now (retry on the next poll).
[[nodiscard]] bool transient() {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

}  // namespace

void BlockingClient::connect(std::string host, std::uint16_t port,
                             std::chrono::milliseconds timeout) {
  close();
  host_ = std::move(host);
  port_ = port;
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host_.c_str(), service.c_str(), &hints, &found); rc != 0) {
    throw std::system_error(std::error_code(rc, resolve_category), "cannot resolve " + peer());
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  std::error_code ec = std::make_error_code(std::errc::address_not_available);
  for (const addrinfo* ai = found; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
    fd_ = try_connect(*ai, deadline, ec);
  }
  if (fd_ < 0) throw std::system_error(ec, "cannot connect to " + peer());
  const int one = 1;  // requests are small and latency matters: no Nagle delay
  (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void BlockingClient::close() noexcept {
  if (fd_ >= 0) lose(Errc::connection_lost, "connection closed by the client");
}

void BlockingClient::after_send(CommandId id) {
  std::string out = conn_.take_output();
  if (fd_ < 0) {
    // Nothing else is unfinished while disconnected, so this fails only `id`.
    conn_.fail_all(Errc::not_connected, "not connected to " + peer());
    return;
  }
  if (!out.empty()) names_[id] = printable(std::string_view(out).substr(0, out.find('\n')));
  pending_ += out;
}

void BlockingClient::pump(CommandId id, Clock::time_point deadline) {
  while (fd_ >= 0 && !conn_.finished(id)) {
    pending_ += conn_.take_output();  // a multi-round command's next batch
    pollfd p{fd_, static_cast<short>(pending_.empty() ? POLLIN : POLLIN | POLLOUT), 0};
    const int n = ::poll(&p, 1, millis_left(deadline));
    if (n < 0 && !transient()) io_failed("polling");
    if (n == 0 || fd_ < 0) return;  // deadline passed, or connection gone
    if (n < 0) continue;
    if ((p.revents & POLLOUT) != 0) write_some();
    if (fd_ >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_some();
  }
}

void BlockingClient::write_some() {
  const ssize_t n = ::send(fd_, pending_.data(), pending_.size(), MSG_NOSIGNAL);
  if (n >= 0) pending_.erase(0, static_cast<std::size_t>(n));
  if (n < 0 && !transient()) io_failed("writing to");
}

void BlockingClient::read_some() {
  std::array<char, 16384> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled by recv
  const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0) {
    if (!transient()) io_failed("reading from");
    return;
  }
  if (n == 0) return lose(Errc::connection_lost, peer() + " closed the connection");
  if (conn_.receive({buf.data(), static_cast<std::size_t>(n)})) {
    // The commands in flight already failed with the parse error; the stream
    // cannot be trusted any more, so drop it (see ControlConnection rules).
    return lose(Errc::connection_lost, "dropped after a bad reply: " + conn_.error_detail());
  }
  (void)conn_.take_completed();  // we poll finished() instead; keep the list short
}

void BlockingClient::io_failed(const char* doing) {
  const int err = errno;
  lose(Errc::connection_lost, std::string(doing) + " " + peer() + ": " + std::strerror(err));
}

void BlockingClient::lose(Errc code, const std::string& why) {
  ::close(fd_);
  fd_ = -1;
  pending_.clear();
  conn_.fail_all(code, why);
  (void)conn_.take_completed();
}

}  // namespace pandafly::panda
