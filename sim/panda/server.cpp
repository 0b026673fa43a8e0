#include "sim/panda/server.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <list>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/data_connection.hpp"

namespace pandafly::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SocketPtr = std::shared_ptr<tcp::socket>;

struct PandaServer::State {
  explicit State(asio::io_context& io) : control(io), data(io) {}

  PandaModel model;
  tcp::acceptor control;
  tcp::acceptor data;
  std::list<SocketPtr> sockets;  // open connections, closed by stop()
  std::ofstream log;
  std::atomic<std::size_t> requests{0};
  bool stopped = false;

  void log_line(std::string_view line) {
    if (!log.is_open()) return;
    log << line << '\n';
    log.flush();
  }
  void close_all() {
    stopped = true;
    boost::system::error_code ignored;
    control.close(ignored);
    data.close(ignored);
    for (auto& socket : sockets) socket->close(ignored);
  }
};

namespace {

using StatePtr = std::shared_ptr<PandaServer::State>;

std::string iso_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms.count());
}

std::string peer_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void listen(tcp::acceptor& acceptor, std::uint16_t port) {
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
}

// Reads from `socket`, hands bytes to `conn`, writes its replies; ends on EOF,
// error or when the connection closes itself.
template <class Connection>
asio::awaitable<void> pump(SocketPtr socket, Connection& conn) {
  std::array<char, 4096> buffer{};
  boost::system::error_code ec;
  while (true) {
    std::size_t n = co_await socket->async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    std::string reply = conn.receive(std::string_view(buffer.data(), n));
    if (!reply.empty()) {
      co_await asio::async_write(*socket, asio::buffer(reply),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    if (conn.closed()) co_return;
  }
}

asio::awaitable<void> control_session(StatePtr state, SocketPtr socket) {
  PandaControlConnection conn(state->model, peer_of(*socket), iso_now());
  conn.set_line_observer([state](std::string_view line, bool request) {
    state->log_line(line);
    if (request) state->requests.fetch_add(1, std::memory_order_relaxed);
  });
  co_await pump(socket, conn);
}

asio::awaitable<void> data_session(StatePtr state, SocketPtr socket) {
  PandaDataConnection conn(state->model, peer_of(*socket), iso_now());
  co_await pump(socket, conn);
}

using SessionFn = asio::awaitable<void> (*)(StatePtr, SocketPtr);

// Accepts connections on `acceptor` until it is closed; one coroutine per connection.
asio::awaitable<void> accept_loop(StatePtr state, tcp::acceptor& acceptor, SessionFn session) {
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (state->stopped || !acceptor.is_open()) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    state->sockets.push_back(shared);
    auto it = std::prev(state->sockets.end());
    asio::co_spawn(
        executor,
        [state, shared, session, it]() -> asio::awaitable<void> {
          co_await session(state, shared);
          boost::system::error_code ignored;
          shared->close(ignored);
          state->sockets.erase(it);
        },
        asio::detached);
  }
}

}  // namespace

PandaServer::PandaServer(asio::io_context& io, Options options)
    : io_(io), state_(std::make_shared<State>(io)) {
  if (!options.command_log.empty()) {
    state_->log.open(options.command_log, std::ios::app);
    if (!state_->log) throw std::runtime_error("cannot open command log " + options.command_log);
  }
  listen(state_->control, options.control_port);
  listen(state_->data, options.data_port);
  control_port_ = state_->control.local_endpoint().port();
  data_port_ = state_->data.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(state_, state_->control, &control_session), asio::detached);
  asio::co_spawn(io_, accept_loop(state_, state_->data, &data_session), asio::detached);
}

PandaServer::~PandaServer() {
  stop();
}

void PandaServer::stop() {
  asio::post(io_, [state = state_] { state->close_all(); });
}

std::size_t PandaServer::requests_received() const {
  return state_->requests.load(std::memory_order_relaxed);
}

PandaModel& PandaServer::model() {
  return state_->model;
}

}  // namespace pandafly::sim
