// The fly scan's sequence (scan::ScanMachine) driven through whole scans and every
// fault in simulated time by ScanWorld (scan_world.hpp): what it commands, in
// which order, when it gives up, and how it leaves the beamline.
#include <algorithm>
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

// 181 projections 1° apart at 20 °/s (frame time 50 ms: 4 ms exposure, the
// rest readout and margin), from a run-up start at −1.5° to a run-down end at
// 181.5°; the stage starts at 30° at 10 °/s and returns there.
ScanSequence standard(std::uint64_t darks = 5, std::uint64_t flats = 5) {
  ScanSequence s;
  s.projections = 181;
  s.run_up_start = -1.5;
  s.run_down_end = 181.5;
  s.scan_speed = 20;
  s.normal_speed = 10;
  s.acceleration_time = 0.5;
  s.start_position = 30;
  s.return_position = 30;
  s.exposure = 0.004;
  s.frame_time = 0.05;
  s.darks_before = s.darks_after = darks;
  s.flats_before = s.flats_after = flats;
  s.has_shutter = true;
  s.sample_out = 25;
  s.sample_in = 0;
  s.sample_speed = 5;
  s.collect_grace = 2;
  return s;
}

const Geometry kGeometry{181, 0.0, 1.0};

std::vector<std::string> cleanup_tail(const ScanWorld& w) {
  auto k = w.kinds();
  auto first_stop = std::find(k.begin(), k.end(), "StopMotor");
  return {first_stop, k.end()};
}

std::size_t index_of(const std::vector<std::string>& k, const std::string& what,
                     std::size_t from = 0) {
  auto it = std::find(k.begin() + static_cast<std::ptrdiff_t>(from), k.end(), what);
  return static_cast<std::size_t>(it - k.begin());
}

}  // namespace

TEST_CASE("fly scan: a whole scan with darks and flats before and after, in order") {
  ScanMachine scan(standard());
  ScanWorld w(scan.sequence(), kGeometry);
  w.run(scan);

  const auto& o = scan.outcome();
  CHECK(o.finished);
  CHECK(o.sequence_completed);
  CHECK_FALSE(o.interrupted);
  CHECK(o.reason.empty());
  CHECK(o.notes.empty());
  CHECK(exit_code(o, true) == ExitCode::complete);
  CHECK(exit_code(o, false) == ExitCode::incomplete);

  const std::vector<std::string> expected = {
      // darks before
      "SetShutter", "SetFrameType", "ConfigureCamera", "StartCamera", "StopCamera",
      // flats before
      "SetShutter", "Move", "SetFrameType", "ConfigureCamera", "StartCamera", "StopCamera", "Move",
      // projections
      "SetShutter", "SetFrameType", "ConfigureCamera", "PutPandaFields", "Move", "ArmPanda",
      "SetSpeed", "StartCamera", "Move", "DisarmPanda", "StopCamera", "SetSpeed",
      // flats after
      "SetShutter", "Move", "SetFrameType", "ConfigureCamera", "StartCamera", "StopCamera", "Move",
      // darks after
      "SetShutter", "SetFrameType", "ConfigureCamera", "StartCamera", "StopCamera",
      // return, close
      "Move", "CloseFile"};
  CHECK(w.kinds() == expected);

  // What each step asked for.
  const auto& log = w.log();
  CHECK_FALSE(std::get<SetShutter>(log[0].body).open);
  CHECK(std::get<SetFrameType>(log[1].body).kind == FrameKind::dark);
  const auto& dark_cam = std::get<ConfigureCamera>(log[2].body);
  CHECK(dark_cam.trigger == Trigger::internal);
  CHECK(dark_cam.images == 5);
  CHECK(std::get<Move>(log[6].body).axis == Axis::sample);
  CHECK(std::get<Move>(log[6].body).position == 25);
  CHECK(std::get<Move>(log[11].body).position == 0);
  const auto& proj_cam = std::get<ConfigureCamera>(log[14].body);
  CHECK(proj_cam.trigger == Trigger::external);
  CHECK(proj_cam.images == 181);
  CHECK(proj_cam.exposure == doctest::Approx(0.004));
  CHECK(std::get<Move>(log[16].body).position == -1.5);  // run-up at the normal speed
  CHECK(std::get<SetSpeed>(log[18].body).speed == 20);   // then the scan speed
  CHECK(std::get<Move>(log[20].body).position == 181.5);
  CHECK(std::get<SetSpeed>(log[23].body).speed == 10);  // restored
  CHECK(std::get<Move>(log[36].body).position == 30);   // returned
  CHECK_FALSE(std::get<CloseFile>(log[37].body).interrupted);

  // The world: every trigger fired once, every row and frame came.
  CHECK(w.trigger_angles().size() == 181);
  CHECK(w.rows() == 181);
  CHECK(scan.progress().rows == 181);
  CHECK(scan.progress().frames == 181);
  CHECK(scan.progress().darks == 10);
  CHECK(scan.progress().flats == 10);
  CHECK(w.position() == 30);
  CHECK(w.speed() == 10);
  CHECK_FALSE(w.armed());
  CHECK(w.closed());
  // The collection ended with the move (the last frame came before it), not
  // by waiting out the 2 s grace.
  CHECK(w.first_issue("DisarmPanda") == doctest::Approx(w.scan_move_end()).epsilon(1e-9));
}

