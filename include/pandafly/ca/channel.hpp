#pragma once
// ca::Channel: the owner of one libca channel (chid) — connect, get, put,
// put-with-completion.
//
// Rules:
//   - Creating a Channel starts the search and returns at once; connect() /
//     wait_connected() wait for the server. libca reconnects by itself after
//     a disconnect; state() and the StateCallback follow it.
//   - Every operation may be called from any thread (the context is attached
//     as needed) and takes its own timeout. Gets and put_wait() wait for the
//     server's reply; a disconnect while waiting ends the wait at once with
//     Errc::disconnected, and an operation on a channel that is not connected
//     fails at once with Errc::disconnected — nothing waits for a reconnect.
//   - put() is fire-and-forget: a server's refusal arrives later, through the
//     Context's logger and take_async_error(). put_wait() uses
//     ca_array_put_callback and returns when the server reports the write
//     processed (a motor: move done; a camera's Acquire: acquisition done);
//     it throws ca::Error with the server's status otherwise. If it times out
//     the write still goes on in the server.
//   - Stopping (util/stop.hpp): wait_connected(), the gets and put_wait()
//     take an optional util::StopToken. When stop is requested while they
//     wait (or before they start), they throw ca::Error with the code
//     std::errc::operation_canceled ("<pv>: put-callback: cancelled") within
//     a scheduler wake-up, not after the timeout. A reply that is already
//     there wins over the stop. As after a timeout, a cancelled put-callback
//     goes on in the server (a motor keeps moving: put its .STOP).
//     Stop may be requested from any thread (a SignalWatch callback
//     included; not from inside a signal handler: callbacks take locks).
//   - Element types and conversions: see value.hpp. An enum can be read as
//     std::string (state name) or std::uint16_t (index) and written either way.
//   - The StateCallback runs on a libca thread: it may record or enqueue, and
//     must not call pandafly::ca (a blocking call there would stall libca).
//   - Destruction clears the chid, unless Monitors of the channel are still
//     open: a Monitor keeps its channel, which is cleared with the last of
//     them (so `ca::Monitor m(ca::Channel::connect(...))` works). The
//     Context's destruction clears everything. Errors: ca::Error (error.hpp).
//
// Example:
//   auto m1 = ca::Channel::connect(ctx, "micos:m1.VAL", 2s);   // "…: not found within 2 s"
//   double pos = m1.get<double>();
//   m1.put_wait(5.0, 30s);                                    // returns when DMOV = 1
//   m1.put_wait(90.0, 60s, stop.get_token());                 // or throws operation_canceled
//   auto mode = ca::Channel::connect(ctx, "cam1:ImageMode", 2s);
//   mode.put(std::string("Multiple"));                        // enum by name
//   auto img = ca::Channel::connect(ctx, "cam1:image1:ArrayData", 2s)
//                  .get<std::vector<std::int16_t>>();         // all valid elements
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "pandafly/ca/context.hpp"
#include "pandafly/ca/error.hpp"
#include "pandafly/ca/value.hpp"
#include "pandafly/util/stop.hpp"

namespace pandafly::ca {

namespace detail {
struct ChannelState;
}

/// Timeouts in seconds; `2s`, `500ms` convert implicitly.
using Timeout = std::chrono::duration<double>;
inline constexpr Timeout default_timeout{5.0};

/// What cainfo shows.
struct ChannelInfo {
  std::string name;
  ConnectionState state = ConnectionState::never_connected;
  std::optional<FieldType> native_type;  ///< nullopt until first connected
  std::size_t element_count = 0;
  std::string host;  ///< "host:port" of the server, "<disconnected>" when not connected
  bool read_access = false;
  bool write_access = false;
};

template <class T>
inline constexpr bool is_element_vector = false;
template <Element T>
inline constexpr bool is_element_vector<std::vector<T>> = true;
/// An element (one value) or a vector of elements (an array read).
template <class T>
concept Readable = Element<T> || is_element_vector<T>;

class Channel {
 public:
  using StateCallback = std::function<void(ConnectionState)>;

  Channel() noexcept;
  /// Starts connecting to `name`; does not wait. `on_state` (optional) sees
  /// every connection change from the first one on.
  Channel(const Context& context, std::string name, StateCallback on_state = {});
  /// Channel(...) then wait_connected(timeout).
  [[nodiscard]] static Channel connect(const Context& context, std::string name, Timeout timeout,
                                       StateCallback on_state = {});
  ~Channel();
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  /// Waits until connected. Throws Errc::timeout with "<pv>: not found within
  /// <t> s" (never connected) or "<pv>: disconnected, not reconnected within <t> s".
  /// With `stop` requested: Error(operation_canceled).
  void wait_connected(Timeout timeout, util::StopToken stop = {}) const;

