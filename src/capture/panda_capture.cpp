#include "pandafly/capture/panda_capture.hpp"

#include <optional>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

namespace pandafly::capture {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// The BlockingDataClient as an event source.
class ClientSource final : public DataEventSource {
 public:
  explicit ClientSource(panda::BlockingDataClient& client) : client_(client) {}
  panda::DataEvent next(std::chrono::milliseconds timeout) override {
    return client_.next(timeout);
  }
  bool reconnect(std::chrono::milliseconds timeout) override {
    try {
      client_.reconnect(timeout);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

 private:
  panda::BlockingDataClient& client_;
};

}  // namespace

PandaCapture::PandaCapture(panda::BlockingDataClient& data, CaptureSettings settings)
    : owned_(std::make_unique<ClientSource>(data)),
      data_(*owned_),
      settings_(std::move(settings)) {}

PandaCapture::PandaCapture(DataEventSource& source, CaptureSettings settings)
    : data_(source), settings_(std::move(settings)) {}

PandaCapture::~PandaCapture() = default;

/// One acquisition's reader loop; see run_one().
class CaptureRun {
 public:
  CaptureRun(DataEventSource& data, const CaptureSettings& s, RowSink& sink,
             const std::atomic<bool>& stop)
      : data_(data), s_(s), sink_(sink), stop_(stop) {}

  CaptureResult run() {
    while (!done_) {
      check_stop();
      if (done_) break;
      auto ev = data_.next(block_.rows() == 0 ? 100ms : s_.batch_age);
      std::visit([this](auto& e) { on(e); }, ev);
      report_progress();
    }
    hand_over_block();
    if (started_) {
      result_.end = sink_.finish(finish_);
      result_.queue_full_waits = sink_.full_waits();
    }
    result_.stopped_because = finish_.stopped_because;
    result_.seconds = started_ ? seconds_since(*started_) : 0.0;
    return result_;
  }

 private:
  void check_stop() {
    const bool sink_failed = started_ && sink_.failed();
    if ((stop_.load() || sink_failed) && !stopping_) {
      stopping_ = true;
      why_stop_ = sink_failed        ? sink_.failure()
                  : s_.describe_stop ? s_.describe_stop()
                                     : s_.stop_reason;
      if (!s_.on_stop || !started_) return end_with(FinishInfo::stopped(why_stop_));
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
    sink_.start(start, decoder_->specs(), s_.columns);  // throws when the sink refuses
    result_.file_written = true;
    started_ = Clock::now();
    last_event_ = *started_;
  }
  // Frames are decoded here, on the socket's thread, straight into blocks
  // that end at the HDF writer's chunk boundaries, so whole chunks go from the
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
    // A steady stream never pauses for batch_age: age the block here too.
    if (block_.rows() > 0 && last_event_ - block_started_ >= s_.max_block_age) hand_over_block();
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
    result_.reconnected = data_.reconnect(5s);
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
    if (block_.rows() == 0 || !started_) return;
    rows_ += block_.rows();
    sink_.rows(std::move(block_));
    auto spare = sink_.spare_block();
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
                    sink_.full_waits()});
    last_report_ = now;
    reported_rows_ = rows;
  }

  DataEventSource& data_;
  const CaptureSettings& s_;
  RowSink& sink_;
  const std::atomic<bool>& stop_;
  CaptureResult result_;
  std::optional<panda::ColumnDecoder> decoder_;
  panda::ColumnBlock block_;  // rows decoded, not yet handed to the sink
  FinishInfo finish_;
  std::optional<Clock::time_point> started_;  // set once the sink accepted the header
  Clock::time_point last_event_ = Clock::now();
  Clock::time_point block_started_;
  Clock::time_point grace_;
  Clock::time_point last_report_ = Clock::now();
  std::uint64_t rows_ = 0;  // rows handed to the sink
  std::uint64_t reported_rows_ = 0;
  std::string why_stop_;
  bool stopping_ = false;
  bool done_ = false;
};

CaptureResult PandaCapture::run_one(const std::filesystem::path& path,
                                    const std::atomic<bool>& stop) {
  PandaHdfSink file({.path = path,
                     .overwrite = settings_.overwrite,
                     .chunk_rows = settings_.chunk_rows,
                     .queue_blocks = settings_.queue_blocks,
                     .flush_period = settings_.flush_period});
  auto result = run_one(file, stop);
  result.path = path;
  return result;
}

CaptureResult PandaCapture::run_one(RowSink& sink, const std::atomic<bool>& stop) {
  return CaptureRun(data_, settings_, sink, stop).run();
}

}  // namespace pandafly::capture
