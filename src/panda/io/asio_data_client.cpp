#include "pandafly/panda/io/asio_data_client.hpp"

#include <system_error>

#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "asio_resolve.hpp"

namespace pandafly::panda {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
}  // namespace

AsioDataClient::AsioDataClient(asio::any_io_executor ex, DataOptions options)
    : executor_(ex), socket_(ex), options_(std::move(options)), conn_(options_) {}

void AsioDataClient::close() noexcept {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

DataError AsioDataClient::error(Errc code, std::string what) const {
  return DataError{code, std::move(what), conn_.stream_offset(), conn_.samples()};
}

asio::awaitable<void> AsioDataClient::connect(std::string host, std::uint16_t port,
                                              std::chrono::milliseconds timeout) {
  close();
  conn_ = DataConnection{options_};
  peer_ = host + ":" + std::to_string(port);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(executor_, timeout);
  const auto attempt = ++reads_;
  timer.async_wait([this, attempt](boost::system::error_code ec) {
    if (ec || reads_ != attempt) return;
    close();
  });
  boost::system::error_code ec;
  const auto endpoints =
      co_await detail::resolve_by(executor_, host, std::to_string(port), deadline, ec);
  if (!ec)
    co_await asio::async_connect(socket_, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  const std::string line = conn_.connect_line();
  if (!ec)
    co_await asio::async_write(socket_, asio::buffer(line),
                               asio::redirect_error(asio::use_awaitable, ec));
  ++reads_;
  timer.cancel();
  if (ec && std::chrono::steady_clock::now() >= deadline) ec = asio::error::timed_out;
  if (ec) {
    close();
    throw std::system_error(std::error_code(ec), "cannot connect to the data port " + peer_);
  }
  if (!options_.status) co_return;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  const auto ready = co_await next(std::max(left, std::chrono::milliseconds{1}));
  if (is<ReadyData>(ready)) co_return;
  close();
  throw CommandError(std::get<DataError>(ready).code, line.substr(0, line.size() - 1),
                     std::get<DataError>(ready).message);
}

asio::awaitable<DataEvent> AsioDataClient::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto ev = conn_.next_event();
    if (!is<NeedData>(ev)) {
      if (is<DataError>(ev) || conn_.done()) close();
      co_return ev;
    }
    if (!socket_.is_open())
      co_return error(Errc::not_connected, "not connected to the data port " + peer_);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (auto end = co_await read_some(std::max(left, std::chrono::milliseconds{0})))
      co_return *std::move(end);
  }
}

asio::awaitable<std::optional<DataEvent>> AsioDataClient::read_some(
    std::chrono::milliseconds timeout) {
  if (buf_.size() != read_size) buf_.resize(read_size);
  asio::steady_timer timer(executor_, timeout);
  const auto read = ++reads_;
  bool expired = false;
  timer.async_wait([this, read, &expired](boost::system::error_code ec) {
    if (ec || reads_ != read) return;  // the read finished first
    expired = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
  boost::system::error_code ec;
  const std::size_t got = co_await socket_.async_read_some(
      asio::buffer(buf_), asio::redirect_error(asio::use_awaitable, ec));
  ++reads_;
  timer.cancel();
  if (expired && got == 0) {
    co_return error(Errc::timed_out,
                    fmt::format("no data from {} before the deadline ({} samples so far)", peer_,
                                conn_.samples()));
  }
  bytes_received_ += got;
  conn_.receive(std::span{buf_}.first(got));
  if (ec == asio::error::eof) {
    close();
    auto last = conn_.closed();
    if (is<NeedData>(last)) {
      co_return error(Errc::connection_lost,
                      fmt::format("{} closed the data connection between acquisitions", peer_));
    }
    co_return last;
  }
  if (ec) {
    close();
    co_return error(Errc::connection_lost, fmt::format("reading from {}: {} after {} samples",
                                                       peer_, ec.message(), conn_.samples()));
  }
  co_return std::nullopt;
}

}  // namespace pandafly::panda
