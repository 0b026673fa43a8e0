// The continuous scan's sequence (scan::ScanMachine, kind cont) driven through
// whole scans and faults in simulated time by ScanWorld (scan_world.hpp): the
// stage ramps like the motor record's trapezoid, reports its position every
// 0.1 s while moving, and the camera free-runs once started. No PandA.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/scan/plan.hpp"
#include "pandafly/scan/scan_machine.hpp"
#include "scan_world.hpp"

using namespace pandafly::scan;
using pandafly::scan::testing::Faults;
using pandafly::scan::testing::Geometry;
using pandafly::scan::testing::ScanWorld;

namespace {

// 361 frames nominally 0° … 180° in 0.5° steps; the camera's rate 20 frames/s
// (frame time 0.05 s, exposure 0.04 s): speed 0.5 × 20 = 10 deg/s; ACCL 0.5 s,
// VBAS 0: the ramp covers d_acc = 10·0.5/2 = 2.5°. plan_cont's rules:
//   run-up   = ceil(2.5/0.5 + 0.5)·0.5 = 3°     → run_up_start = −3°
//   camera_start = −3 + 2.5 + 0.25 = −0.25°
//   run-down = ceil((0.5·10 + 2.5)/0.5 + 1.5)·0.5 = 8.5° → run_down_end = 188.5°
// The stage starts at 30° (VELO 20 deg/s) and returns there; 3 darks and 3
// flats before.
constexpr double kCameraStart = -0.25;
constexpr double kSpeed = 10;

ScanSequence cont_scan() {
  ScanSequence s;
  s.kind = ScanKind::cont;
  s.projections = 361;
  s.run_up_start = -3;
  s.run_down_end = 188.5;
  s.camera_start = kCameraStart;
  s.scan_speed = kSpeed;
  s.normal_speed = 20;
  s.acceleration_time = 0.5;
  s.start_position = 30;
  s.return_position = 30;
  s.exposure = 0.04;
  s.frame_time = 0.05;
  s.darks_before = 3;
  s.flats_before = 3;
  s.has_shutter = true;
  s.sample_out = 25;
  s.sample_in = 0;
  s.sample_speed = 5;
  s.collect_grace = 2;
  return s;
}

Faults ramping() {
  Faults f;
  f.ramp = true;
  f.rbv_period = 0.1;
  return f;
}

template <class Set>
Faults ramping(Set set) {
  Faults f = ramping();
  set(f);
  return f;
}

const Geometry kNoTriggers{0, 0.0, 0.0};  // no encoder triggers: the camera free-runs

std::size_t index_of(const ScanWorld& w, const std::string& kind, std::size_t from = 0) {
  const auto k = w.kinds();
  for (std::size_t i = from; i < k.size(); ++i)
    if (k[i] == kind) return i;
  return k.size();
}

// The scan move: the rotation Move to the run-down end.
std::size_t scan_move_index(const ScanWorld& w, double run_down_end = 188.5) {
  for (std::size_t i = 0; i < w.log().size(); ++i)
    if (const auto* m = std::get_if<Move>(&w.log()[i].body); m && m->position == run_down_end)
      return i;
  return w.log().size();
}

bool mentions(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

void check_cleaned_up(const ScanWorld& w, const std::string& reason_part) {
  REQUIRE(w.closed());
  CHECK(w.closed()->interrupted);
  CHECK(mentions(w.closed()->reason, reason_part));
  const auto stop = index_of(w, "StopMotor");
  REQUIRE(stop < w.log().size());
  CHECK(index_of(w, "StopCamera", stop) < w.log().size());
  // The speed is restored after the stop, and no PandA is touched.
  bool restored = false;
  for (std::size_t i = stop; i < w.log().size(); ++i)
    if (const auto* sp = std::get_if<SetSpeed>(&w.log()[i].body); sp && sp->speed == 20)
      restored = true;
  CHECK(restored);
  CHECK(w.speed() == 20);
  CHECK_FALSE(w.acquiring());
  CHECK(w.count("DisarmPanda") == 0);
  CHECK(w.count("ArmPanda") == 0);
}

}  // namespace

TEST_CASE("cont scan: the camera starts once the stage is at speed; N frames, all at speed") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping());
  world.run(scan);
  const auto& out = scan.outcome();
  INFO(out.reason);
  CHECK(out.sequence_completed);
  CHECK(out.reason.empty());
  CHECK(out.notes.empty());
  REQUIRE(world.closed());
  CHECK_FALSE(world.closed()->interrupted);
  CHECK(world.frames() == 361 + 6);
  CHECK(scan.progress().frames == 361);
  CHECK(exit_code(out, true) == ExitCode::complete);

  // Camera: internal trigger, 361 images at the frame time, set before the run-up move.
  bool configured = false;
  for (const auto& c : world.log())
    if (const auto* cc = std::get_if<ConfigureCamera>(&c.body);
        cc && cc->trigger == Trigger::internal && cc->images == 361)
      configured = cc->period == 0.05 && cc->exposure == 0.04;
  CHECK(configured);

  // The scan move is launched (speed set first) and the camera started while it is in flight:
  // not before the stage was past camera_start, and at the scan speed.
  const auto move = scan_move_index(world);
  REQUIRE(move < world.log().size());
  const auto start = index_of(world, "StartCamera", move);
  REQUIRE(start < world.log().size());
  const auto* speed = std::get_if<SetSpeed>(&world.log()[move - 1].body);
  REQUIRE(speed);
  CHECK(speed->speed == kSpeed);
  CHECK(world.issue_times()[start] < world.scan_move_end() - 1);  // not after the move's end
  REQUIRE(world.camera_started_at());
  CHECK(world.camera_started_at()->first >= kCameraStart);
  CHECK(world.camera_started_at()->second);  // at speed
  // Seen at the first 0.1 s status past −0.25°: at most 1° (0.1 s × 10 deg/s) further.
  CHECK(world.camera_started_at()->first <= kCameraStart + 1.0 + 1e-9);

  // Every exposure at the constant scan speed; together they span 361 steps.
  const auto& e = world.exposures();
  REQUIRE(e.size() == 361);
  CHECK(std::all_of(e.begin(), e.end(), [](const auto& x) { return x.at_speed; }));
  CHECK(e.back().t1 - e.front().t0 == doctest::Approx(360 * 0.05 + 0.04));
  CHECK(e.front().from >= kCameraStart);
  CHECK(e.back().to <= 188.5 - 2.5);  // before the ramp down begins

  // After the collection: camera stopped, speed restored, return, close.
  const auto stop = index_of(world, "StopCamera", start);
  REQUIRE(stop < world.log().size());
  CHECK(world.issue_times()[stop] >= world.scan_move_end());
  CHECK(world.speed() == 20);
  CHECK(world.position() == 30);
  CHECK(world.count("ArmPanda") == 0);
  CHECK(world.count("PutPandaFields") == 0);
  CHECK(world.count("TriggerCamera") == 0);
}

