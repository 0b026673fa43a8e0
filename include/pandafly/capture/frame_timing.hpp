#pragma once
// Frame timing of a free-running camera (a software-synchronised continuous
// scan): when a projection frame was exposed, as its time stamp says, and the
// faults its time stamps and measured angle reveal — a camera stall (a gap
// between frames) and a frame exposed outside the stage's constant speed.
// Pure: values in, values out; no I/O, threads or clocks. Any thread.
//
// What a real camera's stamp marks: ADGenICam's base class sets no NDArray
// time stamp; ADSpinnaker (areaDetector/ADSpinnaker, spinnakerApp/src/
// ADSpinnaker.cpp, grabImage(), at commit 9c2c127) stamps epicsTS when its
// grab thread takes the finished image off the Spinnaker callback queue —
// after the readout and the transfer to the host — and sets timeStamp (what
// NDPluginZMQ sends) to that EPICS time with TimeStampMode EPICS, or to the
// camera's own tick counter / 1e9 (not on the EPICS clock, useless here)
// with TimeStampMode Camera. So `readout_end` (with EPICS mode) is the
// default; pandafly-sim stamps a frame exactly when its readout ends.
//
// Rules
//   - StampMeaning (scan file camera.timestamp) and mid_exposure(stamp, …):
//       readout_end     stamp = exposure end + readout:  mid = stamp − readout − exposure/2
//       exposure_end    stamp = exposure end:            mid = stamp − exposure/2
//       exposure_start  stamp = exposure start:          mid = stamp + exposure/2
//   - Gaps: place_frame(rules, prev, number, mid) places projection frame
//     `number` whose stamp gives mid-exposure `mid`, after `prev`, the
//     nearest lower-numbered frame received before it (none: the first).
//     The camera exposes one frame per `period_s`, so frames J < K lie
//     (K − J)·period apart. A gap: mid_K − mid_J > (K − J − 1 + gap_periods)·
//     period (gap_periods 1.5: consecutive frames more than 1.5 periods
//     apart). Then the frame's stamp is late, and when it was exposed is not
//     known: a stalled camera may have exposed it on time and delivered it
//     late (the stamp marks the delivery), or exposed it late. What is
//     certain: one sensor exposes one frame at a time, so its mid-exposure
//     lies in [earliest, mid] with earliest = prev.earliest + (K − J)·exposure
//     (the frames between, not received, took their exposures too), and
//     gap_s = mid_K − mid_J (no frame in between). No gap: earliest = mid,
//     gap_s = 0. A frame after a gap passes its `earliest` on, so a frame
//     right after a late one is bounded by it.
//   - Bursts: a camera that buffered its frames through a stall delivers
//     them together afterwards, each stamped on arrival. So a frame whose
//     `prev` was late (earliest < mid) and which follows it sooner than
//     (K − J + 1 − gap_periods)·period (consecutive: half a period) is
//     `bunched`: its exposure, too, lies anywhere in [earliest, mid] with
//     earliest = prev.earliest + (K − J)·exposure. (Without a late frame
//     before it, a short interval is stamp jitter: nothing is inferred.)
//   - Range: check_range(angle, exposure_travel, speed) says whether a
//     frame's exposure (its measured mid-exposure angle ± half the travel
//     during an exposure) lies within the scan move's constant-speed part
//     (from → to, in the direction of the scan): `beyond` when its end
//     passes `to` (the stage was decelerating or at rest), `before` when its
//     start precedes `from` (still accelerating), else `inside`. A NaN angle
//     is `inside` (nothing measured: nothing to say).
//
// Example (the continuous scan's shell, per projection frame):
//   const double mid = capture::mid_exposure(stamp_unix, config.camera.timestamp,
//                                            plan.exposure_s, plan.readout_s);
//   const capture::FrameTiming t = capture::place_frame(rules, previous, number, mid);
//   if (t.after_gap()) note("camera stall: no frame for {t.gap_s} s before this one");
//   … its angle from the RBV track over [t.earliest, t.mid] …
//   if (capture::check_range(angle, plan.exposure_travel_deg, speed_part) != inside) …
#include <cstdint>
#include <optional>
#include <string_view>

namespace pandafly::capture {

/// What instant a camera frame's time stamp marks (Rules).
enum class StampMeaning { readout_end, exposure_end, exposure_start };

/// "readout_end", "exposure_end", "exposure_start".
[[nodiscard]] std::string_view to_string(StampMeaning meaning) noexcept;
/// The meaning named `name` (to_string's spelling), or nullopt.
[[nodiscard]] std::optional<StampMeaning> stamp_meaning_from(std::string_view name) noexcept;

/// The mid-exposure time of a frame stamped `stamp` (same clock, seconds),
/// exposed `exposure_s` and read out in `readout_s` (Rules).
[[nodiscard]] double mid_exposure(double stamp, StampMeaning meaning, double exposure_s,
                                  double readout_s) noexcept;

struct GapRules {
  double period_s = 0;       ///< the camera's frame period (1 / its frame rate), > 0
  double exposure_s = 0;     ///< > 0
  double gap_periods = 1.5;  ///< a gap: more than this many periods beyond the numbers' (> 1)
};

/// A projection frame placed in time (Rules: Gaps).
struct FrameTiming {
  std::uint64_t number = 0;  ///< the camera's frame number
  double mid = 0;            ///< mid-exposure by its stamp: the latest it can be
  double earliest = 0;       ///< the earliest its mid-exposure can be (= mid without a gap)
  double gap_s = 0;          ///< > 0: no frame for this long before it (mid − the previous mid)
  bool bunched = false;      ///< delivered in a burst right after a late frame (Rules)
  [[nodiscard]] bool after_gap() const noexcept { return gap_s > 0; }
  /// Exposed at an unknown time in [earliest, mid] (after a gap or in a burst).
  [[nodiscard]] bool late() const noexcept { return earliest < mid; }
};

/// Places frame `number` (Rules: Gaps). A `prev` numbered ≥ `number` is
/// ignored (no gap can be judged against it). Throws std::invalid_argument,
/// naming the field, when period_s or exposure_s is not > 0 and finite or
/// gap_periods is not > 1.
[[nodiscard]] FrameTiming place_frame(const GapRules& rules, const std::optional<FrameTiming>& prev,
                                      std::uint64_t number, double mid);

/// The scan move's constant-speed part, `from` → `to` in the scan's direction.
struct SpeedPart {
  double from_deg = 0;
  double to_deg = 0;
};

enum class RangeVerdict { inside, before, beyond };

/// Rules: Range. `exposure_travel_deg` ≥ 0: the stage's travel in one exposure.
[[nodiscard]] RangeVerdict check_range(double angle_deg, double exposure_travel_deg,
                                       const SpeedPart& part) noexcept;

}  // namespace pandafly::capture
