#pragma once
// PandaCapture: PandA data port → HDF5 file, one acquisition per file.
//
// Two threads, one resource each: the calling thread owns the data socket
// (it runs run_one() and reads with BlockingDataClient::next()); a writer
// thread, started per acquisition, owns the HDF5 file (PandaHdfWriter). They
// meet in a BoundedQueue of column blocks: the reader decodes each frame
// straight out of its socket buffer (still in cache) into a block that ends at
// the file's next chunk boundary, so whole chunks go from the block to the
// file without another copy. When the writer falls behind the reader blocks in
// push(), stops reading, and TCP flow control keeps the rest in the PandA's
// buffer — nothing is dropped here. The writer flushes on a timer so SWMR
// readers follow; blocks are recycled.
//
// run_one() returns when the acquisition ends: END (any reason), the
// connection failing or closing (then `reconnected` tells whether the client
// could reconnect for the next one), a timeout without data, the writer
// failing (e.g. disk full: the reader then drains the acquisition so the
// PandA can be re-armed, rows counted as lost), or `stop` becoming true (see
// Settings::on_stop). Whatever the ending, the file is closed and records it.
// Errors that prevent any file (cannot create it: exists, permission) throw.
//
// Every acquisition starts at a header. When an earlier run_one() ended
// before its END (a timeout, a stop, a writer failure) the stream is still
// inside that acquisition: the next run_one() skips its remaining frames and
// END (counted in CaptureResult::skipped_rows) and waits for the next header.
// If no header comes (the timeout passes without any event) it returns with
// no file and `stopped_because` saying so.
//
// Example:
//   BlockingDataClient data{opts};
//   data.connect("127.0.0.1", 8889, 5s);
//   PandaCapture cap(data, settings);
//   std::atomic<bool> stop{false};               // set from a SIGINT handler
//   CaptureResult r = cap.run_one("scan_0001.h5", stop);
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "pandafly/capture/panda_hdf_writer.hpp"
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
  std::size_t chunk_rows = 262144;  ///< PandaHdfWriter::Options::chunk_rows
  /// A block goes to the writer when it reaches a chunk boundary or is this old.
  std::chrono::milliseconds batch_age{50};
  /// Blocks queued between the threads at most (each up to chunk_rows rows).
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
  std::filesystem::path path;
  bool file_written = false;    ///< false: it ended before Start (no file)
  EndState end;                 ///< what the file records
  std::string stopped_because;  ///< "" after END; else why it stopped
  bool reconnected = false;     ///< the connection failed and was re-established
  /// Rows (and whether the END) of an earlier acquisition's rest skipped
  /// before this acquisition's header; see the header comment.
  std::uint64_t skipped_rows = 0;
  bool skipped_end = false;
  std::uint64_t queue_full_waits = 0;
  double seconds = 0;
};

class PandaCapture {
 public:
  PandaCapture(panda::BlockingDataClient& data, CaptureSettings settings);

  /// Captures the next acquisition into `path`; see the header comment.
  /// `stop` may be set from any thread (or a signal handler).
  CaptureResult run_one(const std::filesystem::path& path, const std::atomic<bool>& stop);

 private:
  panda::BlockingDataClient& data_;
  CaptureSettings settings_;
};

}  // namespace pandafly::capture