TEST_CASE("fly scan: no darks, no flats, no shutter, no return: the projections alone") {
  auto s = standard(0, 0);
  s.has_shutter = false;
  s.sample_out.reset();
  s.return_position.reset();
  ScanMachine scan(s);
  ScanWorld w(scan.sequence(), kGeometry);
  w.run(scan);
  CHECK(scan.outcome().sequence_completed);
  const std::vector<std::string> expected = {
      "SetFrameType", "ConfigureCamera", "PutPandaFields", "Move",
      "ArmPanda",     "SetSpeed",        "StartCamera",    "Move",
      "DisarmPanda",  "StopCamera",      "SetSpeed",       "CloseFile"};
  CHECK(w.kinds() == expected);
  CHECK(w.position() == doctest::Approx(181.5));
}

TEST_CASE("fly scan: the PandA is armed only at the run-up start, after the stage got there") {
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry);
  w.run(scan);
  const auto k = w.kinds();
  const auto run_up = index_of(k, "Move");
  const auto arm = index_of(k, "ArmPanda");
  const auto start = index_of(k, "StartCamera");
  const auto scan_move = index_of(k, "Move", run_up + 1);
  REQUIRE(scan_move < k.size());
  CHECK(run_up < arm);
  CHECK(arm < start);
  CHECK(start < scan_move);
  CHECK(std::get<Move>(w.log()[scan_move].body).position == 181.5);
}

TEST_CASE(
    "fly scan: projections missing (dropped frame, missed trigger, stalled camera) end by the "
    "grace rule, not as a failure") {
  struct Case {
    const char* name;
    Faults faults;
    std::uint64_t frames;
  };
  Faults drop;
  drop.drop_frames = {5};
  Faults missed;
  missed.missed_triggers = {0, 180};
  Faults stall;  // trigger k fires at 1.5 s + k·50 ms after the scan move starts
  stall.camera_stall = std::pair{0.0, 1e9};
  for (auto& c : {Case{"drop", drop, 180}, Case{"missed", missed, 179}, Case{"stall", stall, 0}}) {
    CAPTURE(c.name);
    ScanMachine scan(standard(0, 0));
    ScanWorld w(scan.sequence(), kGeometry, c.faults);
    w.run(scan);
    const auto& o = scan.outcome();
    CHECK(o.sequence_completed);  // the sequence ran; the file will say what is missing
    CHECK(exit_code(o, false) == ExitCode::incomplete);
    CHECK(scan.progress().frames == c.frames);
    CHECK(scan.progress().rows == 181);
    REQUIRE(o.notes.size() == 1);
    CHECK(o.notes[0].find(std::to_string(c.frames) + " of 181 frames") != std::string::npos);
    CHECK(w.count("StopMotor") == 0);
    CHECK_FALSE(w.closed()->interrupted);
    // It waited the grace after the last data (the move's end came after it).
    CHECK(w.first_issue("DisarmPanda") == doctest::Approx(w.scan_move_end() + 2.0).epsilon(1e-9));
  }
}

TEST_CASE(
    "fly scan: PandA data lost mid-scan: the frames are still collected, then it ends at once") {
  Faults f;
  f.panda_lost_after_row = 100;
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  const auto& o = scan.outcome();
  CHECK(o.sequence_completed);
  CHECK(scan.progress().rows == 100);
  CHECK(scan.progress().frames == 181);
  REQUIRE(!o.notes.empty());
  CHECK(o.notes[0].find("PandA data connection lost") != std::string::npos);
  // No grace wait: with the data connection gone, the move's end (after the
  // last frame) ends the collection.
  CHECK(w.first_issue("DisarmPanda") == doctest::Approx(w.scan_move_end()).epsilon(1e-9));
}

