#include "pandafly/capture/panda_capture.hpp"

#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "pandafly/util/bounded_queue.hpp"

namespace pandafly::capture {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct RowsBatch {
  std::vector<std::byte> bytes;  // whole samples
  std::size_t samples = 0;
  std::size_t sample_bytes = 0;
};
using Message = std::variant<panda::StartData, RowsBatch, FinishInfo>;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// The writer thread: owns the file from Start to Finish.
class WriterThread {
 public:
  WriterThread(const std::filesystem::path& path, const CaptureSettings& s)
      : writer_({.path = path, .overwrite = s.overwrite, .chunk_rows = s.chunk_rows}),
        queue_(s.queue_batches),
        flush_period_(s.flush_period),
        mode_(s.columns),
        thread_([this] { run(); }) {}
  ~WriterThread() { stop(); }
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  /// Hands over the Start and waits until the file exists; throws why not.
  void start(panda::StartData start) {
    queue_.push(std::move(start));
    started_.get_future().get();
  }
  void rows(RowsBatch batch) { (void)queue_.push(std::move(batch)); }
  /// An empty byte buffer for the next batch: one the writer has finished
  /// with when there is one, so that batches reuse memory the process has
  /// already touched (fresh 1 MiB buffers cost a page fault per 4 KiB).
  [[nodiscard]] std::vector<std::byte> spare_buffer() {
    std::scoped_lock lock(mutex_);
    if (spare_.empty()) return {};
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
      if (auto* st = std::get_if<panda::StartData>(&**m)) on_start(*st);
      if (auto* rows = std::get_if<RowsBatch>(&**m)) on_rows(std::move(*rows));
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

  void on_start(const panda::StartData& start) {
    try {
      auto made = panda::ColumnDecoder::make(start, mode_);
      if (auto* err = std::get_if<panda::DataError>(&made)) throw std::runtime_error(err->message);
      decoder_.emplace(std::get<panda::ColumnDecoder>(std::move(made)));
      block_ = decoder_->make_block();
      writer_.start(start, decoder_->specs());
      started_.set_value();
    } catch (...) {
      failed_ = true;
      started_.set_exception(std::current_exception());
    }
  }

  void on_rows(RowsBatch batch) {
    if (!decoder_ || writer_.state() == PandaHdfWriter::State::idle) return;
    block_.clear();
    decoder_->append(panda::FrameData{batch.bytes, batch.samples, batch.sample_bytes}, block_);
    note(writer_.write(block_));
    std::scoped_lock lock(mutex_);
    if (spare_.size() < 4) spare_.push_back(std::move(batch.bytes));
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
  panda::ColumnDecoder::Mode mode_;
  std::optional<panda::ColumnDecoder> decoder_;
  panda::ColumnBlock block_;
  std::promise<void> started_;
  EndState end_;
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;  // guards failure_ and spare_
  std::string failure_;
  std::vector<std::vector<std::byte>> spare_;  // batch buffers to reuse
  std::thread thread_;                         // last: starts after everything above exists
};

}  // namespace

PandaCapture::PandaCapture(panda::BlockingDataClient& data, CaptureSettings settings)
    : data_(data), settings_(std::move(settings)) {}

/// One acquisition's reader loop; see run_one().
class CaptureRun {
 public:
  CaptureRun(panda::BlockingDataClient& data, const CaptureSettings& s,
             const std::filesystem::path& path, const std::atomic<bool>& stop)
      : data_(data), s_(s), stop_(stop) {
    result_.path = path;
  }

  CaptureResult run() {
    while (!done_) {
      check_stop();
      if (done_) break;
      auto ev = data_.next(batch_.bytes.empty() ? 100ms : s_.batch_age);
      std::visit([this](auto& e) { on(e); }, ev);
      report_progress();
    }
    hand_over_batch();
    if (writer_) {
      result_.end = writer_->finish(finish_);
      result_.queue_full_waits = writer_->full_waits();
    }
    result_.stopped_because = finish_.end ? "" : finish_.stopped_because;
    result_.seconds = started_ ? seconds_since(*started_) : 0.0;
    return result_;
  }