TEST_CASE("cont scan: plan_cont's numbers give a scan whose frames are all at speed") {
  ScanConfig c;
  c.scan.start_deg = 0;
  c.scan.end_deg = 180;
  c.scan.projections = 361;
  c.scan.step_deg = 0.5;
  c.scan.exposure_s = 0.04;
  c.camera.readout_time_s = 0.005;
  MotorFacts m;
  m.velo = 20;
  m.accl = 0.5;
  m.egu = "deg";
  m.rbv = 30;
  const auto r = plan_cont(c, m, {"", "UInt16", 64, 64}, std::nullopt, 20);
  REQUIRE(r.plan);
  CHECK(r.plan->run_up_start_deg == doctest::Approx(-3));
  CHECK(r.plan->camera_start_deg == doctest::Approx(kCameraStart));
  CHECK(r.plan->run_down_end_deg == doctest::Approx(188.5));
  ScanSequence seq = cont_scan();
  seq.run_up_start = r.plan->run_up_start_deg;
  seq.camera_start = r.plan->camera_start_deg;
  seq.run_down_end = r.plan->run_down_end_deg;
  seq.scan_speed = r.plan->speed_deg_s;
  // The camera starts as late as the plan allows for: the status arrives 0.5 s apart.
  ScanMachine scan(seq);
  Faults f = ramping();
  f.rbv_period = kContStartAllowanceS;
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  CHECK(scan.outcome().sequence_completed);
  const auto& e = world.exposures();
  REQUIRE(e.size() == 361);
  CHECK(std::all_of(e.begin(), e.end(), [](const auto& x) { return x.at_speed; }));
}

