#pragma once
// ca::Context: the owner of one libca client context.
//
// Rules:
//   - The context is created with preemptive callbacks: libca runs its own
//     threads and calls back on them at any time. Nothing needs to "poll".
//   - libca keeps a current context per thread. Every pandafly::ca call makes
//     its context current on the calling thread first, so channels can be
//     used from any thread; attach() does the same explicitly for code that
//     wants it done up front (e.g. a worker thread's start).
//   - libca's exceptions (asynchronous errors such as a rejected plain put or
//     a lost circuit) and libca's own printed messages go to the Logger given
//     at construction instead of stderr. The logger runs on libca's threads:
//     it must be thread-safe, quick, and must not call into pandafly::ca.
//     Without a logger they are written to stderr as one line each.
//   - Destruction (or move-assignment onto a Context) clears every channel
//     and subscription still open — so libca has no channel left to report
//     CONN_DOWN for during ca_context_destroy — then destroys the context.
//     Channels and Monitors that outlive it stay valid objects: their
//     operations throw ca::Error(Errc::channel_destroyed).
//   - Libca reads EPICS_CA_* from the environment when the context is
//     created (see ca::Environment).
//
// Example:
//   ca::Context ctx([](const ca::LogMessage& m) { spdlog::warn("{}", m.text); });
//   auto m1 = ca::Channel::connect(ctx, "micos:m1.VAL", 2s);
//   std::thread worker([&] { ctx.attach(); m1.put(5.0); });
#include <functional>
#include <memory>
#include <string>
#include <system_error>

namespace pandafly::ca {

namespace detail {
struct ContextState;
}

/// Something libca reported asynchronously.
struct LogMessage {
  enum class Kind {
    exception,  ///< libca's exception handler: `code` is the ECA status
    message,    ///< text libca printed (e.g. "unable to contact CA repeater")
  };
  Kind kind = Kind::message;
  std::error_code code;
  std::string channel;  ///< the PV concerned, if any
  std::string text;     ///< one message, no trailing newline
};
using Logger = std::function<void(const LogMessage&)>;

class Context {
 public:
  /// Creates the libca context (current on the calling thread afterwards).
  /// Throws ca::Error if libca refuses.
  explicit Context(Logger logger = {});
  ~Context();
  Context(Context&& other) noexcept;
  Context& operator=(Context&& other) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// Makes this context current on the calling thread (ca_attach_context).
  /// Throws ca::Error(channel_destroyed) once the context is destroyed.
  void attach() const;
  /// Leaves the calling thread without a current libca context.
  static void detach() noexcept;
  /// Sends whatever libca has queued (requests are flushed by every call anyway).
  void flush() const;
  /// Channels currently open in this context.
  [[nodiscard]] std::size_t channel_count() const;
  /// False after destruction-by-move.
  [[nodiscard]] bool valid() const noexcept { return state_ != nullptr; }
  /// libca's protocol version text, e.g. "4.13".
  [[nodiscard]] static std::string version();

 private:
  friend class Channel;
  void destroy() noexcept;
  std::shared_ptr<detail::ContextState> state_;
};

/// The state of a channel's connection.
enum class ConnectionState {
  never_connected,  ///< searching; no server has answered yet
  disconnected,     ///< was connected; libca is searching again
  connected,
  closed,  ///< the Channel (or its Context) was cleared
};
[[nodiscard]] std::string_view to_string(ConnectionState s) noexcept;

}  // namespace pandafly::ca