  [[nodiscard]] const std::string& name() const;
  [[nodiscard]] ConnectionState state() const;
  [[nodiscard]] bool connected() const { return state() == ConnectionState::connected; }
  /// Native type and element count (NELM) as of the last connection; throw
  /// Errc::disconnected if the channel never connected.
  [[nodiscard]] FieldType native_type() const;
  [[nodiscard]] std::size_t element_count() const;
  [[nodiscard]] ChannelInfo info() const;
  /// Replaces the connection callback (see Rules for where it runs).
  void on_state_change(StateCallback cb);

  /// One value, or (T = std::vector<E>) all valid elements of an array
  /// (count 0: the server's current length, which may be 0).
  template <Readable T>
  [[nodiscard]] T get(Timeout timeout = default_timeout, util::StopToken stop = {}) const {
    if constexpr (Element<T>) {
      return first<T>(get_value(field_type_of<T>, 1, timeout, std::move(stop)));
    } else {
      using E = typename T::value_type;
      return std::get<T>(get_value(field_type_of<E>, 0, timeout, std::move(stop)));
    }
  }
  /// `count` elements (0: all valid ones); more than element_count() fails with Errc::bad_count.
  template <Element T>
  [[nodiscard]] std::vector<T> get_array(std::size_t count, Timeout timeout = default_timeout,
                                         util::StopToken stop = {}) const {
    return std::get<std::vector<T>>(get_value(field_type_of<T>, count, timeout, std::move(stop)));
  }
  /// get() with the server's time stamp and alarm state (DBR_TIME_*).
  template <Readable T>
  [[nodiscard]] Timed<T> get_time(Timeout timeout = default_timeout,
                                  util::StopToken stop = {}) const {
    if constexpr (Element<T>) {
      auto t = get_time_value(field_type_of<T>, 1, timeout, std::move(stop));
      return {first<T>(std::move(t.value)), t.stamp, t.alarm};
    } else {
      using E = typename T::value_type;
      auto t = get_time_value(field_type_of<E>, 0, timeout, std::move(stop));
      return {std::get<T>(std::move(t.value)), t.stamp, t.alarm};
    }
  }
  /// Dynamically typed reads; `type` nullopt = the native type (needs a
  /// connection), `count` 0 = all valid elements.
  [[nodiscard]] Value get_value(std::optional<FieldType> type = {}, std::size_t count = 0,
                                Timeout timeout = default_timeout, util::StopToken stop = {}) const;
  [[nodiscard]] Timed<Value> get_time_value(std::optional<FieldType> type = {},
                                            std::size_t count = 0,
                                            Timeout timeout = default_timeout,
                                            util::StopToken stop = {}) const;
  /// Units, precision, limits, enum strings (DBR_CTRL_* of the native type).
  [[nodiscard]] Control get_control(Timeout timeout = default_timeout,
                                    util::StopToken stop = {}) const;

  /// Writes without waiting for the server (see Rules).
  template <Element T>
  void put(const T& value) const {
    put_value(std::vector<T>{value});
  }
  template <Element T>
  void put(const std::vector<T>& values) const {
    put_value(values);
  }
  void put(const char* text) const { put(std::string(text)); }
  void put_value(const Value& value) const;

  /// Writes and waits until the server reports completion, `timeout` passes
  /// or `stop` is requested (see Rules).
  template <Element T>
  void put_wait(const T& value, Timeout timeout, util::StopToken stop = {}) const {
    put_value_wait(std::vector<T>{value}, timeout, std::move(stop));
  }
  template <Element T>
  void put_wait(const std::vector<T>& values, Timeout timeout, util::StopToken stop = {}) const {
    put_value_wait(values, timeout, std::move(stop));
  }
  void put_wait(const char* text, Timeout timeout, util::StopToken stop = {}) const {
    put_wait(std::string(text), timeout, std::move(stop));
  }
  void put_value_wait(const Value& value, Timeout timeout, util::StopToken stop = {}) const;

  /// The last asynchronous error libca reported for this channel (e.g. a
  /// plain put the server refused), cleared by the call.
  [[nodiscard]] std::optional<Error> take_async_error();

 private:
  friend class Monitor;
  template <Element T>
  T first(Value&& v) const {
    auto& vec = std::get<std::vector<T>>(v);
    if (vec.empty()) throw_empty();
    return std::move(vec.front());
  }
  [[noreturn]] void throw_empty() const;
  detail::ChannelState& state_ref() const;

  std::shared_ptr<detail::ChannelState> state_;
};

}  // namespace pandafly::ca