TEST_CASE("cont scan: a stall during the scan move fails at once, cleaned up") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.motor_stall_at = 90; }));
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK_FALSE(out.interrupted);
  CHECK(mentions(out.reason, "scan: move rotation to 188.5"));
  CHECK(mentions(out.reason, "stalled at 90"));
  CHECK(exit_code(out, false) == ExitCode::failed);
  check_cleaned_up(world, "stalled");
  // At once: the stall is reported 0.1 s after the stage stops; the stop follows it.
  const auto stop = index_of(world, "StopMotor");
  CHECK(world.issue_times()[stop] - world.scan_move_end() == doctest::Approx(0.1));
  CHECK(world.frames() < 361 + 6);  // the free-running camera was stopped
}

TEST_CASE("cont scan: a scan move beyond a soft limit (LVIO) fails; the camera never starts") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.soft_limit_scan_move = true; }));
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK(mentions(out.reason, "LVIO"));
  CHECK(mentions(out.reason, "scan: move rotation to 188.5"));
  CHECK(world.count("StartCamera") == 2);  // the darks' and the flats', not the projections'
  CHECK(world.exposures().empty());
  check_cleaned_up(world, "LVIO");
}

TEST_CASE("cont scan: Ctrl-C during the scan move stops the stage and the camera") {
  const auto seq = cont_scan();
  double launched = 0;
  {
    ScanMachine scan(seq);
    ScanWorld world(seq, kNoTriggers, ramping());
    world.run(scan);
    launched = world.issue_times()[scan_move_index(world)];
  }
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.interrupt_at = launched + 5; }));
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK(out.interrupted);
  CHECK_FALSE(out.sequence_completed);
  CHECK(exit_code(out, true) == ExitCode::interrupted);
  check_cleaned_up(world, "SIGINT");
  CHECK(world.issue_times()[index_of(world, "StopMotor")] == doctest::Approx(launched + 5));
  // Stopped mid-range, about 5 s × 10 deg/s past the run-up start.
  CHECK(world.position() > 40);
  CHECK(world.position() < 50);
  CHECK(world.frames() < 361 + 6);
}

TEST_CASE("cont scan: a camera that delivers fewer frames ends by the grace rule, incomplete") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.drop_frames = {10, 200, 360}; }));
  world.run(scan);
  const auto& out = scan.outcome();
  INFO(out.reason);
  CHECK(out.sequence_completed);
  CHECK_FALSE(out.interrupted);
  REQUIRE(out.notes.size() == 1);
  CHECK(mentions(out.notes[0], "358 of 361 frames"));
  CHECK(exit_code(out, false) == ExitCode::incomplete);
  REQUIRE(world.closed());
  CHECK_FALSE(world.closed()->interrupted);
  // It waited collect_grace (2 s) after the later of the move's end and the last frame.
  const auto stop = index_of(world, "StopCamera", scan_move_index(world));
  const double last_frame = world.exposures()[359].t0 + 0.05;  // frame 359 arrives then
  CHECK(world.issue_times()[stop] ==
        doctest::Approx(std::max(world.scan_move_end(), last_frame) + 2));
  CHECK(world.speed() == 20);
  CHECK(world.position() == 30);
}

TEST_CASE("cont scan: a stage that never moves towards the camera start fails naming the step") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.frozen_scan_move = true; }));
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK(mentions(out.reason, "wait for rotation past -0.25 (at speed) to start the camera"));
  CHECK(mentions(out.reason, "none since the scan move began"));
  CHECK(world.count("StartCamera") == 2);
  check_cleaned_up(world, "wait for rotation past");
  // Its deadline: the move from −3° to −0.25° at 10 deg/s, (0.275 + 2·0.5)·1.5 + 5 s.
  const double launched = world.issue_times()[scan_move_index(world)];
  CHECK(world.issue_times()[index_of(world, "StopMotor")] - launched ==
        doctest::Approx(1.275 * 1.5 + 5));
}

