// Frame timing (capture/frame_timing.hpp): the stamp conventions, gaps
// between a free-running camera's frames and the constant-speed range, each
// value worked out by hand from the header's Rules.
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "pandafly/capture/frame_timing.hpp"

namespace pandafly::capture {
namespace {

using doctest::Approx;

// 77 frames/s camera: period 0.013 s, exposure 0.010 s.
constexpr GapRules kRules{.period_s = 0.013, .exposure_s = 0.010};

}  // namespace

TEST_CASE("frame timing: mid-exposure from each stamp convention") {
  // Exposure 0.010 s, readout 0.002 s; the stamp 100.000 s.
  CHECK(mid_exposure(100.0, StampMeaning::readout_end, 0.010, 0.002) ==
        Approx(99.993).epsilon(1e-15));
  CHECK(mid_exposure(100.0, StampMeaning::exposure_end, 0.010, 0.002) ==
        Approx(99.995).epsilon(1e-15));
  CHECK(mid_exposure(100.0, StampMeaning::exposure_start, 0.010, 0.002) ==
        Approx(100.005).epsilon(1e-15));
}

TEST_CASE("frame timing: stamp meanings by name, and nothing else") {
  for (const auto m :
       {StampMeaning::readout_end, StampMeaning::exposure_end, StampMeaning::exposure_start})
    CHECK(stamp_meaning_from(to_string(m)) == m);
  CHECK(to_string(StampMeaning::readout_end) == "readout_end");
  CHECK_FALSE(stamp_meaning_from("ReadoutEnd"));
  CHECK_FALSE(stamp_meaning_from("camera"));
  CHECK_FALSE(stamp_meaning_from(""));
}

TEST_CASE("frame timing: consecutive frames a period apart are no gap") {
  const FrameTiming first = place_frame(kRules, std::nullopt, 11, 15.0);
  CHECK_FALSE(first.after_gap());
  CHECK(first.earliest == 15.0);
  const FrameTiming second = place_frame(kRules, first, 12, 15.013);
  CHECK_FALSE(second.after_gap());
  CHECK(second.mid == 15.013);
  CHECK(second.earliest == 15.013);
  // 1.5 periods (0.0195 s) is still no gap; a little more is one.
  CHECK_FALSE(place_frame(kRules, first, 12, 15.0194).after_gap());
  CHECK(place_frame(kRules, first, 12, 15.0196).after_gap());
}

TEST_CASE("frame timing: a stall leaves a gap and the late frame's window") {
  const FrameTiming before{40, 15.459, 15.459, 0, false};
  // Frame 41 stamped 0.5 s late: no frame for 0.513 s; it was exposed at
  // the earliest one exposure after frame 40's mid-exposure.
  const FrameTiming late = place_frame(kRules, before, 41, 15.972);
  CHECK(late.after_gap());
  CHECK(late.gap_s == Approx(0.513).epsilon(1e-12));
  CHECK(late.mid == 15.972);
  CHECK(late.earliest == Approx(15.469).epsilon(1e-12));
  // The next frame, a period later, is on time again.
  const FrameTiming next = place_frame(kRules, late, 42, 15.985);
  CHECK_FALSE(next.after_gap());
  CHECK(next.earliest == 15.985);
}

TEST_CASE("frame timing: frames not received widen what is expected, not the gap rule") {
  const FrameTiming j{40, 10.0, 10.0, 0, false};
  // Frame 43 after 40: three periods (0.039 s) expected, a gap only beyond
  // (3 − 1 + 1.5)·0.013 = 0.0455 s.
  CHECK_FALSE(place_frame(kRules, j, 43, 10.045).after_gap());
  const FrameTiming late = place_frame(kRules, j, 43, 10.2);
  CHECK(late.after_gap());
  CHECK(late.gap_s == Approx(0.2).epsilon(1e-12));
  // Frames 41 and 42 took their exposures too: 3·0.010 after frame 40.
  CHECK(late.earliest == Approx(10.03).epsilon(1e-12));
}

TEST_CASE("frame timing: a late frame's window carries on to a late frame after it") {
  const FrameTiming a{40, 10.0, 10.0, 0, false};
  const FrameTiming b = place_frame(kRules, a, 41, 10.5);  // late: window [10.01, 10.5]
  REQUIRE(b.after_gap());
  const FrameTiming c = place_frame(kRules, b, 42, 11.0);  // late again after b
  REQUIRE(c.after_gap());
  CHECK(c.gap_s == Approx(0.5).epsilon(1e-12));
  CHECK(c.earliest == Approx(10.02).epsilon(1e-12));  // b's earliest + one exposure
}

TEST_CASE("frame timing: frames delivered in a burst after a late one are late too") {
  const FrameTiming a{40, 10.0, 10.0, 0, false};
  const FrameTiming b = place_frame(kRules, a, 41, 10.5);  // the stall: window [10.01, 10.5]
  REQUIRE(b.after_gap());
  // Frame 42 arrives 2 ms after 41 (less than half a period): buffered,
  // stamped on arrival; exposed one exposure after 41's earliest at least.
  const FrameTiming c = place_frame(kRules, b, 42, 10.502);
  CHECK_FALSE(c.after_gap());
  CHECK(c.bunched);
  CHECK(c.late());
  CHECK(c.earliest == Approx(10.02).epsilon(1e-12));
  CHECK(c.mid == 10.502);
  // The burst goes on (6.4 ms < 6.5 ms) …
  const FrameTiming d = place_frame(kRules, c, 43, 10.5084);
  CHECK(d.bunched);
  CHECK(d.earliest == Approx(10.03).epsilon(1e-12));
  // … and ends at a frame a period after the last: on time again.
  const FrameTiming e = place_frame(kRules, d, 44, 10.5214);
  CHECK_FALSE(e.bunched);
  CHECK_FALSE(e.late());
  CHECK(e.earliest == 10.5214);
  // A short interval after an on-time frame is jitter, not a burst.
  const FrameTiming f = place_frame(kRules, e, 45, 10.5234);
  CHECK_FALSE(f.bunched);
  CHECK_FALSE(f.late());
}

TEST_CASE("frame timing: no judgement against a later-numbered or absent frame") {
  const FrameTiming later{50, 10.0, 10.0, 0, false};
  for (const auto& prev : {std::optional<FrameTiming>{later}, std::optional<FrameTiming>{}}) {
    const FrameTiming t = place_frame(kRules, prev, 45, 20.0);
    CHECK_FALSE(t.after_gap());
    CHECK(t.earliest == 20.0);
  }
  // The same number again (a duplicate) is not a gap either.
  CHECK_FALSE(place_frame(kRules, later, 50, 20.0).after_gap());
}

TEST_CASE("frame timing: bad rules name the field") {
  const auto message = [](GapRules r) {
    try {
      (void)place_frame(r, std::nullopt, 1, 0.0);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(message({.period_s = 0, .exposure_s = 0.01}).find("period_s") != std::string::npos);
  CHECK(message({.period_s = 0.01, .exposure_s = -1}).find("exposure_s") != std::string::npos);
  CHECK(message({.period_s = 0.01, .exposure_s = 0.01, .gap_periods = 1}).find("gap_periods") !=
        std::string::npos);
  CHECK(message(kRules) == "accepted");
}

TEST_CASE("frame timing: the constant-speed range, up and down") {
  // Constant speed from 1 to 160 deg; an exposure travels 0.77 deg (± 0.385).
  const SpeedPart up{1.0, 160.0};
  CHECK(check_range(80.0, 0.77, up) == RangeVerdict::inside);
  CHECK(check_range(159.6, 0.77, up) == RangeVerdict::inside);   // ends at 159.985
  CHECK(check_range(159.62, 0.77, up) == RangeVerdict::beyond);  // ends at 160.005
  CHECK(check_range(165.0, 0.77, up) == RangeVerdict::beyond);
  CHECK(check_range(1.4, 0.77, up) == RangeVerdict::inside);   // starts at 1.015
  CHECK(check_range(1.38, 0.77, up) == RangeVerdict::before);  // starts at 0.995
  // A negative scan: from 100 down to 10.
  const SpeedPart down{100.0, 10.0};
  CHECK(check_range(50.0, 0.5, down) == RangeVerdict::inside);
  CHECK(check_range(10.2, 0.5, down) == RangeVerdict::beyond);  // ends at 9.95
  CHECK(check_range(99.8, 0.5, down) == RangeVerdict::before);  // starts at 100.05
  CHECK(check_range(10.3, 0.5, down) == RangeVerdict::inside);  // ends at 10.05
  // Nothing measured: nothing to say.
  CHECK(check_range(std::numeric_limits<double>::quiet_NaN(), 0.5, up) == RangeVerdict::inside);
}

}  // namespace pandafly::capture
