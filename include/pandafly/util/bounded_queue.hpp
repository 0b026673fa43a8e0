#pragma once
// BoundedQueue<T>: a blocking FIFO between exactly the threads that need it
// (one producer and one consumer in pandafly's pipelines, though any number
// is safe).
//
// push() blocks while the queue is full — back-pressure, never a drop: a
// producer that reads a socket then stops reading and TCP flow control holds
// the data upstream. Each time push() had to wait is counted (full_waits()),
// which tells whether the consumer kept up. close() ends it: pushes after it
// return false, pop() drains what is left and then returns nullopt.
// Shutdown order: the producer calls close() when it is done (or the consumer
// does, to make a blocked producer give up); the consumer pops until nullopt.
//
// Example:
//   BoundedQueue<Batch> q(64);
//   std::thread writer([&] { while (auto b = q.pop()) write(*b); });
//   q.push(std::move(batch)); ... q.close(); writer.join();
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace pandafly::util {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// Appends `v`, waiting while the queue is full. False (and `v` dropped by
  /// the caller's choice: it is not consumed) when the queue is closed.
  bool push(T&& v) {
    std::unique_lock lock(mutex_);
    if (items_.size() >= capacity_ && !closed_) {
      ++full_waits_;
      not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    }
    if (closed_) return false;
    items_.push_back(std::move(v));
    not_empty_.notify_one();
    return true;
  }

  /// The oldest item, waiting while the queue is empty; nullopt once it is
  /// closed and drained.
  [[nodiscard]] std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    return take(lock);
  }

  /// pop() that waits at most `timeout`; nullopt on timeout too (check closed()).
  template <class Rep, class Period>
  [[nodiscard]] std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
    return take(lock);
  }

  void close() {
    std::scoped_lock lock(mutex_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  [[nodiscard]] bool closed() const {
    std::scoped_lock lock(mutex_);
    return closed_;
  }
  [[nodiscard]] std::size_t size() const {
    std::scoped_lock lock(mutex_);
    return items_.size();
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// How many push() calls found the queue full and waited.
  [[nodiscard]] std::uint64_t full_waits() const {
    std::scoped_lock lock(mutex_);
    return full_waits_;
  }

 private:
  std::optional<T> take(std::unique_lock<std::mutex>&) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> v{std::move(items_.front())};
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  std::uint64_t full_waits_ = 0;
  bool closed_ = false;
};

}  // namespace pandafly::util
