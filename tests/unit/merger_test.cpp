// capture::Merger: every fault alone and combined, interleavings (rows first,
// frames first, random with a fixed seed), clock offset, drift and jitter,
// bounded memory; and for every case the rule "an angle is never shifted onto
// another frame": each frame handed back sits in its true slot with its own
// row's angle, or is dropped with a reason.
//
// The scans here are generated from a ground truth (ScanSpec): PandA row k at
// TS_START = k·T with a unique encoder mean; the camera's frame for trigger k
// numbered consecutively from first_number (a missed trigger consumes no
// number, an extra frame consumes one), time-stamped latency + k·T after the
// acquisition's start (× (1 + drift), ± jitter). Handles name the truth:
// a genuine frame's handle is its slot, an extra frame's 1e6 + k, a
// duplicate's 2e6 + k.
#include "pandafly/capture/merger.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

namespace pandafly::capture {
namespace {

constexpr std::uint64_t extra_handle = 1'000'000;
constexpr std::uint64_t dup_handle = 2'000'000;

struct ScanSpec {
  std::uint64_t n = 40;
  double T = 0.01;          // trigger period, s
  double exposure = 0.006;  // s
  double epics_start = 1.1e9;
  double latency = 0.0072;  // frame time stamp − (start + TS_START), s
  double jitter = 0;        // uniform ± jitter on frame time stamps, s
  double drift = 0;         // camera clock rate error (s/s)
  std::uint64_t first_number = 1;
  std::set<std::uint64_t> dropped;           // frames lost in transit (by slot)
  std::set<std::uint64_t> missed;            // triggers the camera missed (no frame, no number)
  std::set<std::uint64_t> duplicated;        // frames that arrive twice
  std::set<std::uint64_t> swapped;           // slot k's frame arrives after the next frame
  std::set<std::uint64_t> extra_after;       // an extra frame half a period after slot k
  std::optional<std::uint64_t> rows_stop;    // rows ≥ this never arrive
  std::optional<std::uint64_t> frames_stop;  // camera frames for slots ≥ this never made
  std::uint64_t seed = 1;
};

double mean_of(std::uint64_t k) {
  return 10.0 + 0.05 * static_cast<double>(k) + 0.0123;
}

PandaRow row_of(const ScanSpec& s, std::uint64_t k) {
  PandaRow r;
  r.index = k;
  r.mean_deg = mean_of(k);
  r.min_deg = r.mean_deg - 0.01;
  r.max_deg = r.mean_deg + 0.01;
  r.ts_start_s = static_cast<double>(k) * s.T;
  r.ts_end_s = r.ts_start_s + s.exposure;
  r.ts_trig_s = r.ts_end_s;
  return r;
}

struct Generated {
  std::vector<PandaRow> rows;
  std::vector<MergerFrame> frames;  // in transit order
  std::uint64_t last_number = 0;    // the camera's last uniqueId
};

Generated generate(const ScanSpec& s) {
  Generated g;
  std::mt19937_64 rng(s.seed);
  std::uniform_real_distribution<double> jit(-s.jitter, s.jitter);
  for (std::uint64_t k = 0; k < s.n && (!s.rows_stop || k < *s.rows_stop); ++k)
    g.rows.push_back(row_of(s, k));
  const auto stamp = [&](double panda_t) {
    return s.epics_start + s.latency + panda_t * (1 + s.drift) + (s.jitter > 0 ? jit(rng) : 0);
  };
  std::vector<MergerFrame> camera;
  std::uint64_t number = s.first_number;
  for (std::uint64_t k = 0; k < s.n && (!s.frames_stop || k < *s.frames_stop); ++k) {
    if (!s.missed.count(k)) camera.push_back({number++, stamp(static_cast<double>(k) * s.T), k});
    if (s.extra_after.count(k))
      camera.push_back({number++, stamp((static_cast<double>(k) + 0.5) * s.T), extra_handle + k});
  }
  g.last_number = number - 1;
  for (std::size_t i = 0; i < camera.size(); ++i) {
    const auto f = camera[i];
    if (f.handle < extra_handle && s.swapped.count(f.handle) && i + 1 < camera.size()) {
      g.frames.push_back(camera[i + 1]);
      g.frames.push_back(f);
      if (s.duplicated.count(camera[i + 1].handle))
        g.frames.push_back(
            {camera[i + 1].number, camera[i + 1].timestamp, dup_handle + camera[i + 1].handle});
      ++i;
      continue;
    }
    if (f.handle < extra_handle && s.dropped.count(f.handle)) continue;
    g.frames.push_back(f);
    if (f.handle < extra_handle && s.duplicated.count(f.handle))
      g.frames.push_back({f.number, f.timestamp, dup_handle + f.handle});
  }
  return g;
}

enum class Order { rows_first, frames_first, lockstep, random };

struct Run {
  std::vector<MergedProjection> projections;
  std::vector<DroppedFrame> dropped;
  MergerStats stats;
  std::size_t max_pending_slots = 0;  // the merger's head lag (memory bound)
};

void collect(Merger& m, Run& run) {
  for (auto& e : m.take()) {
    if (auto* p = std::get_if<MergedProjection>(&e))
      run.projections.push_back(*p);
    else
      run.dropped.push_back(std::get<DroppedFrame>(e));
  }
}

/// Feeds the generated scan in `order` (random: rows and frames interleaved
/// at random, neither stream more than `max_lead` ahead), then finish(). The
/// start time is given first.
Run run_scan(const ScanSpec& s, MergerOptions o, Order order, std::size_t max_lead = 64,
             bool give_last_number = true) {
  const auto g = generate(s);
  Merger m(o);
  Run run;
  m.set_start_time(s.epics_start);
  std::size_t r = 0, f = 0;
  std::mt19937_64 rng(s.seed * 7919 + 1);
  const auto feed_row = [&] { m.add_row(g.rows[r++]); };
  const auto feed_frame = [&] { m.add_frame(g.frames[f++]); };
  while (r < g.rows.size() || f < g.frames.size()) {
    const bool rows_left = r < g.rows.size(), frames_left = f < g.frames.size();
    bool row_next = false;
    switch (order) {
      case Order::rows_first:
        row_next = rows_left;
        break;
      case Order::frames_first:
        row_next = !frames_left;
        break;
      case Order::lockstep:
        row_next = rows_left && (!frames_left || r <= f);
        break;
      case Order::random:
        if (!rows_left || !frames_left)
          row_next = rows_left;
        else if (r > f + max_lead)
          row_next = false;
        else if (f > r + max_lead)
          row_next = true;
        else
          row_next = (rng() & 1U) != 0;
        break;
    }
    if (row_next)
      feed_row();
    else
      feed_frame();
    collect(m, run);
    run.max_pending_slots = std::max<std::size_t>(
        run.max_pending_slots, std::max(r, f) > m.next_slot() ? std::max(r, f) - m.next_slot() : 0);
  }
  m.finish(give_last_number ? std::optional<std::uint64_t>(g.last_number) : std::nullopt);
  collect(m, run);
  run.stats = m.stats();
  return run;
}

MergerOptions options_for(const ScanSpec& s, bool prior = true) {
  MergerOptions o;
  o.projections = s.n;
  o.frame_time_s = s.T;
  if (prior) {
    o.expected_offset_s = s.latency;
    o.first_frame_number = s.first_number;
  }
  return o;
}

/// The invariants every run keeps, whatever the faults: each slot once, in
/// order; an angle only from the slot's own row; every frame handed back once,
/// a genuine one in its own slot (never another's) unless dropped with a
/// reason; extra frames and duplicates never in a projection.
void check_invariants(const ScanSpec& s, const Run& run) {
  const auto g = generate(s);
  REQUIRE(run.projections.size() == s.n);
  std::map<std::uint64_t, int> handed;
  for (std::uint64_t k = 0; k < s.n; ++k) {
    const auto& p = run.projections[k];
    REQUIRE(p.slot == k);
    const bool row_sent = !s.rows_stop || k < *s.rows_stop;
    if (p.row) {
      CHECK(p.row->index == k);
      CHECK(p.angle_deg == mean_of(k));
      CHECK(p.start_angle_deg == p.row->min_deg);
    } else {
      CHECK(std::isnan(p.angle_deg));
      CHECK(p.has(ProjectionEvent::row_missing));
      CHECK_FALSE(row_sent);
    }
    if (p.frame) {
      INFO("slot " << k << " got frame handle " << p.frame->handle);
      CHECK(p.frame->handle == k);  // never another slot's frame
      ++handed[p.frame->handle];
    } else {
      CHECK((p.has(ProjectionEvent::frame_missing) || p.has(ProjectionEvent::missed_trigger)));
    }
  }
  for (const auto& d : run.dropped) {
    ++handed[d.frame.handle];
    INFO("dropped handle " << d.frame.handle << " reason " << to_string(d.reason));
    CHECK(d.frame.handle >= extra_handle);  // only extras and duplicates are dropped here
  }
  for (const auto& f : g.frames) {
    INFO("frame handle " << f.handle);
    CHECK(handed[f.handle] == 1);
  }
  CHECK(handed.size() == g.frames.size());
}

/// A list of slots that doctest prints (internal linkage: a StringMaker
/// specialisation for std::vector would clash with other test files').
struct Slots {
  std::vector<std::uint64_t> v;
  Slots() = default;
  Slots(std::initializer_list<std::uint64_t> l) : v(l) {}
  template <class It>
  Slots(It first, It last) : v(first, last) {}
  [[nodiscard]] bool empty() const { return v.empty(); }
  bool operator==(const Slots&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Slots& s) {
    os << '{';
    for (auto k : s.v) os << ' ' << k;
    return os << " }";
  }
};

Slots slots_with(const Run& run, ProjectionEvent e) {
  Slots out;
  for (const auto& p : run.projections)
    if (p.has(e)) out.v.push_back(p.slot);
  return out;
}

}  // namespace

TEST_CASE("merger: options are checked, naming the option") {
  MergerOptions o;
  o.frame_time_s = 0.01;
  CHECK_THROWS_WITH_AS(Merger{o}, doctest::Contains("projections"), std::invalid_argument);
  o.projections = 3;
  o.frame_time_s = 0;
  CHECK_THROWS_WITH_AS(Merger{o}, doctest::Contains("frame_time_s"), std::invalid_argument);
  o.frame_time_s = 0.01;
  o.tolerance = 0.5;
  CHECK_THROWS_WITH_AS(Merger{o}, doctest::Contains("tolerance"), std::invalid_argument);
}

TEST_CASE("merger: a clean scan pairs row k with frame k in every interleaving") {
  ScanSpec s;
  for (auto order : {Order::rows_first, Order::frames_first, Order::lockstep, Order::random}) {
    for (bool prior : {true, false}) {
      CAPTURE(static_cast<int>(order));
      CAPTURE(prior);
      const auto run = run_scan(s, options_for(s, prior), order);
      check_invariants(s, run);
      CHECK(run.stats.paired == s.n);
      CHECK(run.stats.emitted == s.n);
      CHECK(run.dropped.empty());
      for (const auto& p : run.projections) {
        CHECK(p.events == 0);
        REQUIRE(p.residual_s);
        CHECK(std::abs(*p.residual_s) < 1e-6);
      }
      REQUIRE(run.stats.offset_s);
      CHECK(*run.stats.offset_s == doctest::Approx(s.latency).epsilon(1e-6));
    }
  }
}

TEST_CASE("merger: a projection is emitted as soon as it is decided") {
  ScanSpec s;
  const auto g = generate(s);
  {  // The anchor waits for bootstrap_frames (4) counted pairs.
    Merger m(options_for(s));
    m.set_start_time(s.epics_start);
    for (std::size_t i = 0; i < 3; ++i) {
      m.add_row(g.rows[i]);
      m.add_frame(g.frames[i]);
    }
    CHECK(m.take().empty());
    m.add_row(g.rows[3]);
    m.add_frame(g.frames[3]);
    CHECK(m.take().size() == 4);
  }
  auto o = options_for(s);
  o.bootstrap_frames = 1;  // from then on (here at once) each slot goes out when decided
  Merger m(o);
  m.set_start_time(s.epics_start);
  m.add_row(g.rows[0]);
  CHECK(m.take().empty());
  m.add_frame(g.frames[0]);
  auto out = m.take();
  REQUIRE(out.size() == 1);
  const auto& p = std::get<MergedProjection>(out[0]);
  CHECK(p.slot == 0);
  CHECK(p.complete());
  CHECK(p.angle_deg == mean_of(0));
  // The frame first, then its row: decided when the row arrives.
  m.add_frame(g.frames[1]);
  CHECK(m.take().empty());
  m.add_row(g.rows[1]);
  CHECK(m.take().size() == 1);
  CHECK(m.next_slot() == 2);
}

TEST_CASE("merger: a dropped frame is frame_missing; its neighbours keep their angles") {
  for (std::uint64_t k : {0ULL, 1ULL, 20ULL, 39ULL}) {
    CAPTURE(k);
    ScanSpec s;
    s.dropped = {k};
    for (auto order : {Order::lockstep, Order::rows_first, Order::frames_first}) {
      const auto run = run_scan(s, options_for(s), order);
      check_invariants(s, run);
      CHECK(slots_with(run, ProjectionEvent::frame_missing) == Slots{k});
      CHECK(slots_with(run, ProjectionEvent::missed_trigger).empty());
      CHECK(run.stats.frames_missing == 1);
      CHECK(run.stats.paired == s.n - 1);
    }
  }
}

TEST_CASE("merger: a missed trigger is told from a dropped frame by the frame numbers") {
  for (std::uint64_t k : {0ULL, 1ULL, 20ULL, 39ULL}) {  // start, middle, end
    CAPTURE(k);
    ScanSpec s;
    s.missed = {k};
    for (auto order : {Order::lockstep, Order::rows_first, Order::frames_first, Order::random}) {
      CAPTURE(static_cast<int>(order));
      const auto run = run_scan(s, options_for(s), order);
      check_invariants(s, run);
      CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{k});
      CHECK(slots_with(run, ProjectionEvent::frame_missing).empty());
      CHECK(run.stats.missed_triggers == 1);
      CHECK(run.stats.paired == s.n - 1);
    }
  }
}

