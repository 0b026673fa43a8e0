#pragma once
// One way to stop: C++20's std::stop_source / std::stop_token /
// std::stop_callback, named here, plus the adapters the rest of pandafly
// needs to honour a token while it waits.
//
// Rules
//   - A run (a scan, a capture, a tool's main) owns ONE util::StopSource. Ctrl-C
//     (util::SignalWatch's callback), a fault, or the user calls
//     request_stop() on it — any thread, any number of times, first one wins.
//     Everything that waits gets a util::StopToken (by value; cheap, shared
//     state) and must return promptly once stop_requested() is true.
//   - A default-constructed StopToken can never be stopped: functions take
//     `StopToken stop = {}` and behave exactly as before when none is given.
//   - Cancelled is a distinct error: std::errc::operation_canceled (generic
//     category). ca::Channel throws ca::Error with that code; compare with
//     util::is_cancelled(e.code()) or `e.code() == std::errc::operation_canceled`.
//     A cancelled wait says nothing about the remote side: a CA put-callback
//     that was cancelled keeps going in the IOC (stop a motor with its .STOP).
//   - Waiting on a condition variable with a token: the waiter registers a
//     WakeOnStop for its (mutex, condition variable) BEFORE taking the lock and
//     adds `stop.stop_requested()` to its predicate. request_stop() then runs
//     the callback, which takes the mutex and notifies, so the wake-up cannot
//     be lost between the waiter's predicate check and its sleep. The callback
//     may run on the requesting thread, or (if stop was already requested) in
//     the WakeOnStop's constructor: never construct it with the mutex held.
//   - Components with their own stop mechanism keep it; a token is mapped
//     onto it by an adapter that must be destroyed before the component:
//       capture::ZmqReceiver:
//         util::StopCallback on_stop(token, [&] { rx.stop(); });
//       capture::PandaCapture:
//         util::StopFlag flag(token);  cap.run_one(path, flag.flag());
//       panda::AsioClient (on its executor's thread only):
//         util::StopCallback c(token, [&] { post(ex, [&] { signal.cancel(); }); });
//       panda::BlockingClient: not interrupted. Its calls are short (their own
//         timeouts) and a stop is answered by SENDING Disarm on it.
//       dx::Writer: not interrupted. The shell calls finish() with the reason
//         once the producers have stopped (a file is closed, never abandoned).
//       ca::Channel: takes the token itself:
//         put_wait(value, timeout, token), get<T>(timeout, token).
//       util::SignalWatch (Ctrl-C):
//         util::SignalWatch w([&](int, int n) { if (n == 1) source.request_stop(); });
//     (tests/integration/stop_mapping_test.cpp runs the first two.)
//
// Example:
//   util::StopSource stop;
//   std::jthread mover([&] { motor.put_wait(360.0, 120s, stop.get_token()); });
//   ...                       // Ctrl-C:
//   stop.request_stop();      // put_wait throws ca::Error(operation_canceled) at once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <system_error>

namespace pandafly::util {

using StopSource = std::stop_source;
using StopToken = std::stop_token;
/// A type-erased callback; runs once when stop is requested (see Rules for where).
using StopCallback = std::stop_callback<std::function<void()>>;

/// The error code of a wait ended by a stop request.
[[nodiscard]] inline std::error_code cancelled_error() noexcept {
  return std::make_error_code(std::errc::operation_canceled);
}
[[nodiscard]] inline bool is_cancelled(const std::error_code& ec) noexcept {
  return ec == std::errc::operation_canceled;
}

/// Notifies `cv` (under `mutex`) when `token` is stopped, for the lifetime of
/// this object. Construct it before locking `mutex` (see Rules); destroy it
/// after unlocking (its destructor waits for a callback running elsewhere).
class WakeOnStop {
 public:
  WakeOnStop(const StopToken& token, std::mutex& mutex, std::condition_variable& cv)
      : callback_(token, Wake{&mutex, &cv}) {}
  WakeOnStop(const WakeOnStop&) = delete;
  WakeOnStop& operator=(const WakeOnStop&) = delete;

 private:
  struct Wake {
    std::mutex* mutex;
    std::condition_variable* cv;
    void operator()() const {
      { std::scoped_lock lock(*mutex); }  // a waiter is now either asleep or re-checking
      cv->notify_all();
    }
  };
  std::stop_callback<Wake> callback_;
};

/// An std::atomic<bool> that becomes true when `token` is stopped: for APIs
/// that poll a flag (capture::PandaCapture::run_one). The flag may also be
/// set directly with set().
class StopFlag {
 public:
  explicit StopFlag(const StopToken& token) : callback_(token, Set{&flag_}) {}
  StopFlag(const StopFlag&) = delete;
  StopFlag& operator=(const StopFlag&) = delete;

  [[nodiscard]] const std::atomic<bool>& flag() const noexcept { return flag_; }
  void set() noexcept { flag_.store(true); }

 private:
  struct Set {
    std::atomic<bool>* flag;
    void operator()() const noexcept { flag->store(true); }
  };
  std::atomic<bool> flag_{false};  // declared before callback_: it may run in the constructor
  std::stop_callback<Set> callback_;
};

/// Waits on `cv` until `pred()` holds, `deadline` passes or `stop` is
/// requested. `lock` holds the mutex `wake` was built with. Returns what
/// ended the wait: true = pred() holds; false with stop.stop_requested() =
/// cancelled; false otherwise = timed out. The predicate is checked first,
/// so a result that is already there wins over a stop request.
template <class Clock, class Duration, class Pred>
[[nodiscard]] bool wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                              const std::chrono::time_point<Clock, Duration>& deadline,
                              const StopToken& stop, Pred pred) {
  cv.wait_until(lock, deadline, [&] { return pred() || stop.stop_requested(); });
  return pred();
}

}  // namespace pandafly::util
