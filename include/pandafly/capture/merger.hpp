#pragma once
// Merger: pairs the PandA rows of a fly scan (one per trigger = planned
// projection k) with the camera's frames, and says per projection what
// happened. Pure and sans-IO: fed values in any interleaving, emits decided
// projections; no I/O, threads or clocks. Not thread-safe: one owner.
//
// Rules
//   Slots. Slot k is planned projection k and PandA row k (rows count from 0,
//   in order, over TCP). Every slot 0 … projections−1 is emitted exactly once,
//   in slot order, as a MergedProjection; its angle is its own row's encoder
//   mean (the start angle its Min or Max by the scan direction) — never a
//   neighbour's: a slot without its row has angle NaN. A frame is handed back
//   exactly once: in a projection, or as a DroppedFrame with the reason.
//
//   Time. A frame's time stamp (EPICS s) minus its row's TS_START (PandA s)
//   is a constant D (exposure/readout latency + the clocks' offset + the
//   acquisition's start time). The tolerance is `tolerance` × frame_time_s:
//   the frames' time jitter plus the fit's error must stay below it.
//   Anchor (once): counting pairs frame number − base with its slot (base =
//   `first_frame_number`, else the lowest number received), over the first
//   `bootstrap_frames` such pairs whose rows are there (fewer once rows
//   ended or ran `reorder_window` past them). Faults move counted pairs by whole periods (a missed
//   trigger, the number an extra frame took) and an extra frame's own pair by a fraction, so the
//   pairs' offsets are folded onto one period around the prior (else the earliest pair's) and the
//   largest group within the tolerance of each other is taken as the genuine frames' (ties: the
//   earliest slot's). The whole periods come from the prior (`expected_offset_s`, relative to
//   set_start_time(); it may be off by up to half a period), else from
//   counting: the group's earliest frame is in its counted slot. Without a
//   prior a camera that missed slot 0's trigger — and, without
//   first_frame_number, a first frame lost in transit — looks exactly like a
//   camera whose clock is a period later, and every frame would go one slot
//   early: the shell should give the prior.
//   No row at all once rows ended: the frames' own times make the grid
//   (virtual rows the plan's frame time apart, anchored by counting as
//   above, without the prior, which needs rows), so missed triggers and extra
//   frames are still told apart by time; rows that come later re-anchor.
//   Fit: after the anchor D is the median of the last `fit_window` offsets of
//   frames placed by time (robust to jitter and to a stray pair; it follows
//   slow drift).
//
//   Placing a frame (frame time x = time stamp − D, in PandA s):
//   - its FrameSequence verdict first: a duplicate (same number and time
//     stamp) is dropped (`duplicate`, naming the original's slot, which is
//     flagged duplicate_dropped unless already emitted; a copy of a frame
//     that still waits goes back when the original is placed); a late
//     number is flagged `reordered` where it lands;
//   - rows not yet there (x beyond the last row's TS_START + tolerance, rows
//     not ended): the frame waits;
//   - the slot s whose TS_START (or, for a slot without its row, the time
//     extrapolated from the nearest row at the rows' measured period) is
//     nearest to x; the time decides: |x − t_s| ≤ tolerance places the frame
//     in s (its number then re-bases the number ↔ slot relation, and the
//     offset feeds the fit, so D follows drift beyond the last row too);
//     beyond the tolerance it is an extra frame without a trigger
//     (`no_trigger`). A frame placed on an extrapolated time whose number
//     says another slot is flagged time_mismatch (no row confirms either).
//     Without any anchor, once rows ended, the number decides (s = number −
//     base); so it does for a frame whose time stamp is not finite (flagged
//     time_mismatch). A slot already decided → `too_late`; s ≥ projections →
//     `beyond_plan`; a slot keeps one frame: the one nearer in time (one
//     placed by time beats one placed by number), the other is dropped
//     (`conflict`). Two frames within the tolerance of one trigger cannot
//     both be genuine (a frame takes the camera a frame time); the first
//     keeps the slot if it was emitted before the second came.
//   Not followed: a step in the camera's clock larger than the tolerance
//   (later frames become no_trigger, each handed back); a missed first
//   trigger while no row has come (the prior needs rows: the frames-only grid
//   counts from the first frame, so row-less slots get the next frame).
//
//   Deciding a slot (the lowest undecided one, `head`). Its row is decided
//   when it is there, or known lost: a later row came (index jump), or rows
//   ended: end_rows() (the PandA stream ended or broke) or finish(), or
//   `window` frames wait for rows (the PandA data is taken as lost; a row
//   arriving later still fills an undecided slot). Its frame is
//   decided when placed, or (never while frames wait for the anchor: they
//   may belong to it) when none can come any more:
//   - the next slot q with a frame and the previous one p bound the gap; the
//     frame numbers between theirs that never arrived are `lost`. lost = 0:
//     the camera's numbers run on across the gap, so no frame exists for it —
//     missed_trigger, decided at once. Otherwise frame_missing (lost ≥ the
//     slots in the gap) or both flags (fewer lost than slots: which slot the
//     camera skipped cannot be known), decided once a frame lands
//     `reorder_window` slots beyond head (a late frame goes where its time
//     says until then), or rows reach `window` slots beyond head (the camera
//     stalled), or finish();
//   - at the start p is the virtual slot −1 with number first_frame_number−1
//     (unknown without it: both flags); at finish() without a q the camera's
//     last number (if given) bounds the gap for slots with their row (a
//     missed trigger needs a trigger), else frame_missing. A counter restart
//     between p and q: both flags.
//   Memory: waiting frames stay below `window` (then rows are taken as lost),
//   undecided slots below about `window` + the rows' lead (then the head is
//   decided), remembered frame numbers below `window`; never more slots than
//   `projections`. The caller holds at most that many frames. Every row's
//   TS_START is kept (8 bytes a row) so that a frame of a decided slot is
//   still known as such (too_late, not another slot's) and the anchor always
//   counts from the first frame.
//
//   finish(): no more input. Waiting frames are placed (rows are over),
//   every slot up to projections−1 is decided and emitted; later input is
//   dropped (`after_finish`) or counted in rows_ignored.
//
// Example:
//   capture::MergerOptions o{.projections = plan.n, .frame_time_s = plan.frame_time};
//   capture::Merger m(o);
//   m.set_start_time(header_start_epics);
//   m.add_row(row);                              // from the PandA row source
//   m.add_frame({f.header.frame, f.header.timestamp, handle});
//   for (auto& e : m.take()) std::visit(writer_visitor, e);  // after each call
//   m.end_rows();                                // the PandA stream ended/broke
//   m.finish(camera_array_counter);               // then take() the rest
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "pandafly/capture/frame_sequence.hpp"
#include "pandafly/capture/panda_row.hpp"

