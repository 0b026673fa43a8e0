#pragma once
// ZmqReceiver: the shell that takes ADZMQ (NDPluginZMQ) messages off a ZMQ
// socket and hands decoded frames to one consumer (file-formats.md §3.2–3.6).
//
// Rules
//   Threads: the constructor creates, configures and binds/connects the socket
//   (errors throw there, synchronously); from then on one receive thread owns
//   it (ZMQ sockets are not thread-safe) and closes it when it ends. pop(),
//   stats() and stop() may be called from any thread.
//   Messages: each ZMQ message must be exactly two frames (JSON header, data).
//   A message of any other length, or one decode_adzmq rejects, counts as
//   `bad` (last_error says why) and is dropped whole; the next message is read
//   from its first frame, so the stream resynchronises by itself.
//   Queue: bounded (options.queue_capacity). When it is full the newest frame
//   is dropped and counted in `overruns`; the receive thread never blocks on
//   the consumer. Blocking would only move the loss upstream anyway: a PUB
//   drops silently at its HWM, a PUSH with ZMQ_DONTWAIT counts the drop in the
//   plugin's DroppedOutputArrays and holds camera buffers meanwhile (§3.5).
//   Frame numbers (NDArray.uniqueId): after the first, next == last + 1 is in
//   order; next > last + 1 adds the skipped numbers to `missing`. A number
//   below the highest (`last_frame`) is, in this order: one of those skipped
//   numbers arriving late → `reorders`, `missing` − 1, handed out; a number
//   received before with the same time stamp → `duplicates`, dropped (never
//   handed out, unless options.hand_out_duplicates); otherwise (a number seen before with another
//   time stamp, or older than the last 4096 remembered) the camera's ArrayCounter was reset →
//   `restarts`, and the sequence starts again from it without counting duplicates or gaps against
//   the old one (`missing` keeps what the earlier acquisition lost). A bad message whose header
//   named its frame number still advances the sequence (it arrived; it is not missing). The
//   consumer therefore sees gaps = missing + overruns + bad-with-number.
//   Shutdown: stop() (or the destructor) ends the receive thread within about
//   one poll_interval, joins it, then closes the queue: a pop() blocked in any
//   thread wakes, frames already queued are still handed out, then pop()
//   returns nullopt. ReceivedFrames own their ZMQ messages and may outlive
//   the receiver.
//
// Example:
//   capture::ZmqReceiverOptions options;
//   options.ioc_host = "ioc-host";
//   capture::ZmqReceiver rx("tcp://*:1234", options);  // plugin PUB binds → SUB connects
//   while (auto f = rx.pop(std::chrono::milliseconds(500)))
//     write(f->frame().header.frame, f->frame().data);
//   rx.stop();
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/capture/adzmq.hpp"

