// The step scan's sequence (scan::ScanMachine, kind step) driven through whole
// scans and faults in simulated time by ScanWorld (scan_world.hpp): per point a
// move, then a software trigger, then that point's frame; no PandA.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/scan/scan_machine.hpp"
#include "scan_world.hpp"

using namespace pandafly::scan;
using pandafly::scan::testing::Faults;
using pandafly::scan::testing::Geometry;
using pandafly::scan::testing::ScanWorld;

namespace {

// 19 points 10° apart from 0° to 180°, 4 ms exposure, 10 ms frame time; the
// stage starts at 30° (10 °/s) and returns there; 3 darks and 3 flats before.
ScanSequence step_scan(std::uint64_t n = 19) {
  ScanSequence s;
  s.kind = ScanKind::step;
  s.projections = n;
  for (std::uint64_t k = 0; k < n; ++k) s.points.push_back(10.0 * static_cast<double>(k));
  s.normal_speed = 10;
  s.acceleration_time = 0.2;
  s.start_position = 30;
  s.return_position = 30;
  s.exposure = 0.004;
  s.frame_time = 0.01;
  s.darks_before = 3;
  s.flats_before = 3;
  s.has_shutter = true;
  s.sample_out = 25;
  s.sample_in = 0;
  s.sample_speed = 5;
  return s;
}

const Geometry kNoTriggers{0, 0.0, 0.0};  // a step scan has no encoder triggers

/// The trigger of every ConfigureCamera the scan issued, in order.
std::vector<Trigger> configured_triggers(const ScanWorld& world) {
  std::vector<Trigger> out;
  for (const auto& c : world.log())
    if (const auto* cc = std::get_if<ConfigureCamera>(&c.body)) out.push_back(cc->trigger);
  return out;
}

}  // namespace

TEST_CASE(
    "step scan: every point moved to, then triggered, then its frame; then return and close") {
  const auto seq = step_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers);
  world.run(scan);
  const auto& out = scan.outcome();
  INFO(out.reason);
  CHECK(out.sequence_completed);
  CHECK(out.reason.empty());
  REQUIRE(world.closed());
  CHECK_FALSE(world.closed()->interrupted);
  CHECK(world.frames() == 19 + 6);  // the projections, the darks and the flats
  // One trigger per point, each at rest on that point (never while moving).
  REQUIRE(world.trigger_angles().size() == 19);
  for (std::size_t i = 0; i < 19; ++i)
    CHECK(world.trigger_angles()[i] == doctest::Approx(10.0 * static_cast<double>(i)));
  const auto k = world.kinds();
  CHECK(world.count("TriggerCamera") == 19);
  CHECK(world.count("ArmPanda") == 0);
  CHECK(world.count("PutPandaFields") == 0);
  CHECK(world.count("SetSpeed") == 0);
  // The camera is set to software trigger for all 19 before the first point.
  bool software = false;
  for (const auto& c : world.log())
    if (const auto* cc = std::get_if<ConfigureCamera>(&c.body);
        cc && cc->trigger == Trigger::software)
      software = cc->images == 19;
  CHECK(software);
  // Each TriggerCamera comes right after its point's move (no settle asked).
  std::size_t triggers = 0;
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (k[i] != "TriggerCamera") continue;
    REQUIRE(i > 0);
    CHECK(k[i - 1] == "Move");
    const auto& m = std::get<Move>(world.log()[i - 1].body);
    CHECK(m.position == doctest::Approx(10.0 * static_cast<double>(triggers)));
    CHECK(std::get<TriggerCamera>(world.log()[i].body).point == triggers);
    ++triggers;
  }
  CHECK(world.position() == doctest::Approx(30.0));  // returned
  CHECK(k.back() == "CloseFile");
}

TEST_CASE(
    "step scan, triggered fields: each dark and flat is one software trigger whose frame is "
    "awaited before the next") {
  auto seq = step_scan(5);
  seq.darks_after = 2;
  seq.flats_after = 2;
  seq.triggered_fields = true;
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers);
  world.run(scan);
  const auto& out = scan.outcome();
  INFO(out.reason);
  CHECK(out.sequence_completed);
  CHECK(world.frames() == 5 + 3 + 3 + 2 + 2);  // no field frame beyond those asked for
  CHECK(world.count("TriggerCamera") == 5 + 10);
  // Every field trigger named the frame type the camera had then.
  REQUIRE(world.field_triggers().size() == 10);
  for (const auto& [named, type] : world.field_triggers()) CHECK(named == type);
  // Darks, flats (before and after) and projections: software trigger, never
  // internal (free-running).
  CHECK(configured_triggers(world) == std::vector<Trigger>(5, Trigger::software));
  // A trigger's frame (exposure + 2 ms in the world) came before the next
  // trigger: consecutive triggers are at least that far apart.
  const auto k = world.kinds();
  const auto& t = world.issue_times();
  std::optional<double> last;
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (k[i] == "StartCamera") last.reset();
    if (k[i] != "TriggerCamera") continue;
    if (last) CHECK(t[i] - *last >= seq.exposure + 0.002 - 1e-9);
    last = t[i];
  }
}

TEST_CASE(
    "step scan, single image: every frame (points, darks, flats) is one Acquire, issued after the "
    "previous acquisition ended; the camera is never started") {
  auto seq = step_scan(5);
  seq.point_trigger = Trigger::single;
  seq.triggered_fields = true;
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers);
  world.run(scan);
  const auto& out = scan.outcome();
  INFO(out.reason);
  CHECK(out.sequence_completed);
  CHECK(world.frames() == 5 + 3 + 3);
  CHECK(world.count("TriggerCamera") == 5 + 6);
  CHECK(world.count("StartCamera") == 0);
  CHECK(world.acquire_while_busy() == 0);
  // Darks, flats, projections.
  CHECK(configured_triggers(world) == std::vector<Trigger>(3, Trigger::single));
  REQUIRE(world.trigger_angles().size() == 5);
  for (std::size_t i = 0; i < 5; ++i)
    CHECK(world.trigger_angles()[i] == doctest::Approx(10.0 * static_cast<double>(i)));
}

