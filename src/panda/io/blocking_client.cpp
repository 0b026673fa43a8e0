#include "pandafly/panda/io/blocking_client.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp.hpp"

namespace pandafly::panda {

void BlockingClient::connect(std::string host, std::uint16_t port,
                             std::chrono::milliseconds timeout) {
  close();
  host_ = std::move(host);
  port_ = port;
  // requests are small and latency matters: no Nagle delay
  fd_ = tcp::connect(host_, port_, Clock::now() + timeout, true);
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
    const int n = ::poll(&p, 1, tcp::millis_left(deadline));
    if (n < 0 && !tcp::transient()) io_failed("polling");
    if (n == 0 || fd_ < 0) return;  // deadline passed, or connection gone
    if (n < 0) continue;
    if ((p.revents & POLLOUT) != 0) write_some();
    if (fd_ >= 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_some();
  }
}

void BlockingClient::write_some() {
  const ssize_t n = ::send(fd_, pending_.data(), pending_.size(), MSG_NOSIGNAL);
  if (n >= 0) pending_.erase(0, static_cast<std::size_t>(n));
  if (n < 0 && !tcp::transient()) io_failed("writing to");
}

void BlockingClient::read_some() {
  std::array<char, 16384> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): filled by recv
  const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
  if (n < 0) {
    if (!tcp::transient()) io_failed("reading from");
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
