#pragma once
// Subscribers<Args...>: the simulators' event bus — any number of callbacks
// for one kind of event: the PandA's TTL outputs (the camera, a logger, a test
// probe), a motor's re-planned motion (the PandA encoder that follows it), a
// camera's frames (its ZMQ plugin, a test probe).
//
// Rules
//   * subscribe(fn) returns a Subscription; fn is called by every notify()
//     until that Subscription is reset or destroyed (or the Subscribers are
//     destroyed — a Subscription may outlive them, it then does nothing).
//   * notify() calls the subscribers in the order they subscribed. A callback
//     may subscribe or unsubscribe (itself or another) during notify(): one
//     unsubscribed before its turn is not called; one subscribed during the
//     notify() is called from the next notify() on.
//   * Thread-safe (one mutex, never held while a callback runs). When a
//     Subscription is reset on another thread while notify() runs, a call
//     already under way may still finish; reset on the notifying thread (or
//     when it is idle) for a hard "never again".
//
// Example:
//   Subscribers<std::size_t, bool, Tick> ttl;
//   auto sub = ttl.subscribe([](std::size_t n, bool up, Tick t) { ... });
//   ttl.notify(1, true, 1000);   // calls it
//   sub.reset();                 // or let `sub` go out of scope
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace pandafly::sim {

/// Unsubscribes on destruction or reset(); move-only.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }

  /// Unsubscribes now (idempotent).
  void reset() {
    if (auto cancel = std::exchange(cancel_, nullptr)) cancel();
  }
  [[nodiscard]] bool active() const { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

template <class... Args>
class Subscribers {
 public:
  using Fn = std::function<void(Args...)>;

  [[nodiscard]] Subscription subscribe(Fn fn) {
    auto entry = std::make_shared<Entry>(std::move(fn));
    {
      std::scoped_lock lock(shared_->mutex);
      shared_->entries.push_back(entry);
    }
    return Subscription([weak = std::weak_ptr<Shared>(shared_), entry] {
      entry->live.store(false);
      if (auto shared = weak.lock()) {
        std::scoped_lock lock(shared->mutex);
        std::erase(shared->entries, entry);
      }
    });
  }

  void notify(Args... args) const {
    std::vector<std::shared_ptr<Entry>> now;
    {
      std::scoped_lock lock(shared_->mutex);
      now = shared_->entries;
    }
    for (const auto& e : now)
      if (e->live.load()) e->fn(args...);
  }

  [[nodiscard]] std::size_t size() const {
    std::scoped_lock lock(shared_->mutex);
    return shared_->entries.size();
  }

 private:
  struct Entry {
    explicit Entry(Fn f) : fn(std::move(f)) {}
    Fn fn;
    std::atomic<bool> live{true};
  };
  struct Shared {
    std::mutex mutex;
    std::vector<std::shared_ptr<Entry>> entries;
  };
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace pandafly::sim
