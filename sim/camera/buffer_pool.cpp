#include "sim/camera/buffer_pool.hpp"

#include <algorithm>
#include <chrono>

namespace pandafly::sim::camera {

BufferPool::BufferPool(std::size_t count, std::optional<FrameFormat> format) {
  for (std::size_t i = 0; i < std::max<std::size_t>(count, 1); ++i) {
    auto b = std::make_unique<Buffer>();
    b->pool = this;
    if (format) b->bytes.assign(format->bytes(), std::byte{0});  // touched now, not mid-scan
    buffers_.push_back(std::move(b));
  }
}

BufferPool::Buffer* BufferPool::find_free(const RenderKey& key) {
  Buffer* any = nullptr;
  for (auto& b : buffers_) {
    if (b->busy) continue;
    if (b->key == key) return b.get();
    if (!any) any = b.get();
  }
  return any;
}

BufferPool::Buffer* BufferPool::acquire(const RenderKey& key, bool wait,
                                        const std::function<bool()>& give_up) {
  std::unique_lock lock(mutex_);
  Buffer* b = find_free(key);
  while (!b && wait && !(give_up && give_up())) {
    released_.wait_for(lock, std::chrono::milliseconds(20));
    b = find_free(key);
  }
  if (!b) return nullptr;
  b->busy = true;
  lock.unlock();
  if (b->bytes.size() != key.format.bytes()) {
    b->key.reset();
    b->bytes.assign(key.format.bytes(), std::byte{0});
  }
  return b;
}

void BufferPool::release(Buffer* buffer) {
  {
    std::scoped_lock lock(mutex_);
    buffer->busy = false;
  }
  released_.notify_one();
}

void BufferPool::release_fn(void* /*data*/, void* hint) {
  auto* b = static_cast<Buffer*>(hint);
  b->pool->release(b);
}

}  // namespace pandafly::sim::camera
