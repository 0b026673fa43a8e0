#pragma once
// LivePublisher: republishes merged projections — the camera frame's pixels
// and NDAttributes plus the measured rotation angle — as NDPluginZMQ messages
// on a ZMQ PUB socket, so that an online reconstruction elsewhere can follow a
// scan (`pandafly fly --live ENDPOINT`). Any ADZMQ receiver reads the stream:
// ZMQDriver, capture::ZmqReceiver, or a few lines of pyzmq.
//
// Rules
//   Wire: exactly the plugin's (file-formats.md §3.3), sent by the project's
//   one encoder (capture/adzmq_encoder.hpp): a JSON header part then the raw
//   array part. `frame` and `timeStamp` are the camera's (uniqueId and
//   NDArray time stamp), `type`/`shape` the frame's. `ndattr` holds the
//   frame's own NDAttributes in their order (minus any with the names below),
//   then, appended:
//     <angle_attribute>  (default "PandaTheta", float64, degrees) the measured
//                        angle — the encoder mean over the exposure; the
//                        string "Undefined" when the projection has none
//                        (its PandA row was lost). Never NaN, never another
//                        slot's angle.
//     <start_attribute>  (default "PandaThetaStart", float64, degrees) the
//                        encoder at the exposure's start, when known.
//     <index_attribute>  (default "ProjectionIndex", int64) the slot k: gaps
//                        in it are projections the subscriber did not get.
//   A string attribute of the frame is sent with '"', '\' and control bytes
//   replaced by '_' so the header stays JSON (the plugin would break it, §3.4).
//   Socket: PUB, bound to ENDPOINT at construction (e.g. "tcp://127.0.0.1:5560",
//   "tcp://*:5560"; port 0 or "*" takes a free port: see endpoint()); a
//   subscriber connects and subscribes to "". As with the plugin, a subscriber
//   that joins late misses what was sent before ("slow joiner").
//   Never blocking: publish() sends with ZMQ_DONTWAIT and the socket has
//   ZMQ_XPUB_NODROP set, so when a subscriber's queue (send_hwm messages) is
//   full libzmq refuses the message instead of dropping it silently: the
//   projection is dropped for every subscriber and counted in `dropped`. A
//   plain PUB would drop per subscriber without telling anyone; counting
//   matters more here than serving a fast subscriber while a slow one lags.
//   With no subscriber at all a message is accepted and discarded by libzmq
//   (counted as published: nobody was there to miss it).
//   Zero copy: the pixels are handed to libzmq with LiveProjection::owner
//   keeping them alive until it has sent them; without an owner they are
//   copied. The header text is built on the caller's thread (a few hundred
//   bytes).
//   Threads: publish(), stats() and endpoint() may be called from any thread;
//   publish() calls are serialised by a mutex held only for the two
//   non-blocking sends. A publish() that cannot be honoured (a data size that
//   does not match the shape, a libzmq error) never throws: it returns false,
//   counts `failed` and says why in last_error.
//   Shutdown: the destructor closes the socket (linger: options.linger, then
//   queued messages are discarded) and the context; call it after the last
//   publish().
//
// Example:
//   capture::LivePublisher live("tcp://*:5560");
//   for (auto& m : merged) {                        // a merged projection
//     auto frame = std::make_shared<capture::ReceivedFrame>(std::move(m.frame));
//     const auto& f = frame->frame();
//     capture::LiveProjection p;
//     p.slot = m.slot;
//     p.angle = m.angle;
//     p.frame = &f.header;
//     p.data = f.data;
//     p.owner = frame;                              // zero copy
//     if (!live.publish(p)) ...                     // dropped or failed: counted
//   }
//   log("live: {} published, {} dropped", live.stats().published, live.stats().dropped);
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pandafly/capture/adzmq.hpp"
#include "pandafly/capture/adzmq_encoder.hpp"

namespace pandafly::capture {

struct LivePublisherOptions {
  int send_hwm = 64;                    ///< ZMQ_SNDHWM: messages queued per subscriber before drops
  std::chrono::milliseconds linger{0};  ///< ZMQ_LINGER at close
  HeaderStyle header = HeaderStyle::current;
  std::string angle_attribute = "PandaTheta";
  std::string start_attribute = "PandaThetaStart";
  std::string index_attribute = "ProjectionIndex";
};

/// One merged projection to republish. `frame` and `data` are read during
/// publish() only, except `data` when `owner` is set (kept until sent).
struct LiveProjection {
  std::uint64_t slot = 0;              ///< the planned projection index k
  std::optional<double> angle;         ///< measured angle, degrees (nullopt: unknown)
  std::optional<double> angle_start;   ///< encoder at the exposure's start, degrees
  const FrameHeader* frame = nullptr;  ///< the camera frame's header (required)
  std::span<const std::byte> data;     ///< its pixels: frame->byte_size() bytes
  std::shared_ptr<const void> owner;   ///< keeps `data` alive for zero copy; null: copy
};

struct LivePublisherStats {
  std::uint64_t published = 0;  ///< messages libzmq accepted
  std::uint64_t dropped = 0;    ///< refused at the HWM (a subscriber's queue was full)
  std::uint64_t failed = 0;     ///< bad input or a libzmq error (see last_error)
  std::string last_error;
};

class LivePublisher {
 public:
  /// Creates the PUB socket and binds `endpoint`. Throws std::runtime_error
  /// naming the endpoint with libzmq's text when it cannot (address in use, …).
  explicit LivePublisher(std::string_view endpoint, LivePublisherOptions options = {});
  LivePublisher(const LivePublisher&) = delete;
  LivePublisher& operator=(const LivePublisher&) = delete;
  ~LivePublisher();

  /// Sends one projection without blocking. True: libzmq took it; false:
  /// dropped (HWM) or failed — counted either way, never throws.
  [[nodiscard]] bool publish(const LiveProjection& projection) noexcept;

  [[nodiscard]] LivePublisherStats stats() const;
  /// The bound endpoint as libzmq reports it (ZMQ_LAST_ENDPOINT): the port
  /// actually taken for port 0 or "*".
  [[nodiscard]] const std::string& endpoint() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The header part publish() sends for `p` (exposed for tests and for tools
/// that want to show it). Throws std::invalid_argument when p.frame is null.
[[nodiscard]] std::string live_header(const LiveProjection& p, const LivePublisherOptions& options);

}  // namespace pandafly::capture
