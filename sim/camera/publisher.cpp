#include "sim/camera/publisher.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <zmq.hpp>

#include "sim/camera/buffer_pool.hpp"

namespace pandafly::sim::camera {

struct Publisher::Impl {
  explicit Impl(PublisherOptions opts);
  void open_socket();
  void run() noexcept;
  [[nodiscard]] std::optional<FrameJob> next_job();
  void process(FrameJob& job);
  [[nodiscard]] BufferPool::Buffer* frame_buffer(const FrameJob& job, std::uint64_t seed);
  bool send(const FrameJob& job, std::uint64_t id, BufferPool::Buffer* buffer);
  void note_error(std::string text);
  void caught_up();  // mutex held

  PublisherOptions options;
  SenderSocket config;
  std::string endpoint;
  // Declaration order is destruction order reversed: the pool outlives the
  // context, whose termination waits for (and frees) every queued message.
  BufferPool pool;
  zmq::context_t context{1};
  zmq::socket_t socket;  // the publisher thread's once it runs
  std::unique_ptr<FrameSource> source;
  std::vector<std::byte> scratch;  // pixels for on_pixels when no buffer is free
  std::string header_text;
  std::uint64_t next_id = 1;

  mutable std::mutex mutex;  // jobs, busy, closed, stats
  std::condition_variable job_ready;
  std::condition_variable idle;
  std::condition_variable room;  // lossless submit() waits on it
  std::deque<FrameJob> jobs;
  bool busy = false;
  bool behind = false;  // on_backlog(true) called, false not yet
  bool closed = false;
  std::atomic<bool> stop_requested{false};
  PublisherStats stats;
  std::mutex stop_mutex;
  std::thread thread;
};

Publisher::Impl::Impl(PublisherOptions opts)
    : options(std::move(opts)),
      config(sender_socket_for(options.server_host)),
      pool(options.buffers, options.format) {
  if (options.format) source = std::make_unique<FrameSource>(*options.format, options.source);
  header_text.reserve(512);
  open_socket();
}

void Publisher::Impl::open_socket() {
  const bool pub = config.pattern == SocketPattern::pub;
  try {
    socket = zmq::socket_t(context, pub ? zmq::socket_type::pub : zmq::socket_type::push);
    const auto linger = options.lossless
                            ? std::max(options.linger, std::chrono::milliseconds(30000))
                            : options.linger;
    socket.set(zmq::sockopt::linger, static_cast<int>(linger.count()));
    if (options.lossless) socket.set(zmq::sockopt::sndtimeo, 200);  // retried until stop()
    if (options.send_hwm > 0) socket.set(zmq::sockopt::sndhwm, options.send_hwm);
    if (config.bind)
      socket.bind(config.address);
    else
      socket.connect(config.address);
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(
        fmt::format("camera publisher: cannot {}: {}", describe(config), e.what()));
  }
}

void Publisher::Impl::run() noexcept {
  while (auto job = next_job()) {
    try {
      process(*job);
    } catch (const std::exception& e) {  // a bad format, bad_alloc, libzmq: count, go on
      note_error(fmt::format("frame not published: {}", e.what()));
    }
    std::scoped_lock lock(mutex);
    busy = false;
    if (jobs.empty()) {
      idle.notify_all();
      caught_up();
    }
  }
  socket.close();
}

std::optional<FrameJob> Publisher::Impl::next_job() {
  std::unique_lock lock(mutex);
  job_ready.wait(lock, [&] { return !jobs.empty() || closed; });
  if (closed) return std::nullopt;
  FrameJob job = std::move(jobs.front());
  jobs.pop_front();
  room.notify_all();
  busy = true;
  return job;
}

void Publisher::Impl::caught_up() {
  if (!behind) return;
  behind = false;
  if (options.on_backlog) options.on_backlog(false);
}

void Publisher::Impl::note_error(std::string text) {
  std::scoped_lock lock(mutex);
  ++stats.failed;
  stats.last_error = std::move(text);
}

namespace {

// Calls a job's on_pixels exactly once: with the pixels, or (at the latest
// when the job's processing ends, e.g. by an exception) with none.
class PixelsOnce {
 public:
  explicit PixelsOnce(std::function<void(std::span<const std::byte>)>& fn) : fn_(fn) {}
  PixelsOnce(const PixelsOnce&) = delete;
  PixelsOnce& operator=(const PixelsOnce&) = delete;
  ~PixelsOnce() {
    try {
      (*this)({});
    } catch (...) {  // nothing to tell the taker
    }
  }
  void operator()(std::span<const std::byte> pixels) {
    if (!fn_) return;
    const auto fn = std::exchange(fn_, {});
    fn(pixels);
  }

