// util/progress.hpp: the rate/ETA arithmetic and the exact text of the bar and
// the plain lines (pure functions of snapshots + time), and the writer's
// throttling and escape sequences on an in-memory stream (open_memstream).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <doctest/doctest.h>

#include "pandafly/util/progress.hpp"

namespace util = pandafly::util;
using namespace std::chrono_literals;

namespace {

util::ProgressSnapshot snap(std::uint64_t done, std::uint64_t total,
                            std::optional<double> angle = {}, std::uint64_t drops = 0) {
  util::ProgressSnapshot s;
  s.done = done;
  s.total = total;
  s.angle = angle;
  s.drops = drops;
  return s;
}

// A FILE* writing into memory; text() returns what was written so far.
class MemoryStream {
 public:
  MemoryStream() : file_(::open_memstream(&buffer_, &size_)) { REQUIRE(file_ != nullptr); }
  ~MemoryStream() {
    std::fclose(file_);
    std::free(buffer_);
  }
  MemoryStream(const MemoryStream&) = delete;
  MemoryStream& operator=(const MemoryStream&) = delete;
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

}  // namespace

TEST_CASE("ProgressMeter: rate over the window, ETA from what remains") {
  util::ProgressMeter m(2.0);
  auto v = m.update(snap(0, 360), 10.0);
  CHECK_FALSE(v.rate.has_value());  // one sample: no rate yet
  CHECK_FALSE(v.eta_s.has_value());
  CHECK(v.elapsed_s == 0.0);
  v = m.update(snap(50, 360), 11.0);  // 50 in 1 s
  REQUIRE(v.rate.has_value());
  CHECK(*v.rate == doctest::Approx(50.0));
  CHECK(*v.eta_s == doctest::Approx(310.0 / 50.0));
  v = m.update(snap(100, 360), 12.0);  // window 2 s: reference still t = 10
  CHECK(*v.rate == doctest::Approx(50.0));
  // The rate slows to 10/s: after 2 s of it the window holds only the slow part.
  (void)m.update(snap(110, 360), 13.0);
  v = m.update(snap(120, 360), 14.0);  // reference t = 12 (100): (120-100)/2
  CHECK(*v.rate == doctest::Approx(10.0));
  CHECK(*v.eta_s == doctest::Approx(240.0 / 10.0));
  CHECK(v.elapsed_s == doctest::Approx(4.0));
  v = m.update(snap(360, 360), 15.0);
  CHECK(*v.eta_s == 0.0);

  SUBCASE("no progress: rate 0, ETA unknown") {
    util::ProgressMeter idle;
    (void)idle.update(snap(5, 10), 0.0);
    v = idle.update(snap(5, 10), 1.0);
    CHECK(*v.rate == 0.0);
    CHECK_FALSE(v.eta_s.has_value());
  }
  SUBCASE("fewer done than before (a new phase) restarts the rate") {
    v = m.update(snap(0, 20), 16.0);
    CHECK_FALSE(v.rate.has_value());
    v = m.update(snap(4, 20), 17.0);
    CHECK(*v.rate == doctest::Approx(4.0));
    CHECK(*v.eta_s == doctest::Approx(4.0));
    CHECK(v.elapsed_s == doctest::Approx(7.0));  // elapsed runs on
  }
}

TEST_CASE("format_duration") {
  CHECK(util::format_duration(std::optional<double>{}) == "--");
  CHECK(util::format_duration(0.0) == "0 s");
  CHECK(util::format_duration(12.4) == "12 s");
  CHECK(util::format_duration(59.6) == "1:00");
  CHECK(util::format_duration(65.0) == "1:05");
  CHECK(util::format_duration(3723.0) == "1:02:03");
  CHECK(util::format_duration(-1.0) == "--");
  CHECK(util::format_duration(std::nan("")) == "--");
  CHECK(util::format_duration(1e12) == "--");
}

TEST_CASE("format_bar: the terminal line, exactly, at several widths") {
  util::ProgressView v{
      .snapshot = snap(123, 360, 61.52, 2), .rate = 250.0, .eta_s = 0.948, .elapsed_s = 0.5};
  // numbers: "  123/360   34%  61.520 deg  250.0/s  2 drops  ETA 1 s" (54 chars)
  const std::string numbers = "  123/360   34%  61.520 deg  250.0/s  2 drops  ETA 1 s";
  // The bar: 20 cells, 123/360 of them = 6.8 -> 6 filled; 22 + 54 = 76 columns.
  const std::string line = "[######--------------]" + numbers;
  CHECK(util::format_bar(v, 80) == line);
  CHECK(util::format_bar(v, 76) == line);
  CHECK(util::format_bar(v, 200) == line);
  // Too narrow for the bar: numbers only, then cut to the width.
  CHECK(util::format_bar(v, 75) == numbers.substr(2));
  CHECK(util::format_bar(v, 60) == numbers.substr(2));
  CHECK(util::format_bar(v, 20) == numbers.substr(2, 20));
  // A phase label, no angle, rate and total unknown.
  util::ProgressView w{.snapshot = snap(7, 0), .rate = {}, .eta_s = {}, .elapsed_s = 0};
  w.snapshot.phase = "darks";
  CHECK(util::format_bar(w, 80) == "darks 7  --/s  0 drops  ETA --");
  // Done: full bar, 100 %.
  util::ProgressView d{.snapshot = snap(360, 360), .rate = 10.0, .eta_s = 0.0, .elapsed_s = 36};
  // "  360/360  100%  10.0/s  0 drops  ETA 0 s" is 41 chars: 63 with the bar.
  CHECK(util::format_bar(d, 63) ==
        "[####################]  360/360  100%  10.0/s  0 drops  ETA 0 s");
  CHECK(util::format_bar(d, 62) == "360/360  100%  10.0/s  0 drops  ETA 0 s");
}

TEST_CASE("format_plain: one line for logs") {
  util::ProgressView v{
      .snapshot = snap(123, 360, 61.52, 2), .rate = 250.0, .eta_s = 125.0, .elapsed_s = 3.0};
  v.snapshot.phase = "projections";
  CHECK(util::format_plain(v) ==
        "progress: projections 123/360 (34%), angle 61.520 deg, 250.0 projections/s, 2 drops, "
        "elapsed 3 s, ETA 2:05");
  util::ProgressView u{.snapshot = snap(0, 0), .rate = {}, .eta_s = {}, .elapsed_s = 0};
  CHECK(util::format_plain(u) == "progress: 0, -- projections/s, 0 drops, elapsed 0 s, ETA --");
}

TEST_CASE("ProgressWriter plain: a line every interval, and one at finish") {
  MemoryStream out;
  util::ProgressWriter w(out.file(), util::ProgressMode::plain, {.interval_s = 5.0});
  CHECK(w.mode() == util::ProgressMode::plain);
  const auto t0 = util::ProgressWriter::Clock::time_point{} + 1000s;
  for (int i = 0; i <= 12; ++i) {  // one update per second for 12 s, 10 per second
    w.update(snap(static_cast<std::uint64_t>(i) * 10, 120), t0 + std::chrono::seconds(i));
  }
  w.finish(snap(120, 120), t0 + 12s);
  CHECK(out.text() ==
        "progress: 50/120 (41%), 10.0 projections/s, 0 drops, elapsed 5 s, ETA 7 s\n"
        "progress: 100/120 (83%), 10.0 projections/s, 0 drops, elapsed 10 s, ETA 2 s\n"
        "progress: 120/120 (100%), 10.0 projections/s, 0 drops, elapsed 12 s, ETA 0 s\n");
}

TEST_CASE("ProgressWriter terminal: redrawn in place, throttled, newline at finish") {
  MemoryStream out;
  util::ProgressWriter w(out.file(), util::ProgressMode::terminal,
                         {.interval_s = 5.0, .redraw_s = 0.1, .columns = 100, .window_s = 2.0});
  const auto t0 = util::ProgressWriter::Clock::time_point{} + 1000s;
  w.update(snap(0, 4), t0);             // drawn at once
  w.update(snap(1, 4), t0 + 50ms);      // throttled
  w.update(snap(2, 4), t0 + 1s);        // drawn
  w.finish(snap(4, 4, 90.0), t0 + 2s);  // drawn, then "\n"
  CHECK(out.text() ==
        "\r[--------------------]  0/4    0%  --/s  0 drops  ETA --\x1b[K"
        "\r[##########----------]  2/4   50%  2.0/s  0 drops  ETA 1 s\x1b[K"
        "\r[####################]  4/4  100%  90.000 deg  2.0/s  0 drops  ETA 0 s\x1b[K\n");
}

TEST_CASE("ProgressWriter quiet (or no stream) writes nothing; automatic on a file is plain") {
  MemoryStream out;
  util::ProgressWriter q(out.file(), util::ProgressMode::quiet);
  q.update(snap(1, 2));
  q.finish(snap(2, 2));
  CHECK(out.text().empty());
  util::ProgressWriter none(nullptr, util::ProgressMode::terminal);
  CHECK(none.mode() == util::ProgressMode::quiet);
  none.finish(snap(2, 2));
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  util::ProgressWriter a(file, util::ProgressMode::automatic);
  CHECK(a.mode() == util::ProgressMode::plain);  // not a tty
  std::fclose(file);
}