namespace pandafly::capture {

struct MergerOptions {
  std::uint64_t projections = 0;  ///< planned slots (= PandA rows expected); > 0
  double frame_time_s = 0;        ///< the plan's trigger period, s; > 0
  double tolerance = 0.3;         ///< |time residual| allowed, × frame_time_s; (0, 0.5)
  /// Prior for D − start time: a frame's time stamp − (start time + its row's
  /// TS_START), s; within half a period. Used only if set_start_time() came
  /// before the anchor (Rules, "Time").
  std::optional<double> expected_offset_s;
  /// The camera's first NDArray.uniqueId of the scan (ArrayCounter + 1 at arm).
  std::optional<std::uint64_t> first_frame_number;
  bool increasing = true;           ///< scan direction: start angle = row Min (true) or Max
  std::size_t reorder_window = 16;  ///< slots a missing frame may still come late
  /// Bound on frames waiting for rows and on slots ahead (memory: the caller
  /// holds up to this many frames). More frames than this waiting for rows
  /// means the rows are taken as lost, so it must exceed the PandA's delivery
  /// latency in frames; end_rows() says so at once when the stream ends.
  std::size_t window = 1024;
  std::size_t fit_window = 32;       ///< pairs in the running median of D
  std::size_t bootstrap_frames = 4;  ///< frames looked at before anchoring by count
};

/// A camera frame as the merger sees it; `handle` is the caller's (opaque).
struct MergerFrame {
  std::uint64_t number = 0;  ///< NDArray.uniqueId
  double timestamp = 0;      ///< NDArray.timeStamp, s
  std::uint64_t handle = 0;
};

/// Bits of MergedProjection::events.
enum class ProjectionEvent : std::uint16_t {
  frame_missing = 1U << 0,      ///< no frame: its number never arrived (lost/overrun) or unknown
  missed_trigger = 1U << 1,     ///< no frame: the camera did not expose on this trigger
  row_missing = 1U << 2,        ///< no PandA row: angle unknown (NaN)
  duplicate_dropped = 1U << 3,  ///< a second copy of this slot's frame was dropped
  reordered = 1U << 4,          ///< the frame came after a later one and was put back
  time_mismatch = 1U << 5,      ///< placed on an extrapolated time its number disagrees with, or
                                ///< by number for want of a finite time stamp
};
/// "frame_missing", … — the name of one bit.
[[nodiscard]] std::string_view to_string(ProjectionEvent e) noexcept;
/// All bits of `events` by name, in bit order, joined by '|'; "ok" for none.
[[nodiscard]] std::string describe_events(std::uint16_t events);

struct MergedProjection {
  std::uint64_t slot = 0;
  std::optional<PandaRow> row;
  std::optional<MergerFrame> frame;
  double angle_deg = 0;              ///< the row's mean; NaN without the row
  double start_angle_deg = 0;        ///< the row's value at the exposure start; NaN without
  std::optional<double> residual_s;  ///< frame time − predicted time, when time-checked
  std::uint16_t events = 0;          ///< ProjectionEvent bits
  [[nodiscard]] bool complete() const noexcept { return row && frame; }
  [[nodiscard]] bool has(ProjectionEvent e) const noexcept {
    return (events & static_cast<std::uint16_t>(e)) != 0;
  }
};

enum class DropReason {
  duplicate,     ///< same number and time stamp as a frame received before
  no_trigger,    ///< no row's time within the tolerance: an extra frame
  conflict,      ///< its slot had a frame nearer in time
  too_late,      ///< its slot was already decided
  beyond_plan,   ///< its slot is ≥ projections
  after_finish,  ///< came after finish()
};
[[nodiscard]] std::string_view to_string(DropReason r) noexcept;

struct DroppedFrame {
  MergerFrame frame;
  DropReason reason = DropReason::duplicate;
  std::optional<std::uint64_t> slot;  ///< the slot it duplicated / was nearest / belonged to
};

using MergerEvent = std::variant<MergedProjection, DroppedFrame>;

struct MergerStats {
  std::uint64_t emitted = 0;          ///< projections emitted
  std::uint64_t paired = 0;           ///< emitted with row and frame
  std::uint64_t frames_missing = 0;   ///< emitted with frame_missing
  std::uint64_t rows_missing = 0;     ///< emitted with row_missing
  std::uint64_t duplicates = 0;       ///< frames dropped as duplicates
  std::uint64_t reorders = 0;         ///< frames put back in order
  std::uint64_t missed_triggers = 0;  ///< emitted with missed_trigger
  std::uint64_t extra_frames = 0;     ///< dropped: no_trigger, conflict, beyond_plan
  std::uint64_t late_frames = 0;      ///< dropped: too_late, after_finish
  std::uint64_t rows_ignored = 0;     ///< rows repeated, beyond the plan, late or after finish
  std::uint64_t time_mismatches = 0;  ///< emitted with time_mismatch
  double max_abs_residual_s = 0;      ///< over time-checked pairs
  std::optional<double> offset_s;     ///< fitted D − start time (D itself without start time)
};

class Merger {
 public:
  /// Throws std::invalid_argument naming the option when projections is 0,
  /// frame_time_s ≤ 0 or tolerance outside (0, 0.5).
  explicit Merger(MergerOptions options);

