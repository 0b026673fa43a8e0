#pragma once
// FrameSequence: the bookkeeping of a camera's frame numbers (NDArray.uniqueId)
// as frames arrive — gaps, late (reordered) frames, duplicates and counter
// resets. Sans-IO: fed values, returns a verdict; no I/O, threads or clocks.
// Not thread-safe: one owner (ZmqReceiver keeps it under its stats mutex).
//
// Rules
//   The first number fed starts the sequence (`first`). After it, for a
//   number f and the highest number so far `last`:
//   - f == last + 1: `in_order`.
//   - f > last + 1: `gap`; the numbers last+1 … f−1 are skipped, counted in
//     `missing`, and (the newest `window` of them) remembered as gaps.
//   - f < last (or f == last), in this order:
//     · f is a remembered gap: it came `late` — `missing` − 1, `reorders` + 1;
//     · the feed has no time stamp (a message that did not decode but named
//       its number): `seen` — nothing more can be learned from it;
//     · f was received before with the same time stamp: `duplicate` —
//       `duplicates` + 1; the caller drops it;
//     · otherwise (a number used before with another time stamp, or older
//       than anything remembered): `restart` — the camera's ArrayCounter was
//       reset, a new acquisition. `restarts` + 1, the gaps and the remembered
//       numbers are forgotten (`missing` keeps the earlier acquisition's
//       loss) and the sequence starts again from f.
//   A feed without a time stamp still advances the sequence (the frame
//   arrived; it is not missing) but is never remembered for duplicates.
//   Memory: at most `window` gaps and `window` received numbers with their
//   time stamps are remembered; a gap of more than `window` numbers counts
//   all of them in `missing` but remembers only the newest `window`.
//
// Example:
//   capture::FrameSequence seq;
//   const auto v = seq.feed(frame.header.frame, frame.header.timestamp);
//   if (v.kind == capture::FrameVerdict::Kind::duplicate) return;  // drop it
//   if (v.kind == capture::FrameVerdict::Kind::gap) log(v.skipped_first, v.skipped);
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>

namespace pandafly::capture {

/// What one frame number meant for the sequence.
struct FrameVerdict {
  enum class Kind {
    first,      ///< the first number fed (or the first after a restart: see `restart`)
    in_order,   ///< last + 1
    gap,        ///< above last + 1: `skipped` numbers from `skipped_first` never came (yet)
    late,       ///< a number skipped earlier arrived: a reorder, no longer missing
    duplicate,  ///< the same number and time stamp again: drop it
    restart,    ///< the counter went back: a new acquisition starts from this number
    seen,       ///< at or below last, no time stamp to judge it by: nothing learned
  };
  Kind kind = Kind::first;
  std::uint64_t skipped_first = 0;  ///< gap: the first skipped number
  std::uint64_t skipped = 0;        ///< gap: how many numbers were skipped
};

/// The counters so far (ZmqReceiverStats carries the same names).
struct FrameSequenceCounts {
  std::uint64_t missing = 0;          ///< numbers skipped and not (yet) arrived late
  std::uint64_t duplicates = 0;       ///< same number and time stamp again
  std::uint64_t reorders = 0;         ///< skipped numbers that arrived late
  std::uint64_t restarts = 0;         ///< counter resets (new acquisitions)
  std::optional<std::uint64_t> last;  ///< the highest number of the current acquisition
};

class FrameSequence {
 public:
  /// `window` bounds the gaps and received numbers remembered (≥ 1).
  explicit FrameSequence(std::size_t window = 4096) : window_(window == 0 ? 1 : window) {}

  /// Feeds frame number `f` with its time stamp (nullopt: the message did not
  /// decode but named its number). Returns what it meant; never throws except
  /// std::bad_alloc.
  [[nodiscard]] FrameVerdict feed(std::uint64_t f, std::optional<double> timestamp);

  [[nodiscard]] const FrameSequenceCounts& counts() const noexcept { return counts_; }
  /// True when `f` is a remembered gap (skipped, may still come late).
  [[nodiscard]] bool is_gap(std::uint64_t f) const { return gaps_.count(f) > 0; }

 private:
  void remember(std::uint64_t f, std::optional<double> timestamp);

  std::size_t window_;
  FrameSequenceCounts counts_;
  std::set<std::uint64_t> gaps_;
  std::map<std::uint64_t, double> recent_;
};

}  // namespace pandafly::capture
