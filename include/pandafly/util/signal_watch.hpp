#pragma once
// SignalWatch: the one way a long-running tool hears SIGINT, SIGTERM and
// SIGHUP. The handler only writes the signal number to a pipe (async-signal
// safe, any thread may take the signal); a watch thread reads it, sets the
// stop flag and calls the tool's callback on that thread, where anything may
// be done (disarm a PandA, post to an io_context). The handlers stay installed
// for the watch's whole life: a second or third signal is counted and passed
// on, it never falls back to the default action, so it cannot kill the
// program before its files are closed (SIGKILL still can).
//
// Rules: at most one SignalWatch exists at a time (a second one throws). The
// destructor joins the thread and restores the previous dispositions — unless
// a signal was caught: the program is then stopping because of it, and the
// watched signals are left ignored, so a repeat that arrives during the rest
// of its teardown cannot kill it with its files half closed.
//
// Example:
//   util::SignalWatch signals([&](int sig, int count) {
//     if (count == 1) post(io, [&] { server.stop(); });
//   });
//   while (!signals.stop_requested().load()) work();
#include <atomic>
#include <functional>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

namespace pandafly::util {

class SignalWatch {
 public:
  /// Called on the watch thread for each signal caught: its number and how
  /// many have been caught so far (1 for the first).
  using Callback = std::function<void(int signal, int count)>;

  /// Watches SIGINT, SIGTERM and SIGHUP. Throws std::system_error when the
  /// pipe or a handler cannot be set up, std::logic_error when another
  /// SignalWatch exists.
  explicit SignalWatch(Callback on_signal = {});
  SignalWatch(std::initializer_list<int> signals, Callback on_signal);
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  /// True from the first signal on; safe to read from any thread.
  [[nodiscard]] const std::atomic<bool>& stop_requested() const noexcept { return stop_; }
  /// The first signal caught, 0 before any.
  [[nodiscard]] int first_signal() const noexcept { return first_.load(); }
  /// Signals caught so far.
  [[nodiscard]] int count() const noexcept { return count_.load(); }

  /// "SIGINT", "SIGTERM", "SIGHUP", else "signal N".
  [[nodiscard]] static std::string name(int signal);

 private:
  void run();

  Callback on_signal_;
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;  // one per signals_ entry
  int pipe_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<int> first_{0};
  std::atomic<int> count_{0};
  std::thread thread_;
};

}  // namespace pandafly::util
