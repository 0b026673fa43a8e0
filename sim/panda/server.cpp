#include "sim/panda/server.hpp"

// Rules: see server.hpp. Data clients: each has one read loop (a coroutine
// that drains the client's bytes) and one write chain (async_write of the
// front of its queue, then the next); both run on the io_context thread.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <list>
#include <stdexcept>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/data_connection.hpp"
#include "sim/panda/iso_time.hpp"

namespace pandafly::sim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using SocketPtr = std::shared_ptr<tcp::socket>;
struct DataClient;
using ClientPtr = std::shared_ptr<DataClient>;

// The acquisition the data clients are streaming (io_context thread only).
struct Acquisition {
  std::shared_ptr<const CaptureLayout> layout;
  std::string arm_time;
  std::string start_time;
  std::uint64_t samples = 0;  // whole samples produced so far
  bool active = false;
};

struct PandaServer::State {
  explicit State(asio::io_context& io, std::size_t backlog)
      : control(io), data(io), max_backlog(backlog) {}

  PandaModel model;
  tcp::acceptor control;
  tcp::acceptor data;
  std::list<SocketPtr> sockets;  // open connections, closed by stop()
  std::ofstream log;
  std::atomic<std::size_t> requests{0};
  bool stopped = false;
  // Data port: clients (weak: each read loop owns its client), the running
  // acquisition, the ready count readable from any thread.
  std::list<std::weak_ptr<DataClient>> data_clients;
  Acquisition acquisition;
  std::size_t max_backlog;
  std::atomic<std::size_t> data_ready{0};

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

// ISO-8601 UTC of the system clock with `digits` (3 or 9) fractional digits.
std::string iso_now(int digits = 3) {
  return iso_utc(std::chrono::system_clock::now(), digits);
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

}  // namespace

// One data port connection: the sans-IO connection and its send queue.
struct DataClient {
  DataClient(StatePtr server, SocketPtr sock)
      : state(std::move(server)),
        socket(std::move(sock)),
        conn(state->model, peer_of(*socket), iso_now()),
        linger(socket->get_executor()) {}

