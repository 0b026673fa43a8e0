// FrameSequence: every verdict of the header's Rules, the counters it keeps,
// and its bounded memory (a gap wider than the window, old numbers forgotten).
#include "pandafly/capture/frame_sequence.hpp"

#include <cstdint>
#include <initializer_list>

#include <doctest/doctest.h>

namespace pandafly::capture {
namespace {

using Kind = FrameVerdict::Kind;

double ts(std::uint64_t f) {
  return 1136214245.0 + 0.01 * static_cast<double>(f);
}

}  // namespace

TEST_CASE("frame sequence: first, in order, gap, late, duplicate") {
  FrameSequence seq;
  CHECK(seq.feed(1, ts(1)).kind == Kind::first);
  CHECK(seq.feed(2, ts(2)).kind == Kind::in_order);
  const auto gap = seq.feed(5, ts(5));
  CHECK(gap.kind == Kind::gap);
  CHECK(gap.skipped_first == 3);
  CHECK(gap.skipped == 2);
  CHECK(seq.counts().missing == 2);
  CHECK(seq.is_gap(3));
  CHECK(seq.is_gap(4));
  CHECK(seq.feed(4, ts(4)).kind == Kind::late);
  CHECK_FALSE(seq.is_gap(4));
  CHECK(seq.counts().missing == 1);
  CHECK(seq.counts().reorders == 1);
  CHECK(seq.feed(4, ts(4)).kind == Kind::duplicate);  // the late one again
  CHECK(seq.feed(5, ts(5)).kind == Kind::duplicate);  // the highest again
  CHECK(seq.counts().duplicates == 2);
  CHECK(seq.counts().last == 5);
  CHECK(seq.feed(6, ts(6)).kind == Kind::in_order);
  CHECK(seq.counts().missing == 1);  // 3 never came
}

TEST_CASE("frame sequence: a counter reset is a restart, the old loss is kept") {
  FrameSequence seq;
  for (std::uint64_t f : std::initializer_list<std::uint64_t>{1, 2, 4}) (void)seq.feed(f, ts(f));
  REQUIRE(seq.counts().missing == 1);
  // The same number with a new time stamp: the camera started again.
  CHECK(seq.feed(1, ts(1) + 100).kind == Kind::restart);
  CHECK(seq.counts().restarts == 1);
  CHECK(seq.counts().last == 1);
  CHECK(seq.counts().missing == 1);
  CHECK_FALSE(seq.is_gap(3));                              // the old gaps are forgotten
  CHECK(seq.feed(2, ts(2) + 100).kind == Kind::in_order);  // not a duplicate of old 2
  CHECK(seq.feed(3, ts(3) + 100).kind == Kind::in_order);  // not a late old 3
  CHECK(seq.feed(3, ts(3) + 100).kind == Kind::duplicate);
  CHECK(seq.counts().duplicates == 1);
  CHECK(seq.counts().reorders == 0);
}

TEST_CASE("frame sequence: a feed without a time stamp advances, is never a duplicate") {
  FrameSequence seq;
  (void)seq.feed(1, ts(1));
  CHECK(seq.feed(3, std::nullopt).kind == Kind::gap);  // 2 skipped, 3 arrived (bad)
  CHECK(seq.counts().missing == 1);
  CHECK(seq.feed(3, std::nullopt).kind == Kind::seen);
  CHECK(seq.feed(1, std::nullopt).kind == Kind::seen);
  CHECK(seq.feed(2, std::nullopt).kind == Kind::late);  // a bad late one fills its gap
  CHECK(seq.counts().missing == 0);
  // 3 was never remembered with a time stamp: a good 3 now is a restart,
  // not a duplicate (nothing to compare it with).
  CHECK(seq.feed(3, ts(3)).kind == Kind::restart);
  CHECK(seq.counts().duplicates == 0);
}

TEST_CASE("frame sequence: memory is bounded by the window") {
  FrameSequence seq(8);
  (void)seq.feed(0, ts(0));
  const auto v = seq.feed(101, ts(101));  // 100 skipped, only the newest 8 remembered
  CHECK(v.skipped == 100);
  CHECK(seq.counts().missing == 100);
  CHECK(seq.is_gap(93));
  CHECK_FALSE(seq.is_gap(92));
  CHECK(seq.feed(95, ts(95)).kind == Kind::late);
  // 50 is older than any remembered gap or number: a new acquisition.
  CHECK(seq.feed(50, ts(50)).kind == Kind::restart);
  // Received numbers: only the newest 8 stay remembered for duplicates.
  FrameSequence small(4);
  for (std::uint64_t f = 1; f <= 10; ++f) (void)small.feed(f, ts(f));
  CHECK(small.feed(7, ts(7)).kind == Kind::duplicate);
  CHECK(small.feed(6, ts(6)).kind == Kind::restart);  // forgotten: cannot call it a duplicate
}

TEST_CASE("frame sequence: a window of 0 is taken as 1") {
  FrameSequence seq(0);
  (void)seq.feed(1, ts(1));
  (void)seq.feed(4, ts(4));
  CHECK(seq.is_gap(3));
  CHECK_FALSE(seq.is_gap(2));
  CHECK(seq.counts().missing == 2);
}

}  // namespace pandafly::capture
