#pragma once
// RowSink: where PandaCapture's one reader loop hands an acquisition's decoded
// column blocks — start(header), rows(block)…, finish(how it ended). Sinks:
//   PandaHdfSink  the acquisition into one HDF5 file (PandaHdfWriter on a
//                 writer thread of its own): `pandactl capture`.
//   PandaRowSink  typed fly-scan rows (capture::PandaRow) to a callback for
//                 the merger, every column kept by name with units for the
//                 DXfile's PandA tables, the header's times (PandaRows).
//   RowSinkTee    several sinks fed by the same loop (e.g. the rows and a file).
//
// Rules (the contract between the loop and a sink)
//   - Calls (all of them, failed() too) come from the capture's thread only,
//     in order: start() once per acquisition, rows() for every block in
//     stream order, finish() once if start() returned. Nothing after
//     finish() until the next start().
//   - start() may throw to refuse the acquisition (file exists, a column the
//     sink needs is missing); the capture then ends with that exception and
//     finish() is not called for this sink.
//   - rows() takes the block; a sink may keep it or offer it back, emptied,
//     through spare_block() so that the loop reuses its memory.
//   - failed() turns true when the sink can take no more rows (disk full, a
//     consumer that threw); failure() says why ("writer failed: …"). The loop
//     then stops the acquisition as for a stop request (on_stop, drain to END)
//     and still calls finish(): what was stored stays stored.
//   - finish() never throws and returns the EndState it recorded.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/capture/panda_hdf_writer.hpp"
#include "pandafly/capture/panda_rows.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data.hpp"

namespace pandafly::capture {

class RowSink {
 public:
  virtual ~RowSink() = default;
  /// The acquisition's header and the columns every later block holds
  /// (index-aligned), decoded in `mode`. Throws to refuse it (see Rules).
  virtual void start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
                     panda::ColumnDecoder::Mode mode) = 0;
  /// The next rows, in stream order (see Rules).
  virtual void rows(panda::ColumnBlock&& block) = 0;
  /// How the acquisition ended; returns what the sink recorded. Never throws.
  virtual EndState finish(const FinishInfo& info) noexcept = 0;

  [[nodiscard]] virtual bool failed() const noexcept { return false; }
  [[nodiscard]] virtual std::string failure() const { return {}; }
  /// An emptied block to reuse, if the sink has one.
  [[nodiscard]] virtual std::optional<panda::ColumnBlock> spare_block() { return std::nullopt; }
  /// Times rows() had to wait for room (a sink with a queue), for progress reports.
  [[nodiscard]] virtual std::uint64_t full_waits() const noexcept { return 0; }
};

/// The end state of a sink that was handed `received` rows and kept
/// `stored` of them, `failure` "" unless it failed — by PandaHdfWriter's
/// rule: complete only for END Ok, nothing lost, no failure and the END
/// count equal to the rows received; the reason is the failure, the END
/// reason, or why it stopped ("<why>; END <reason>" after a stop's disarm).
[[nodiscard]] EndState end_state_of(const FinishInfo& info, std::uint64_t received,
                                    std::uint64_t stored, std::string_view failure);

/// One acquisition into one HDF5 file (PandaHdfWriter's layout). The file is
/// created in start() (which waits for it and throws h5::Error or
/// std::invalid_argument when it cannot be); a writer thread owns it from
/// there; blocks queue between the threads (at most queue_blocks: rows()
/// waits when the writer falls behind, so nothing is dropped here); it
/// flushes on a timer so SWMR readers follow. One acquisition per sink.
///
/// Example (what PandaCapture::run_one(path, stop) does):
///   PandaHdfSink file({.path = "scan_0001.h5", .overwrite = false});
///   CaptureResult r = capture.run_one(file, stop);  // r.end: the file's /end
class PandaHdfSink final : public RowSink {
 public:
  struct Options {
    std::filesystem::path path{};
    bool overwrite = false;
    std::size_t chunk_rows = 262144;  ///< PandaHdfWriter::Options::chunk_rows
    std::size_t queue_blocks = 16;
    std::chrono::milliseconds flush_period{1000};
  };
  explicit PandaHdfSink(Options options);
  ~PandaHdfSink() override;
  PandaHdfSink(const PandaHdfSink&) = delete;
  PandaHdfSink& operator=(const PandaHdfSink&) = delete;

