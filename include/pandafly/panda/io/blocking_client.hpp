#pragma once
// BlockingClient: a synchronous shell over ControlConnection (PandA control port).
//
// It only moves bytes: commands become bytes in the ControlConnection, the
// client writes them and reads replies until the command it waits for is done.
// POSIX sockets and poll() rather than Asio's synchronous API: poll() takes the
// deadline directly, while Asio's blocking calls have no per-call timeout.
//
// Threads: not thread-safe; one thread owns the client and makes every call.
// Errors: a command's failure is its Result; only connect(), reconnect() and
// run() throw. Timeout: that command fails with Errc::timed_out and its late
// reply is read and discarded (the stream stays in step). EOF or a socket
// error: every command in flight fails with connection_lost, later ones with
// not_connected until reconnect(). A reply that breaks the grammar: the
// commands in flight fail with malformed_reply and the connection is dropped.
// On connect nothing is sent (no *IDN?): callers decide what to ask.
//
// Example:
//   BlockingClient panda;
//   panda.connect("127.0.0.1", 8888, 2s);
//   std::string trig = panda.run(GetLine{"PCAP.TRIG"}, 1s);
//   auto [a, b] = panda.call_all(1s, Put{"PULSE1.WIDTH", "1"}, Arm{});
//   if (!b) log(b.error().what());
#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pandafly/panda/control_connection.hpp"

namespace pandafly::panda {

class BlockingClient {
 public:
  using Clock = std::chrono::steady_clock;
  template <class C>
  using ResultOf = Result<typename C::result_type>;

  BlockingClient() = default;
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;
  ~BlockingClient() { close(); }

  /// Resolves `host` and connects, both within `timeout` (a connection that
  /// was open is closed first). Throws std::system_error naming host:port on failure
  /// (refused, timed out, unknown host).
  void connect(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
  /// connect() again to the last host and port.
  void reconnect(std::chrono::milliseconds timeout) { connect(host_, port_, timeout); }
  /// Closes the socket; commands still in flight fail with connection_lost.
  void close() noexcept;
  [[nodiscard]] bool connected() const noexcept { return fd_ >= 0; }

  /// Queues `command`; its bytes are written by the next wait(). When not
  /// connected the command fails at once with not_connected.
  template <class C>
  [[nodiscard]] Ticket<typename C::result_type> send(C command) {
    auto ticket = conn_.send(std::move(command));
    after_send(ticket.id);
    return ticket;
  }
  /// Writes pending requests and reads until `t` finishes or `deadline`
  /// passes (then: Errc::timed_out, the late reply is discarded). Call once per ticket.
  template <class T>
  [[nodiscard]] Result<T> wait(Ticket<T> t, Clock::time_point deadline) {
    pump(t.id, deadline);
    const auto name = names_.extract(t.id);
    if (conn_.finished(t.id)) return conn_.take_result(t);
    conn_.abandon(t.id);
    return CommandError{Errc::timed_out, name ? name.mapped() : "", "no reply before the deadline"};
  }

  /// Sends `command` and waits at most `timeout` for its result.
  template <class C>
  [[nodiscard]] ResultOf<C> call(C command, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    return wait(send(std::move(command)), deadline);
  }
  /// call(), returning the value; throws the CommandError on failure.
  template <class C>
  typename C::result_type run(C command, std::chrono::milliseconds timeout) {
    return call(std::move(command), timeout).value();
  }

  /// Sends every command in one write (pipelined), then collects the results
  /// in order; `timeout` covers the whole batch.
  template <class... C>
  [[nodiscard]] std::tuple<ResultOf<C>...> call_all(std::chrono::milliseconds timeout,
                                                    C... commands) {
    const auto deadline = Clock::now() + timeout;
    std::tuple tickets{send(std::move(commands))...};  // braced: sent left to right
    return std::apply([&](auto... t) { return std::tuple<ResultOf<C>...>{wait(t, deadline)...}; },
                      tickets);
  }
  /// call_all() for a run-time number of commands of one type.
  template <class C>
  [[nodiscard]] std::vector<ResultOf<C>> call_all(std::vector<C> commands,
                                                  std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::vector<Ticket<typename C::result_type>> tickets;
    for (auto& c : commands) tickets.push_back(send(std::move(c)));
    std::vector<ResultOf<C>> results;
    for (const auto t : tickets) results.push_back(wait(t, deadline));
    return results;
  }

 private:
  void after_send(CommandId id);
  void pump(CommandId id, Clock::time_point deadline);
  void write_some();
  void read_some();
  void io_failed(const char* doing);  // lose() with errno's text
  void lose(Errc code, const std::string& why);
  [[nodiscard]] std::string peer() const { return host_ + ":" + std::to_string(port_); }

  ControlConnection conn_;
  int fd_ = -1;
  std::string host_;
  std::uint16_t port_ = 0;
  std::string pending_;                               // bytes not yet written
  std::unordered_map<CommandId, std::string> names_;  // first request line, for timeouts
};

}  // namespace pandafly::panda