TEST_CASE("merger: a missed trigger in the middle is found without any prior") {
  ScanSpec s;
  s.missed = {17};
  const auto run = run_scan(s, options_for(s, false), Order::random);
  check_invariants(s, run);
  CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{17});
  // Every later frame is one period late against count pairing; the time
  // stamps moved them, the fitted offset did not follow the slip.
  REQUIRE(run.stats.offset_s);
  CHECK(*run.stats.offset_s == doctest::Approx(s.latency).epsilon(1e-6));
}

TEST_CASE("merger: without a prior a missed first trigger cannot be seen (documented)") {
  // Rules, "Time": a camera that missed slot 0's trigger looks exactly like
  // one whose clock is a period later. Counting pairs frame j with slot j:
  // every angle would shift by one — which is why the shell gives the prior.
  ScanSpec s;
  s.missed = {0};
  auto o = options_for(s, false);
  const auto run = run_scan(s, o, Order::lockstep);
  CHECK(run.projections.front().frame.value().handle == 1);  // slot 0 got the frame of trigger 1
  // With only the first frame number known it is still ambiguous in time,
  // but the prior alone settles it:
  o.expected_offset_s = s.latency;
  const auto fixed = run_scan(s, o, Order::lockstep);
  check_invariants(s, fixed);
  CHECK(slots_with(fixed, ProjectionEvent::missed_trigger) == Slots{0});
}

