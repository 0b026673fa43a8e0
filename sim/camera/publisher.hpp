#pragma once
// Publisher: the simulated NDPluginZMQ — renders FrameJobs (FrameSource) and
// sends each as an ADZMQ message (header + pixels) on one ZMQ socket.
//
// Rules
//   Socket: made from `server_host` with the plugin's semantics
//   (sender_socket_for: PUB or PUSH, bind or connect; '*' binds 127.0.0.1
//   only). The constructor creates, configures and binds/connects it (errors
//   throw there); from then on one publisher thread owns it.
//   Sending, as the plugin does: the header (encode_adzmq_header) with
//   ZMQ_SNDMORE | ZMQ_DONTWAIT, then the pixels zero-copy with ZMQ_DONTWAIT. A
//   send that would block (a bound PUSH without a peer, a PUSH at its HWM) drops
//   the frame and counts it in `dropped` (the plugin's DroppedOutputArrays). A
//   PUB drops silently at its HWM and before a subscriber joins (§3.5).
//   Frame numbers: FrameJob::unique_id, else 1, 2, ... (after the last sent
//   or dropped number). Time stamp: FrameJob::timestamp (EPICS epoch).
//   Threads: submit() never blocks (a CA or TTLOUT callback may call it): it
//   queues the job description, or counts an `overrun` when the queue is full
//   — except with `lossless`, where it waits for room (tests only).
//   The publisher thread renders and sends, so rendering (~25 ms for a
//   2048 × 1536 projection) never holds up the caller. submit(), stats(),
//   wait_idle() and stop() may be called from any thread.
//   Buffers: a pool of `buffers` frame buffers stands for the camera's NDArray
//   pool. A buffer is busy until libzmq has sent it (zero copy). With all
//   busy the thread waits for one (back-pressure: jobs then pile up in the
//   queue, whose overflow submit() counts), or, with wait_for_buffer false,
//   drops the frame and counts it in `no_buffer` (a camera whose pool ran
//   dry). A free buffer that already holds the requested frame (same format,
//   kind, angle and, with noise on, seed) is sent again without rendering.
//   Pixels for someone else (FrameJob::on_pixels): called with the frame's
//   bytes after they are rendered (or found in a buffer) and handed to
//   libzmq (the send never waits for the taker's copy); with every buffer in flight and
//   wait_for_buffer false the frame is still rendered, into a scratch buffer, for on_pixels (the
//   send is counted in `no_buffer`). A job with send false is rendered for on_pixels only: counted
//   in `render_only`, not in `submitted` nor `last_frame`. Shutdown order: stop() (or the
//   destructor) closes the job queue (jobs not yet started are discarded; call wait_idle() first to
//   finish them), the thread finishes its frame, closes the socket and ends; stop() joins it. The
//   destructor then terminates the ZMQ context — which waits up to `linger` for messages still
//   queued — and only then frees the buffers.
//
// Example:
//   Publisher pub({.server_host = "tcp://127.0.0.1:0 PUB", .format = FrameFormat{256, 256}});
//   fmt::print("publishing on {}\n", pub.endpoint());
//   pub.submit({.kind = FrameKind::projection, .angle_deg = 30, .format = {256, 256}});
//   (void)pub.wait_idle(std::chrono::seconds(5));
//   pub.stop();
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "pandafly/capture/adzmq_encoder.hpp"
#include "sim/camera/frame_job.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/camera/server_host.hpp"

namespace pandafly::sim::camera {

struct PublisherOptions {
  std::string server_host = "tcp://127.0.0.1:1234 PUB";
  capture::HeaderStyle header = capture::HeaderStyle::current;
  FrameSourceOptions source{};
  /// Allocate and touch the buffers (and build the FrameSource) for this format
  /// up front; another format is allocated on its first frame.
  std::optional<FrameFormat> format{};
  std::size_t queue_capacity = 16;         ///< jobs waiting for the thread
  std::size_t buffers = 8;                 ///< frame buffers (sent zero-copy)
  bool wait_for_buffer = true;             ///< false: drop (no_buffer) instead of waiting
  int send_hwm = 0;                        ///< ZMQ_SNDHWM; 0 keeps libzmq's 1000
  std::chrono::milliseconds linger{1000};  ///< ZMQ_LINGER at shutdown
  /// For tests on a loaded machine: back-pressure instead of loss. submit()
  /// waits for room in the queue, sends block (a PUSH waits for its peer; a
  /// PUB still drops at its HWM, as libzmq does) and the socket lingers at
  /// least 30 s for queued messages. No frame is dropped; the trigger
  /// timeline slips instead, which a real camera's would not.
  bool lossless = false;
  /// Back-pressure for a simulated clock (e.g. SimClock::hold/release under a
  /// time scale): called with true when the job queue reaches `backlog_high`
  /// jobs (the renderer is behind), then with false once every job is done
  /// (or at stop()). Strictly alternating, starting with true. Called with
  /// the publisher's lock held, from submit()'s thread (true) or the
  /// publisher thread (false): it must not call back into the Publisher.
  std::function<void(bool behind)> on_backlog{};
  std::size_t backlog_high = 4;  ///< >= 1
};

struct PublisherStats {
  std::uint64_t submitted = 0;    ///< jobs accepted by submit()
  std::uint64_t sent = 0;         ///< messages handed to libzmq
  std::uint64_t dropped = 0;      ///< sends that would have blocked (DroppedOutputArrays)
  std::uint64_t no_buffer = 0;    ///< frames dropped because every buffer was in flight
  std::uint64_t overruns = 0;     ///< jobs refused because the queue was full or closed
  std::uint64_t rendered = 0;     ///< frames rendered (the others reused a buffer)
  std::uint64_t render_only = 0;  ///< accepted jobs with send false (pixels for on_pixels)
  std::uint64_t failed = 0;       ///< jobs that could not be rendered (last_error says why)
  std::optional<std::uint64_t> last_frame{};  ///< the last unique id used
  std::string last_error{};
};

class Publisher {
 public:
  /// Throws std::invalid_argument for a bad serverHost or format and
  /// std::runtime_error (libzmq's text) when the socket cannot bind/connect.
  explicit Publisher(PublisherOptions options);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  ~Publisher();

  /// Queues one frame; false (counted as an overrun) when the queue is full or
  /// stopped. Never blocks; any thread.
  bool submit(FrameJob job);
  /// Waits until every accepted job has been sent or dropped; false on timeout.
  [[nodiscard]] bool wait_idle(std::chrono::milliseconds timeout);
  /// See Rules (shutdown order). Idempotent; any thread.
  void stop();

  [[nodiscard]] PublisherStats stats() const;
  [[nodiscard]] const SenderSocket& socket() const;
  /// ZMQ_LAST_ENDPOINT: for a bind to port 0 or '*', the port actually taken.
  [[nodiscard]] const std::string& endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::sim::camera