  void start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
             panda::ColumnDecoder::Mode mode) override;
  void rows(panda::ColumnBlock&& block) override;
  EndState finish(const FinishInfo& info) noexcept override;
  [[nodiscard]] bool failed() const noexcept override;
  /// "writer failed: <PandaHdfWriter::failure()>"
  [[nodiscard]] std::string failure() const override;
  [[nodiscard]] std::optional<panda::ColumnBlock> spare_block() override;
  [[nodiscard]] std::uint64_t full_waits() const noexcept override;

 private:
  class Thread;
  Options options_;
  std::unique_ptr<Thread> thread_;  // from start() to finish()
  std::uint64_t full_waits_ = 0;    // kept after finish()
};

/// Fly-scan rows for a consumer (the merger), on the capture's thread.
/// Callbacks (each optional) run on the capture's thread, in order:
/// on_start once per acquisition (the header's times; see PandaAcquisition),
/// on_rows per block with that block's rows, on_end with what finish() got.
/// A callback that throws makes the sink failed ("row consumer failed: …"):
/// the loop stops the acquisition; rows already converted stay in table().
/// table(), acquisition() and rows_delivered() may be read from the
/// callbacks, or from any thread after run_one() returned. Reusable: each
/// start() begins a new acquisition (indices, table and counts restart).
/// For rows that reach the merger promptly, run the capture with a short
/// CaptureSettings::max_block_age (e.g. 20 ms) and no BlockingDataClient
/// min_read (pandactl's 1 MiB would hold rows until next()'s timeout).
///
/// Example:
///   PandaRowSink rows({.rows = {.encoder = "INENC1"},
///                      .on_rows = [&](std::span<const PandaRow> r) { merger.feed(r); }});
///   capture.run_one(rows, stop);          // throws MissingColumns on a bad header
///   dx_writer.add_table("/measurement/panda", rows.table());
class PandaRowSink final : public RowSink {
 public:
  struct Options {
    PandaRowOptions rows{};
    std::function<void(const PandaAcquisition&)> on_start{};
    std::function<void(std::span<const PandaRow>)> on_rows{};
    std::function<void(const FinishInfo&)> on_end{};
  };
  explicit PandaRowSink(Options options);

  void start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
             panda::ColumnDecoder::Mode mode) override;
  void rows(panda::ColumnBlock&& block) override;
  EndState finish(const FinishInfo& info) noexcept override;
  [[nodiscard]] bool failed() const noexcept override { return !failure_.empty(); }
  [[nodiscard]] std::string failure() const override { return failure_; }
  [[nodiscard]] std::optional<panda::ColumnBlock> spare_block() override;

  [[nodiscard]] const PandaAcquisition& acquisition() const noexcept { return rows_.acquisition(); }
  [[nodiscard]] const std::vector<PandaTableColumn>& table() const noexcept {
    return rows_.table();
  }
  [[nodiscard]] std::vector<PandaTableColumn> take_table() { return rows_.take_table(); }
  /// Rows handed to on_rows without it throwing.
  [[nodiscard]] std::uint64_t rows_delivered() const noexcept { return delivered_; }
  /// Rows handed to the sink (delivered, or not because the consumer failed).
  [[nodiscard]] std::uint64_t rows_received() const noexcept { return received_; }

 private:
  void fail(std::string_view who, std::string_view what) noexcept;

  Options options_;
  PandaRows rows_;
  std::vector<PandaRow> batch_;
  std::optional<panda::ColumnBlock> spare_;
  std::uint64_t received_ = 0;
  std::uint64_t delivered_ = 0;
  std::string failure_;
};

/// Feeds every sink the same calls, in the order given. start(): if sink i
/// throws, sinks 0…i−1 are finished ("refused by another sink: …") and the
/// exception passes on. rows(): the last sink gets the block, the others a
/// copy (put the sink that keeps blocks, PandaHdfSink, last). finish()
/// returns the first sink's EndState. failed(): any; failure(): the first.
///
/// Example (the fly scan's rows, and the PandA's own file beside the DXfile):
///   PandaRowSink rows({...});
///   PandaHdfSink file({.path = "scan_0001_panda.h5"});
///   RowSinkTee both({&rows, &file});
///   capture.run_one(both, stop);
class RowSinkTee final : public RowSink {
 public:
  explicit RowSinkTee(std::vector<RowSink*> sinks);

  void start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
             panda::ColumnDecoder::Mode mode) override;
  void rows(panda::ColumnBlock&& block) override;
  EndState finish(const FinishInfo& info) noexcept override;
  [[nodiscard]] bool failed() const noexcept override;
  [[nodiscard]] std::string failure() const override;
  [[nodiscard]] std::optional<panda::ColumnBlock> spare_block() override;
  [[nodiscard]] std::uint64_t full_waits() const noexcept override;

 private:
  std::vector<RowSink*> sinks_;
};

}  // namespace pandafly::capture