TEST_CASE("merger: the end of the scan: a missed trigger needs the camera's last number") {
  ScanSpec s;
  s.missed = {39};
  const auto without = run_scan(s, options_for(s), Order::lockstep, 64, false);
  check_invariants(s, without);
  CHECK(slots_with(without, ProjectionEvent::frame_missing) == Slots{39});  // cannot tell
  s.missed.clear();
  s.dropped = {39};
  const auto dropped = run_scan(s, options_for(s), Order::lockstep);
  CHECK(slots_with(dropped, ProjectionEvent::frame_missing) == Slots{39});
  CHECK(slots_with(dropped, ProjectionEvent::missed_trigger).empty());
}

/// Slots flagged duplicate_dropped (the copy came before the slot was
/// emitted) together with the slots named by dropped copies (always).
static Slots duplicate_slots(const Run& run) {
  std::set<std::uint64_t> out;
  for (auto k : slots_with(run, ProjectionEvent::duplicate_dropped).v) out.insert(k);
  for (const auto& d : run.dropped) {
    if (d.reason != DropReason::duplicate) continue;
    REQUIRE(d.slot);
    CHECK(*d.slot == d.frame.handle - dup_handle);
    out.insert(*d.slot);
  }
  return {out.begin(), out.end()};
}

TEST_CASE("merger: duplicates are dropped, naming their slot") {
  ScanSpec s;
  s.duplicated = {0, 5, 39};
  for (auto order : {Order::lockstep, Order::rows_first, Order::frames_first}) {
    CAPTURE(static_cast<int>(order));
    const auto run = run_scan(s, options_for(s), order);
    check_invariants(s, run);
    CHECK(duplicate_slots(run) == Slots{0, 5, 39});
    CHECK(run.stats.duplicates == 3);
    CHECK(run.stats.paired == s.n);
    for (const auto& d : run.dropped) CHECK(d.reason == DropReason::duplicate);
  }
  // A copy that comes while its slot waits (for its row) flags the slot too.
  const auto run = run_scan(s, options_for(s), Order::frames_first);
  CHECK(slots_with(run, ProjectionEvent::duplicate_dropped) == Slots{0, 5, 39});
}

