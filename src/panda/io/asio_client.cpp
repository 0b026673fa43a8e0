#include "pandafly/panda/io/asio_client.hpp"

#include <array>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "asio_resolve.hpp"

namespace pandafly::panda {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

}  // namespace

void CancelSignal::cancel() {
  cancelled_ = true;
  if (parked_ != nullptr) parked_->cancel();
}

AsioClient::AsioClient(asio::any_io_executor ex) : state_(std::make_shared<State>(ex)) {}

asio::awaitable<void> AsioClient::connect(std::string host, std::uint16_t port,
                                          std::chrono::milliseconds timeout) {
  close();
  auto state = state_;
  state->peer = host + ":" + std::to_string(port);
  const auto attempt = ++state->attempts;
  asio::steady_timer timer(state->executor, timeout);
  timer.async_wait([state, attempt](boost::system::error_code ec) {
    if (ec || state->attempts != attempt) return;  // the attempt finished first
    state->socket.close(ec);
  });
  boost::system::error_code ec;
  const auto endpoints =
      co_await detail::resolve_by(state->executor, host, std::to_string(port), timer.expiry(), ec);
  if (!ec) {
    co_await asio::async_connect(state->socket, endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
  }
  ++state->attempts;  // disarms the timer's handler, even one already queued
  timer.cancel();
  if (ec && Clock::now() >= timer.expiry()) ec = asio::error::timed_out;
  if (ec) {
    boost::system::error_code ignored;
    state->socket.close(ignored);
    throw std::system_error(std::error_code(ec), "cannot connect to " + state->peer);
  }
  state->socket.set_option(tcp::no_delay(true), ec);  // small requests: no Nagle delay
  state->connected = true;
  state->spawn(state->read_loop(state->generation));
}

std::string AsioClient::State::queue() {
  std::string out = conn.take_output();
  std::string name = printable(std::string_view(out).substr(0, out.find('\n')));
  if (connected) {
    pending += out;
    start_writer();
  } else {  // nothing else is unfinished while disconnected: this fails only the new command
    conn.fail_all(Errc::not_connected, "not connected to " + peer);
    (void)conn.take_completed();
  }
  return name;
}

asio::awaitable<Errc> AsioClient::State::park(CommandId id, Clock::time_point deadline,
                                              CancelSignal* cancel) {
  struct Parking {  // unregisters even when the frame is destroyed while suspended
    State& s;
    CommandId id;
    CancelSignal* cancel;
    ~Parking() {
      s.parked.erase(id);
      if (cancel != nullptr) cancel->parked_ = nullptr;
    }
  };
  asio::steady_timer timer(executor, deadline);
  parked[id] = &timer;
  if (cancel != nullptr) cancel->parked_ = &timer;
  const Parking guard{*this, id, cancel};
  while (!conn.finished(id)) {
    if (cancel != nullptr && cancel->cancelled_) co_return Errc::cancelled;
    if (timer.expiry() <= Clock::now()) co_return Errc::timed_out;
    boost::system::error_code ec;  // operation_aborted: woken by read_loop, lose() or cancel()
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return Errc::timed_out;  // not looked at: the command finished
}

asio::awaitable<void> AsioClient::State::read_loop(std::uint64_t gen) {
  std::array<char, 16384> buf{};
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await socket.async_read_some(
        asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (generation != gen) co_return;  // closed meanwhile: the socket is not ours any more
    if (ec) {
      lose(Errc::connection_lost, ec == asio::error::eof
                                      ? peer + " closed the connection"
                                      : "reading from " + peer + ": " + ec.message());
      co_return;
    }
    if (conn.receive({buf.data(), n})) {  // the commands in flight failed; drop the stream
      lose(Errc::connection_lost, "dropped after a bad reply: " + conn.error_detail());
      co_return;
    }
    for (const auto id : conn.take_completed()) {
      if (auto it = parked.find(id); it != parked.end()) it->second->cancel();  // wake it
    }
    pending += conn.take_output();  // multi-round commands' next batches
    start_writer();
  }
}

asio::awaitable<void> AsioClient::State::write_loop(std::uint64_t gen) {
  std::string out;
  while (generation == gen && !pending.empty()) {
    out.clear();
    out.swap(pending);
    boost::system::error_code ec;
    co_await asio::async_write(socket, asio::buffer(out),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec && generation == gen) {
      lose(Errc::connection_lost, "writing to " + peer + ": " + ec.message());
    }
  }
  if (generation == gen) writing = false;  // else it belongs to the next connection's writer
}

void AsioClient::State::start_writer() {
  if (writing || pending.empty()) return;
  writing = true;  // now, not when the loop starts: it only starts after a post
  spawn(write_loop(generation));
}

void AsioClient::State::spawn(asio::awaitable<void> loop) {
  asio::co_spawn(executor, std::move(loop), [self = shared_from_this()](std::exception_ptr) {});
}

void AsioClient::State::lose(Errc code, const std::string& why) {
  ++generation;
  connected = false;
  writing = false;
  pending.clear();
  boost::system::error_code ignored;
  socket.close(ignored);
  conn.fail_all(code, why);
  (void)conn.take_completed();
  for (auto& [id, timer] : parked) timer->cancel();
}

}  // namespace pandafly::panda
