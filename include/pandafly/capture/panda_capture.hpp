#pragma once
// PandaCapture: the PandA data port's one reader loop. It decodes every frame
// of an acquisition into column blocks and hands them to a RowSink
// (capture/row_sink.hpp): PandaHdfSink writes one HDF5 file per acquisition
// (run_one(path, …), what `pandactl capture` does); PandaRowSink turns them
// into typed fly-scan rows for the merger; RowSinkTee feeds several.
//
// Threads: the calling thread owns the data socket (it runs run_one() and
// reads with BlockingDataClient::next(), or any DataEventSource) and calls
// the sink; a sink may hand the blocks on to a thread of its own (the HDF
// sink's writer thread owns the file). The reader decodes each frame
// straight out of its socket buffer (still in cache) into a block that ends
// at the next multiple of chunk_rows (the HDF file's chunk boundary, so whole
// chunks go from the block to the file without another copy), or when the
// block is batch_age old in a pause, or max_block_age old while frames keep
// coming. When the sink falls behind the reader waits in rows(), stops
// reading, and TCP flow control keeps the rest in the PandA's buffer —
// nothing is dropped here. Blocks are recycled (spare_block()).
//
// run_one() returns when the acquisition ends: END (any reason), the
// connection failing or closing (then `reconnected` tells whether the client
// could reconnect for the next one), a timeout without data, the sink
// failing (e.g. disk full: the reader then drains the acquisition so the
// PandA can be re-armed, rows counted as lost), or `stop` becoming true (see
// Settings::on_stop). Whatever the ending, the sink's finish() records it
// (the file is closed). A sink refusing the header (the file cannot be
// created: exists, permission; a column the rows need is missing) throws out
// of run_one(); the stream is then still inside that acquisition (below).
//
// Every acquisition starts at a header. When an earlier run_one() ended
// before its END (a timeout, a stop, a sink failure or refusal) the stream is
// still inside that acquisition: the next run_one() skips its remaining
// frames and END (counted in CaptureResult::skipped_rows) and waits for the
// next header.
// If no header comes (the timeout passes without any event) it returns with
// no file and `stopped_because` saying so.
//
// Example:
//   BlockingDataClient data{opts};
//   data.connect("127.0.0.1", 8889, 5s);
//   PandaCapture cap(data, settings);
//   std::atomic<bool> stop{false};               // set from a SIGINT handler
//   CaptureResult r = cap.run_one("scan_0001.h5", stop);
//   PandaRowSink rows({.on_rows = [&](std::span<const PandaRow> r) { merger.feed(r); }});
//   CaptureResult r2 = cap.run_one(rows, stop);  // the next acquisition, as rows
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "pandafly/capture/panda_hdf_writer.hpp"
#include "pandafly/capture/row_sink.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"

