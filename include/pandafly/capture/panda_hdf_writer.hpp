#pragma once
// PandaHdfWriter: one acquisition of PandA rows into one HDF5 file, readable
// while it is written (SWMR) and after any ending — END, Ctrl-C, a lost
// connection or a full disk.
//
// File layout:
//   /                       attributes arm_time, start_time, hw_time_offset_ns
//                           (when known), missed, processing, format
//   /<column>               one 1-D dataset per ColumnSpec, named by its
//                           name ("INENC1.VAL.Mean"), in the column's type
//                           (uint32, int32, int64, float64; int96 as the
//                           compound {lo uint64, hi int32} that h5py reads,
//                           see h5/datatype.hpp), chunks of
//                           chunk_rows rows; attributes field, capture, units,
//                           scale and offset (the last two when the header
//                           gave them)
//   /end/rows_received      uint64  rows handed to write()      } updated at
//   /end/rows_written       uint64  rows stored in every column } every flush()
//                                   (== the columns' length)
//   /end/rows_lost          uint64  rows_received - rows_written
//   /end/reason             string  "capture in progress" until finish(); then
//                                   the END reason ("Ok", "Disarmed", ...) or why
//                                   it stopped ("interrupted by SIGINT",
//                                   "connection lost after N rows",
//                                   "disk full: ...")
//   /end/panda_end_reason   string  the END line's reason, "" without END
//   /end/panda_samples      int64   the END line's sample count, -1 without END
//   /end/complete           uint8   1 only for END Ok, nothing lost, and the END
//                                   count equal to the rows received
//
// Rules:
//   - States: idle → (start) → writing → (finish) → finished; writing →
//     failed on the first write error, failed → (finish) → finished.
//   - start() creates the file (never overwrites unless asked), every dataset
//     and attribute, then switches to SWMR writing. Throws h5::Error (file
//     exists, no permission, ...) or std::invalid_argument (a column name with
//     '/', duplicate names); the writer stays idle then.
//   - write() stores whole chunks that start at a chunk boundary straight
//     from the block (H5Dwrite_chunk, no copy); other rows are copied into one
//     chunk-sized buffer per column, written when full. flush() also
//     stores the partial chunk, records rows_written and flushes the file, so
//     SWMR readers see every row handed in before it. Call flush() on a timer
//     (about once a second), not per block.
//   - Full disk (see h5/space_reserve.hpp for what HDF5 1.10 does without
//     this): before each chunk the writer makes sure the disk has room for
//     it plus HDF5's metadata (`reserve_margin`), reserving blocks ahead with
//     fallocate; if there is no room, it stops writing. Any write error does
//     the same. From then on write() and flush() return false and rows count
//     as lost; rows stored before stay, each column is cut back to the same
//     length, and finish() still records the end state and closes the file,
//     so everything stored before the failure remains readable. Where the
//     file system cannot reserve (no fallocate) only the HDF5-error path is
//     left, which cannot guarantee a readable file.
//   - finish() never throws: it flushes, records the end state, closes the
//     file and reports what it recorded (and a close error, if any). The
//     destructor calls finish() if the caller did not.
//   - Not thread-safe: one thread owns the writer (it owns the HDF5 file).
//
// Example:
//   auto decoder = std::get<panda::ColumnDecoder>(
//       panda::ColumnDecoder::make(start, panda::ColumnDecoder::Mode::scaled));
//   panda::ColumnBlock block = decoder.make_block();
//   capture::PandaHdfWriter w({.path = "/data/scan_0001.h5"});
//   w.start(start, decoder.specs());
//   for each FrameData: block.clear(); decoder.append(frame, block);
//                       if (!w.write(block)) stop_capture();  // w.failure() says why
//   every second:       (void)w.flush();
//   on EndData end:     auto state = w.finish(capture::FinishInfo::from_end(end));
//   on SIGINT:          w.finish(capture::FinishInfo::interrupted("SIGINT"));
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/direct_driver.hpp"
#include "pandafly/h5/file.hpp"
#include "pandafly/h5/space_reserve.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data.hpp"

namespace pandafly::capture {

/// How an acquisition ended, as the caller saw it: the END line, or why it
/// stopped without one.
struct FinishInfo {
  std::optional<panda::EndData> end;
  /// Why it stopped without END, or why the END was asked for (a stop request
  /// that disarmed the PandA): /end/reason is then "<this>; END <reason>".
  std::string stopped_because;