  StatePtr state;  // first: the model outlives `conn` (its Session)
  SocketPtr socket;
  PandaDataConnection conn;
  std::deque<std::string> queue;  // bytes to write, front being written
  std::size_t backlog = 0;        // bytes in `queue`
  asio::steady_timer linger;      // closes a shut-down socket the peer keeps open
  bool writing = false;
  bool counted = false;   // counted in State::data_ready (ready, will take the next acquisition)
  bool gone = false;      // the read loop ended or a write failed: send nothing more
  bool aborting = false;  // close_data_connections(): close once the queue is written
};

namespace {

constexpr auto kLinger = std::chrono::seconds(1);

// `c` will take no further acquisition: no longer counted as ready.
void uncount(const ClientPtr& c) {
  if (!c->counted) return;
  c->counted = false;
  c->state->data_ready.fetch_sub(1);
}

void write_next(const ClientPtr& c);

// The connection is finished (ERR, line overrun, ONE_SHOT after END) and every
// byte is written: FIN now, close when the peer closes or after kLinger.
void shut_down(const ClientPtr& c) {
  uncount(c);
  if (c->gone || !c->socket->is_open()) return;
  boost::system::error_code ignored;
  c->socket->shutdown(tcp::socket::shutdown_send, ignored);
  c->linger.expires_after(kLinger);
  c->linger.async_wait([c](const boost::system::error_code& ec) {
    boost::system::error_code ignore;
    if (!ec) c->socket->close(ignore);
  });
}

// The abrupt end of close_data_connections(): no FIN first, nothing more sent.
void close_abruptly(const ClientPtr& c) {
  c->gone = true;
  c->queue.clear();
  c->backlog = 0;
  c->linger.cancel();
  boost::system::error_code ignored;
  c->socket->close(ignored);  // ends the read loop
}

// Queues `bytes` (may be empty) for `c` and starts the write chain if idle.
void send(const ClientPtr& c, std::string bytes) {
  if (c->gone || c->aborting) return;
  if (!bytes.empty()) {
    c->backlog += bytes.size();
    c->queue.push_back(std::move(bytes));
  }
  if (!c->writing) write_next(c);
}

// One async_write at a time (TCP back-pressure); std::deque keeps the front
// string in place while later strings are pushed.
void write_next(const ClientPtr& c) {
  if (c->queue.empty()) {
    c->writing = false;
    if (c->aborting) return close_abruptly(c);
    if (c->conn.closed()) shut_down(c);
    return;
  }
  c->writing = true;
  asio::async_write(*c->socket, asio::buffer(c->queue.front()),
                    [c](const boost::system::error_code& ec, std::size_t) {
                      c->backlog -= c->queue.front().size();
                      c->queue.pop_front();
                      if (!ec) return write_next(c);
                      c->gone = true;
                      c->writing = false;
                      c->queue.clear();
                      c->backlog = 0;
                      boost::system::error_code ignored;
                      c->socket->close(ignored);  // ends the read loop
                    });
}

template <class Fn>
void for_each_client(PandaServer::State& state, Fn&& fn) {
  for (auto& weak : state.data_clients)
    if (auto c = weak.lock()) fn(c);
}

// A client's bytes: the options line (reply queued); once ready it joins the
// running acquisition, if any, with `missed` = samples produced so far.
void on_data_bytes(PandaServer::State& state, const ClientPtr& c, std::string_view bytes) {
  send(c, c->conn.receive(bytes));
  if (c->counted || !c->conn.ready()) return;
  c->counted = true;
  state.data_ready.fetch_add(1);
  const Acquisition& a = state.acquisition;
  if (a.active) send(c, c->conn.start(*a.layout, a.arm_time, a.start_time, a.samples));
}

asio::awaitable<void> data_session(StatePtr state, SocketPtr socket) {
  auto client = std::make_shared<DataClient>(state, socket);
  state->data_clients.push_back(client);
  std::array<char, 4096> buffer{};
  boost::system::error_code ec;
  while (!ec) {
    std::size_t n = co_await socket->async_read_some(asio::buffer(buffer),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) on_data_bytes(*state, client, std::string_view(buffer.data(), n));
  }
  uncount(client);
  client->gone = true;
  client->linger.cancel();
  state->data_clients.remove_if([&](const std::weak_ptr<DataClient>& weak) {
    auto c = weak.lock();
    return !c || c == client;
  });
}

// ---------------------------------------------------------------- acquisitions
// (io_context thread)

void end_acquisition(PandaServer::State& state, const std::string& reason) {
  if (!state.acquisition.active) return;
  for_each_client(state, [&](const ClientPtr& c) { send(c, c->conn.end(reason)); });
  state.acquisition = {};
}

void begin_acquisition(PandaServer::State& state, Acquisition next) {
  end_acquisition(state, "Disarmed");
  state.acquisition = std::move(next);
  const Acquisition& a = state.acquisition;
  for_each_client(state, [&](const ClientPtr& c) {
    send(c, c->conn.start(*a.layout, a.arm_time, a.start_time, 0));
  });
}

// A client at or over the backlog limit gets END Data overrun instead.
void send_samples(PandaServer::State& state, const std::vector<std::byte>& raw) {
  if (!state.acquisition.active) return;
  state.acquisition.samples += raw.size() / state.acquisition.layout->raw_sample_bytes();
  for_each_client(state, [&](const ClientPtr& c) {
    if (!c->conn.acquiring()) return;
    if (c->backlog >= state.max_backlog)
      send(c, c->conn.end("Data overrun"));
    else
      send(c, c->conn.samples(raw));
  });
}

void close_data_connections(PandaServer::State& state) {
  for_each_client(state, [](const ClientPtr& c) {
    if (c->gone || c->aborting) return;
    c->aborting = true;
    uncount(c);
    if (!c->writing) close_abruptly(c);
  });
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
    : io_(io), state_(std::make_shared<State>(io, options.max_backlog_bytes)) {
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

std::size_t PandaServer::data_clients_ready() const {
  return state_->data_ready.load();
}

std::size_t PandaServer::data_backlog_bytes() const {
  std::size_t most = 0;
  for_each_client(*state_, [&](const ClientPtr& c) { most = std::max(most, c->backlog); });
  return most;
}

void PandaServer::begin_acquisition(CaptureLayout layout, std::string arm_time,
                                    std::string start_time) {
  Acquisition next;
  next.layout = std::make_shared<const CaptureLayout>(std::move(layout));
  next.arm_time = arm_time.empty() ? iso_now(9) : std::move(arm_time);
  next.start_time = start_time.empty() ? next.arm_time : std::move(start_time);
  next.active = true;
  asio::post(io_, [state = state_, next = std::move(next)]() mutable {
    sim::begin_acquisition(*state, std::move(next));
  });
}

void PandaServer::send_samples(std::vector<std::byte> raw_samples) {
  asio::post(io_,
             [state = state_, raw = std::move(raw_samples)] { sim::send_samples(*state, raw); });
}

void PandaServer::end_acquisition(std::string reason) {
  asio::post(
      io_, [state = state_, reason = std::move(reason)] { sim::end_acquisition(*state, reason); });
}

void PandaServer::close_data_connections() {
  asio::post(io_, [state = state_] { sim::close_data_connections(*state); });
}

}  // namespace pandafly::sim
