#include "pandafly/capture/row_sink.hpp"

#include <future>
#include <stdexcept>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "pandafly/util/bounded_queue.hpp"

namespace pandafly::capture {
namespace {

using Clock = std::chrono::steady_clock;

std::string end_text(const FinishInfo& info) {
  if (info.end) {
    return info.end->reason_text.empty() ? std::string(panda::to_string(info.end->reason))
                                         : info.end->reason_text;
  }
  return info.stopped_because.empty() ? "stopped without END" : info.stopped_because;
}

}  // namespace

EndState end_state_of(const FinishInfo& info, std::uint64_t received, std::uint64_t stored,
                      std::string_view failure) {
  EndState end;
  end.rows_received = received;
  end.rows_written = stored;
  end.rows_lost = received - stored;
  if (info.end) end.panda_reason = info.end->reason;
  end.reason = !failure.empty() ? std::string(failure) : end_text(info);
  if (failure.empty() && info.end && !info.stopped_because.empty())
    end.reason = info.stopped_because + "; END " + end_text(info);
  end.complete = failure.empty() && info.end && info.end->reason == panda::EndReason::ok &&
                 end.rows_lost == 0 && info.end->samples == received;
  return end;
}

// ------------------------------------------------------------------ PandaHdfSink

/// The writer thread: owns the file from Start to Finish. The capture's
/// thread pushes messages; blocks the writer is done with come back as spares.
class PandaHdfSink::Thread {
 public:
  explicit Thread(const Options& o)
      : writer_({.path = o.path, .overwrite = o.overwrite, .chunk_rows = o.chunk_rows}),
        queue_(o.queue_blocks),
        flush_period_(o.flush_period),
        thread_([this] { run(); }) {}
  ~Thread() { stop(); }
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  /// Hands over the Start and waits until the file exists; throws why not.
  void start(panda::StartData start, std::vector<panda::ColumnSpec> columns) {
    (void)queue_.push(StartMessage{std::move(start), std::move(columns)});
    started_.get_future().get();
  }
  void rows(panda::ColumnBlock block) { (void)queue_.push(std::move(block)); }
  /// A block the writer has finished with, emptied, if there is one: blocks
  /// are reused so that memory the process has touched serves again (fresh
  /// buffers cost a page fault per 4 KiB).
  [[nodiscard]] std::optional<panda::ColumnBlock> spare_block() {
    std::scoped_lock lock(mutex_);
    if (spare_.empty()) return std::nullopt;
    auto b = std::move(spare_.back());
    spare_.pop_back();
    b.clear();
    return b;
  }
  /// Records the end, closes the file, joins the thread.
  EndState finish(FinishInfo info) {
    (void)queue_.push(std::move(info));
    stop();
    return end_;
  }
  [[nodiscard]] bool failed() const noexcept { return failed_.load(); }
  [[nodiscard]] std::string failure() const {
    std::scoped_lock lock(mutex_);
    return failure_;
  }
  [[nodiscard]] std::uint64_t full_waits() const { return queue_.full_waits(); }

 private:
  struct StartMessage {
    panda::StartData start;
    std::vector<panda::ColumnSpec> columns;
  };
  using Message = std::variant<StartMessage, panda::ColumnBlock, FinishInfo>;

  void stop() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
  }

  void run() {
    auto last_flush = Clock::now();
    while (auto m = next_message()) {
      if (Clock::now() - last_flush >= flush_period_) {
        note(writer_.flush());
        last_flush = Clock::now();
      }
      if (!*m) continue;  // only a flush tick
      if (auto* st = std::get_if<StartMessage>(&**m)) on_start(*st);
      if (auto* rows = std::get_if<panda::ColumnBlock>(&**m)) on_rows(std::move(*rows));
      if (auto* fin = std::get_if<FinishInfo>(&**m)) return on_finish(*fin);
    }
    on_finish(FinishInfo::stopped("capture ended without a finish message"));
  }

  /// A message, an empty optional at a flush tick, nullopt when closed and drained.
  std::optional<std::optional<Message>> next_message() {
    auto m = queue_.pop_for(flush_period_);
    if (m) return std::optional<Message>{std::move(*m)};
    if (queue_.closed() && queue_.size() == 0) return std::nullopt;
    return std::optional<Message>{};
  }

  void on_start(const StartMessage& m) {
    try {
      writer_.start(m.start, m.columns);
      started_.set_value();
    } catch (...) {
      failed_ = true;
      started_.set_exception(std::current_exception());
    }
  }

  void on_rows(panda::ColumnBlock block) {
    if (writer_.state() == PandaHdfWriter::State::idle) return;
    note(writer_.write(block));
    std::scoped_lock lock(mutex_);
    if (spare_.size() < 4) spare_.push_back(std::move(block));
  }

  void on_finish(const FinishInfo& info) {
    if (writer_.state() == PandaHdfWriter::State::idle) return;  // no file was created
    end_ = writer_.finish(info);
  }

  void note(bool ok) {
    if (ok || failed_) return;
    std::scoped_lock lock(mutex_);
    failure_ = writer_.failure();
    failed_ = true;
  }

  PandaHdfWriter writer_;
  util::BoundedQueue<Message> queue_;
  std::chrono::milliseconds flush_period_;
  std::promise<void> started_;
  EndState end_;
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;  // guards failure_ and spare_
  std::string failure_;
  std::vector<panda::ColumnBlock> spare_;  // blocks to reuse
  std::thread thread_;                     // last: starts after everything above exists
};