TEST_CASE("merger: swapped frames are put back in order and stay complete") {
  ScanSpec s;
  s.swapped = {0, 10, 38};
  for (auto order : {Order::lockstep, Order::rows_first, Order::frames_first, Order::random}) {
    const auto run = run_scan(s, options_for(s), order);
    check_invariants(s, run);
    CHECK(slots_with(run, ProjectionEvent::reordered) == Slots{0, 10, 38});
    CHECK(run.stats.reorders == 3);
    CHECK(run.stats.paired == s.n);
    CHECK(run.stats.frames_missing == 0);
  }
}

TEST_CASE("merger: an extra frame without a trigger is dropped, numbers re-based") {
  ScanSpec s;
  s.extra_after = {3, 30};
  for (bool prior : {true, false}) {
    const auto run = run_scan(s, options_for(s, prior), Order::random);
    check_invariants(s, run);
    CHECK(run.stats.extra_frames == 2);
    CHECK(run.stats.paired == s.n);
    REQUIRE(run.dropped.size() == 2);
    for (const auto& d : run.dropped) CHECK(d.reason == DropReason::no_trigger);
  }
}

TEST_CASE("merger: PandA rows stop at row K: later frames keep their slots, angle NaN") {
  ScanSpec s;
  s.n = 600;
  s.rows_stop = 250;
  for (auto order : {Order::lockstep, Order::frames_first, Order::random}) {
    CAPTURE(static_cast<int>(order));
    auto o = options_for(s);
    // All frames before any row: they must be allowed to wait for them all.
    o.window = order == Order::frames_first ? 1024 : 64;
    const auto run = run_scan(s, o, order);
    check_invariants(s, run);
    CHECK(run.stats.rows_missing == 350);
    CHECK(run.stats.paired == 250);
    CHECK(run.stats.time_mismatches == 0);  // the extrapolated times agree with the numbers
    CHECK(run.projections[250].frame.value().handle == 250);
    if (order != Order::frames_first) {
      // Bounded: the head never fell more than about a window behind.
      CHECK(run.max_pending_slots <= o.window + 2 + 64);
    }
  }
}

TEST_CASE("merger: the PandA data connection lost: end_rows() decides at once") {
  ScanSpec s;
  s.n = 100;
  const auto g = generate(s);
  Merger m(options_for(s));
  m.set_start_time(s.epics_start);
  for (std::uint64_t k = 0; k < 30; ++k) m.add_row(g.rows[k]);
  for (std::uint64_t k = 0; k < 60; ++k) m.add_frame(g.frames[k]);
  Run run;
  collect(m, run);
  CHECK(m.next_slot() == 30);  // frames 30… wait for their rows
  m.end_rows();
  collect(m, run);
  CHECK(m.next_slot() == 60);  // placed on the extrapolated grid, decided
  m.add_row(g.rows[30]);       // too late: the stream ended
  CHECK(m.stats().rows_ignored == 1);
  for (std::uint64_t k = 60; k < 100; ++k) m.add_frame(g.frames[k]);
  m.finish(g.last_number);
  collect(m, run);
  REQUIRE(run.projections.size() == 100);
  for (const auto& p : run.projections) {
    CHECK(p.frame.value().handle == p.slot);
    CHECK(p.has(ProjectionEvent::row_missing) == (p.slot >= 30));
    CHECK(p.events ==
          (p.slot >= 30 ? static_cast<std::uint16_t>(ProjectionEvent::row_missing) : 0));
  }
}

TEST_CASE("merger: PandA rows stop and a frame is dropped after that: numbers place the rest") {
  ScanSpec s;
  s.n = 100;
  s.rows_stop = 50;
  s.dropped = {70};
  const auto run = run_scan(s, options_for(s), Order::lockstep);
  check_invariants(s, run);
  CHECK(slots_with(run, ProjectionEvent::frame_missing) == Slots{70});
}

TEST_CASE("merger: after the rows stop, time on the extrapolated grid still tells faults apart") {
  ScanSpec s;
  s.n = 200;
  s.rows_stop = 50;
  s.jitter = 0.0005;
  s.drift = 1e-4;
  s.missed = {70};
  s.extra_after = {80};
  s.dropped = {120};
  for (auto order : {Order::lockstep, Order::random, Order::rows_first}) {
    CAPTURE(static_cast<int>(order));
    const auto run = run_scan(s, options_for(s), order);
    check_invariants(s, run);
    CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{70});
    CHECK(slots_with(run, ProjectionEvent::frame_missing) == Slots{120});
    // Slot 71's frame carries the number counting says is 70's (the missed
    // trigger), slot 81's the one it says is 82's (the extra frame took a
    // number): no row confirms which is right, so both are flagged; the
    // numbers re-base after each.
    CHECK(slots_with(run, ProjectionEvent::time_mismatch) == Slots{71, 81});
    CHECK(run.stats.extra_frames == 1);
  }
}

TEST_CASE("merger: the camera stops (stall): the rest is frame_missing, decided by the window") {
  ScanSpec s;
  s.n = 400;
  s.frames_stop = 100;
  auto o = options_for(s);
  o.window = 32;
  const auto g = generate(s);
  Merger m(o);
  m.set_start_time(s.epics_start);
  Run run;
  for (std::size_t i = 0; i < g.frames.size(); ++i) {
    m.add_row(g.rows[i]);
    m.add_frame(g.frames[i]);
  }
  collect(m, run);
  CHECK(m.next_slot() == 100);
  for (std::uint64_t k = 100; k < 200; ++k) m.add_row(g.rows[k]);
  collect(m, run);
  // Slots wait until rows are `window` ahead of them (rows 0…199 came, so
  // slot 168 is the last with 32 rows beyond it): the camera stalled. Not
  // knowing yet whether frames were lost, they are frame_missing.
  CHECK(m.next_slot() == 200 - o.window + 1);
  m.finish(g.last_number);
  collect(m, run);
  run.stats = m.stats();
  REQUIRE(run.projections.size() == 400);
  CHECK(run.stats.paired == 100);
  CHECK(run.stats.rows_missing == 200);
  CHECK(run.projections[150].has(ProjectionEvent::frame_missing));
  CHECK(run.projections[150].angle_deg == mean_of(150));
  // At finish the camera's last number (100) says it made no more frames:
  // the triggers with rows it did not expose are missed triggers; slots
  // without rows (no trigger known) stay frame_missing.
  CHECK(run.projections[180].has(ProjectionEvent::missed_trigger));
  CHECK(run.projections[300].has(ProjectionEvent::frame_missing));
  CHECK_FALSE(run.projections[300].has(ProjectionEvent::missed_trigger));
  CHECK(run.stats.missed_triggers == 200 - 169);
  CHECK(run.stats.frames_missing == 69 + 200);
}

