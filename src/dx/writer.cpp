// dx::Writer: the queue and the thread around DxFile (writer.hpp Rules).
#include "pandafly/dx/writer.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "pandafly/util/bounded_queue.hpp"
#include "writer_file.hpp"
#include "writer_frames.hpp"

namespace pandafly::dx {

// ------------------------------------------------------------------ values

FrameRecord FrameRecord::view(const capture::Frame& frame, std::shared_ptr<const void> owner) {
  FrameRecord r;
  r.pixels = frame.data;
  r.owner = std::move(owner);
  r.unique_id = static_cast<std::int64_t>(frame.header.frame);
  r.timestamp = frame.header.timestamp;
  r.attributes = frame.header.attributes;
  r.shape = frame.header.shape;
  r.type = frame.header.type;
  // The whole list lost (not one odd attribute skipped, which leaves the others readable).
  if (frame.header.attributes.empty()) r.attribute_error = frame.header.attribute_warning;
  return r;
}

FrameRecord& FrameRecord::set(std::string name, AttributeValue value) {
  for (auto& a : attributes) {
    if (a.name == name) {
      a.value = std::move(value);
      return *this;
    }
  }
  attributes.push_back({std::move(name), std::move(value), false});
  return *this;
}

// ------------------------------------------------------------------ frame checks

namespace detail {

FrameFault check_frame(const FrameRecord& f, const FrameGeometry& g) noexcept {
  if (!f.attribute_error.empty()) return FrameFault::attributes;
  if (f.type && *f.type != g.type) return FrameFault::type;
  if (!f.shape.empty()) {
    std::vector<std::size_t> dims;  // without leading/trailing 1s ({1, y, x}, {y, x, 1})
    for (const auto d : f.shape) dims.push_back(d);
    while (dims.size() > 2 && dims.front() == 1) dims.erase(dims.begin());
    while (dims.size() > 2 && dims.back() == 1) dims.pop_back();
    if (dims.size() != 2 || dims[0] != g.height || dims[1] != g.width) return FrameFault::shape;
  }
  if (f.pixels.size() != g.bytes()) return FrameFault::size;
  return FrameFault::none;
}

void FrameFaults::add(FrameFault fault, const FrameRecord& f, std::string_view dataset) {
  auto& t = tally_[static_cast<std::size_t>(fault)];
  if (t.count++ > 0) return;
  t.first_id = f.unique_id;
  if (fault >= FrameFault::slot_taken) {
    t.detail = f.slot ? fmt::format("slot {} of {}", *f.slot, dataset) : std::string(dataset);
    return;
  }
  if (fault == FrameFault::attributes) t.detail = f.attribute_error;
  if (fault == FrameFault::shape) t.detail = fmt::format("{}", fmt::join(f.shape, "×"));
  if (fault == FrameFault::type && f.type) t.detail = std::string(capture::to_string(*f.type));
  if (fault == FrameFault::size) t.detail = fmt::format("{} bytes", f.pixels.size());
}

std::uint64_t FrameFaults::total() const noexcept {
  std::uint64_t n = 0;
  for (const auto& t : tally_) n += t.count;
  return n;
}

std::vector<std::string> FrameFaults::warnings(const FrameGeometry& g) const {
  std::vector<std::string> out;
  const auto& size = tally_[static_cast<std::size_t>(FrameFault::size)];
  if (size.count > 0)
    out.push_back(fmt::format("{} frames had not {} bytes (lost)", size.count, g.bytes()));
  const auto& shape = tally_[static_cast<std::size_t>(FrameFault::shape)];
  if (shape.count > 0)
    out.push_back(fmt::format("{} frames were not {}×{} (lost; the first, frame {}, was {})",
                              shape.count, g.height, g.width, shape.first_id, shape.detail));
  const auto& type = tally_[static_cast<std::size_t>(FrameFault::type)];
  if (type.count > 0)
    out.push_back(fmt::format("{} frames were not {} (lost; the first, frame {}, was {})",
                              type.count, capture::to_string(g.type), type.first_id, type.detail));
  const auto& attrs = tally_[static_cast<std::size_t>(FrameFault::attributes)];
  if (attrs.count > 0)
    out.push_back(fmt::format(
        "{} frames had unreadable NDAttributes, so no routing or angle (lost; the first, "
        "frame {}: {})",
        attrs.count, attrs.first_id, attrs.detail));
  const std::pair<FrameFault, const char*> slot_faults[] = {
      {FrameFault::slot_taken, "were for a slot that holds a frame already"},
      {FrameFault::slot_beyond, "were for a slot beyond the frames expected"},
      {FrameFault::slot_missing, "had no slot for a slotted dataset"},
      {FrameFault::slot_unexpected, "had a slot for a dataset that is not slotted"},
  };
  for (const auto& [fault, what] : slot_faults) {
    const auto& t = tally_[static_cast<std::size_t>(fault)];
    if (t.count > 0)
      out.push_back(fmt::format("{} frames {} (lost; the first, frame {}: {})", t.count, what,
                                t.first_id, t.detail));
  }
  return out;
}

bool is_projection_stack(std::string_view path) noexcept {
  return path.ends_with("/data");
}

}  // namespace detail

Ending Ending::completed(AttributeValues close_values) {
  Ending e;
  e.attributes = std::move(close_values);
  return e;
}

Ending Ending::interrupted_by(std::string why, AttributeValues close_values) {
  Ending e;
  e.reason = std::move(why);
  e.interrupted = true;
  e.attributes = std::move(close_values);
  return e;
}

// ------------------------------------------------------------------ Impl

struct Writer::Impl {
  explicit Impl(WriterOptions options)
      : file(std::move(options)), queue(file.options().queue_capacity) {}

