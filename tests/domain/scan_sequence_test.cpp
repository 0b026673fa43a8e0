// make_sequence(): the plan made concrete for the state machine, checked
// field by field against the plan and the scan file it came from; and the
// sequence then runs as a whole scan in simulated time.
#include "pandafly/scan/scan_sequence.hpp"

#include <doctest/doctest.h>

#include "scan_world.hpp"

using namespace pandafly::scan;

namespace {

ScanConfig config_for_test() {
  ScanConfig c;
  c.scan.start_deg = 0;
  c.scan.end_deg = 180;
  c.scan.projections = 181;
  c.scan.step_deg = 1;
  c.scan.exposure_s = 0.004;
  c.scan.return_to_start = true;
  c.darks = {5, When::both};
  c.flats.count = 4;
  c.flats.when = When::before;
  c.flats.sample_out = 10;
  return c;
}

ScanPlan plan_for_test() {
  ScanPlan p;
  p.projections = 181;
  p.first_deg = 0;
  p.step_deg = 1;
  p.exposure_s = 0.004;
  p.frame_time_s = 0.007;
  p.speed_deg_s = 1 / 0.007;
  p.accel_time_s = 0.2;
  p.run_up_start_deg = -15;
  p.run_down_end_deg = 196;
  p.darks_before = 5;
  p.darks_after = 5;
  p.flats_before = 4;
  return p;
}

}  // namespace

TEST_CASE("fly sequence: positions, speeds and counts come from the plan and the scan file") {
  MotorFacts m;
  m.velo = 30;
  m.rbv = 42.5;
  m.mres = 0.0001;
  const auto s = make_sequence(plan_for_test(), config_for_test(), m, 3.0, 20.0);
  CHECK(s.projections == 181);
  CHECK(s.run_up_start == -15);
  CHECK(s.run_down_end == 196);
  CHECK(s.scan_speed == doctest::Approx(142.857142857));
  CHECK(s.normal_speed == 30);      // the VELO read before the scan, restored after
  CHECK(s.start_position == 42.5);  // where the stage was
  REQUIRE(s.return_position);
  CHECK(*s.return_position == 0);  // return_to_start: the scan's start angle
  CHECK(s.darks_before == 5);
  CHECK(s.darks_after == 5);
  CHECK(s.flats_before == 4);
  CHECK(s.flats_after == 0);
  CHECK(s.has_shutter);  // the default shutter command PV
  REQUIRE(s.sample_out);
  CHECK(*s.sample_out == 10);
  CHECK(s.sample_in == 3.0);  // no flats.sample_in: where the sample was
  CHECK(s.sample_speed == 20);
  CHECK(s.rotation_tolerance == doctest::Approx(0.01));  // max(0.01, 10 MRES = 0.001)
  CHECK(s.collect_grace == doctest::Approx(2.0));        // max(2 s, 10 x 7 ms)
}

TEST_CASE("fly sequence: no return, a given sample_in, no shutter, no flats") {
  auto c = config_for_test();
  c.scan.return_to_start = false;
  c.shutter.command.clear();
  c.flats.has_sample_in = true;
  c.flats.sample_in = -1.5;
  MotorFacts m;
  m.velo = 30;
  m.mres = 0.01;
  auto s = make_sequence(plan_for_test(), c, m, 3.0, 20.0);
  CHECK_FALSE(s.return_position);
  CHECK_FALSE(s.has_shutter);
  CHECK(s.sample_in == -1.5);
  CHECK(s.rotation_tolerance == doctest::Approx(0.1));  // 10 MRES
  // With the record's retry deadband: RDBD, at least one step.
  m.rdbd = 0.05;
  CHECK(make_sequence(plan_for_test(), c, m, 3.0, 20.0).rotation_tolerance ==
        doctest::Approx(0.05));
  m.rdbd = 0.001;
  CHECK(make_sequence(plan_for_test(), c, m, 3.0, 20.0).rotation_tolerance ==
        doctest::Approx(0.01));  // below a step (MRES 0.01)
  auto p = plan_for_test();
  p.flats_before = 0;
  s = make_sequence(p, c, m, 3.0, 20.0);
  CHECK_FALSE(s.sample_out);  // no flats: the sample never moves
}

TEST_CASE("fly sequence: the made sequence runs a whole scan") {
  MotorFacts m;
  m.velo = 30;
  m.rbv = 42.5;
  m.mres = 0.0001;
  ScanMachine scan(make_sequence(plan_for_test(), config_for_test(), m, 3.0, 20.0));
  testing::ScanWorld w(scan.sequence(), {181, 0.0, 1.0});
  w.run(scan);
  CHECK(scan.outcome().sequence_completed);
  CHECK(scan.progress().frames == 181);
  CHECK(scan.progress().darks == 10);
  CHECK(scan.progress().flats == 4);
  CHECK(w.position() == 0);
}

TEST_CASE("cont sequence: the camera start, the settle at the run-up and the scan speed") {
  auto c = config_for_test();
  c.scan.settle_s = 0.3;
  ScanPlan p = plan_for_test();
  p.kind = ScanKind::cont;
  p.camera_start_deg = -2.5;
  MotorFacts m;
  m.velo = 30;
  m.rbv = 42.5;
  m.mres = 0.0001;
  const auto s = make_sequence(p, c, m, 3.0, 20.0);
  CHECK(s.kind == ScanKind::cont);
  CHECK(s.camera_start == -2.5);
  CHECK(s.settle == 0.3);  // the rest at the run-up start, as a fly scan's
  CHECK(s.points.empty());
  CHECK(s.point_settle == 0);
  CHECK(s.scan_speed == doctest::Approx(142.857142857));
  CHECK(s.run_up_start == -15);
  CHECK(s.run_down_end == 196);
  CHECK(s.normal_speed == 30);
  // The made sequence runs a whole continuous scan.
  ScanMachine scan(s);
  testing::Faults f;
  f.ramp = true;
  f.rbv_period = 0.05;
  testing::ScanWorld world(s, {0, 0.0, 0.0}, f);
  world.run(scan);
  INFO(scan.outcome().reason);
  CHECK(scan.outcome().sequence_completed);
  CHECK(world.exposures().size() == 181);
}