  /// The acquisition's start time (PandA data header), EPICS s. Once.
  void set_start_time(double epics_s);
  /// One PandA row; rows come in index order (a repeated or older index is
  /// ignored and counted in rows_ignored).
  void add_row(const PandaRow& row);
  void add_frame(const MergerFrame& frame);
  /// The PandA row stream is over (its END, or the data connection lost):
  /// frames waiting for rows are placed and slots without rows decided at
  /// once; later rows are ignored (rows_ignored). Idempotent.
  void end_rows();
  /// No more input: decides and emits everything. `last_camera_frame` is the
  /// camera's last uniqueId of the scan, if known (tells a missed trigger at
  /// the end from a lost frame). Idempotent.
  void finish(std::optional<std::uint64_t> last_camera_frame = std::nullopt);

  /// The events decided since the last call, in the order decided
  /// (projections in slot order).
  [[nodiscard]] std::vector<MergerEvent> take();
  [[nodiscard]] const MergerStats& stats() const noexcept { return stats_; }
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  /// The lowest slot not yet emitted (= projections when all are).
  [[nodiscard]] std::uint64_t next_slot() const noexcept { return head_; }

 private:
  struct Slot {
    std::optional<PandaRow> row;
    bool row_lost = false;
    std::optional<MergerFrame> frame;
    std::optional<double> residual_s;
    std::uint16_t events = 0;
  };
  struct Pending {
    MergerFrame frame;
    bool late = false;
    std::vector<MergerFrame> duplicates;  // copies that came while it waited
  };
  enum class Placed { placed, wait };

