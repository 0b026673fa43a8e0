#pragma once
// BufferPool: the simulated camera's NDArray pool — a fixed number of frame
// buffers, each busy from the moment the publisher takes it until libzmq has
// sent it (zero-copy messages free themselves through release()).
//
// Rules
//   * acquire() prefers a free buffer that already holds the wanted frame
//     (same RenderKey), then any free one; none free: nullptr, or with `wait`
//     it waits until one is released or `give_up()` returns true (polled
//     every 20 ms).
//   * release() is libzmq's free function: any thread (a ZMQ I/O thread).
//   * The pool must outlive every message made from its buffers: destroy it
//     after the ZMQ context has been terminated.
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "sim/camera/frame_job.hpp"

namespace pandafly::sim::camera {

/// What a buffer holds (so an identical frame is not rendered twice).
struct RenderKey {
  FrameFormat format;
  FrameKind kind = FrameKind::projection;
  double angle_deg = 0;
  std::uint64_t seed = 0;  ///< 0 when noise is off (every seed gives the same frame)
  friend bool operator==(const RenderKey&, const RenderKey&) = default;
};

class BufferPool {
 public:
  struct Buffer {
    std::vector<std::byte> bytes;
    std::optional<RenderKey> key;  ///< what `bytes` holds; empty: nothing yet
    bool busy = false;
    BufferPool* pool = nullptr;
  };

  /// `count` buffers (at least 1), each allocated and touched for `format` when given.
  BufferPool(std::size_t count, std::optional<FrameFormat> format);

  /// A free buffer (marked busy) with bytes.size() == key.format.bytes(); see Rules.
  [[nodiscard]] Buffer* acquire(const RenderKey& key, bool wait,
                                const std::function<bool()>& give_up);
  /// Marks `buffer` free.
  void release(Buffer* buffer);
  /// libzmq's free function (hint = the Buffer).
  static void release_fn(void* data, void* hint);

 private:
  [[nodiscard]] Buffer* find_free(const RenderKey& key);

  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Buffer>> buffers_;
};

}  // namespace pandafly::sim::camera
