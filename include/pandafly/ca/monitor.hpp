#pragma once
// ca::Monitor: the owner of one subscription (evid) and the bounded queue its
// updates go to.
//
// Rules:
//   - Each update is a DBR_TIME_* reply: value (ca::Value of the requested
//     type), server time stamp and alarm. The server sends the current value
//     at once, then one update per event in `mask`.
//   - libca's callback thread only decodes and enqueues; it never blocks.
//     When the queue is full the OLDEST queued update is discarded to make
//     room (the newest state is what a consumer needs) and counted in
//     dropped(). received() counts every update that arrived.
//   - libca re-installs the subscription after a reconnect; the first update
//     after it carries the current value again. Watch the Channel's state for
//     the disconnect itself.
//   - pop() may be called from any thread. close() (also the destructor, and
//     the destruction of the Context) clears the subscription and closes the
//     queue: pop() then returns what is left, then nullopt. A Monitor keeps its
//     channel open after the Channel object is gone (the last one clears it).
//   - Shutdown order: consumers stop popping or see nullopt; then destroy
//     Monitors, Channels, Context (any order is safe; this one does the least work).
//
// Example:
//   ca::Monitor rbv(m1_rbv);                      // native type, DBE_VALUE|DBE_ALARM
//   while (auto u = rbv.pop(1s)) use(std::get<std::vector<double>>(u->value)[0], u->stamp);
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/value.hpp"

namespace pandafly::ca {

namespace detail {
struct MonitorState;
struct ChannelState;
}  // namespace detail

/// Subscription event mask bits (DBE_*).
namespace events {
inline constexpr unsigned value = 1;
inline constexpr unsigned archive = 2;
inline constexpr unsigned alarm = 4;
inline constexpr unsigned property = 8;
}  // namespace events

struct MonitorOptions {
  /// Element type of the updates; nullopt = the channel's native type (the
  /// channel must then have connected once). Use FieldType::string to get
  /// enum states as names.
  std::optional<FieldType> type = std::nullopt;
  /// Elements per update; 0 = all valid elements of each update.
  std::size_t count = 0;
  unsigned mask = events::value | events::alarm;
  /// Updates kept before the oldest is dropped.
  std::size_t capacity = 256;
};

class Monitor {
 public:
  Monitor() noexcept;
  /// Subscribes. Throws ca::Error (e.g. Errc::disconnected when no type was
  /// given and the channel never connected; Errc::bad_count for a count above NELM).
  explicit Monitor(const Channel& channel, MonitorOptions options = {});
  ~Monitor();
  Monitor(Monitor&& other) noexcept;
  Monitor& operator=(Monitor&& other) noexcept;
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  /// The oldest queued update, waiting up to `timeout`; nullopt on timeout or
  /// once closed and drained (tell them apart with closed()).
  [[nodiscard]] std::optional<Update> pop(Timeout timeout);
  /// pop() without waiting.
  [[nodiscard]] std::optional<Update> try_pop();

  [[nodiscard]] FieldType type() const;
  [[nodiscard]] std::uint64_t received() const;
  [[nodiscard]] std::uint64_t dropped() const;
  /// Updates that arrived with an error status (also sent to the Context's logger).
  [[nodiscard]] std::uint64_t errors() const;
  [[nodiscard]] std::size_t queued() const;
  [[nodiscard]] bool closed() const;
  /// Clears the subscription and closes the queue. Idempotent.
  void close() noexcept;

 private:
  std::shared_ptr<detail::ChannelState> channel_;
  std::shared_ptr<detail::MonitorState> state_;
};

}  // namespace pandafly::ca