PandaHdfSink::PandaHdfSink(Options options) : options_(std::move(options)) {}
PandaHdfSink::~PandaHdfSink() = default;

void PandaHdfSink::start(
    const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
    panda::ColumnDecoder::Mode /*mode: the file records the columns as decoded*/) {
  if (thread_) throw std::logic_error("PandaHdfSink: one acquisition per sink (per file)");
  thread_ = std::make_unique<Thread>(options_);
  try {
    thread_->start(start, columns);  // throws when the file cannot be created
  } catch (...) {
    thread_.reset();
    throw;
  }
}

void PandaHdfSink::rows(panda::ColumnBlock&& block) {
  if (thread_) thread_->rows(std::move(block));
}

EndState PandaHdfSink::finish(const FinishInfo& info) noexcept {
  if (!thread_) return {};
  full_waits_ = thread_->full_waits();
  return thread_->finish(info);  // the thread stays joined; the sink is spent
}

bool PandaHdfSink::failed() const noexcept {
  return thread_ && thread_->failed();
}

std::string PandaHdfSink::failure() const {
  return failed() ? "writer failed: " + thread_->failure() : std::string{};
}

std::optional<panda::ColumnBlock> PandaHdfSink::spare_block() {
  return thread_ ? thread_->spare_block() : std::nullopt;
}

std::uint64_t PandaHdfSink::full_waits() const noexcept {
  return thread_ ? thread_->full_waits() : full_waits_;
}

// ------------------------------------------------------------------ PandaRowSink

PandaRowSink::PandaRowSink(Options options) : options_(std::move(options)), rows_(options_.rows) {}

void PandaRowSink::start(const panda::StartData& start,
                         const std::vector<panda::ColumnSpec>& columns,
                         panda::ColumnDecoder::Mode mode) {
  rows_.start(start, columns, mode);  // throws MissingColumns, std::invalid_argument
  received_ = delivered_ = 0;
  failure_.clear();
  if (!options_.on_start) return;
  try {
    options_.on_start(rows_.acquisition());
  } catch (const std::exception& e) {
    fail("row consumer failed", e.what());
  }
}

void PandaRowSink::rows(panda::ColumnBlock&& block) {
  received_ += block.rows();
  if (failed()) return;  // the consumer is gone: counted, not delivered
  batch_.clear();
  try {
    rows_.append(block, batch_);
  } catch (const std::exception& e) {  // a block unlike the header: nothing more can follow
    return fail("fly-scan rows failed", e.what());
  }
  spare_ = std::move(block);
  if (!options_.on_rows) {
    delivered_ += batch_.size();
    return;
  }
  try {
    options_.on_rows(batch_);
    delivered_ += batch_.size();
  } catch (const std::exception& e) {
    fail("row consumer failed", e.what());
  }
}

EndState PandaRowSink::finish(const FinishInfo& info) noexcept {
  auto end = end_state_of(info, received_, delivered_, failure_);
  if (options_.on_end) {
    try {
      options_.on_end(info);
    } catch (const std::exception& e) {
      end.close_error = fmt::format("row consumer failed at the end: {}", e.what());
      end.complete = false;
    }
  }
  return end;
}

std::optional<panda::ColumnBlock> PandaRowSink::spare_block() {
  if (!spare_) return std::nullopt;
  auto b = std::move(*spare_);
  spare_.reset();
  b.clear();
  return b;
}

void PandaRowSink::fail(std::string_view who, std::string_view what) noexcept {
  try {
    failure_ = fmt::format("{}: {}", who, what);
  } catch (...) {
    failure_ = "row sink failed";
  }
}

// ------------------------------------------------------------------ RowSinkTee

RowSinkTee::RowSinkTee(std::vector<RowSink*> sinks) : sinks_(std::move(sinks)) {
  if (sinks_.empty()) throw std::invalid_argument("RowSinkTee: no sinks");
  for (auto* s : sinks_)
    if (s == nullptr) throw std::invalid_argument("RowSinkTee: a null sink");
}

void RowSinkTee::start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
                       panda::ColumnDecoder::Mode mode) {
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    try {
      sinks_[i]->start(start, columns, mode);
    } catch (const std::exception& e) {
      const auto why = FinishInfo::stopped(fmt::format("refused by another sink: {}", e.what()));
      for (std::size_t j = 0; j < i; ++j) (void)sinks_[j]->finish(why);
      throw;
    }
  }
}

void RowSinkTee::rows(panda::ColumnBlock&& block) {
  for (std::size_t i = 0; i + 1 < sinks_.size(); ++i) sinks_[i]->rows(panda::ColumnBlock{block});
  sinks_.back()->rows(std::move(block));
}

EndState RowSinkTee::finish(const FinishInfo& info) noexcept {
  EndState first = sinks_.front()->finish(info);
  for (std::size_t i = 1; i < sinks_.size(); ++i) (void)sinks_[i]->finish(info);
  return first;
}

bool RowSinkTee::failed() const noexcept {
  for (auto* s : sinks_)
    if (s->failed()) return true;
  return false;
}

std::string RowSinkTee::failure() const {
  for (auto* s : sinks_)
    if (s->failed()) return s->failure();
  return {};
}

std::optional<panda::ColumnBlock> RowSinkTee::spare_block() {
  return sinks_.back()->spare_block();
}

std::uint64_t RowSinkTee::full_waits() const noexcept {
  std::uint64_t n = 0;
  for (auto* s : sinks_) n += s->full_waits();
  return n;
}

}  // namespace pandafly::capture
