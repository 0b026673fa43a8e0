#pragma once
// Shared state behind ca::Context, ca::Channel and ca::Monitor (private).
//
// Rules (locking and lifetime; see also the public headers):
//   - ContextState::lifetime orders libca calls against teardown. Any call
//     that uses a chid/evid holds it SHARED for the duration of the call only
//     (never while waiting for a reply); clearing a subscription, a channel or
//     the context holds it EXCLUSIVE. libca callbacks never take it, so a
//     teardown that waits inside libca for a running callback cannot deadlock.
//   - ChannelState::mutex guards what callbacks write (state, pending
//     requests, monitors list, async error). No libca function is called
//     while it is held (libca callbacks run holding libca's callback lock and
//     then take it).
//   - libca's user pointers: the channel's puser is its ChannelState, a
//     request's argument its Request (owned by ChannelState::pending until the
//     callback has run or the channel is cleared), a subscription's argument
//     its MonitorState (kept alive by the Monitor until it is cleared). After
//     ca_clear_channel / ca_clear_subscription return, libca calls none of
//     them again, so those are the points where ownership ends.
//   - chid and evid fields are written only under `lifetime` exclusive (or
//     before the object is shared) and read under it shared.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ca/libca.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/error.hpp"
#include "pandafly/ca/value.hpp"
#include "pandafly/util/bounded_queue.hpp"

namespace pandafly::ca::detail {

struct ChannelState;
struct MonitorState;

/// now + t on the steady clock (t clamped to [0, 1e8 s]; NaN counts as 0).
[[nodiscard]] std::chrono::steady_clock::time_point deadline_after(Timeout t);
/// Throws ca::Error(status) "<pv>: <operation>: <libca's text>".
[[noreturn]] void throw_status(long status, const std::string& pv, std::string_view operation);
/// throw_status() unless `status` has the success bit.
void check(long status, const std::string& pv, std::string_view operation);

struct ContextState {
  explicit ContextState(Logger l) : logger(std::move(l)) {}

  /// Makes `ctx` current on the calling thread (switching away from another
  /// context if needed). Caller holds `lifetime`; throws if destroyed.
  void make_current() const;
  /// Delivers a message to the logger; never throws.
  void log(LogMessage m) const noexcept;

  libca::ca_client_context* ctx = nullptr;  ///< null once destroyed
  const Logger logger;
  mutable std::shared_mutex lifetime;
  std::mutex channels_mutex;
  std::vector<ChannelState*> channels;  ///< open channels, cleared before the context
};

/// One get or put-callback in flight.
struct Request {
  ChannelState* owner = nullptr;
  bool done = false;
  int status = 0;
  libca::chtype type = 0;
  long count = 0;
  std::vector<std::byte> data;  ///< the DBR reply (gets)
};

struct ChannelState {
  ChannelState(std::shared_ptr<ContextState> c, std::string n)
      : context(std::move(c)), name(std::move(n)) {}

  /// Clears the channel and its subscriptions; pending requests complete with
  /// ECA_CHANDESTROY. Caller holds context->lifetime exclusive with the
  /// context current. Idempotent.
  void close_locked();
  /// Called (lifetime exclusive) when the Channel object or a Monitor lets go:
  /// clears the channel once neither the Channel nor any Monitor uses it, and
  /// takes it off the context's list. Never throws.
  void release_locked() noexcept;

  const std::shared_ptr<ContextState> context;
  const std::string name;
  libca::chid chid = nullptr;
  bool channel_object = true;  ///< the Channel still exists (lifetime exclusive to write)

  mutable std::mutex mutex;
  std::condition_variable changed;
  ConnectionState state = ConnectionState::never_connected;
  std::optional<FieldType> native;
  std::size_t count = 0;
  std::function<void(ConnectionState)> on_state;
  std::unordered_map<Request*, std::shared_ptr<Request>> pending;
  std::vector<MonitorState*> monitors;
  std::optional<Error> async_error;
};

struct MonitorState {
  MonitorState(ContextState* c, std::string n, std::size_t capacity)
      : context(c), name(std::move(n)), queue(capacity) {}

  /// Queues `u`, discarding the oldest update when the queue is full. Called
  /// on libca's threads; never blocks.
  void deliver(Update&& u);

  ContextState* context;
  const std::string name;
  libca::evid evid = nullptr;
  libca::chtype type = 0;
  util::BoundedQueue<Update> queue;
  std::mutex producer;  ///< makes check-then-push atomic against other producers
  std::uint64_t received = 0;
  std::uint64_t dropped = 0;
  std::uint64_t errors = 0;  ///< updates that arrived with an error status
};

// libca callbacks (C calling convention, run on libca's threads).
void on_connection(libca::connection_handler_args args);
void on_request_done(libca::event_handler_args args);
void on_monitor_event(libca::event_handler_args args);

}  // namespace pandafly::ca::detail