namespace pandafly::capture {

struct CaptureProgress {
  std::uint64_t rows = 0;
  double seconds = 0;          ///< since Start
  double rows_per_second = 0;  ///< over the last report period
  std::uint64_t queue_full_waits = 0;
};

struct CaptureSettings {
  /// No event at all for this long ends the acquisition ("timed out"); zero:
  /// wait for ever (e.g. for an arm from somewhere else).
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds flush_period{1000};
  std::chrono::milliseconds progress_period{1000};
  /// How long to keep reading for END after on_stop() was called.
  std::chrono::milliseconds stop_grace{2000};
  bool overwrite = false;
  /// scaled: float64 user values (RAW scaled here); as_sent: the values as
  /// the PandA sent them (RAW integers, scale/offset/units as attributes) —
  /// smaller files and less CPU at high rates.
  panda::ColumnDecoder::Mode columns = panda::ColumnDecoder::Mode::scaled;
  /// PandaHdfWriter::Options::chunk_rows; blocks for any sink end at its multiples.
  std::size_t chunk_rows = 262144;
  /// A block goes to the sink when it reaches a chunk boundary, or is this
  /// old when the stream pauses (no frame within this time)…
  std::chrono::milliseconds batch_age{50};
  /// …or is this old when the next frame comes: a slow steady stream never
  /// pauses, and its rows must still reach the sink (the file's SWMR readers,
  /// a merger). At high rates chunks fill sooner, so whole chunks still go to
  /// the file without a copy; a fly scan's rows want it short (~20 ms).
  std::chrono::milliseconds max_block_age{1000};
  /// Blocks queued between the threads at most (each up to chunk_rows rows;
  /// the HDF sink's queue).
  std::size_t queue_blocks = 16;
  /// Called once when `stop` is first seen (e.g. to disarm the PandA, so that
  /// an END arrives); if null, the acquisition stops at once.
  std::function<void()> on_stop;
  std::function<void(const CaptureProgress&)> on_progress;
  /// Recorded as why the capture ended when `stop` was set.
  std::string stop_reason = "stopped on request";
  /// If set, called when `stop` is first seen and used instead of stop_reason
  /// (e.g. to name the signal that arrived).
  std::function<std::string()> describe_stop;
  /// If set and true while waiting for END after on_stop() (e.g. a second
  /// Ctrl-C), the wait ends at once; the file is closed as for any stop.
  std::function<bool()> hurry;
};

struct CaptureResult {
  std::filesystem::path path;  ///< run_one(path, …); empty for run_one(sink, …)
  /// The sink started an acquisition (the HDF sink: the file exists); false:
  /// it ended before Start (no file).
  bool file_written = false;
  EndState end;                 ///< what the sink's finish() recorded (the file's /end)
  std::string stopped_because;  ///< "" after END; else why it stopped
  bool reconnected = false;     ///< the connection failed and was re-established
  /// Rows (and whether the END) of an earlier acquisition's rest skipped
  /// before this acquisition's header; see the header comment.
  std::uint64_t skipped_rows = 0;
  bool skipped_end = false;
  std::uint64_t queue_full_waits = 0;
  double seconds = 0;
};

/// Where the reader loop's events come from: a BlockingDataClient, or
/// anything handing out a DataConnection's events the same way (recorded or
/// hand-built bytes in tests). Called on the capture's thread only.
class DataEventSource {
 public:
  virtual ~DataEventSource() = default;
  /// The next event (never NeedData), waiting at most `timeout`:
  /// DataError{panda::Errc::timed_out} when nothing came (the stream stays
  /// usable). After any other DataError the stream is over.
  [[nodiscard]] virtual panda::DataEvent next(std::chrono::milliseconds timeout) = 0;
  /// After the stream ended with a DataError: starts a fresh one for the next
  /// acquisition; false if that failed.
  [[nodiscard]] virtual bool reconnect(std::chrono::milliseconds timeout) = 0;
};

class PandaCapture {
 public:
  PandaCapture(panda::BlockingDataClient& data, CaptureSettings settings);
  /// `source` must outlive the capture.
  PandaCapture(DataEventSource& source, CaptureSettings settings);
  ~PandaCapture();
  PandaCapture(const PandaCapture&) = delete;
  PandaCapture& operator=(const PandaCapture&) = delete;

  /// Captures the next acquisition into `path` (a PandaHdfSink with the
  /// settings' overwrite, chunk_rows, queue_blocks, flush_period); see the
  /// header comment. `stop` may be set from any thread (or a signal handler).
  CaptureResult run_one(const std::filesystem::path& path, const std::atomic<bool>& stop);
  /// Hands the next acquisition to `sink`; the same loop and endings.
  CaptureResult run_one(RowSink& sink, const std::atomic<bool>& stop);

 private:
  std::unique_ptr<DataEventSource> owned_;  // the adapter over a BlockingDataClient
  DataEventSource& data_;
  CaptureSettings settings_;
};

}  // namespace pandafly::capture