TEST_CASE("merger: nothing at all: finish marks every slot") {
  MergerOptions o;
  o.projections = 5;
  o.frame_time_s = 0.01;
  Merger m(o);
  m.finish();
  const auto out = m.take();
  REQUIRE(out.size() == 5);
  for (const auto& e : out) {
    const auto& p = std::get<MergedProjection>(e);
    CHECK(p.has(ProjectionEvent::row_missing));
    CHECK(p.has(ProjectionEvent::frame_missing));
    CHECK(std::isnan(p.angle_deg));
  }
  m.add_frame({1, 1.0, 7});
  const auto late = m.take();
  REQUIRE(late.size() == 1);
  CHECK(std::get<DroppedFrame>(late[0]).reason == DropReason::after_finish);
  m.add_row(PandaRow{});
  CHECK(m.stats().rows_ignored == 1);
}

TEST_CASE("merger: only frames (PandA lost from the start): placed by number") {
  ScanSpec s;
  s.rows_stop = 0;
  s.dropped = {7};
  for (bool prior : {true, false}) {
    const auto run = run_scan(s, options_for(s, prior), Order::frames_first);
    check_invariants(s, run);
    CHECK(run.stats.rows_missing == s.n);
    CHECK(run.stats.paired == 0);
    CHECK(slots_with(run, ProjectionEvent::frame_missing) == Slots{7});
  }
}

TEST_CASE("merger: clock offset, slow drift and jitter are fitted") {
  ScanSpec s;
  s.n = 3000;
  s.latency = -12.345;  // the camera's clock far behind the PandA's
  s.drift = 2e-4;       // 200 ppm: 6 ms (0.6 periods) over the scan
  s.jitter = 0.001;     // ± 0.1 period
  s.missed = {1000};
  s.dropped = {2000};
  auto o = options_for(s);
  const auto run = run_scan(s, o, Order::random);
  check_invariants(s, run);
  CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{1000});
  CHECK(slots_with(run, ProjectionEvent::frame_missing) == Slots{2000});
  CHECK(run.stats.max_abs_residual_s <= o.tolerance * s.T);
  // Without a drift fit, the last frames would sit 0.6 periods off: extra.
  CHECK(run.stats.extra_frames == 0);
}

TEST_CASE("merger: faults combined in one scan, each interleaving") {
  ScanSpec s;
  s.n = 200;
  s.jitter = 0.001;
  s.dropped = {3, 60};
  s.missed = {0, 30, 199};
  s.duplicated = {10, 61};
  s.swapped = {40, 120};
  s.extra_after = {90};
  for (auto order : {Order::lockstep, Order::rows_first, Order::frames_first, Order::random}) {
    CAPTURE(static_cast<int>(order));
    const auto run = run_scan(s, options_for(s), order);
    check_invariants(s, run);
    CHECK(slots_with(run, ProjectionEvent::frame_missing) == Slots{3, 60});
    CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{0, 30, 199});
    CHECK(duplicate_slots(run) == Slots{10, 61});
    CHECK(slots_with(run, ProjectionEvent::reordered) == Slots{40, 120});
    CHECK(run.stats.extra_frames == 1);
  }
}

TEST_CASE("merger: a dropped frame next to a missed trigger: both flagged, angles kept") {
  ScanSpec s;
  s.dropped = {10};
  s.missed = {11};
  const auto run = run_scan(s, options_for(s), Order::lockstep);
  check_invariants(s, run);
  // One number lost, two slots without frames: which is which is unknowable.
  for (std::uint64_t k : {10ULL, 11ULL}) {
    CHECK(run.projections[k].has(ProjectionEvent::frame_missing));
    CHECK(run.projections[k].has(ProjectionEvent::missed_trigger));
  }
  CHECK(run.projections[12].frame.value().handle == 12);
}

TEST_CASE("merger: 3600 projections, random faults and interleavings (seeded property)") {
  std::mt19937_64 rng(20261205);
  for (int trial = 0; trial < 9; ++trial) {
    ScanSpec s;
    s.n = 3600;
    s.T = 0.002;  // 500 frames/s
    s.exposure = 0.0015;
    s.seed = rng();
    s.jitter = 0.0001 * static_cast<double>(rng() % 3);  // up to ± 0.1 period
    s.drift = 1e-5 * static_cast<double>(rng() % 5);
    s.latency = 0.0031 + static_cast<double>(rng() % 1000);  // any clock offset
    // Faults at least 4 slots apart so that each one's label is certain.
    std::set<std::uint64_t> used;
    const auto pick = [&] {
      for (;;) {
        const auto k = rng() % (s.n - 2);
        bool clear = true;
        for (auto u : used)
          if ((k > u ? k - u : u - k) < 4) clear = false;
        if (clear) {
          used.insert(k);
          return k;
        }
      }
    };
    for (int i = 0; i < 8; ++i) s.dropped.insert(pick());
    for (int i = 0; i < 8; ++i) s.missed.insert(pick());
    for (int i = 0; i < 8; ++i) s.duplicated.insert(pick());
    for (int i = 0; i < 8; ++i) s.swapped.insert(pick());
    for (int i = 0; i < 4; ++i) s.extra_after.insert(pick());
    CAPTURE(trial);
    CAPTURE(s.seed);
    // What the shell knows varies: everything; the first frame number only;
    // nothing (then a fault at slot 0 needs what it lacks: see the tests above).
    auto o = options_for(s);
    if (trial % 3 >= 1 && !s.missed.count(0)) o.expected_offset_s.reset();
    if (trial % 3 == 2 && !s.missed.count(0) && !s.dropped.count(0)) o.first_frame_number.reset();
    const auto run = run_scan(s, o, Order::random, 1 + rng() % 200);
    check_invariants(s, run);
    CHECK(slots_with(run, ProjectionEvent::frame_missing) ==
          Slots(s.dropped.begin(), s.dropped.end()));
    CHECK(slots_with(run, ProjectionEvent::missed_trigger) ==
          Slots(s.missed.begin(), s.missed.end()));
    CHECK(duplicate_slots(run) == Slots(s.duplicated.begin(), s.duplicated.end()));
    CHECK(slots_with(run, ProjectionEvent::reordered) == Slots(s.swapped.begin(), s.swapped.end()));
    CHECK(run.stats.extra_frames == s.extra_after.size());
    CHECK(run.stats.paired == s.n - s.dropped.size() - s.missed.size());
    CHECK(run.stats.late_frames == 0);
  }
}