namespace pandafly::capture {

/// The plugin's socket pattern: PUB → we SUB (subscribed to everything);
/// PUSH → we PULL.
enum class Pattern { pub_sub, push_pull };

/// What the receiver does with its socket, derived from the plugin's serverHost.
struct ReceiverSocket {
  Pattern pattern = Pattern::pub_sub;
  bool bind = false;    ///< true: the plugin connects, so we bind
  std::string address;  ///< what we bind or connect, e.g. "tcp://ioc:1234"
};

/// The receiver's side of NDZMQConfigure's `serverHost`
/// ("transport://address [PUB|PUSH|SUB|PULL] [BIND|CONNECT]", §3.2): type
/// SUB/PUB ⇒ PUB, PULL/PUSH ⇒ PUSH; no type ⇒ PUB if the address contains '*',
/// else PUSH. The plugin binds unless told CONNECT, except an untyped PUSH,
/// which connects unless told BIND. When the plugin binds we connect, and a
/// host of "*" or "0.0.0.0" is replaced by `ioc_host`; when it connects we
/// bind the address as given. `pattern`, when set, overrides the type.
/// Throws std::invalid_argument on an empty address or an unknown word.
[[nodiscard]] ReceiverSocket receiver_socket_for(std::string_view server_host,
                                                 std::string_view ioc_host = "127.0.0.1",
                                                 std::optional<Pattern> pattern = std::nullopt);

struct ZmqReceiverOptions {
  std::string ioc_host = "127.0.0.1";           ///< replaces '*' when we connect to a bound plugin
  std::optional<Pattern> pattern;               ///< overrides the type derived from serverHost
  std::size_t queue_capacity = 64;              ///< frames between the receive thread and pop()
  std::chrono::milliseconds poll_interval{20};  ///< bounds how long stop() waits
  int receive_hwm = 0;                          ///< ZMQ_RCVHWM; 0 keeps libzmq's 1000
  /// Duplicates (same number and time stamp as a frame received before) are
  /// counted either way; true hands them out too, for a consumer that records
  /// them per frame (the fly scan's merger drops them itself and says where).
  bool hand_out_duplicates = false;
  /// Testing only: called on the receive thread before each poll; an
  /// exception it throws ends the thread as a receive error would.
  std::function<void()> fault_injection;
};

/// A snapshot of the receiver's counters.
struct ZmqReceiverStats {
  std::uint64_t received = 0;    ///< messages that decoded (queued, overrun or duplicate)
  std::uint64_t bad = 0;         ///< messages not two frames, or that did not decode
  std::uint64_t overruns = 0;    ///< decoded frames dropped because the queue was full
  std::uint64_t missing = 0;     ///< frame numbers skipped (gaps)
  std::uint64_t duplicates = 0;  ///< frames received again (same number and time stamp), dropped
  std::uint64_t reorders = 0;    ///< frames that arrived after a higher number (not missing)
  std::uint64_t restarts = 0;    ///< new acquisitions: the frame numbers started again
  std::optional<std::uint64_t> last_frame;  ///< the highest frame number seen
  std::string last_error;  ///< why the last bad message was bad (or the thread ended)
  /// Why the receive thread ended by itself (a libzmq or allocation error);
  /// "" while it runs or after stop(). Once set, stopped() is true and pop()
  /// returns the frames still queued, then nullopt at once.
  std::string failure;
};

/// One decoded message. Owns the two ZMQ messages, so frame().data (a view of
/// the data message, zero copy) stays valid as long as this object; moving it
/// moves a pointer, never the bytes. A frame from another source (e.g.
/// CaImageSource, over Channel Access) owns its pixel bytes instead.
class ReceivedFrame {
 public:
  struct Parts;  // the ZMQ messages (or owned pixels) and the Frame that views them
  explicit ReceivedFrame(std::unique_ptr<Parts> parts) noexcept;
  /// A frame owning `pixels` (header.byte_size() bytes, little-endian);
  /// frame().data views them.
  ReceivedFrame(FrameHeader header, std::vector<std::byte> pixels);
  ReceivedFrame(ReceivedFrame&&) noexcept;
  ReceivedFrame& operator=(ReceivedFrame&&) noexcept;
  ~ReceivedFrame();

  /// The decoded frame. Precondition: not moved from.
  [[nodiscard]] const Frame& frame() const noexcept;

 private:
  std::unique_ptr<Parts> parts_;
};

class ZmqReceiver {
 public:
  /// Creates the socket for the plugin's `server_host` (see
  /// receiver_socket_for), binds or connects it and starts the receive thread.
  /// Throws std::invalid_argument for a bad serverHost and std::runtime_error
  /// (with libzmq's text) when libzmq refuses the socket, bind or connect.
  explicit ZmqReceiver(std::string_view server_host, ZmqReceiverOptions options = {});
  ZmqReceiver(const ZmqReceiver&) = delete;
  ZmqReceiver& operator=(const ZmqReceiver&) = delete;
  /// stop(), then releases the ZMQ context.
  ~ZmqReceiver();

  /// The oldest queued frame, waiting at most `timeout`; nullopt on timeout,
  /// or once stopped and drained (check stopped()). Any thread.
  [[nodiscard]] std::optional<ReceivedFrame> pop(std::chrono::milliseconds timeout);

  /// Ends and joins the receive thread, closes the socket and then the queue.
  /// Idempotent; any thread but the receive thread; returns within about one
  /// poll_interval.
  void stop();
  [[nodiscard]] bool stopped() const;

  [[nodiscard]] ZmqReceiverStats stats() const;
  [[nodiscard]] const ReceiverSocket& socket() const noexcept;
  /// The endpoint libzmq reports (ZMQ_LAST_ENDPOINT): for a bind to port 0 or
  /// '*', the port actually taken.
  [[nodiscard]] const std::string& endpoint() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::capture