TEST_CASE("cont scan: a run-up move that never completes fails naming it") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.hang = "Move"; }));
  world.run(scan);
  CHECK(mentions(scan.outcome().reason, "move the sample out to 25"));  // the first move
  ScanSequence no_flats = cont_scan();
  no_flats.flats_before = 0;
  no_flats.sample_out.reset();
  ScanMachine scan2(no_flats);
  ScanWorld world2(no_flats, kNoTriggers, ramping([&](Faults& f) { f.hang = "Move"; }));
  world2.run(scan2);
  CHECK(mentions(scan2.outcome().reason, "move rotation to the run-up start -3"));
  CHECK(mentions(scan2.outcome().reason, "no completion within"));
}

TEST_CASE("cont scan: a scan move that ends before any status showed the camera start fails") {
  // 21 frames (0° … 10°): the scan move, −3° → 18.5°, ends within the camera-start wait's
  // deadline (1.275·1.5 + 5 s), here with no MotorStatus at all.
  auto seq = cont_scan();
  seq.projections = 21;
  seq.run_down_end = 18.5;
  ScanMachine scan(seq);
  Faults f = ramping();
  f.rbv_period = 0;  // no MotorStatus at all
  ScanWorld world(seq, kNoTriggers, f);
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  INFO(out.reason);
  CHECK(mentions(out.reason,
                 "scan: move rotation to 18.5 ended at 18.5 before a motor status "
                 "showed the stage past -0.25"));
  CHECK(world.exposures().empty());
  CHECK(world.issue_times()[index_of(world, "StopMotor")] ==
        doctest::Approx(world.scan_move_end()));
}

TEST_CASE("cont scan: a stage slower than planned is not failed while it progresses") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.slow = 3; }));
  world.run(scan);
  const auto& out = scan.outcome();
  INFO(out.reason);
  CHECK(out.sequence_completed);
  CHECK(scan.progress().frames == 361);
  // The scan move took 3 × as long as planned: longer than its deadline without progress.
  const double launched = world.issue_times()[scan_move_index(world)];
  CHECK(world.scan_move_end() - launched > 1.5 * (191.5 / 10 + 1) + 5);
}

TEST_CASE("cont scan: a high limit switch during the scan move fails, cleaned up") {
  const auto seq = cont_scan();
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping([&](Faults& f) { f.hard_limit_at = 100; }));
  world.run(scan);
  const auto& out = scan.outcome();
  CHECK_FALSE(out.sequence_completed);
  CHECK(mentions(out.reason,
                 "scan: move rotation to 188.5: rotation motor stopped at 100 "
                 "instead of 188.5 (high limit switch)"));
  check_cleaned_up(world, "high limit switch");
  CHECK(world.issue_times()[index_of(world, "StopMotor")] ==
        doctest::Approx(world.scan_move_end()));
}

TEST_CASE("cont scan: towards lower angles the camera starts once the stage is below the start") {
  // 180° → 0° in −0.5° steps: run-up start 183°, camera start 183 − 2.75 = 180.25°,
  // run-down end −8.5° (the positive scan mirrored).
  auto seq = cont_scan();
  seq.run_up_start = 183;
  seq.camera_start = 180.25;
  seq.run_down_end = -8.5;
  ScanMachine scan(seq);
  ScanWorld world(seq, kNoTriggers, ramping());
  world.run(scan);
  INFO(scan.outcome().reason);
  CHECK(scan.outcome().sequence_completed);
  REQUIRE(world.camera_started_at());
  CHECK(world.camera_started_at()->first <= 180.25);
  CHECK(world.camera_started_at()->first >= 180.25 - 1.0 - 1e-9);
  CHECK(world.camera_started_at()->second);
  const auto& e = world.exposures();
  REQUIRE(e.size() == 361);
  CHECK(std::all_of(e.begin(), e.end(), [](const auto& x) { return x.at_speed; }));
  CHECK(e.front().from > e.back().to);
}