TEST_CASE("fly scan: a motor stall fails the scan and stops everything") {
  Faults f;
  f.motor_stall_at = 90.25;
  ScanMachine scan(standard());
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  const auto& o = scan.outcome();
  CHECK_FALSE(o.sequence_completed);
  CHECK_FALSE(o.interrupted);
  CHECK(o.reason.find("rotation motor stalled at 90.25") != std::string::npos);
  CHECK(exit_code(o, false) == ExitCode::failed);
  const std::vector<std::string> tail = {"StopMotor",  "StopMotor", "DisarmPanda",
                                         "StopCamera", "SetSpeed",  "CloseFile"};
  CHECK(cleanup_tail(w) == tail);
  REQUIRE(w.closed());
  CHECK(w.closed()->interrupted);
  CHECK(w.closed()->reason == o.reason);
  CHECK(w.speed() == 10);
  CHECK_FALSE(w.armed());
  CHECK_FALSE(w.acquiring());
  // No flats or darks after, no return: the stage stays where it stalled.
  CHECK(w.position() == doctest::Approx(90.25));
}

TEST_CASE("fly scan: a hard limit during the scan move fails it, naming the switch") {
  Faults f;
  f.hard_limit_at = 120;
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  const auto& o = scan.outcome();
  CHECK_FALSE(o.sequence_completed);
  CHECK(o.reason.find("stopped at 120 instead of 181.5 (high limit switch)") != std::string::npos);
  CHECK(w.closed()->interrupted);
  CHECK(cleanup_tail(w).front() == "StopMotor");
}

TEST_CASE("fly scan: a run-up beyond a soft limit fails before the PandA is armed") {
  Faults f;
  f.soft_limit_run_up = true;
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  const auto& o = scan.outcome();
  CHECK_FALSE(o.sequence_completed);
  CHECK(o.reason.find("soft limit") != std::string::npos);
  const auto k = w.kinds();
  CHECK(index_of(k, "ArmPanda") == k.size());  // never armed
  CHECK(w.trigger_angles().empty());
}

TEST_CASE("fly scan: Ctrl-C mid-scan stops the motor, disarms, stops the camera, closes the file") {
  Faults f;
  f.interrupt_at = 20.0;
  ScanMachine scan(standard());
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  const auto& o = scan.outcome();
  CHECK(o.interrupted);
  CHECK_FALSE(o.sequence_completed);
  CHECK(o.reason == "interrupted by SIGINT");
  CHECK(exit_code(o, false) == ExitCode::interrupted);
  const std::vector<std::string> tail = {"StopMotor",  "StopMotor", "DisarmPanda",
                                         "StopCamera", "SetSpeed",  "CloseFile"};
  CHECK(cleanup_tail(w) == tail);
  CHECK(w.closed()->interrupted);
  CHECK(w.closed()->reason == "interrupted by SIGINT");
  // Each cleanup step waited for the one before (50 ms per stop + 2 ms per put).
  CHECK(w.closed_at() > 20.1);
}

TEST_CASE(
    "fly scan: a second Ctrl-C during cleanup sends the rest at once and waits only for the "
    "close") {
  Faults f;
  f.interrupt_at = 20.0;
  f.interrupt2_at = 20.001;
  f.cleanup_hang = "StopMotor";  // the first stop never completes
  ScanMachine scan(standard());
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  CHECK(scan.outcome().interrupted);
  const std::vector<std::string> tail = {"StopMotor",  "StopMotor", "DisarmPanda",
                                         "StopCamera", "SetSpeed",  "CloseFile"};
  CHECK(cleanup_tail(w) == tail);
  CHECK(w.closed_at() == doctest::Approx(20.001));
  CHECK(w.now() < 20.2);  // not the 10 s cleanup timeout
}

TEST_CASE("fly scan: a cleanup step that never completes is given up after cleanup_timeout") {
  Faults f;
  f.interrupt_at = 20.0;
  f.cleanup_hang = "DisarmPanda";
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  const auto& o = scan.outcome();
  CHECK(o.interrupted);
  CHECK(w.closed());
  CHECK(w.closed_at() >= 30.0);  // 20 s + the 10 s timeout
  CHECK(std::find(o.notes.begin(), o.notes.end(), "cleanup: a step did not complete in time") !=
        o.notes.end());
}

TEST_CASE("fly scan: the writer failing (disk full) fails the scan") {
  Faults f;
  f.writer_failure_at = 15.0;
  ScanMachine scan(standard());
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  CHECK(scan.outcome().reason == "writer: disk full");
  CHECK(exit_code(scan.outcome(), false) == ExitCode::failed);
  CHECK(w.closed()->interrupted);
}

TEST_CASE("fly scan: a step that never completes fails after step_timeout, naming it") {
  Faults f;
  f.hang = "ArmPanda";
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  CHECK(scan.outcome().reason == "arm the PandA: no completion within 10.0 s");
  CHECK(w.trigger_angles().empty());
}

TEST_CASE("fly scan: a refused step fails the scan with the device's error") {
  Faults f;
  f.refuse = "PutPandaFields";
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  CHECK(scan.outcome().reason == "put the PandA fields failed: refused by the device");
  CHECK(cleanup_tail(w).back() == "CloseFile");
}