  Slot& slot(std::uint64_t s);
  [[nodiscard]] const Slot* find_slot(std::uint64_t s) const;
  void process();
  void try_anchor();
  void anchor_on_frames();
  [[nodiscard]] double choose_offset(std::vector<std::pair<std::uint64_t, double>> pairs,
                                     std::optional<double> prior) const;
  [[nodiscard]] Placed place(const Pending& p);
  [[nodiscard]] std::optional<std::pair<std::uint64_t, double>> nearest_row(double x) const;
  [[nodiscard]] std::optional<double> row_time(std::uint64_t s) const;
  void place_by_number(const Pending& p, bool unchecked = false);
  bool put(const Pending& p, std::uint64_t s, std::optional<double> residual,
           std::optional<double> fit_time);
  void drop(const Pending& p, DropReason r, std::optional<std::uint64_t> s);
  void emit_ready();
  [[nodiscard]] bool frame_decided(std::uint64_t s, std::uint16_t& label) const;
  [[nodiscard]] std::uint16_t gap_label(std::uint64_t s, bool final) const;
  void emit_head(std::uint16_t frame_label);
  [[nodiscard]] std::optional<std::int64_t> base() const;
  [[nodiscard]] double period() const;
  [[nodiscard]] double tol() const { return options_.tolerance * options_.frame_time_s; }
  void fit(double offset);

  MergerOptions options_;
  MergerStats stats_;
  FrameSequence sequence_;
  std::vector<MergerEvent> out_;
  std::deque<Slot> slots_;  // slots head_ … head_ + size − 1
  std::uint64_t head_ = 0;
  std::uint64_t rows_next_ = 0;  // the next row index expected
  bool rows_ended_ = false;      // no more rows expected (for now: window, or for good)
  bool rows_closed_ = false;     // end_rows(): for good
  bool finished_ = false;
  std::optional<std::uint64_t> last_camera_frame_;
  std::deque<Pending> pending_;  // frames waiting for rows or for D
  std::optional<double> start_time_;
  std::optional<double> offset_;  // D, internal (frame time stamp − TS_START)
  std::deque<double> fit_;
  std::optional<std::int64_t> base_;  // frame number − slot, from the last timed pair
  std::optional<std::uint64_t> lowest_number_;
  std::map<std::uint64_t, std::uint64_t> number_slot_;  // recent frame number → slot
  // Every row's TS_START by index (NaN: none), for the whole scan: frames of
  // decided slots are still placed by time, and counting always starts at
  // the first frame. The rows' period from the first and last row seen.
  std::vector<double> row_ts_;
  // No row ever came: virtual rows at slot × frame time (origin slot 0 at 0).
  std::optional<std::pair<std::uint64_t, double>> grid_origin_;
  std::optional<std::pair<std::uint64_t, double>> first_row_, last_row_;
  // The newest emitted slot with a frame, and its number (gap labels).
  std::optional<std::pair<std::uint64_t, std::uint64_t>> prev_frame_;
};

}  // namespace pandafly::capture
