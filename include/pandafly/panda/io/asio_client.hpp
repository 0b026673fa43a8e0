#pragma once
// AsioClient: a Boost.Asio (C++20 coroutine) shell over ControlConnection.
//
// Any number of coroutines may call() at once; their commands are pipelined on
// one connection. Each call appends its request to the ControlConnection's
// output; one writer coroutine writes whatever is pending (never two
// async_writes at once); one reader coroutine (started by connect()) feeds
// replies to the connection and wakes the callers whose commands finished.
// A waiting caller parks on its own steady_timer (expiry = its deadline) and
// is woken by cancel() on that timer.
//
// Threads: single-threaded. Every member function, and CancelSignal::cancel(),
// must run on the executor's thread (one io_context run by one thread).
// Errors: a command's failure is its Result, never an exception. Timeout or
// CancelSignal::cancel(): Errc::timed_out / Errc::cancelled for that call only,
// its late reply is discarded. EOF or a socket error: every waiting call gets
// connection_lost, later ones not_connected until connect() succeeds again.
// A reply that breaks the grammar: malformed_reply, the connection is dropped.
// Shutdown: close() (also done by the destructor) fails every waiting call;
// the callers resume on the executor afterwards, so destroying the client with
// calls pending is safe. Destroy the client before its io_context.
//
// Example:
//   AsioClient panda(io.get_executor());
//   co_await panda.connect("127.0.0.1", 8888, 2s);
//   Result<std::string> trig = co_await panda.call(GetLine{"PCAP.TRIG"});
//   CancelSignal stop;   // stop.cancel() from another coroutine withdraws it
//   Result<Ack> armed = co_await panda.call(Arm{}, 1s, &stop);
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "pandafly/panda/control_connection.hpp"

namespace pandafly::panda {

/// Withdraws one call() in progress. Single use; must outlive the call.
class CancelSignal {
 public:
  /// The call returns Errc::cancelled as soon as it resumes (executor thread only).
  void cancel();
  [[nodiscard]] bool cancelled() const noexcept { return cancelled_; }

 private:
  friend class AsioClient;
  bool cancelled_ = false;
  boost::asio::steady_timer* parked_ = nullptr;  // the waiting call's timer
};

class AsioClient {
 public:
  explicit AsioClient(boost::asio::any_io_executor ex);
  AsioClient(const AsioClient&) = delete;
  AsioClient& operator=(const AsioClient&) = delete;
  ~AsioClient() { close(); }

  /// Resolves and connects within `timeout` — the name lookup included, even
  /// one that hangs (an open connection is closed first), then starts the
  /// reader. Throws std::system_error naming host:port.
  [[nodiscard]] boost::asio::awaitable<void> connect(std::string host, std::uint16_t port,
                                                     std::chrono::milliseconds timeout);
  /// Closes the socket; waiting calls fail with connection_lost.
  void close() noexcept {
    if (state_->socket.is_open()) state_->lose(Errc::connection_lost, "closed by the client");
  }
  [[nodiscard]] bool connected() const noexcept { return state_->connected; }

  /// Sends `command` and waits for its result, at most `timeout`, or until
  /// `cancel` fires. Never throws for a command's failure.
  template <class C>
  [[nodiscard]] boost::asio::awaitable<Result<typename C::result_type>> call(
      C command, std::chrono::milliseconds timeout = std::chrono::seconds(5),
      CancelSignal* cancel = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (cancel != nullptr && cancel->cancelled()) {
      co_return CommandError{Errc::cancelled, "", "cancelled before it was sent"};
    }
    auto state = state_;  // keeps the connection alive while this call is parked
    auto ticket = state->conn.send(std::move(command));
    const std::string name = state->queue();
    const Errc outcome = co_await state->park(ticket.id, deadline, cancel);
    if (state->conn.finished(ticket.id)) co_return state->conn.take_result(ticket);
    state->conn.abandon(ticket.id);  // a late reply is read and dropped
    co_return CommandError{
        outcome, name,
        outcome == Errc::cancelled ? "cancelled by the caller" : "no reply before the deadline"};
  }

 private:
  struct State;
  std::shared_ptr<State> state_;

  /// The connection, shared by the client and its coroutines (which hold it
  /// alive), so that the client may go while calls are parked.
  struct State : std::enable_shared_from_this<State> {
    explicit State(const boost::asio::any_io_executor& ex) : executor(ex), socket(ex) {}

    /// Takes the output the last send() produced and starts the writer;
    /// returns its first request line. Not connected: fails that command.
    [[nodiscard]] std::string queue();
    /// Waits until `id` finishes, `deadline` passes (→ timed_out) or `cancel`
    /// fires (→ cancelled).
    [[nodiscard]] boost::asio::awaitable<Errc> park(CommandId id,
                                                    std::chrono::steady_clock::time_point deadline,
                                                    CancelSignal* cancel);
    [[nodiscard]] boost::asio::awaitable<void> read_loop(std::uint64_t generation);
    [[nodiscard]] boost::asio::awaitable<void> write_loop(std::uint64_t generation);
    void start_writer();                            // unless one is running
    void spawn(boost::asio::awaitable<void> loop);  // runs `loop`, keeping *this alive
    void lose(Errc code, const std::string& why);

    boost::asio::any_io_executor executor;
    boost::asio::ip::tcp::socket socket;
    ControlConnection conn;
    std::unordered_map<CommandId, boost::asio::steady_timer*> parked;  // waiting calls
    std::string pending;           // bytes taken from conn, not yet written
    bool connected = false;        // connect() finished and nothing was lost since
    bool writing = false;          // a write_loop is running
    std::uint64_t generation = 0;  // bumped when a connection ends: old loops stop
    std::uint64_t attempts = 0;    // bumped when connect() starts or ends: stale timers stop
    std::string peer;              // "host:port", for messages
  };
};

}  // namespace pandafly::panda