TEST_CASE("step scan, single image: a long exposure's Acquire is given its exposure") {
  auto seq = step_scan(3);
  seq.point_trigger = Trigger::single;
  seq.exposure = 30;  // longer than step_timeout (10 s)
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers);
  world.run(scan);
  INFO(scan.outcome().reason);
  CHECK(scan.outcome().sequence_completed);
}

TEST_CASE("step scan, triggered fields: a dark frame that never comes fails naming it") {
  auto seq = step_scan(5);
  seq.triggered_fields = true;
  Faults f;
  f.camera_stall = {0.0, 1e6};
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK(out.reason.find("dark 0: the frame") != std::string::npos);
  CHECK(world.count("TriggerCamera") == 1);
}

TEST_CASE("step scan: a frame that arrives before the trigger's completion still counts") {
  const auto seq = step_scan(5);
  Faults f;
  f.trigger_latency = 0.5;  // the put-callback completes long after the frame came
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  CHECK(scan.outcome().sequence_completed);
  CHECK(world.count("TriggerCamera") == 5);
}

TEST_CASE("step scan: a point is triggered only once the stage arrived within the tolerance") {
  auto seq = step_scan(4);
  seq.rotation_tolerance = 0.01;  // make_sequence: the record's RDBD
  SUBCASE("within: every point triggered where the stage ended") {
    Faults f;
    f.rotation_miss = 0.004;
    ScanMachine scan(seq);
    ScanWorld world(seq, kNoTriggers, f);
    world.run(scan);
    CHECK(scan.outcome().sequence_completed);
    REQUIRE(world.trigger_angles().size() == 4);
    for (std::size_t i = 0; i < 4; ++i)
      CHECK(std::abs(world.trigger_angles()[i] - 10.0 * static_cast<double>(i)) ==
            doctest::Approx(0.004));
  }
  SUBCASE("beyond: the scan fails at the first point, saying by how much; nothing triggered") {
    Faults f;
    f.rotation_miss = 0.02;
    ScanMachine scan(seq);
    ScanWorld world(seq, kNoTriggers, f);
    world.run(scan);
    const auto& out = scan.outcome();
    INFO(out.reason);
    CHECK_FALSE(out.sequence_completed);
    CHECK(out.reason.find("point 0: move rotation to 0: rotation motor stopped at 0.02 instead of "
                          "0 (off by 0.02, more than the tolerance 0.01)") != std::string::npos);
    CHECK(world.count("TriggerCamera") == 0);
  }
}

TEST_CASE("step scan: settle before each trigger") {
  auto seq = step_scan(4);
  seq.point_settle = 0.25;
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers);
  world.run(scan);
  CHECK(scan.outcome().sequence_completed);
  // A trigger comes no sooner than its move's travel (10 °/s; the first from
  // 30° to 0°) plus the settle after the move was issued.
  const auto k = world.kinds();
  const auto& t = world.issue_times();
  double from = 30;
  int checked = 0;
  for (std::size_t i = 1; i < k.size(); ++i) {
    if (k[i] != "TriggerCamera") continue;
    REQUIRE(k[i - 1] == "Move");
    const double to = std::get<Move>(world.log()[i - 1].body).position;
    CHECK(t[i] - t[i - 1] >= std::abs(to - from) / 10.0 + 0.25 - 1e-9);
    from = to;
    ++checked;
  }
  CHECK(checked == 4);
}

TEST_CASE("step scan: a point whose frame never comes fails naming it; cleanup without the PandA") {
  const auto seq = step_scan();
  Faults f;
  f.drop_frames = {7};
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK(out.reason.find("point 7: the frame") != std::string::npos);
  CHECK(world.count("TriggerCamera") == 8);  // points 0..7, nothing after the failure
  REQUIRE(world.closed());
  CHECK(world.closed()->interrupted);
  const auto k = world.kinds();
  CHECK(world.count("DisarmPanda") == 0);
  CHECK(world.count("SetSpeed") == 0);
  CHECK(std::find(k.begin(), k.end(), "StopCamera") != k.end());
  CHECK(exit_code(out, false) == ExitCode::failed);
}

TEST_CASE("step scan: a motor that stalls between points fails the scan at once") {
  const auto seq = step_scan();
  Faults f;
  f.motor_stall_at = 95.0;
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK(out.reason.find("stalled") != std::string::npos);
  CHECK(world.count("TriggerCamera") == 10);  // 0..90
  CHECK(world.closed()->interrupted);
}

TEST_CASE("step scan: Ctrl-C between points stops the motor and closes the file as interrupted") {
  const auto seq = step_scan();
  Faults f;
  f.interrupt_at = 22.0;  // mid-scan: darks, flats (~12 s) and the first points are done
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK(out.interrupted);
  CHECK(exit_code(out, false) == ExitCode::interrupted);
  CHECK(world.count("TriggerCamera") > 0);
  CHECK(world.count("TriggerCamera") < 19);
  CHECK(world.count("StopMotor") >= 1);
  CHECK(world.closed()->interrupted);
}

TEST_CASE("step scan: the sequence needs one point per projection") {
  auto seq = step_scan(4);
  seq.points.pop_back();
  CHECK_THROWS_AS(ScanMachine{seq}, std::invalid_argument);
}
