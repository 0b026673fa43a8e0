#include "sim/ca/server.hpp"

// Rules: see server.hpp. Each client has one read loop (a coroutine) and one
// write chain (async_write of the circuit's drained output, then the next);
// monitor updates and late completions restart the chain through the
// circuit's on_output callback. A circuit closed by a protocol error gets its
// queued bytes written, then its socket closed. One timer coroutine advances
// the devices; a client batch that brings a device's next wake forward
// cancels the timer's wait so the loop re-plans. An IOC restart closes the
// acceptor (its accept loop ends; a new one starts, with a new generation
// number, when the server is back), silences searches and beacons; one
// timer coroutine per restart waits out the downtime on the clock.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <list>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "sim/ca/circuit.hpp"
#include "sim/ca/search.hpp"
#include "sim/fault_log.hpp"

namespace pandafly::sim::ca {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Longest timer wait (wall): a safety net for device changes nobody reported.
constexpr auto kMaxTimerPeriod = std::chrono::milliseconds(100);
// While the clock is held, timers re-check this often (wall) for the release.
constexpr auto kHeldPollPeriod = std::chrono::milliseconds(10);
// A device whose wake stays due after it was advanced there is re-tried after this.
constexpr auto kStuckDevicePeriod = std::chrono::milliseconds(1);
// Steps of one advance: a catch-up beyond this goes straight to now.
constexpr int kMaxStepsPerAdvance = 100000;
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kEphemeralAttempts = 20;
constexpr auto kFirstBeaconPeriod = std::chrono::milliseconds(20);
constexpr auto kMaxBeaconPeriod = std::chrono::seconds(15);
constexpr std::size_t kMaxRepeaterClients = 256;
constexpr std::uint32_t kLoopback = 0x7F000001;

// One TCP client: its socket, circuit and the bytes being written.
struct Client {
  Client(tcp::socket s, std::shared_ptr<const PvDatabase> db, std::string peer_name,
         CircuitConnection::Log log, std::size_t max_payload)
      : socket(std::move(s)),
        peer(std::move(peer_name)),
        circuit(std::move(db), peer, std::move(log), {.max_payload = max_payload}) {}

  tcp::socket socket;
  std::string peer;
  CircuitConnection circuit;
  std::vector<std::byte> writing;  // the buffer of the async_write in flight
  bool write_pending = false;
  std::size_t channels_counted = 0;  // this client's share of State::channel_count
};
using ClientPtr = std::shared_ptr<Client>;

}  // namespace

struct CaServer::State {
  State(asio::io_context& io, std::shared_ptr<PvDatabase> database,
        std::vector<std::shared_ptr<Device>> devs, Options opts)
      : db(std::move(database)),
        devices(std::move(devs)),
        options(std::move(opts)),
        clock(options.clock),
        acceptor(io),
        search(io),
        repeater(io),
        timer(io),
        beacon_timer(io),
        restart_timer(io),
        fault_timer(io) {
    if (!options.log) options.log = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
  }

  std::shared_ptr<PvDatabase> db;
  std::vector<std::shared_ptr<Device>> devices;
  Options options;
  std::shared_ptr<SimClock> clock;
  tcp::acceptor acceptor;
  udp::socket search;
  udp::socket repeater;
  asio::steady_timer timer;
  std::unique_ptr<SearchResponder> responder;
  // Repeater role: registered clients get our beacons (as a repeater forwards
  // them); the period restarts at 20 ms when connections are killed, which
  // libca takes as a restarted server and re-searches at once.
  std::vector<udp::endpoint> repeater_clients;
  asio::steady_timer beacon_timer;
  asio::steady_timer restart_timer;  // the downtime of the latest restart
  asio::steady_timer fault_timer;    // Options::faults.restart_at
  std::uint16_t port = 0;            // TCP (and UDP search) port, for listening again
  SteadyClock::duration beacon_period = kFirstBeaconPeriod;
  std::uint32_t beacon_id = 0;
  std::vector<std::byte> beacon;
  std::list<ClientPtr> clients;
  std::atomic<std::size_t> client_count{0};
  std::atomic<std::size_t> channel_count{0};
  bool stopped = false;
  Tick reached = 0;  // the tick every device was last advanced to
  // IOC restart: down from the restart until the downtime is over.
  std::atomic<bool> down{false};
  std::uint64_t down_generation = 0;    // which restart's timer may bring it back
  std::uint64_t accept_generation = 0;  // which accept loop is the live one

  [[nodiscard]] Tick next_wake() const {
    Tick wake = kNever;
    for (const auto& d : devices) wake = std::min(wake, d->next_wake());
    return wake;
  }

  void advance_all(Tick t) {
    const EpicsTime wall = EpicsTime::from_unix_ns(clock->unix_ns(t));
    for (auto& d : devices) d->advance(t, wall);
    reached = std::max(reached, t);
  }