  [[nodiscard]] static FinishInfo from_end(panda::EndData end);
  /// "interrupted by SIGINT"
  [[nodiscard]] static FinishInfo interrupted(std::string_view signal_name);
  /// "connection lost after N rows"
  [[nodiscard]] static FinishInfo connection_lost(std::uint64_t rows);
  [[nodiscard]] static FinishInfo stopped(std::string reason);
};

/// What finish() recorded under /end, and how closing went.
struct EndState {
  std::uint64_t rows_received = 0;
  std::uint64_t rows_written = 0;
  std::uint64_t rows_lost = 0;
  std::string reason;
  std::optional<panda::EndReason> panda_reason;
  bool complete = false;
  std::string close_error;  ///< "" when the end state was recorded and the file closed cleanly
};

class PandaHdfWriter {
 public:
  struct Options {
    std::filesystem::path path;
    bool overwrite = false;
    /// Rows per chunk. 256 Ki rows = 2 MiB per float64 column: fewer, larger
    /// direct writes (capture_cpu.py at 60 MB/s: 4.3–4.6 % of a core, against
    /// 5.0 % with 64 Ki-row chunks); at most this many rows are lost to a full
    /// disk, and rows up to the last flush are always stored.
    std::size_t chunk_rows = 262144;
    /// Reserve disk space ahead of the data (h5::SpaceReserve). Off: a full
    /// disk is only seen when HDF5 fails, which still stops the writer cleanly
    /// but may leave the file unreadable when HDF5's own metadata cannot be written.
    bool reserve_space = true;
    std::uint64_t reserve_margin = std::uint64_t{256} << 10;
    /// Whole chunks written past the page cache (h5/direct_driver.hpp): far
    /// less CPU per byte here; falls back by itself where O_DIRECT is refused.
    bool direct_io = true;
  };
  enum class State { idle, writing, failed, finished };

  explicit PandaHdfWriter(Options options);
  ~PandaHdfWriter();
  PandaHdfWriter(const PandaHdfWriter&) = delete;
  PandaHdfWriter& operator=(const PandaHdfWriter&) = delete;

  /// Creates the file for the acquisition `start` with one dataset per
  /// column of `columns` (a ColumnDecoder's specs()). Only from idle.
  void start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns);
  /// Appends the block's rows (columns index-aligned with start()'s). False,
  /// rows counted as lost, once the writer has failed (or before start()).
  /// Throws std::invalid_argument if the block's columns do not match.
  [[nodiscard]] bool write(const panda::ColumnBlock& block);
  /// Stores buffered rows and flushes so SWMR readers see them. False once failed.
  [[nodiscard]] bool flush();
  /// Records the end state and closes the file (see Rules). Later calls
  /// return the same EndState.
  EndState finish(const FinishInfo& info) noexcept;

  [[nodiscard]] State state() const noexcept { return state_; }
  /// Why the writer failed ("disk full: ..."), "" while it has not.
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }
  [[nodiscard]] std::uint64_t rows_received() const noexcept { return received_; }
  /// Rows stored in every column (not necessarily flushed yet).
  [[nodiscard]] std::uint64_t rows_written() const noexcept { return written_; }
  /// Rows visible to SWMR readers as of the last successful flush().
  [[nodiscard]] std::uint64_t rows_flushed() const noexcept { return flushed_; }
  [[nodiscard]] const Options& options() const noexcept { return options_; }

 private:
  struct Column {
    h5::Dataset dataset;
    h5::PageBuffer buffer;  // one chunk, page-aligned: written past the page cache
    std::size_t value_bytes = 0;
  };
  struct EndDatasets {
    h5::Dataset rows_received, rows_written, rows_lost, reason, panda_end_reason, panda_samples,
        complete;
  };

  void create_columns(const std::vector<panda::ColumnSpec>& columns);
  void create_end_datasets();
  void check_block(const panda::ColumnBlock& block) const;
  void buffer_rows(const panda::ColumnBlock& block, std::size_t first, std::size_t count);
  [[nodiscard]] bool store_buffered();
  template <class Source>
  [[nodiscard]] bool store_chunk(std::uint64_t rows, Source source);
  void fail(std::string why) noexcept;
  void record_end(const EndState& end, const FinishInfo& info);
  void close_file(EndState& end) noexcept;
  [[nodiscard]] EndState end_state(const FinishInfo& info) const;

  Options options_;
  State state_ = State::idle;
  h5::File file_;
  h5::SpaceReserve reserve_;
  std::vector<Column> columns_;
  EndDatasets end_;
  std::uint64_t chunk_bytes_ = 0;  // one chunk of every column
  std::uint64_t chunk_first_ = 0;  // first row of the buffered chunk
  std::size_t buffered_ = 0;       // rows in the buffers
  std::uint64_t received_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t flushed_ = 0;
  std::string failure_;
  std::optional<EndState> finished_;
};

}  // namespace pandafly::capture