TEST_CASE("merger: a prior off by up to half a period only picks the slot shift") {
  ScanSpec s;
  s.missed = {0};
  s.jitter = 0.0005;
  for (double error : {-0.0045, -0.002, 0.0, 0.002, 0.0045}) {
    CAPTURE(error);
    auto o = options_for(s);
    *o.expected_offset_s += error;
    const auto run = run_scan(s, o, Order::random);
    check_invariants(s, run);
    CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{0});
    REQUIRE(run.stats.offset_s);
    CHECK(std::abs(*run.stats.offset_s - s.latency) < 0.001);  // from the data, not the prior
  }
}

TEST_CASE("merger: a missed trigger among the first frames does not bend the anchor") {
  for (std::uint64_t k : {1ULL, 2ULL, 3ULL}) {
    CAPTURE(k);
    ScanSpec s;
    s.missed = {k};
    auto o = options_for(s, false);
    o.first_frame_number = s.first_number;
    for (auto order : {Order::frames_first, Order::rows_first, Order::lockstep}) {
      const auto run = run_scan(s, o, order);
      check_invariants(s, run);
      CHECK(slots_with(run, ProjectionEvent::missed_trigger) == Slots{k});
    }
  }
}

TEST_CASE("merger: an extra frame among the first frames does not bend the anchor") {
  ScanSpec s;
  s.extra_after = {0, 1};
  const auto run = run_scan(s, options_for(s, false), Order::frames_first);
  check_invariants(s, run);
  CHECK(run.stats.extra_frames == 2);
  CHECK(run.stats.paired == s.n);
}

TEST_CASE("merger: rows lagging more than the window are taken as lost") {
  ScanSpec s;
  s.n = 100;
  auto o = options_for(s);
  o.window = 16;
  const auto g = generate(s);
  Merger m(o);
  m.set_start_time(s.epics_start);
  Run run;
  for (std::uint64_t k = 0; k < 10; ++k) m.add_row(g.rows[k]);
  for (std::uint64_t k = 0; k < 40; ++k) m.add_frame(g.frames[k]);
  collect(m, run);
  // 30 frames without rows: 16 of them were too many to hold. The rows are
  // taken as lost and every frame sits where its number (and the time
  // extrapolated from row 9) says; the frames' slots are decided.
  CHECK(m.next_slot() >= 10 + 16);
  for (const auto& p : run.projections) {
    REQUIRE(p.frame);
    CHECK(p.frame->handle == p.slot);
    CHECK(p.has(ProjectionEvent::row_missing) == (p.slot >= 10));
    CHECK_FALSE(p.has(ProjectionEvent::time_mismatch));
  }
  const auto decided = m.next_slot();
  // A row for a decided slot is ignored; one for an undecided slot is used.
  m.add_row(g.rows[10]);
  CHECK(m.stats().rows_ignored == 1);
  REQUIRE(decided == 40);  // the frames' slots
  for (std::uint64_t k = decided; k < 100; ++k) {
    m.add_row(g.rows[k]);
    m.add_frame(g.frames[k]);
  }
  m.finish(g.last_number);
  collect(m, run);
  CHECK(run.dropped.empty());
  REQUIRE(run.projections.size() == 100);
  for (const auto& p : run.projections) {
    REQUIRE(p.frame);
    CHECK(p.frame->handle == p.slot);
    CHECK(p.complete() == (p.slot < 10 || p.slot >= decided));
    if (p.row) CHECK(p.angle_deg == mean_of(p.slot));
  }
}

TEST_CASE("merger: frames after their slots were decided (camera far behind) keep their own") {
  // All rows first with a small window: the slots are decided (frame_missing)
  // before the frames come. Counting must still start at the first frame —
  // before the rows' history was kept, the anchor counted from the first
  // undecided slot, past a missed trigger and extra frames, and every later
  // frame went two slots early.
  ScanSpec s;
  s.n = 300;
  s.missed = {6, 100};
  s.extra_after = {50, 120, 200};
  s.jitter = 0.0002;
  auto o = options_for(s, false);
  o.first_frame_number = s.first_number;
  o.window = 14;
  const auto run = run_scan(s, o, Order::rows_first);
  REQUIRE(run.projections.size() == s.n);
  std::uint64_t paired = 0;
  for (const auto& p : run.projections) {
    CHECK(p.angle_deg == mean_of(p.slot));
    if (p.frame) {
      CHECK(p.frame->handle == p.slot);
      ++paired;
    }
  }
  CHECK(paired == 13);  // slots 287…299, where 300 rows < slot + window (14)
  for (const auto& d : run.dropped) {
    if (d.frame.handle >= extra_handle) {
      CHECK(d.reason == DropReason::no_trigger);
      continue;
    }
    CHECK(d.reason == DropReason::too_late);
    CHECK(d.slot == d.frame.handle);  // named by its own slot
  }
}

