#pragma once
// AngleTrack: the angle of a frame from the rotation motor's time-stamped RBV
// monitor updates (a software-synchronised continuous scan). Sans-IO: fed
// values, answers values; no I/O, threads or clocks. Not thread-safe: one
// owner (the shell that receives the RBV monitor and the frames).
//
// What an RBV update tells (reference/channel-access.md §4.1, motor record):
// the driver polls the controller (every ≈ 0.1 s while moving), the record
// processes and posts RBV — only when it changed — stamped with the time of
// that processing (DBR_TIME_*: "time the record last processed"). So an update
// (t, p) says: the position read at the poll, quantized to the motor
// resolution q (MRES, or the encoder's ERES), was p; it was read at most
// `stamp_lag` before t (the controller round trip and record processing: a few
// ms on a real IOC, 0 in pandafly-sim, which stamps the poll itself). No update
// means "unchanged at the polls", not "unknown": a motor at rest posts nothing.
//
// Rules
//   Updates: add(t, p) keeps the updates sorted by t whatever order they come
//   in (`added` at the end, `out_of_order` inserted before the newest). The
//   same t again: the same p is a `duplicate` (dropped), another p `replaced`
//   (the later arrival wins: it is the later processing). A non-finite t or p
//   is `rejected`. To say the motor is at rest at time t (DMOV 1, MOVN 0, or
//   any later moment it is known to stand still), feed its RBV again with t.
//   Query angle_at(T) (T on the same clock as the updates, e.g. the frame's
//   mid-exposure time): never from a frame index.
//   - T before the first / after the last update: `before_first` /
//     `after_last`; the angle is extrapolated with the speed of the nearest
//     interval but no bound can be given (the motor may have stopped or
//     changed speed): uncertainty = +inf. A shell waits for an update past T
//     (covers(T)) before it asks. No update at all (or T is NaN): `no_data`,
//     angle NaN.
//   - Otherwise the bracketing updates a = (t_a, p_a) ≤ T ≤ b = (t_b, p_b)
//     give h = t_b − t_a, w = (T − t_a)/h, the speed v = (p_b − p_a)/h and
//     angle = p_a + w·(p_b − p_a) (linear interpolation, constant speed).
//   Uncertainty: a BOUND on |true angle − angle| (not a 1-sigma): the errors
//   are a bounded quantization, a bias from the stamp lag and a deterministic
//   interpolation error in the ramps, none of them random; a bound is what a
//   test can check against the true stage angle. (A uniform error within ±U
//   has σ = U/√3.) It holds when (1) the stage moves monotonically (no
//   reversal) within each interval, (2) the signed speed is monotone over the
//   interval and its two neighbours (true of a trapezoid's ramps and cruise:
//   not at the top of a triangle profile, see the heuristics), (3) the lag is
//   ≤ stamp_lag. With
//     e       = q/2 + stamp_lag·v_peak   (the error of one reading; v_peak =
//               the largest |speed| of the three intervals + their spread),
//     V_i     = the measured mean speed of interval i (within 2e/h_i of the true),
//   (2) puts the true speed inside [a, b] between V_prev and V_next, so it
//   varies by at most Δv = |V_next − V_prev| + 2e/h_prev + 2e/h_next; a path
//   whose speed varies by Δv and whose mean is v deviates from the chord by at
//   most Δv·(T − t_a)(t_b − T)/h (the worst case is a speed step: tight). (1)
//   puts the true angle between the two readings, so also
//     U_interp = e + Δv·(T − t_a)(t_b − T)/h,  U_mono = e + max(w, 1−w)·|p_b − p_a|,
//     uncertainty = min(U_interp, U_mono).
//   At constant speed over equal intervals U = 2e at mid-interval (e = q/2 +
//   stamp_lag·|v|: the reading's error plus the neighbours' speed noise
//   4e/h scaled by h/4); shorter neighbours make it larger (≤ 3.4 e measured
//   with ±30 % poll jitter). In a ramp at acceleration A over equal intervals
//   it is A·h²/2 (4× the chord error A·h²/8 of a uniform ramp: the three mean
//   speeds cannot tell a uniform ramp from a step in speed, which reaches it).
//   Heuristics, where (2) cannot be checked: an interval with one neighbour
//   (the first or last) takes Δv = 2·|V_other − v| + the noise; the middle
//   of a speed extremum (v above or below both neighbours by more than their
//   noise) takes Δv = 2·max(|v − V_prev|, |v − V_next|) + the noise; an only
//   interval (two updates) has Δv = inf (U = U_mono). For a speed linear in
//   time over equal intervals both cover the true Δv 2× (edge) and 3× (peak);
//   the property test fails without either.
//   Status of a bracketed T, first that applies:
//     `at_rest`: p_a == p_b (RBV unchanged: the stage stood within a quantum);
//     `gap`: h > gap_intervals × the update interval (config, or the median
//       of the intervals in which RBV changed; none yet: never a gap);
//     `not_constant_speed`: the speeds of the interval and its neighbours
//       spread by more than their noise (2e/h each) + speed_tolerance·|v|;
//     `interpolated`.
//   An answer holds for the updates fed so far: a late update inside [a, b]
//   changes it.
//
// Example:
//   capture::AngleTrack track({.resolution = mres, .stamp_lag = 0.005});
//   on RBV monitor: (void)track.add(u.stamp.unix_seconds(), value);
//   on DMOV → 1:    (void)track.add(dmov.stamp.unix_seconds(), last_rbv);
//   per frame (once track.covers(t)):
//     const double t = frame.header.timestamp + 631152000;  // EPICS → Unix
//                                          (TimeStampMode EPICS, not Camera)
//     const capture::AngleEstimate a = track.angle_at(t);
//     write(a.angle, a.uncertainty, to_string(a.status));
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