  // Wake by wake up to now (see server.hpp): each step's posts are written
  // (their async_write started) before the next step runs.
  void advance_devices() {
    const Tick now = clock->now();
    if (options.before_advance) options.before_advance(now);
    for (int step = 0; step < kMaxStepsPerAdvance; ++step) {
      const Tick wake = next_wake();
      if (wake > now || wake <= reached) break;
      advance_all(wake);
    }
    advance_all(now);
  }

  // When the device timer must fire: at the next wake on the clock, at most
  // kMaxTimerPeriod (kHeldPollPeriod while the clock is held) from now.
  [[nodiscard]] SteadyClock::time_point next_deadline() const {
    const auto now = SteadyClock::now();
    const Tick wake = next_wake();
    if (clock->held()) return now + kHeldPollPeriod;
    if (wake <= reached) return now + kStuckDevicePeriod;
    return std::min(clock->steady_deadline(wake), now + kMaxTimerPeriod);
  }

  // After client requests: a device may have to wake earlier than planned.
  void replan() {
    if (next_deadline() < timer.expiry()) timer.cancel();
  }

  void count_channels(Client& c) {
    const std::size_t now = c.circuit.closed() ? 0 : c.circuit.channel_count();
    channel_count += now;
    channel_count -= c.channels_counted;
    c.channels_counted = now;
  }

  void close_client(Client& c, std::string_view reason) {
    c.circuit.close(reason);
    count_channels(c);
    boost::system::error_code ignored;
    c.socket.close(ignored);
  }

  void close_all() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    search.close(ignored);
    repeater.close(ignored);
    timer.cancel();
    beacon_timer.cancel();
    restart_timer.cancel();
    fault_timer.cancel();
    for (auto& c : clients) close_client(*c, "server stopped");
  }
};

