#pragma once
// EventQueue: where the fly scan's shell threads (command threads, the PandA
// row reader, the ZMQ frame path, the signal watcher) post scan::Events for the
// one thread that runs the state machine. Unbounded on purpose: events are a
// few bytes, at most a few per projection, and a producer must never block
// (CA callbacks and the receive paths post here). Any thread.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "pandafly/scan/scan_machine.hpp"

namespace pandafly::scan::detail {

class EventQueue {
 public:
  using Clock = std::chrono::steady_clock;

  void post(Event e) {
    {
      std::scoped_lock lock(mutex_);
      events_.push_back(std::move(e));
    }
    ready_.notify_one();
  }

  /// The oldest event, waiting until `deadline`; nullopt when it passed.
  [[nodiscard]] std::optional<Event> pop_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_until(lock, deadline, [&] { return !events_.empty(); })) return std::nullopt;
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Event> events_;
};

}  // namespace pandafly::scan::detail
