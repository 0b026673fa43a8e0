#pragma once
// Progress of a scan on stderr: a bar redrawn in place on a terminal, plain
// lines every few seconds otherwise (a log file, CI), nothing with --quiet.
//
// Rules
//   - Formatting is pure: ProgressMeter turns snapshots + the time (an
//     argument, seconds on any monotonic clock) into a ProgressView (rate and
//     ETA), and format_bar()/format_plain() turn a view into text. No I/O,
//     no clock: the unit tests check exact strings.
//   - Rate = projections per second over the last `window` seconds of
//     snapshots (the whole run until a window's worth has passed); ETA =
//     what remains / rate. Unknown (no progress yet, or total unknown) reads
//     "--". A snapshot with fewer done than before (a new phase) restarts it.
//   - ProgressWriter is the thin shell: it owns no thread, the caller calls
//     update() as often as it likes (it throttles: terminal redraws at most
//     every `redraw` s, plain lines every `interval` s) and finish() once.
//     Terminal mode writes "\r<bar>\x1b[K" (carriage return, erase to end of
//     line) and a final "\n"; plain mode whole lines. Mode::automatic picks
//     terminal when the stream is a tty, else plain. Not thread-safe: one
//     thread updates it (the scan shell's).
//
// Example:
//   util::ProgressWriter progress(stderr, quiet ? util::ProgressMode::quiet
//                                               : util::ProgressMode::automatic);
//   util::ProgressSnapshot s;
//   s.total = n;
//   for (...) { s.done = k + 1; s.angle = theta; s.drops = lost; progress.update(s); }
//   progress.finish(s);
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace pandafly::util {

/// What the scan reports.
struct ProgressSnapshot {
  std::uint64_t done = 0;       ///< projections stored so far
  std::uint64_t total = 0;      ///< planned (0: unknown)
  std::optional<double> angle;  ///< the last measured angle, degrees
  std::uint64_t drops = 0;      ///< frames or rows lost so far
  std::string phase = {};       ///< e.g. "darks", "projections" ("" = not shown)
};

/// A snapshot with its rate and ETA.
struct ProgressView {
  ProgressSnapshot snapshot;
  std::optional<double> rate;   ///< projections per second
  std::optional<double> eta_s;  ///< seconds to go
  double elapsed_s = 0;         ///< since the first snapshot
};

/// Rate and ETA from a stream of snapshots; pure (time is an argument).
class ProgressMeter {
 public:
  explicit ProgressMeter(double window_s = 2.0) : window_s_(window_s) {}
  /// Records `s` taken at `now_s` (monotonic seconds) and returns its view.
  [[nodiscard]] ProgressView update(const ProgressSnapshot& s, double now_s);

 private:
  double window_s_;
  std::optional<double> start_s_;
  std::deque<std::pair<double, std::uint64_t>> samples_;  // (time, done) within the window
};

/// "1:05", "12 s", "1:02:03"; "--" for nullopt or a negative/NaN/huge value.
[[nodiscard]] std::string format_duration(std::optional<double> seconds);
/// The terminal line (no "\r"), at most `columns` characters:
///   "projections [######--------------]  123/360   34%  61.520 deg  250.0/s  0 drops  ETA 1 s"
/// The bar is 20 cells; it goes when the line would not fit, then the text is cut.
[[nodiscard]] std::string format_bar(const ProgressView& v, std::size_t columns = 80);
/// The plain line (no newline):
///   "progress: projections 123/360 (34%), angle 61.520 deg, 250.0 projections/s, 0 drops, ETA
///   0:01"
[[nodiscard]] std::string format_plain(const ProgressView& v);

enum class ProgressMode { automatic, terminal, plain, quiet };

struct ProgressWriterOptions {
  double interval_s = 5.0;  ///< plain mode: one line at most this often
  double redraw_s = 0.1;    ///< terminal mode: one redraw at most this often
  std::size_t columns = 0;  ///< terminal width (0: $COLUMNS, else 80)
  double window_s = 2.0;    ///< the rate's window
};

/// Writes progress to a stdio stream (see Rules).
class ProgressWriter {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressWriter(std::FILE* out, ProgressMode mode, ProgressWriterOptions options = {});

  /// Records `s`; writes when the throttle allows. `now` defaults to the clock.
  void update(const ProgressSnapshot& s, Clock::time_point now = Clock::now());
  /// Writes the last state at once (terminal: then a newline). Call once.
  void finish(const ProgressSnapshot& s, Clock::time_point now = Clock::now());
  /// The mode in force (automatic resolved).
  [[nodiscard]] ProgressMode mode() const noexcept { return mode_; }

 private:
  void write(const ProgressView& v);

  std::FILE* out_;
  ProgressMode mode_;
  ProgressWriterOptions options_;
  ProgressMeter meter_;
  std::optional<Clock::time_point> origin_;
  std::optional<double> last_write_s_;
  std::size_t columns_;
};

}  // namespace pandafly::util