TEST_CASE("merger: rows that come after a frames-only grid was anchored re-anchor it") {
  ScanSpec s;
  s.n = 100;
  s.missed = {5, 60};
  auto o = options_for(s);
  o.window = 16;
  const auto g = generate(s);
  Merger m(o);
  m.set_start_time(s.epics_start);
  Run run;
  std::size_t f = 0;
  while (f < g.frames.size() && g.frames[f].handle < 30) m.add_frame(g.frames[f++]);
  collect(m, run);
  const auto decided = m.next_slot();
  CHECK(decided >= 10);  // no row: the frames' own grid placed them, rows taken as lost
  for (std::uint64_t k = decided; k < 100; ++k) {
    m.add_row(g.rows[k]);
    while (f < g.frames.size() && g.frames[f].handle <= k) m.add_frame(g.frames[f++]);
  }
  m.finish(g.last_number);
  collect(m, run);
  REQUIRE(run.projections.size() == 100);
  CHECK(run.dropped.empty());
  for (const auto& p : run.projections) {
    if (p.slot == 5 || p.slot == 60) {
      CHECK(p.has(ProjectionEvent::missed_trigger));
      continue;
    }
    CHECK(p.frame.value().handle == p.slot);
    CHECK(p.complete() == (p.slot >= decided));
  }
  REQUIRE(m.stats().offset_s);
  CHECK(*m.stats().offset_s == doctest::Approx(s.latency).epsilon(1e-6));
}

TEST_CASE("merger: frames beyond the plan and before the first trigger are dropped") {
  ScanSpec s;
  s.n = 10;
  const auto g = generate(s);
  Merger m(options_for(s));
  m.set_start_time(s.epics_start);
  for (const auto& r : g.rows) m.add_row(r);
  for (const auto& f : g.frames) m.add_frame(f);
  // The camera went on after the last trigger (a frame one period later),
  // and a stale frame one period before the first.
  m.add_frame({11, g.frames.back().timestamp + s.T, 99});
  m.add_frame({0, g.frames.front().timestamp - s.T, 98});
  m.finish();
  std::map<std::uint64_t, DropReason> dropped;
  std::uint64_t projections = 0;
  for (const auto& e : m.take()) {
    if (const auto* d = std::get_if<DroppedFrame>(&e))
      dropped[d->frame.handle] = d->reason;
    else
      ++projections;
  }
  CHECK(projections == 10);
  CHECK(dropped.at(99) == DropReason::beyond_plan);
  CHECK(dropped.at(98) == DropReason::no_trigger);
  CHECK(m.stats().paired == 10);
}

TEST_CASE("merger: a row index jump marks the skipped rows lost at once") {
  ScanSpec s;
  s.n = 10;
  const auto g = generate(s);
  Merger m(options_for(s));
  m.set_start_time(s.epics_start);
  for (std::uint64_t k : {0ULL, 1ULL, 4ULL, 5ULL}) m.add_row(g.rows[k]);
  m.add_row(g.rows[4]);  // repeated: ignored
  CHECK(m.stats().rows_ignored == 1);
  for (std::uint64_t k = 0; k < 6; ++k) m.add_frame(g.frames[k]);
  std::vector<MergedProjection> out;
  for (auto& e : m.take()) out.push_back(std::get<MergedProjection>(e));
  REQUIRE(out.size() == 6);
  for (const auto& p : out) {
    CHECK(p.frame.value().handle == p.slot);
    CHECK(p.has(ProjectionEvent::row_missing) == (p.slot == 2 || p.slot == 3));
  }
  CHECK(std::isnan(out[2].angle_deg));
  CHECK(out[4].angle_deg == mean_of(4));
}

TEST_CASE("merger: a camera counter restart mid-scan: time still places every frame") {
  ScanSpec s;
  s.n = 30;
  auto g = generate(s);
  for (auto& f : g.frames)
    if (f.handle >= 15) f.number -= 14;  // ArrayCounter reset to 0 before slot 15
  Merger m(options_for(s));
  m.set_start_time(s.epics_start);
  for (std::size_t i = 0; i < g.frames.size(); ++i) {
    m.add_row(g.rows[i]);
    m.add_frame(g.frames[i]);
  }
  m.finish();
  std::uint64_t n = 0;
  for (const auto& e : m.take()) {
    const auto& p = std::get<MergedProjection>(e);
    CHECK(p.frame.value().handle == p.slot);
    CHECK(p.events == 0);
    ++n;
  }
  CHECK(n == 30);
}

TEST_CASE("merger: a frame without a finite time stamp goes by its number, flagged") {
  ScanSpec s;
  s.n = 20;
  auto g = generate(s);
  g.frames[7].timestamp = std::numeric_limits<double>::quiet_NaN();
  g.frames[12].timestamp = std::numeric_limits<double>::infinity();
  Merger m(options_for(s));
  m.set_start_time(s.epics_start);
  for (std::size_t i = 0; i < g.frames.size(); ++i) {
    m.add_row(g.rows[i]);
    m.add_frame(g.frames[i]);
  }
  m.finish(g.last_number);
  std::vector<MergedProjection> out;
  for (auto& e : m.take()) out.push_back(std::get<MergedProjection>(e));
  REQUIRE(out.size() == 20);
  for (const auto& p : out) {
    CHECK(p.frame.value().handle == p.slot);
    CHECK(p.has(ProjectionEvent::time_mismatch) == (p.slot == 7 || p.slot == 12));
  }
}

TEST_CASE("merger: a row without a finite TS_START gives its angle, its slot's time extrapolated") {
  ScanSpec s;
  s.n = 20;
  auto g = generate(s);
  g.rows[5].ts_start_s = std::numeric_limits<double>::quiet_NaN();
  Merger m(options_for(s));
  m.set_start_time(s.epics_start);
  for (std::size_t i = 0; i < g.frames.size(); ++i) {
    m.add_row(g.rows[i]);
    m.add_frame(g.frames[i]);
  }
  m.finish(g.last_number);
  std::vector<MergedProjection> out;
  for (auto& e : m.take()) out.push_back(std::get<MergedProjection>(e));
  REQUIRE(out.size() == 20);
  for (const auto& p : out) {
    CHECK(p.frame.value().handle == p.slot);
    CHECK(p.angle_deg == mean_of(p.slot));
    CHECK(p.events == 0);
  }
}