 private:
  std::function<void(std::span<const std::byte>)>& fn_;
};

}  // namespace

void Publisher::Impl::process(FrameJob& job) {
  PixelsOnce pixels(job.on_pixels);
  const std::uint64_t id = job.unique_id.value_or(next_id);
  if (job.send) {
    next_id = id + 1;
    std::scoped_lock lock(mutex);
    stats.last_frame = id;
  }
  if (!source || source->format() != job.format)
    source = std::make_unique<FrameSource>(job.format, options.source);
  const std::uint64_t seed = job.seed.value_or(id);
  BufferPool::Buffer* buffer = frame_buffer(job, seed);
  if (!buffer) {
    if (job.on_pixels) {
      scratch.resize(job.format.bytes());
      source->render(job.kind, job.angle_deg, seed, scratch);
      pixels(scratch);
    }
    if (!job.send) return;
    std::scoped_lock lock(mutex);
    ++stats.no_buffer;
    return;
  }
  if (!job.send) {
    try {
      pixels(buffer->bytes);
    } catch (...) {
      pool.release(buffer);
      throw;
    }
    pool.release(buffer);
    return;
  }
  const bool ok = send(job, id, buffer);
  // Sent first (ZMQ1's timing does not wait for a copy). The bytes stay as
  // they are even once libzmq has released the buffer: only this thread
  // renders into buffers.
  pixels(buffer->bytes);
  std::scoped_lock lock(mutex);
  ++(ok ? stats.sent : stats.dropped);
}

/// A buffer holding the job's pixels (rendered now unless it already held
/// them), or nullptr when every buffer is in flight.
BufferPool::Buffer* Publisher::Impl::frame_buffer(const FrameJob& job, std::uint64_t seed) {
  const RenderKey key{job.format, job.kind, job.kind == FrameKind::projection ? job.angle_deg : 0.0,
                      options.source.noise ? seed : 0};
  BufferPool::Buffer* b = pool.acquire(key, options.wait_for_buffer, [this] {
    return stop_requested.load(std::memory_order_relaxed);
  });
  if (!b || b->key == key) return b;
  try {
    b->key.reset();
    source->render(job.kind, job.angle_deg, seed, b->bytes);
  } catch (...) {
    pool.release(b);
    throw;
  }
  b->key = key;
  std::scoped_lock lock(mutex);
  ++stats.rendered;
  return b;
}

/// The two-part message, as NDPluginZMQ::sendNDArray sends it. False when
/// libzmq would have blocked (the frame is dropped, the buffer freed).
bool Publisher::Impl::send(const FrameJob& job, std::uint64_t id, BufferPool::Buffer* buffer) {
  const capture::ArrayHeader header{
      .frame = id,
      .timestamp = job.timestamp,
      .type = job.format.type,
      .shape = {job.format.height, job.format.width},
      .attributes = job.attributes ? *job.attributes : frame_attributes(job.kind, job.angle_deg)};
  capture::encode_adzmq_header(header, options.header, header_text);
  zmq::message_t head(header_text.data(), header_text.size());
  // lossless: blocking sends with a 200 ms timeout, retried until stop().
  const auto flags = options.lossless ? zmq::send_flags::none : zmq::send_flags::dontwait;
  const auto send_part = [&](zmq::message_t& m, zmq::send_flags more) {
    for (;;) {
      if (socket.send(m, more | flags)) return true;
      if (!options.lossless || stop_requested.load(std::memory_order_relaxed)) return false;
    }
  };
  bool queued = false;
  try {
    queued = send_part(head, zmq::send_flags::sndmore);
  } catch (...) {
    pool.release(buffer);
    throw;
  }
  if (!queued) {
    pool.release(buffer);
    return false;
  }
  // From here the message owns the buffer: libzmq calls release_fn when it
  // is done with it, sent or not.
  zmq::message_t data(buffer->bytes.data(), buffer->bytes.size(), &BufferPool::release_fn, buffer);
  return send_part(data, zmq::send_flags::none);
}

// ------------------------------------------------------------------ Publisher

Publisher::Publisher(PublisherOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

Publisher::~Publisher() {
  stop();
}

bool Publisher::submit(FrameJob job) {
  std::unique_lock lock(impl_->mutex);
  if (impl_->options.lossless) {
    impl_->room.wait(
        lock, [&] { return impl_->closed || impl_->jobs.size() < impl_->options.queue_capacity; });
  }
  if (impl_->closed || impl_->jobs.size() >= impl_->options.queue_capacity) {
    ++impl_->stats.overruns;
    return false;
  }
  ++(job.send ? impl_->stats.submitted : impl_->stats.render_only);
  impl_->jobs.push_back(std::move(job));
  if (!impl_->behind && impl_->options.on_backlog &&
      impl_->jobs.size() >= std::max<std::size_t>(1, impl_->options.backlog_high)) {
    impl_->behind = true;
    impl_->options.on_backlog(true);
  }
  impl_->job_ready.notify_one();
  return true;
}

bool Publisher::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  return impl_->idle.wait_for(
      lock, timeout, [&] { return impl_->closed || (impl_->jobs.empty() && !impl_->busy); });
}

void Publisher::stop() {
  std::scoped_lock stopping(impl_->stop_mutex);
  {
    std::scoped_lock lock(impl_->mutex);
    impl_->closed = true;
    impl_->jobs.clear();
    impl_->caught_up();  // never leave a simulated clock held
  }
  impl_->stop_requested = true;
  impl_->job_ready.notify_all();
  impl_->idle.notify_all();
  impl_->room.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

PublisherStats Publisher::stats() const {
  std::scoped_lock lock(impl_->mutex);
  return impl_->stats;
}

const SenderSocket& Publisher::socket() const {
  return impl_->config;
}

const std::string& Publisher::endpoint() const {
  return impl_->endpoint;
}

}  // namespace pandafly::sim::camera
