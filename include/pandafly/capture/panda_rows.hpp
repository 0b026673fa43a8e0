#pragma once
// PandaRows: an acquisition's decoded PandA columns → the fly scan's typed
// rows (capture::PandaRow, one per camera exposure) for the merger, plus every
// column kept by name with its units for the DXfile's PandA tables, plus the
// header's times (not per row: handed out once per acquisition).
//
// Rules
//   - start() reads the columns a row needs from the header, by name:
//     <encoder>.Mean, <encoder>.Min, <encoder>.Max (encoder "INENC1.VAL", or a
//     block name "INENC1" meaning its VAL) and <pcap>.TS_START.Value,
//     <pcap>.TS_END.Value, <pcap>.TS_TRIG.Value (pcap "PCAP"). A header
//     lacking any throws MissingColumns naming every missing column and
//     listing what came.
//   - Values must be user values: the stream SCALED, or RAW decoded with
//     ColumnDecoder::Mode::scaled (RAW decoded as_sent holds sums and ticks:
//     refused, std::invalid_argument). Angles: without `to_degrees` the
//     PandA scales the encoder to degrees itself (the fly design sets
//     INENC1.VAL.SCALE/UNITS), so the three encoder columns' units must be
//     degrees ("deg", "degree", "degrees", "°"), else std::invalid_argument
//     naming the column and its units; with `to_degrees` the angle is
//     value·scale + offset and units are not checked. min_deg/max_deg are
//     the smaller/larger of the Min and Max angles (a negative scale, in the
//     PandA or here, turns the counts' Min into the larger angle). An
//     exposure whose gate never opened has Mean NaN and Min/Max 0 from the
//     PandA (reference §3.7): its min_deg/max_deg are NaN too. Times are the PandA's
//     seconds since the acquisition started (TS scale 8e-9, units "s").
//   - Row indices count from the acquisition's first sample: the header's
//     `missed` (samples lost because this client joined late) comes first, so
//     the first row delivered after `missed` = 3 has index 3 — row k stays
//     exposure k.
//   - append() converts whole blocks in order; the table (when kept) grows by
//     the same rows in every column, as float64 (bit words and integers are
//     exact below 2^53).
//   - A new start() begins a new acquisition: indices, rows and the table
//     restart. append() before start() throws std::logic_error.
// Pure computation: no I/O, threads or clocks; one owner.
//
// Example:
//   capture::PandaRows rows({.encoder = "INENC1"});
//   rows.start(start, decoder.specs(), ColumnDecoder::Mode::scaled);  // throws MissingColumns
//   std::vector<capture::PandaRow> out;
//   rows.append(block, out);                 // per decoded block
//   merger.feed(out);  …
//   double t0 = rows.acquisition().start_epics_s.value();
//   for (const auto& c : rows.table()) write_table_column(c.name, c.units, c.values);
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/capture/panda_row.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data.hpp"

namespace pandafly::capture {

struct PandaRowOptions {
  /// The encoder field whose Mean/Min/Max give the angles; a block name
  /// without a dot ("INENC1") means its VAL field.
  std::string encoder = "INENC1.VAL";
  /// The block whose TS_START/TS_END/TS_TRIG give the times.
  std::string pcap = "PCAP";
  struct Linear {
    double scale = 1;
    double offset = 0;
  };
  /// degrees = user value · scale + offset; absent: the values are degrees
  /// already (checked by units, see Rules).
  std::optional<Linear> to_degrees{};
  /// Keep every column for table(); off: rows only.
  bool keep_table = true;
};

/// One column of the acquisition as the DXfile's PandA table takes it.
struct PandaTableColumn {
  std::string name{};   ///< "INENC1.VAL.Mean"
  std::string units{};  ///< as the header gave them ("" for bit words)
  std::vector<double> values{};
};

/// What the header says about the acquisition as a whole.
struct PandaAcquisition {
  std::string arm_time{};  ///< ISO-8601 UTC with ns as sent, "" from old servers
  std::string start_time{};
  /// start_time / arm_time as EPICS seconds (since 1990-01-01 00:00:00 UTC),
  /// absent when the header has none (or it does not parse).
  std::optional<double> start_epics_s{};
  std::optional<double> arm_epics_s{};
  std::optional<std::int64_t> hw_time_offset_ns{};
  std::uint64_t missed = 0;
  std::vector<panda::ColumnSpec> columns{};  ///< every column, in block order
};

/// The header lacks columns a row needs.
class MissingColumns : public std::runtime_error {
 public:
  MissingColumns(std::vector<std::string> missing, std::vector<std::string> present);
  [[nodiscard]] const std::vector<std::string>& missing() const noexcept { return missing_; }
  [[nodiscard]] const std::vector<std::string>& present() const noexcept { return present_; }

 private:
  std::vector<std::string> missing_;
  std::vector<std::string> present_;
};

/// "2026-01-15T10:00:00.004000000Z" (the header's times, reference §3.3) as
/// EPICS seconds; nullopt when it is not that shape. Fractions of any length.
[[nodiscard]] std::optional<double> panda_time_to_epics_seconds(std::string_view iso);

class PandaRows {
 public:
  explicit PandaRows(PandaRowOptions options = {});

  /// Starts an acquisition with `start`'s header and the decoder's columns
  /// (`columns` index-aligned with every later block) decoded in `mode`.
  /// Throws MissingColumns or std::invalid_argument (see Rules); the rows
  /// stay unstarted then.
  void start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
             panda::ColumnDecoder::Mode mode);
  /// Appends one PandaRow per row of `block` to `out`, and the block to the table.
  void append(const panda::ColumnBlock& block, std::vector<PandaRow>& out);

  [[nodiscard]] bool started() const noexcept { return started_; }
  [[nodiscard]] const PandaAcquisition& acquisition() const noexcept { return acquisition_; }
  /// Rows converted since start() (not counting `missed`).
  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  /// Every column so far (empty with keep_table off).
  [[nodiscard]] const std::vector<PandaTableColumn>& table() const noexcept { return table_; }
  /// Hands the table over (leaves it empty; later rows start a new one).
  [[nodiscard]] std::vector<PandaTableColumn> take_table();
  [[nodiscard]] const PandaRowOptions& options() const noexcept { return options_; }

 private:
  void find_columns(const std::vector<panda::ColumnSpec>& columns);
  void check_values(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
                    panda::ColumnDecoder::Mode mode) const;

  PandaRowOptions options_;
  PandaAcquisition acquisition_;
  // Column index of mean, min, max, ts_start, ts_end, ts_trig.
  std::array<std::size_t, 6> sources_{};
  std::vector<PandaTableColumn> table_;
  std::uint64_t rows_ = 0;
  bool started_ = false;
};

}  // namespace pandafly::capture