TEST_CASE("merger: the start angle follows the scan direction") {
  ScanSpec s;
  s.n = 3;
  const auto g = generate(s);
  auto o = options_for(s);
  o.increasing = false;
  Merger m(o);
  m.set_start_time(s.epics_start);
  for (std::size_t i = 0; i < 3; ++i) {
    m.add_row(g.rows[i]);
    m.add_frame(g.frames[i]);
  }
  m.finish();
  for (const auto& e : m.take()) {
    const auto& p = std::get<MergedProjection>(e);
    CHECK(p.start_angle_deg == p.row->max_deg);
    CHECK(p.angle_deg == p.row->mean_deg);
  }
  CHECK(to_string(ProjectionEvent::missed_trigger) == "missed_trigger");
  CHECK(describe_events(0) == "ok");
  CHECK(describe_events(static_cast<std::uint16_t>(ProjectionEvent::frame_missing) |
                        static_cast<std::uint16_t>(ProjectionEvent::missed_trigger)) ==
        "frame_missing|missed_trigger");
  CHECK(describe_events(static_cast<std::uint16_t>(ProjectionEvent::time_mismatch)) ==
        "time_mismatch");
  CHECK(describe_events(1U << 9) == "unknown");
  CHECK(to_string(DropReason::no_trigger) == "no_trigger");
}

TEST_CASE("merger: adjacent faults, rows and frames stopping anywhere (seeded property)") {
  // Faults may touch each other here, so labels can be ambiguous (a lost
  // frame next to a missed trigger); what must hold whatever happens is
  // check_invariants: no frame in another slot's projection, no genuine
  // frame dropped, each slot once with its own row's angle. (Run with 6000
  // trials while writing it: it found an extra frame first in the scan
  // bending the anchor by half a period, frames waiting for the anchor while
  // rows decided their slots, and number-only placement when no row came.)
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 150; ++trial) {
    ScanSpec s;
    s.n = 300 + rng() % 300;
    s.T = 0.002;
    s.seed = rng();
    s.jitter = 0.0001 * static_cast<double>(rng() % 2);
    s.drift = 1e-5 * static_cast<double>(rng() % 3);
    s.latency = 0.004 + static_cast<double>(rng() % 100) * 0.37;
    const auto faults = 2 + rng() % 30;
    for (std::uint64_t i = 0; i < faults; ++i) {
      const auto k = rng() % s.n;
      switch (rng() % 5) {
        case 0:
          s.dropped.insert(k);
          break;
        case 1:
          s.missed.insert(k);
          break;
        case 2:
          s.duplicated.insert(k);
          break;
        case 3:
          s.swapped.insert(k);
          break;
        default:
          s.extra_after.insert(k);
          break;
      }
    }
    if (rng() % 3 == 0) s.rows_stop = rng() % s.n;
    if (rng() % 4 == 0) s.frames_stop = rng() % s.n;
    CAPTURE(trial);
    CAPTURE(s.seed);
    // Odd trials: the first frame number but no prior (then a missed first
    // trigger cannot be seen: see "without a prior …" above).
    auto o = options_for(s);
    if (trial % 2 == 1 && !s.missed.count(0)) o.expected_offset_s.reset();
    const auto run = run_scan(s, o, Order::random, 1 + rng() % 100);
    check_invariants(s, run);
    const auto g = generate(s);
    std::uint64_t genuine = 0;
    for (const auto& f : g.frames) genuine += f.handle < extra_handle ? 1U : 0U;
    std::uint64_t with_frame = 0;
    for (const auto& p : run.projections) with_frame += p.frame ? 1U : 0U;
    CHECK(with_frame == genuine);  // every genuine frame that arrived is in its slot
  }
}

TEST_CASE("merger: any window, order and lead: never another slot's frame (seeded property)") {
  // Small windows and leads beyond them force every early decision: rows
  // taken as lost, slots decided before their frames, the frames-only grid.
  // Frames may then be dropped (too_late), but none may land in another
  // slot, angles stay their own row's, and each frame comes back once. A
  // missed first trigger is left out: without rows or a prior it cannot be
  // seen (Rules, "Not followed").
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    ScanSpec s;
    s.n = 200 + rng() % 300;
    s.T = 0.002;
    s.seed = rng();
    s.jitter = 0.0001 * static_cast<double>(rng() % 3);
    s.drift = 2e-5 * static_cast<double>(rng() % 3);
    s.latency = 0.004 + static_cast<double>(rng() % 100) * 0.37;
    const auto faults = rng() % 30;
    for (std::uint64_t i = 0; i < faults; ++i) {
      const auto k = 1 + rng() % (s.n - 1);
      switch (rng() % 5) {
        case 0:
          s.dropped.insert(k);
          break;
        case 1:
          s.missed.insert(k);
          break;
        case 2:
          s.duplicated.insert(k);
          break;
        case 3:
          s.swapped.insert(k);
          break;
        default:
          s.extra_after.insert(k);
          break;
      }
    }
    if (rng() % 3 == 0) s.rows_stop = rng() % s.n;
    if (rng() % 4 == 0) s.frames_stop = rng() % s.n;
    auto o = options_for(s);
    if (rng() % 2) o.expected_offset_s.reset();
    o.window = 8 + rng() % 100;
    o.reorder_window = 1 + rng() % 20;
    o.bootstrap_frames = 1 + rng() % 8;
    const auto order = static_cast<Order>(rng() % 4);
    CAPTURE(trial);
    CAPTURE(s.seed);
    const auto run = run_scan(s, o, order, 1 + rng() % 300);
    REQUIRE(run.projections.size() == s.n);
    std::map<std::uint64_t, int> handed;
    for (std::uint64_t k = 0; k < s.n; ++k) {
      const auto& p = run.projections[k];
      CHECK(p.slot == k);
      if (p.row) CHECK(p.angle_deg == mean_of(k));
      if (p.frame) {
        CHECK(p.frame->handle == k);
        ++handed[p.frame->handle];
      }
    }
    for (const auto& d : run.dropped) {
      ++handed[d.frame.handle];
      if (d.frame.handle < extra_handle) CHECK(d.reason == DropReason::too_late);
    }
    for (const auto& f : generate(s).frames) CHECK(handed[f.handle] == 1);
  }
}

}  // namespace pandafly::capture