  void run() noexcept;
  void publish() noexcept {
    written.store(file.written(), std::memory_order_relaxed);
    processed.store(file.received(), std::memory_order_relaxed);
    failed.store(file.failed(), std::memory_order_relaxed);
  }

  detail::DxFile file;
  util::BoundedQueue<FrameRecord> queue;
  std::atomic<std::uint64_t> received{0};   // accepted by push()
  std::atomic<std::uint64_t> processed{0};  // handed to the file
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> failed{false};
  std::thread thread;
  std::mutex finish_mutex;
  Ending ending;  // set under finish_mutex before the queue closes
  std::optional<EndState> end;
  std::mutex late_mutex;                            // note() and add_columns() from any thread
  detail::LateItems late;                           // handed to the file after the queue is drained
  std::set<std::string, std::less<>> column_paths;  // added so far
  bool late_closed = false;
};

void Writer::Impl::run() noexcept {
  using Clock = std::chrono::steady_clock;
  const auto& o = file.options();
  std::vector<FrameRecord> batch;
  batch.reserve(o.max_batch);
  auto next_flush = Clock::now() + o.flush_period;
  for (;;) {
    auto first = queue.pop_for(std::max(Clock::duration::zero(), next_flush - Clock::now()));
    if (first) {
      batch.push_back(std::move(*first));
      while (batch.size() < o.max_batch) {
        auto more = queue.pop_for(std::chrono::milliseconds(0));
        if (!more) break;
        batch.push_back(std::move(*more));
      }
      file.write(batch);
      batch.clear();  // releases the owners: the frames' buffers go back
      publish();
    } else if (queue.closed() && queue.size() == 0) {
      break;  // closed, and nothing can arrive any more
    }
    if (Clock::now() >= next_flush) {
      file.flush();
      next_flush = Clock::now() + o.flush_period;
    }
  }
  {
    std::scoped_lock lock(late_mutex);  // late_closed: nothing more arrives
    file.add_late(std::move(late));
  }
  end = file.finish(ending);
  publish();
}

// ------------------------------------------------------------------ Writer

Writer::Writer(WriterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

Writer::~Writer() {
  finish(Ending::interrupted_by("writer destroyed before finish()"));
}

bool Writer::push(FrameRecord frame) {
  if (!impl_->queue.push(std::move(frame))) return false;
  impl_->received.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Writer::note(SlotEvent event) {
  std::scoped_lock lock(impl_->late_mutex);
  if (impl_->late_closed) return false;
  impl_->late.events.push_back(std::move(event));
  return true;
}

bool Writer::add_columns(std::vector<TableColumn> columns) {
  std::set<std::string, std::less<>> paths;
  for (const auto& c : columns) {
    detail::check_column_path(c);
    impl_->file.check_free(c.path);
    if (!paths.insert(c.path).second)
      throw std::invalid_argument(fmt::format("table column {}: given twice", c.path));
  }
  std::scoped_lock lock(impl_->late_mutex);
  if (impl_->late_closed) return false;
  const auto nested = [](std::string_view a, std::string_view b) {  // a lies inside b
    return a.size() > b.size() && a.starts_with(b) && a[b.size()] == '/';
  };
  for (const auto& p : paths) {
    for (const auto& q : impl_->column_paths) {
      if (p == q || nested(p, q) || nested(q, p))
        throw std::invalid_argument(
            fmt::format("table column {}: clashes with column {} added before", p, q));
    }
    for (const auto& q : paths) {
      if (nested(p, q))
        throw std::invalid_argument(fmt::format("table column {}: lies inside column {}", p, q));
    }
  }
  impl_->column_paths.insert(paths.begin(), paths.end());
  for (auto& c : columns) impl_->late.columns.push_back(std::move(c));
  return true;
}

EndState Writer::finish(Ending ending) noexcept {
  std::scoped_lock lock(impl_->finish_mutex);
  if (impl_->end) return *impl_->end;
  {
    std::scoped_lock late(impl_->late_mutex);
    impl_->late_closed = true;
  }
  impl_->ending = std::move(ending);
  impl_->queue.close();  // the thread drains what is queued, then finishes the file
  if (impl_->thread.joinable()) impl_->thread.join();
  return impl_->end.value_or(EndState{});
}

WriterStats Writer::stats() const {
  WriterStats s;
  s.received = impl_->received.load(std::memory_order_relaxed);
  s.written = impl_->written.load(std::memory_order_relaxed);
  s.lost = impl_->processed.load(std::memory_order_relaxed) - s.written;
  s.full_waits = impl_->queue.full_waits();
  s.failed = impl_->failed.load(std::memory_order_relaxed);
  return s;
}

const std::filesystem::path& Writer::path() const noexcept {
  return impl_->file.options().path;
}

}  // namespace pandafly::dx