 private:
  void check_stop() {
    const bool writer_failed = writer_ && writer_->failed();
    if ((stop_.load() || writer_failed) && !stopping_) {
      stopping_ = true;
      why_stop_ = writer_failed ? "writer failed: " + writer_->failure() : s_.stop_reason;
      if (!s_.on_stop || !writer_) return end_with(FinishInfo::stopped(why_stop_));
      s_.on_stop();
      grace_ = Clock::now() + s_.stop_grace;
    }
    if (stopping_ && Clock::now() > grace_) {
      end_with(FinishInfo::stopped(why_stop_ + "; no END within the grace period"));
    }
  }

  void on(const panda::ReadyData&) {}
  void on(const panda::NeedData&) {}
  void on(const panda::StartData& start) {
    if (s_.on_start) s_.on_start(start);
    writer_.emplace(result_.path, s_);
    writer_->start(start);  // throws when the file cannot be created
    result_.file_written = true;
    started_ = Clock::now();
    last_event_ = *started_;
  }
  void on(const panda::FrameData& f) {
    last_event_ = Clock::now();
    if (batch_.bytes.empty()) batch_started_ = last_event_;
    batch_.bytes.insert(batch_.bytes.end(), f.bytes.begin(), f.bytes.end());
    batch_.samples += f.samples;
    batch_.sample_bytes = f.sample_bytes;
    rows_ += f.samples;
    if (batch_.bytes.size() >= s_.batch_bytes) hand_over_batch();
  }
  void on(const panda::EndData& end) { end_with(FinishInfo::from_end(end)); }
  void on(const panda::DataError& err) {
    if (err.code == panda::Errc::timed_out) return on_idle();
    // The stream is over; a fresh connection serves the next acquisition.
    end_with(err.code == panda::Errc::connection_lost ||
                     err.code == panda::DataErrc::closed_before_end
                 ? FinishInfo::stopped(
                       fmt::format("connection lost after {} rows: {}", rows_, err.message))
                 : FinishInfo::stopped(err.message));
    try {
      data_.reconnect(5s);
      result_.reconnected = true;
    } catch (const std::exception&) {
      result_.reconnected = false;
    }
  }
  void on_idle() {
    if (!batch_.bytes.empty() && Clock::now() - batch_started_ >= s_.batch_age) hand_over_batch();
    if (s_.timeout.count() > 0 && Clock::now() - last_event_ >= s_.timeout) {
      end_with(FinishInfo::stopped(fmt::format("timed out: no data for {:.1f} s",
                                               std::chrono::duration<double>(s_.timeout).count())));
    }
  }

  void hand_over_batch() {
    if (batch_.bytes.empty() || !writer_) return;
    writer_->rows(std::move(batch_));
    batch_ = RowsBatch{};
    batch_.bytes = writer_->spare_buffer();
  }
  void end_with(FinishInfo info) {
    finish_ = std::move(info);
    done_ = true;
  }
  void report_progress() {
    if (!s_.on_progress || !started_) return;
    const auto now = Clock::now();
    if (now - last_report_ < s_.progress_period) return;
    const double dt = std::chrono::duration<double>(now - last_report_).count();
    s_.on_progress({rows_, seconds_since(*started_),
                    static_cast<double>(rows_ - reported_rows_) / dt,
                    writer_ ? writer_->full_waits() : 0});
    last_report_ = now;
    reported_rows_ = rows_;
  }

  panda::BlockingDataClient& data_;
  const CaptureSettings& s_;
  const std::atomic<bool>& stop_;
  CaptureResult result_;
  std::optional<WriterThread> writer_;
  RowsBatch batch_;
  FinishInfo finish_;
  std::optional<Clock::time_point> started_;
  Clock::time_point last_event_ = Clock::now();
  Clock::time_point batch_started_;
  Clock::time_point grace_;
  Clock::time_point last_report_ = Clock::now();
  std::uint64_t rows_ = 0;
  std::uint64_t reported_rows_ = 0;
  std::string why_stop_;
  bool stopping_ = false;
  bool done_ = false;
};

CaptureResult PandaCapture::run_one(const std::filesystem::path& path,
                                    const std::atomic<bool>& stop) {
  return CaptureRun(data_, settings_, path, stop).run();
}

}  // namespace pandafly::capture