namespace {

using StatePtr = std::shared_ptr<CaServer::State>;

std::string peer_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// Starts writing the circuit's queued bytes unless a write is in flight;
// closes the socket once a closed circuit has nothing left to send.
void flush(const StatePtr& state, const ClientPtr& c) {
  if (c->write_pending || !c->socket.is_open()) return;
  c->circuit.take_output(c->writing);
  if (c->writing.empty()) {
    if (c->circuit.closed()) state->close_client(*c, c->circuit.close_reason());
    return;
  }
  c->write_pending = true;
  asio::async_write(c->socket, asio::buffer(c->writing),
                    [state, c](const boost::system::error_code& ec, std::size_t) {
                      c->write_pending = false;
                      if (ec) return state->close_client(*c, "write failed: " + ec.message());
                      flush(state, c);
                    });
}

asio::awaitable<void> session(StatePtr state, ClientPtr c) {
  // Weak both ways: the state holds the client (clients), so a client holding
  // the state would keep both alive when the io_context goes away with the
  // session still waiting (a server torn down while a client is connected).
  c->circuit.on_output([weak_state = std::weak_ptr(state), weak = std::weak_ptr(c)] {
    auto s = weak_state.lock();
    auto client = weak.lock();
    if (s && client) flush(s, client);
  });
  flush(state, c);  // VERSION
  std::vector<std::byte> buffer(kReadChunk);
  while (!c->circuit.closed()) {
    boost::system::error_code ec;
    const std::size_t n = co_await c->socket.async_read_some(
        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      state->close_client(*c, ec == asio::error::eof ? "closed by the client" : ec.message());
      break;
    }
    state->advance_devices();
    c->circuit.receive(std::span(buffer.data(), n));
    // A request may have made work due at once (e.g. an exposure starting now).
    if (state->next_wake() <= state->reached) state->advance_devices();
    state->count_channels(*c);
    flush(state, c);
    state->replan();
  }
  // A protocol error: flush() closes the socket once the queued bytes are out.
  c->circuit.on_output({});
}

// Accepts clients until the acceptor closes (stop, restart) or a newer loop
// (generation) took over.
asio::awaitable<void> accept_loop(StatePtr state, std::uint64_t generation) {
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await state->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (state->stopped || generation != state->accept_generation) co_return;
    if (ec) {
      if (!state->acceptor.is_open()) co_return;
      continue;
    }
    if (state->down) {  // accepted just before the restart closed the acceptor
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::string peer = peer_of(socket);
    auto c = std::make_shared<Client>(std::move(socket), state->db, std::move(peer),
                                      state->options.log, state->options.max_payload);
    state->clients.push_back(c);
    ++state->client_count;
    auto it = std::prev(state->clients.end());
    asio::co_spawn(
        executor,
        [state, c, it]() -> asio::awaitable<void> {
          co_await session(state, c);
          --state->client_count;
          state->clients.erase(it);
        },
        asio::detached);
  }
}

// Receives datagrams on `socket` and sends back what `answer(bytes, from, reply)` builds.
template <class Answer>
asio::awaitable<void> udp_loop(StatePtr state, udp::socket& socket, Answer answer) {
  std::vector<std::byte> buffer(kReadChunk), reply;
  udp::endpoint from;
  while (true) {
    boost::system::error_code ec;
    const std::size_t n = co_await socket.async_receive_from(
        asio::buffer(buffer), from, asio::redirect_error(asio::use_awaitable, ec));
    if (!socket.is_open() || state->stopped) co_return;
    if (ec) continue;
    answer(std::span<const std::byte>(buffer.data(), n), from, reply);
    if (!reply.empty()) socket.send_to(asio::buffer(reply), from, 0, ec);
  }
}

asio::awaitable<void> device_loop(StatePtr state) {
  while (!state->stopped) {
    state->advance_devices();
    state->timer.expires_at(state->next_deadline());
    boost::system::error_code ec;
    co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void remember_repeater_client(CaServer::State& s, const udp::endpoint& from) {
  auto& known = s.repeater_clients;
  if (std::find(known.begin(), known.end(), from) != known.end()) return;
  if (known.size() >= kMaxRepeaterClients) known.erase(known.begin());
  known.push_back(from);
}

// Beacons run on the wall clock (the clients' beacon watch does); none while
// the server is down after a restart (serve_again() restarts them).
asio::awaitable<void> beacon_loop(StatePtr s, std::uint16_t tcp_port) {
  while (!s->stopped) {
    if (s->down) {
      s->beacon_timer.expires_after(kMaxBeaconPeriod);
    } else {
      s->beacon.clear();
      append_beacon(s->beacon, tcp_port, s->beacon_id++, kLoopback);
      for (const auto& client : s->repeater_clients) {
        boost::system::error_code ignored;
        s->repeater.send_to(asio::buffer(s->beacon), client, 0, ignored);
      }
      s->beacon_timer.expires_after(s->beacon_period);
      s->beacon_period = std::min<SteadyClock::duration>(2 * s->beacon_period, kMaxBeaconPeriod);
    }
    boost::system::error_code ec;
    co_await s->beacon_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void bind_udp(udp::socket& socket, std::uint16_t port) {
  const udp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
  socket.open(endpoint.protocol());
  // No SO_REUSEADDR: a second server on the port must fail, and libca's own
  // bind test on the repeater port must see it taken.
  socket.bind(endpoint);
}

void listen_tcp(tcp::acceptor& acceptor, std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
}

// TCP and UDP on one port number; with port 0, retries until an ephemeral
// TCP port is also free for UDP.
void bind_server_port(CaServer::State& s, std::uint16_t port) {
  for (int attempt = 0;; ++attempt) {
    listen_tcp(s.acceptor, port);
    const std::uint16_t bound = s.acceptor.local_endpoint().port();
    try {
      bind_udp(s.search, bound);
      return;
    } catch (const boost::system::system_error&) {
      boost::system::error_code ignored;
      s.acceptor.close(ignored);
      s.search.close(ignored);
      if (port != 0 || attempt + 1 >= kEphemeralAttempts) throw;
    }
  }
}

// Waits on `timer` until the clock reaches `t` (true), re-checking while the
// clock is held; false when the server stops or `wanted()` turns false first.
template <class Wanted>
asio::awaitable<bool> wait_for_tick(StatePtr s, asio::steady_timer& timer, Tick t, Wanted wanted) {
  while (!s->stopped && wanted()) {
    if (s->clock->now() >= t) co_return true;
    const auto now = SteadyClock::now();
    timer.expires_at(s->clock->held()
                         ? now + kHeldPollPeriod
                         : std::min(s->clock->steady_deadline(t), now + kMaxTimerPeriod));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return false;
}

double seconds_of(Tick t) {
  return static_cast<double>(t) * kSecondsPerTick;
}

// The end of a restart's downtime: listening again, beacons as a new IOC's.
void serve_again(const StatePtr& s) {
  s->down = false;
  try {
    listen_tcp(s->acceptor, s->port);
  } catch (const boost::system::system_error& e) {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    s->options.log(
        fmt::format("CA server: cannot listen on 127.0.0.1:{} again after the restart: {}", s->port,
                    e.code().message()));
  }
  if (s->acceptor.is_open())
    asio::co_spawn(s->acceptor.get_executor(), accept_loop(s, ++s->accept_generation),
                   asio::detached);
  s->beacon_id = 0;
  s->beacon_period = kFirstBeaconPeriod;
  s->beacon_timer.cancel();
  log_fault(s->options.log, "CA server back after the IOC restart", s->clock->now());
}

void begin_restart(const StatePtr& s, Tick downtime) {
  if (s->stopped) return;
  const Tick now = s->clock->now();
  const std::uint64_t generation = ++s->down_generation;
  s->down = true;
  log_fault(s->options.log,
            fmt::format("CA server restart (IOC reboot), down for {:.6f} s", seconds_of(downtime)),
            now);
  boost::system::error_code ignored;
  s->acceptor.close(ignored);
  for (auto& c : s->clients) s->close_client(*c, "IOC restart");
  s->advance_devices();
  for (auto& d : s->devices) d->ioc_restart(s->reached);
  s->replan();
  s->beacon_timer.cancel();
  s->restart_timer.cancel();
  auto back = [](StatePtr st, std::uint64_t gen, Tick at) -> asio::awaitable<void> {
    const bool reached = co_await wait_for_tick(st, st->restart_timer, at,
                                                [&] { return st->down_generation == gen; });
    if (reached && st->down_generation == gen) serve_again(st);
  };
  asio::co_spawn(s->acceptor.get_executor(), back(s, generation, now + downtime), asio::detached);
}

// Options::faults.restart_at: the restart fires when the clock reaches it.
asio::awaitable<void> fault_loop(StatePtr s) {
  const CaServerFaults faults = s->options.faults;
  if (co_await wait_for_tick(s, s->fault_timer, faults.restart_at, [] { return true; }))
    begin_restart(s, faults.restart_downtime);
}

}  // namespace

CaServer::CaServer(asio::io_context& io, std::shared_ptr<PvDatabase> db,
                   std::vector<std::shared_ptr<Device>> devices, Options options)
    : io_(io) {
  if (!db) throw std::invalid_argument("CaServer needs a PV database");
  if (!options.clock) options.clock = std::make_shared<SimClock>();
  if (options.faults.restart_downtime < 0)
    throw std::invalid_argument("CaServer: the restart downtime must be >= 0");
  clock_ = options.clock;
  for (auto& d : devices) d->publish(*db);
  const bool repeater = options.answer_repeater;
  const std::uint16_t wanted_port = options.port, wanted_repeater = options.repeater_port;
  state_ = std::make_shared<State>(io, std::move(db), std::move(devices), std::move(options));
  bind_server_port(*state_, wanted_port);
  port_ = state_->acceptor.local_endpoint().port();
  state_->port = port_;
  state_->responder = std::make_unique<SearchResponder>(state_->db, port_);
  if (repeater) {
    bind_udp(state_->repeater, wanted_repeater);
    repeater_port_ = state_->repeater.local_endpoint().port();
  }

  StatePtr s = state_;
  asio::co_spawn(io_, accept_loop(s, s->accept_generation), asio::detached);
  asio::co_spawn(io_,
                 udp_loop(s, s->search,
                          [s](std::span<const std::byte> bytes, const udp::endpoint& from,
                              std::vector<std::byte>& reply) {
                            reply.clear();
                            if (s->down) return;  // a rebooting IOC answers nothing
                            if (auto ec = s->responder->answer(bytes, reply))
                              s->options.log(fmt::format("CA search from {}: {}",
                                                         from.address().to_string(), ec.message()));
                          }),
                 asio::detached);
  if (repeater) {
    asio::co_spawn(io_,
                   udp_loop(s, s->repeater,
                            [s](std::span<const std::byte> bytes, const udp::endpoint& from,
                                std::vector<std::byte>& reply) {
                              const auto address = from.address();
                              const std::uint32_t ip =
                                  address.is_v4() ? address.to_v4().to_uint() : 0;
                              if (answer_repeater(bytes, ip, reply))
                                remember_repeater_client(*s, from);
                            }),
                   asio::detached);
    asio::co_spawn(io_, beacon_loop(s, port_), asio::detached);
  }
  asio::co_spawn(io_, device_loop(s), asio::detached);
  if (s->options.faults.restart_at != kNever) asio::co_spawn(io_, fault_loop(s), asio::detached);
}

CaServer::~CaServer() {
  stop();
}

void CaServer::stop() {
  asio::post(io_, [state = state_] { state->close_all(); });
}

void CaServer::kill_connections() {
  asio::post(io_, [state = state_] {
    for (auto& c : state->clients) state->close_client(*c, "connections killed");
    state->beacon_period = kFirstBeaconPeriod;  // as a restarted IOC's beacons
    state->beacon_timer.cancel();
  });
}

void CaServer::restart(Tick downtime) {
  if (downtime < 0) throw std::invalid_argument("CaServer::restart: downtime must be >= 0");
  asio::post(io_, [state = state_, downtime] { begin_restart(state, downtime); });
}

bool CaServer::down() const {
  return state_->down.load();
}

void CaServer::devices_changed() {
  state_->replan();
}

std::size_t CaServer::clients() const {
  return state_->client_count.load();
}

std::size_t CaServer::channels() const {
  return state_->channel_count.load();
}

Tick CaServer::now() const {
  return clock_->now();
}

}  // namespace pandafly::sim::ca
