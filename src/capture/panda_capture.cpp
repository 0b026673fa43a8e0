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

struct StartMessage {
  panda::StartData start;
  std::vector<panda::ColumnSpec> columns;
};
using Message = std::variant<StartMessage, panda::ColumnBlock, FinishInfo>;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// The writer thread: owns the file from Start to Finish.
class WriterThread {
 public:
  WriterThread(const std::filesystem::path& path, const CaptureSettings& s)
      : writer_({.path = path, .overwrite = s.overwrite, .chunk_rows = s.chunk_rows}),
        queue_(s.queue_blocks),
        flush_period_(s.flush_period),
        thread_([this] { run(); }) {}
  ~WriterThread() { stop(); }
  WriterThread(const WriterThread&) = delete;
  WriterThread& operator=(const WriterThread&) = delete;

  /// Hands over the Start and waits until the file exists; throws why not.
  void start(panda::StartData start, std::vector<panda::ColumnSpec> columns) {
    queue_.push(StartMessage{std::move(start), std::move(columns)});
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
      auto ev = data_.next(block_.rows() == 0 ? 100ms : s_.batch_age);
      std::visit([this](auto& e) { on(e); }, ev);
      report_progress();
    }
    hand_over_block();
    if (writer_) {
      result_.end = writer_->finish(finish_);
      result_.queue_full_waits = writer_->full_waits();
    }
    result_.stopped_because = finish_.stopped_because;
    result_.seconds = started_ ? seconds_since(*started_) : 0.0;
    return result_;
  }

 private:
  void check_stop() {
    const bool writer_failed = writer_ && writer_->failed();
    if ((stop_.load() || writer_failed) && !stopping_) {
      stopping_ = true;
      why_stop_ = writer_failed      ? "writer failed: " + writer_->failure()
                  : s_.describe_stop ? s_.describe_stop()
                                     : s_.stop_reason;
      if (!s_.on_stop || !writer_) return end_with(FinishInfo::stopped(why_stop_));
      s_.on_stop();
      grace_ = Clock::now() + s_.stop_grace;
    }
    if (stopping_ && Clock::now() > grace_) {
      end_with(FinishInfo::stopped(why_stop_ + "; no END within the grace period"));
    } else if (stopping_ && s_.hurry && s_.hurry()) {
      end_with(FinishInfo::stopped(why_stop_ + "; stopped waiting for END"));
    }
  }

  void on(const panda::ReadyData&) {}
  void on(const panda::NeedData&) {}
  void on(const panda::StartData& start) {
    auto made = panda::ColumnDecoder::make(start, s_.columns);
    if (auto* err = std::get_if<panda::DataError>(&made)) throw std::runtime_error(err->message);
    decoder_.emplace(std::get<panda::ColumnDecoder>(std::move(made)));
    block_ = decoder_->make_block();
    writer_.emplace(result_.path, s_);
    writer_->start(start, decoder_->specs());  // throws when the file cannot be created
    result_.file_written = true;
    started_ = Clock::now();
    last_event_ = *started_;
  }
  // Frames are decoded here, on the socket's thread, straight into blocks
  // that end at the writer's chunk boundaries, so whole chunks go from the
  // block to the file without another copy.
  void on(const panda::FrameData& f) {
    last_event_ = Clock::now();
    if (!decoder_) {  // the rest of an acquisition an earlier run left before its END
      result_.skipped_rows += f.samples;
      return;
    }
    for (std::size_t done = 0; done < f.samples;) {
      if (block_.rows() == 0) block_started_ = last_event_;
      const std::size_t to_boundary = s_.chunk_rows - (rows_ + block_.rows()) % s_.chunk_rows;
      const std::size_t n = std::min(f.samples - done, to_boundary);
      decoder_->append(
          {f.bytes.subspan(done * f.sample_bytes, n * f.sample_bytes), n, f.sample_bytes}, block_);
      done += n;
      if (n == to_boundary) hand_over_block();
    }
  }
  void on(const panda::EndData& end) {
    if (!decoder_) {  // that earlier acquisition's END: the next event is a header
      last_event_ = Clock::now();
      result_.skipped_end = true;
      return;
    }
    auto info = FinishInfo::from_end(end);
    if (stopping_) info.stopped_because = why_stop_;  // the END we asked for by disarming
    end_with(std::move(info));
  }
  void on(const panda::DataError& err) {
    if (err.code == panda::Errc::timed_out) return on_idle();
    // The stream is over; a fresh connection serves the next acquisition.
    end_with(err.code == panda::Errc::connection_lost ||
                     err.code == panda::DataErrc::closed_before_end
                 ? FinishInfo::stopped(fmt::format("connection lost after {} rows: {}",
                                                   rows_ + block_.rows(), err.message))
                 : FinishInfo::stopped(err.message));
    try {
      data_.reconnect(5s);
      result_.reconnected = true;
    } catch (const std::exception&) {
      result_.reconnected = false;
    }
  }
  void on_idle() {
    if (block_.rows() > 0 && Clock::now() - block_started_ >= s_.batch_age) hand_over_block();
    if (s_.timeout.count() > 0 && Clock::now() - last_event_ >= s_.timeout) {
      const double t = std::chrono::duration<double>(s_.timeout).count();
      end_with(FinishInfo::stopped(
          decoder_ || (result_.skipped_rows == 0 && !result_.skipped_end)
              ? fmt::format("timed out: no data for {:.1f} s", t)
              : fmt::format("timed out: no data for {:.1f} s and no header, after skipping the "
                            "rest of an earlier acquisition ({} rows{})",
                            t, result_.skipped_rows, result_.skipped_end ? " and its END" : "")));
    }
  }

  void hand_over_block() {
    if (block_.rows() == 0 || !writer_) return;
    rows_ += block_.rows();
    writer_->rows(std::move(block_));
    auto spare = writer_->spare_block();
    block_ = spare ? std::move(*spare) : decoder_->make_block();
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
    const std::uint64_t rows = rows_ + block_.rows();
    s_.on_progress({rows, seconds_since(*started_), static_cast<double>(rows - reported_rows_) / dt,
                    writer_ ? writer_->full_waits() : 0});
    last_report_ = now;
    reported_rows_ = rows;
  }

  panda::BlockingDataClient& data_;
  const CaptureSettings& s_;
  const std::atomic<bool>& stop_;
  CaptureResult result_;
  std::optional<WriterThread> writer_;
  std::optional<panda::ColumnDecoder> decoder_;
  panda::ColumnBlock block_;  // rows decoded, not yet handed to the writer
  FinishInfo finish_;
  std::optional<Clock::time_point> started_;
  Clock::time_point last_event_ = Clock::now();
  Clock::time_point block_started_;
  Clock::time_point grace_;
  Clock::time_point last_report_ = Clock::now();
  std::uint64_t rows_ = 0;  // rows handed to the writer
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