namespace pandafly::capture {

struct AngleTrackConfig {
  double resolution = 0;       ///< q: the RBV quantum (MRES, or ERES with an encoder), EGU, ≥ 0
  double stamp_lag = 0;        ///< bound on stamp − the moment the position was read, s, ≥ 0
  double update_interval = 0;  ///< RBV update interval while moving, s; 0: the median seen
  double gap_intervals = 1.5;  ///< an interval longer than this many update intervals: a gap
  double speed_tolerance = 0.01;  ///< relative speed spread still called constant (≥ 0)
};

enum class AngleStatus {
  interpolated,        ///< bracketed, constant speed around T
  at_rest,             ///< bracketed by two equal readings
  gap,                 ///< bracketed by updates further apart than gap_intervals intervals
  not_constant_speed,  ///< bracketed, the speed changes around T (a ramp, a stop)
  before_first,        ///< extrapolated before the first update, no bound
  after_last,          ///< extrapolated after the last update, no bound
  no_data,             ///< no update yet
};

/// "interpolated", "at_rest", "gap", "not_constant_speed", "before_first", …
[[nodiscard]] std::string_view to_string(AngleStatus status) noexcept;

struct AngleEstimate {
  double angle = std::numeric_limits<double>::quiet_NaN();  ///< EGU
  /// Bound on |true angle − angle|, EGU (header Rules); +inf when none.
  double uncertainty = std::numeric_limits<double>::infinity();
  double speed = 0;  ///< EGU/s over the bracketing (or nearest) interval; a caller
                     ///< adds |speed|·(its frame time stamp's own error)
  AngleStatus status = AngleStatus::no_data;
};

enum class UpdateVerdict { added, out_of_order, duplicate, replaced, rejected };

struct AngleTrackCounts {
  std::uint64_t out_of_order = 0;  ///< kept, inserted before the newest
  std::uint64_t duplicates = 0;    ///< same stamp and position again: dropped
  std::uint64_t replaced = 0;      ///< same stamp, another position: the later kept
  std::uint64_t rejected = 0;      ///< a non-finite stamp or position
};

class AngleTrack {
 public:
  /// Throws std::invalid_argument naming the field of an invalid config
  /// (negative or non-finite resolution, stamp_lag, update_interval,
  /// speed_tolerance; gap_intervals ≤ 1).
  explicit AngleTrack(AngleTrackConfig config = {});

  /// Feeds one RBV update: `stamp` s (any one clock), `position` EGU. Returns
  /// what became of it (header Rules); never throws except std::bad_alloc.
  [[nodiscard]] UpdateVerdict add(double stamp, double position);

  /// The angle at `stamp` (header Rules). Throws only std::bad_alloc (the
  /// median update interval is worked out on the first query after an add).
  [[nodiscard]] AngleEstimate angle_at(double stamp) const;

  /// True when updates bracket `stamp` (first ≤ stamp ≤ last).
  [[nodiscard]] bool covers(double stamp) const noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return updates_.size(); }
  [[nodiscard]] const AngleTrackCounts& counts() const noexcept { return counts_; }
  /// The update interval gaps are judged by: the config's, or the median of
  /// the intervals in which RBV changed; 0 when there is none yet.
  [[nodiscard]] double update_interval() const;

 private:
  struct Update {
    double stamp;
    double position;
  };
  [[nodiscard]] AngleEstimate extrapolate(double stamp, AngleStatus side) const noexcept;
  [[nodiscard]] AngleEstimate interpolate(double stamp, std::size_t b) const;
  [[nodiscard]] double speed(std::size_t a) const noexcept;  // over [a, a+1]

  AngleTrackConfig config_;
  std::vector<Update> updates_;  // sorted by stamp, stamps distinct
  AngleTrackCounts counts_;
  mutable double median_ = -1;  // cache of the median interval; −1: stale
};

}  // namespace pandafly::capture