TEST_CASE("fly scan: darks that do not all come fail the scan after their time") {
  // A camera that never delivers (stalled for good) during the darks.
  auto s = standard(5, 0);
  ScanMachine scan(s);
  Faults f;
  f.hang = "StartCamera";  // the Acquire put never completes: no darks either
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  CHECK(scan.outcome().reason.find("start the camera (darks): no completion") == 0);
}

TEST_CASE("fly scan: late and unknown completions are ignored") {
  ScanMachine scan(standard(0, 0));
  scan.start(0);
  auto first = scan.take_commands();
  REQUIRE(first.size() == 1);
  scan.handle(StepDone{first[0].id + 100}, 0.001);  // unknown
  CHECK(scan.take_commands().empty());
  scan.handle(StepDone{first[0].id}, 0.002);
  auto second = scan.take_commands();
  REQUIRE(second.size() == 1);
  scan.handle(StepDone{first[0].id}, 0.003);  // a duplicate of the first
  CHECK(scan.take_commands().empty());
  CHECK(scan.deadline() == doctest::Approx(0.002 + 10));
}

TEST_CASE("fly scan: a move completed without its position is an error, not a guess") {
  auto s = standard(0, 0);
  s.has_shutter = false;
  ScanMachine scan(s);
  scan.start(0);
  double t = 0;
  for (int i = 0; i < 3; ++i) {  // FrameType, camera, PandA fields
    auto c = scan.take_commands();
    REQUIRE(c.size() == 1);
    scan.handle(StepDone{c[0].id}, t += 0.01);
  }
  auto c = scan.take_commands();
  REQUIRE(c.size() == 1);
  REQUIRE(std::holds_alternative<Move>(c[0].body));
  scan.handle(StepDone{c[0].id}, t += 0.01);
  CHECK(scan.outcome().reason.find("completion without the motor's position") != std::string::npos);
}

TEST_CASE("fly scan: a sequence that cannot work is refused at construction") {
  auto s = standard();
  s.projections = 0;
  CHECK_THROWS_AS(ScanMachine{s}, std::invalid_argument);
  s = standard();
  s.scan_speed = 0;
  CHECK_THROWS_AS(ScanMachine{s}, std::invalid_argument);
}

TEST_CASE("fly scan: hardware slower than planned is not failed while it makes progress") {
  // A stage 4x slower than commanded: every rotation move overruns its
  // planned deadline (1.5 x the planned travel + 5 s).
  Faults slow;
  slow.slow = 4;
  slow.rbv_period = 0.1;  // the motor record posts RBV at 10 Hz while it moves
  ScanMachine scan(standard(0, 0));
  ScanWorld w(scan.sequence(), kGeometry, slow);
  w.run(scan);
  CHECK(scan.outcome().sequence_completed);
  CHECK(scan.progress().frames == 181);

  // The same without position updates: the run-up move (30 deg -> -1.5 deg
  // at 10/4 deg/s = 12.6 s against a 10.7 s deadline) is failed.
  slow.rbv_period = 0;
  ScanMachine silent(standard(0, 0));
  ScanWorld w2(silent.sequence(), kGeometry, slow);
  w2.run(silent);
  CHECK_FALSE(silent.outcome().sequence_completed);
  CHECK(silent.outcome().reason.find("move rotation to the run-up start -1.5: no completion") == 0);
}

TEST_CASE("fly scan: a motor that stops reporting new positions is failed progress_timeout later") {
  // Position updates, but the stage stalls silently (no MSTA bit) at 90.25:
  // the last update that moved it is the last progress.
  Faults f;
  f.rbv_period = 0.1;
  f.slow = 4;
  f.motor_stall_at = 90.25;
  auto s = standard(0, 0);
  s.progress_timeout = 5;
  ScanMachine scan(s);
  ScanWorld w(scan.sequence(), kGeometry, f);
  w.run(scan);
  // The world reports the stall by MSTA 0.1 s after it stops: that fails it first.
  CHECK(scan.outcome().reason.find("rotation motor stalled at 90.25") != std::string::npos);
}

TEST_CASE("fly scan: settle waits at the run-up start before the PandA is armed") {
  auto s = standard(0, 0);
  s.settle = 1.5;
  ScanMachine scan(s);
  ScanWorld w(scan.sequence(), kGeometry);
  w.run(scan);
  CHECK(scan.outcome().sequence_completed);
  // The run-up move (30 -> -1.5 deg at 10 deg/s) ends at 3.15 s (+ the puts
  // before it); the arm comes settle = 1.5 s after that move's completion.
  const auto k = w.kinds();
  REQUIRE(index_of(k, "ArmPanda") < k.size());
  CHECK(w.first_issue("ArmPanda") - w.first_issue("Move") ==
        doctest::Approx(31.5 / 10 + 1.5).epsilon(1e-6));
}
