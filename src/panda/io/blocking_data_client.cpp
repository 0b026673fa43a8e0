#include "pandafly/panda/io/blocking_data_client.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pandafly/panda/error.hpp"
#include "tcp.hpp"

namespace pandafly::panda {

using Clock = tcp::Clock;

namespace {
std::string without_newline(std::string line) {
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}
}  // namespace

BlockingDataClient::BlockingDataClient(DataOptions options)
    : options_(std::move(options)), conn_(options_) {}

void BlockingDataClient::connect(std::string host, std::uint16_t port,
                                 std::chrono::milliseconds timeout) {
  close();
  host_ = std::move(host);
  port_ = port;
  conn_ = DataConnection{options_};
  const auto deadline = Clock::now() + timeout;
  fd_ = tcp::connect(host_, port_, deadline, false);
  const std::string line = conn_.connect_line();
  // One short line into an empty socket buffer: a single send() takes it.
  if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    const int err = errno;
    close();
    throw std::system_error(err, std::system_category(), "cannot send the options to " + peer());
  }
  // The low-water mark only once the 3-byte OK is in: set before, it would
  // hold the OK back until the deadline.
  if (!options_.status) {
    if (min_read_ > 0) apply_min_read();
    return;  // no OK to wait for
  }
  const auto ready =
      next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  if (is<ReadyData>(ready)) {
    if (min_read_ > 0) apply_min_read();
    return;
  }
  close();
  const auto& err = std::get<DataError>(ready);
  throw CommandError(err.code, without_newline(line), err.message);
}

void BlockingDataClient::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

DataEvent BlockingDataClient::next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto ev = conn_.next_event();
    if (!is<NeedData>(ev)) {
      if (is<DataError>(ev) || conn_.done()) close();
      return ev;
    }
    if (fd_ < 0) {
      return DataError{Errc::not_connected, "not connected to the data port " + peer(),
                       conn_.stream_offset(), conn_.samples()};
    }
    if (auto end = read_some(deadline)) return *std::move(end);
  }
}

std::optional<DataEvent> BlockingDataClient::read_some(Clock::time_point deadline) {
  pollfd p{fd_, POLLIN, 0};
  const int n = ::poll(&p, 1, tcp::millis_left(deadline));
  if (n < 0) return tcp::transient() ? std::nullopt : std::optional{lost("polling")};
  if (n == 0 && min_read_ == 0) return timeout();
  if (buf_.size() != read_size) buf_.resize(read_size);
  // With a low-water mark, poll() waits for min_read_ bytes; at the deadline
  // whatever is there (less) is taken without waiting.
  const ssize_t got = ::recv(fd_, buf_.data(), buf_.size(), n == 0 ? MSG_DONTWAIT : 0);
  if (got < 0 && n == 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return timeout();
  if (got < 0) return tcp::transient() ? std::nullopt : std::optional{lost("reading from")};
  if (got == 0) {  // the PandA closed: the DataConnection decides what that means
    close();
    auto last = conn_.closed();
    if (is<NeedData>(last)) {
      return DataError{Errc::connection_lost,
                       fmt::format("{} closed the data connection between acquisitions", peer()),
                       conn_.stream_offset(), conn_.samples()};
    }
    return last;
  }
  bytes_received_ += static_cast<std::uint64_t>(got);
  conn_.receive(std::span{buf_}.first(static_cast<std::size_t>(got)));
  return std::nullopt;
}

DataEvent BlockingDataClient::timeout() const {
  return DataError{Errc::timed_out,
                   fmt::format("no data from {} before the deadline ({} samples so far)", peer(),
                               conn_.samples()),
                   conn_.stream_offset(), conn_.samples()};
}

void BlockingDataClient::set_min_read(std::size_t bytes) {
  min_read_ = bytes;
  if (fd_ >= 0) apply_min_read();
}

void BlockingDataClient::apply_min_read() {
  const int lowat =
      static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(min_read_, read_size)));
  (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat);
}

DataEvent BlockingDataClient::lost(std::string doing) {
  const int err = errno;
  close();
  return DataError{
      Errc::connection_lost,
      fmt::format("{} {}: {} after {} samples", doing, peer(), std::strerror(err), conn_.samples()),
      conn_.stream_offset(), conn_.samples()};
}

}  // namespace pandafly::panda
