// plan_fly(): expected values computed by hand from the motor record's and
// tomoscan's formulas (shared/reference/channel-access.md §5,
// file-formats.md §5.2), the arithmetic in the comments.
#include <algorithm>
#include <cmath>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "pandafly/scan/plan.hpp"
#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_config_file.hpp"

using namespace pandafly;
using doctest::Approx;

namespace {

// A scan whose numbers come out round:
//   frame time = exposure 0.08 + readout 0.015 (UInt16 row, 1024 ≥ SizeY 1000) + margin 0.005 = 0.1
//   s step = (100 − 10)/(181 − 1) = 0.5°  →  v = 0.5/0.1 = 5 deg/s
scan::ScanConfig config(double start = 10, double end = 100) {
  scan::ScanConfig c;
  c.source = "plan.toml";
  c.scan.start_deg = start;
  c.scan.end_deg = end;
  c.scan.projections = 181;
  c.scan.step_deg = (end - start) / 180;
  c.scan.exposure_s = 0.08;
  c.camera.readout_margin_s = 0.005;
  c.camera.readout_time_s = 0.5;  // not used: a row fits
  c.camera.readout = {{"UInt16", 2048, 0.03}, {"UInt16", 1024, 0.015}, {"UInt8", 1024, 0.007}};
  c.rotation.counts_per_degree = 10000;
  c.rotation.encoder_offset_counts = 1000;
  c.darks.count = 10;
  c.darks.when = scan::When::before;
  c.flats.count = 5;
  c.flats.when = scan::When::both;
  return c;
}

// VBAS 1, ACCL 0.4, VELO 10, no soft limits, MRES = 1/10000.
scan::MotorFacts motor() {
  scan::MotorFacts m;
  m.velo = 10;
  m.vmax = 30;
  m.vbas = 1;
  m.accl = 0.4;
  m.mres = 0.0001;
  m.egu = "deg";
  m.rbv = 0;
  return m;
}

scan::CameraFacts camera() {
  return {"Oryx", "UInt16", 1200, 1000};
}

bool mentions(const scan::PlanResult& r, std::string_view text) {
  return std::any_of(r.refusals.begin(), r.refusals.end(),
                     [&](const std::string& s) { return s.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("plan: a positive scan, every value by hand") {
  const auto r = scan::plan_fly(config(), motor(), camera());
  REQUIRE(r.refusals.empty());
  REQUIRE(r.plan);
  const auto& p = *r.plan;
  CHECK(r.notes.empty());  // 0.5° = 5000 counts exactly
  CHECK(p.readout_s == 0.015);
  CHECK(p.frame_time_s == Approx(0.1));  // 0.08 + 0.015 + 0.005
  CHECK(p.projections == 181);
  CHECK(p.first_deg == 10);
  CHECK(p.step_deg == 0.5);
  CHECK(p.last_deg() == 100);
  CHECK(p.speed_deg_s == Approx(5));            // 0.5 / 0.1
  CHECK(p.accel_time_s == 0.4);                 // ACCL
  CHECK(p.acceleration_deg_s2 == Approx(10));   // (5 − VBAS 1) / 0.4
  CHECK(p.accel_distance_deg == Approx(1.2));   // (1 + 5)/2 · 0.4
  CHECK(p.run_up_deg == Approx(1.5));           // ceil(1.2/0.5 + 0.5) = ceil(2.9) = 3 steps
  CHECK(p.exposure_travel_deg == Approx(0.4));  // 0.08 · 5
  CHECK(p.run_down_deg == Approx(2.0));         // ceil((0.4 + 1.2)/0.5 + 0.5) = ceil(3.7) = 4 steps
  CHECK(p.run_up_start_deg == Approx(8.5));     // 10 − 1.5
  CHECK(p.run_down_end_deg == Approx(102));     // 100 + 2
  const auto& g = p.geometry;
  CHECK(g.first_counts == 101000);  // 10 · 10000 + 1000
  CHECK(g.step_counts == 5000);     // 0.5 · 10000
  CHECK(g.pulses == 181);
  CHECK(g.pre_start_counts == 2500);  // half a step
  CHECK(g.exposure_s == 0.08);
  CHECK(g.frame_time_s == Approx(0.1));
  CHECK(g.counts_per_degree == 10000);
  CHECK(g.offset_counts == 1000);
  CHECK(p.trigger_counts(180) == 1001000);  // 101000 + 180 · 5000
  CHECK(p.angle(1) == 10.5);
  CHECK(p.darks_before == 10);
  CHECK(p.darks_after == 0);
  CHECK(p.flats_before == 5);
  CHECK(p.flats_after == 5);
  const auto& d = p.durations;
  CHECK(d.to_start_s == Approx(1.65));     // |8.5 − RBV 0| / VELO 10 + 2 · 0.4
  CHECK(d.darks_s == Approx(1.0));         // 10 · 0.1
  CHECK(d.flats_s == Approx(1.0));         // (5 + 5) · 0.1
  CHECK(d.run_up_s == Approx(0.46));       // 0.4 + (1.5 − 1.2)/5
  CHECK(d.projections_s == Approx(18.0));  // 180 · 0.1
  CHECK(d.run_down_s == Approx(0.56));     // (2.0 − 1.2)/5 + 0.4
  CHECK(d.return_s == Approx(10.0));       // |10 − 102| / 10 + 2 · 0.4
  CHECK(d.total_s == Approx(32.67));       // 1.65 + 0 + 1 + 1 + 0.46 + 18 + 0.56 + 10
}

TEST_CASE("plan: a negative scan (start > end) runs up from above and down below") {
  const auto r = scan::plan_fly(config(100, 10), motor(), camera());
  REQUIRE(r.plan);
  const auto& p = *r.plan;
  CHECK(p.step_deg == -0.5);
  CHECK(p.speed_deg_s == Approx(5));
  CHECK(p.run_up_deg == Approx(1.5));
  CHECK(p.run_down_deg == Approx(2.0));
  CHECK(p.run_up_start_deg == Approx(101.5));  // 100 + 1.5
  CHECK(p.run_down_end_deg == Approx(8.0));    // 10 − 2
  CHECK(p.geometry.first_counts == 1001000);   // 100 · 10000 + 1000
  CHECK(p.geometry.step_counts == -5000);
  CHECK(p.geometry.pre_start_counts == 2500);
  CHECK(p.trigger_counts(180) == 101000);
}

TEST_CASE("plan: VBAS 0 gives tomoscan's run-up ½·v·ACCL, an integer number of steps") {
  auto m = motor();
  m.vbas = 0;
  m.accl = 0.5;
  const auto r = scan::plan_fly(config(), m, camera());
  REQUIRE(r.plan);
  CHECK(r.plan->accel_distance_deg == Approx(1.25));  // 5/2 · 0.5
  // 1.25/0.5 + 0.5 = 3.0 exactly (on paper): ceil(3.0) = 3 steps = 1.5°, not 4
  // from the last bits of floating-point rounding.
  CHECK(r.plan->run_up_deg == Approx(1.5));
}

TEST_CASE(
    "plan: a run-up that is a whole number of steps on paper is not rounded up by float "
    "error") {
  // frame time 0.08 + 0.01 + 0.01 = 0.1 s, step 0.1° → v = 1 deg/s; VBAS 0,
  // ACCL 0.5: d_acc = ½ · 1 · 0.5 = 0.25°; 0.25/0.1 + 0.5 = 3 steps = 0.3°
  // (in doubles the quotient comes out 3.0000000000000004).
  auto c = config(0, 18);
  c.scan.step_deg = 0.1;
  c.camera.readout.clear();
  c.camera.readout_time_s = 0.01;
  c.camera.readout_margin_s = 0.01;
  auto m = motor();
  m.vbas = 0;
  m.accl = 0.5;
  const auto r = scan::plan_fly(c, m, camera());
  REQUIRE(r.plan);
  CHECK(r.plan->accel_distance_deg == Approx(0.25));
  CHECK(r.plan->run_up_deg == Approx(0.3));
}

TEST_CASE("plan: the encoder reading expected at an angle") {
  const auto c = config();  // 10000 counts/degree, offset 1000
  CHECK(scan::expected_counts(c.rotation, 0) == 1000);
  CHECK(scan::expected_counts(c.rotation, -2.5) == -24000);  // −2.5 · 10000 + 1000
  // The planned triggers are the expected readings at the planned angles.
  const auto r = scan::plan_fly(c, motor(), camera());
  REQUIRE(r.plan);
  CHECK(scan::expected_counts(c.rotation, r.plan->angle(7)) ==
        static_cast<double>(r.plan->trigger_counts(7)));
}

TEST_CASE("plan: the readout table: the DataType's smallest size_y ≥ SizeY, else the default") {
  auto c = config();
  c.camera.readout = {{"UInt16", 1536, 0.01234}, {"UInt16", 768, 0.00617}, {"UInt8", 768, 0.003}};
  c.camera.readout_time_s = 0.02;
  const auto readout = [&](std::string type, std::int64_t size_y) {
    return scan::readout_for(c.camera, {"m", std::move(type), 100, size_y}).first;
  };
  CHECK(readout("UInt16", 700) == 0.00617);
  CHECK(readout("UInt16", 768) == 0.00617);
  CHECK(readout("UInt16", 769) == 0.01234);
  CHECK(readout("UInt16", 1536) == 0.01234);
  CHECK(readout("UInt16", 1537) == 0.02);  // none fits: camera.readout_time
  CHECK(readout("UInt8", 10) == 0.003);
  CHECK(readout("Float32", 10) == 0.02);
  CHECK(scan::readout_for(c.camera, {"m", "Float32", 1, 10}).second.find("readout_time") !=
        std::string::npos);
}

TEST_CASE("plan: refusals") {
  SUBCASE("speed above VMAX") {
    auto m = motor();
    m.vmax = 4;  // v = 5
    const auto r = scan::plan_fly(config(), m, camera());
    CHECK_FALSE(r.plan);
    REQUIRE(r.refusals.size() == 1);
    CHECK(mentions(r, "exceeds the motor's VMAX 4 deg/s"));
    m.vmax = 0;  // no upper bound
    CHECK(scan::plan_fly(config(), m, camera()).plan);
    m.vmax = 5;  // equal is fine
    CHECK(scan::plan_fly(config(), m, camera()).plan);
  }
  SUBCASE("speed below VBAS") {
    auto m = motor();
    m.vbas = 6;
    const auto r = scan::plan_fly(config(), m, camera());
    CHECK_FALSE(r.plan);
    CHECK(mentions(r, "below the motor's VBAS 6 deg/s"));
  }
  SUBCASE("ACCL 0") {
    auto m = motor();
    m.accl = 0;
    CHECK(mentions(scan::plan_fly(config(), m, camera()), "ACCL 0 s"));
  }
  SUBCASE("soft limits, positive scan: run-up start 8.5, run-down end 102") {
    auto m = motor();
    m.hlm = m.dhlm = 101;
    m.llm = m.dllm = 9;
    const auto r = scan::plan_fly(config(), m, camera());
    CHECK_FALSE(r.plan);
    CHECK(r.refusals.size() == 2);
    CHECK(mentions(r, "the run-up start 8.5° is below the low soft limit LLM 9°"));
    CHECK(mentions(r, "the run-down end 102° is above the high soft limit HLM 101°"));
    m.hlm = m.dhlm = 102;  // exactly at the limits is inside
    m.llm = m.dllm = 8.5;
    CHECK(scan::plan_fly(config(), m, camera()).plan);
  }
  SUBCASE("soft limits, negative scan: run-up start 101.5, run-down end 8") {
    auto m = motor();
    m.hlm = m.dhlm = 101;
    m.llm = m.dllm = 9;
    const auto r = scan::plan_fly(config(100, 10), m, camera());
    CHECK(r.refusals.size() == 2);
    CHECK(mentions(r, "the run-up start 101.5° is above the high soft limit HLM 101°"));
    CHECK(mentions(r, "the run-down end 8° is below the low soft limit LLM 9°"));
  }
  SUBCASE("DHLM = DLLM = 0: no soft limits, whatever HLM/LLM say") {
    auto m = motor();
    m.hlm = m.llm = 0;
    m.dhlm = m.dllm = 0;
    CHECK(scan::plan_fly(config(), m, camera()).plan);
  }
  SUBCASE("EGU") {
    auto m = motor();
    for (const char* ok : {"deg", "Deg", "degree", "Degrees", "°", "DEG "}) {
      m.egu = ok;
      CHECK_MESSAGE(scan::plan_fly(config(), m, camera()).plan, ok);
    }
    for (const char* bad : {"mm", "rad", "", "mdeg"}) {
      m.egu = bad;
      const auto r = scan::plan_fly(config(), m, camera());
      CHECK_FALSE_MESSAGE(r.plan, bad);
      CHECK(mentions(r, "is not degrees"));
    }
  }
  SUBCASE("counts per degree against MRES / ERES when the encoder is the motor's") {
    auto m = motor();
    m.mres = 0.0002;  // 5000 steps/degree, the file says 10000
    auto r = scan::plan_fly(config(), m, camera());
    CHECK(mentions(r, "counts_per_degree 10000 but the motor's MRES 0.0002 deg gives 5000"));
    m.eres = -0.0001;  // an encoder of 10000 counts/degree: ERES wins over MRES
    CHECK(scan::plan_fly(config(), m, camera()).plan);
    m.eres = 0.00005;
    CHECK(mentions(scan::plan_fly(config(), m, camera()), "ERES 5e-05 deg gives 20000"));
    m.eres = 0;
    m.mres = 0;
    CHECK(mentions(scan::plan_fly(config(), m, camera()), "MRES is 0"));
    auto c = config();
    c.rotation.encoder_is_motor = false;  // a separate encoder: nothing to compare
    CHECK(scan::plan_fly(c, m, camera()).plan);
  }
  SUBCASE("DIR Neg when the encoder is the motor's") {
    auto m = motor();
    m.dir_neg = true;
    CHECK(mentions(scan::plan_fly(config(), m, camera()), "DIR is Neg"));
    auto c = config();
    c.rotation.encoder_is_motor = false;
    CHECK(scan::plan_fly(c, m, camera()).plan);
  }
  SUBCASE("a step below one encoder count") {
    auto c = config(0, 0.004);
    c.scan.projections = 101;
    c.scan.step_deg = 0.00004;  // 0.4 counts → 0
    const auto r = scan::plan_fly(c, motor(), camera());
    CHECK_FALSE(r.plan);
    CHECK(mentions(r, "less than half an encoder count"));
  }
  SUBCASE("triggers beyond the PandA's 32-bit positions") {
    auto c = config(300000, 300090);  // 3·10⁹ counts > 2³¹ − 1
    const auto r = scan::plan_fly(c, motor(), camera());
    CHECK(mentions(r, "outside the PandA's 32-bit positions"));
  }
  SUBCASE("the readout table's model is not the camera's") {
    auto c = config();
    c.camera.model = "Blackfly S";
    CHECK(mentions(scan::plan_fly(c, motor(), camera()),
                   "is for model \"Blackfly S\" (camera.model) but the camera is \"Oryx\""));
  }
  SUBCASE("every reason at once") {
    auto m = motor();
    m.vmax = 1;
    m.egu = "mm";
    m.dir_neg = true;
    m.hlm = m.dhlm = 50;
    m.llm = m.dllm = 20;
    auto c = config();
    c.camera.model = "other";
    const auto r = scan::plan_fly(c, m, camera());
    CHECK_FALSE(r.plan);
    CHECK(r.refusals.size() == 6);  // model, VMAX, LLM, HLM, EGU, DIR
    const auto text = scan::describe_refusal(r);
    CHECK(text.starts_with("fly scan refused (6 reasons):\n  - "));
  }
}

TEST_CASE("plan: flats check the sample motor's soft limits and time its moves") {
  auto c = config();  // flats: 5 before, 5 after
  c.flats.sample_out = 12;
  scan::MotorFacts sample;
  sample.velo = 4;
  sample.accl = 0.25;
  sample.rbv = 2;  // no sample_in: the sample returns to where it is
  sample.hlm = sample.dhlm = 10;
  sample.llm = sample.dllm = -10;
  auto r = scan::plan_fly(c, motor(), camera(), sample);
  CHECK_FALSE(r.plan);
  CHECK(mentions(r, "flats: flats.sample_out 12 is outside micos:m2's soft limits [-10, 10]"));
  c.flats.has_sample_in = true;
  c.flats.sample_in = -11;
  CHECK(scan::plan_fly(c, motor(), camera(), sample).refusals.size() == 2);
  c.flats.has_sample_in = false;
  sample.dhlm = sample.dllm = 0;  // no soft limits
  r = scan::plan_fly(c, motor(), camera(), sample);
  REQUIRE(r.plan);
  // 10 flats · 0.1 s + 2 sets · 2 moves · (|12 − 2|/4 + 2 · 0.25 = 3 s) = 1 + 12 = 13 s
  CHECK(r.plan->durations.flats_s == Approx(13.0));
  // No flats taken: the sample motor is not looked at.
  c.flats.when = scan::When::none;
  sample.dhlm = 10;
  sample.dllm = -10;
  r = scan::plan_fly(c, motor(), camera(), sample);
  REQUIRE(r.plan);
  CHECK(r.plan->durations.flats_s == 0);
}

TEST_CASE("plan: an end the step does not reach is noted") {
  auto c = config(0, 180);
  c.scan.step_deg = 0.7;
  c.scan.projections = 258;  // round(180/0.7) + 1: last angle 0.7 · 257 = 179.9
  const auto r = scan::plan_fly(c, motor(), camera());
  REQUIRE(r.plan);
  CHECK(r.plan->last_deg() == Approx(179.9));
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "the last projection is at 179.9°, not at end 180°");
}

TEST_CASE("plan: a step that is not a whole number of counts is snapped, with a note") {
  auto c = config(0, 12.345);
  c.scan.projections = 101;
  c.scan.step_deg = 0.12345;  // 1234.5 counts → 1235 (half away from zero)
  const auto r = scan::plan_fly(c, motor(), camera());
  REQUIRE(r.plan);
  CHECK(r.plan->geometry.step_counts == 1235);
  CHECK(r.plan->step_deg == Approx(0.1235));
  CHECK(r.plan->last_deg() == Approx(12.35));  // 100 · 0.1235
  REQUIRE(r.notes.size() == 2);
  CHECK(r.notes[0].find("snapped to 1235 counts") != std::string::npos);
  CHECK(r.notes[1] == "the last projection is at 12.35°, not at end 12.345°");
}

TEST_CASE("plan: tools/examples/flyscan.toml against the beamline simulator's devices") {
  // sim/ca/beamline.toml: micos:m1 VELO 10, VBAS 0, VMAX 30, ACCL 0.5, no soft
  // limits, MRES 0.0001 deg; FLIR5 2048 × 1536 UInt16.
  const auto c =
      scan::load_fly_scan_config(std::string(PANDAFLY_SOURCE_DIR) + "/tools/examples/flyscan.toml");
  scan::MotorFacts m;
  m.velo = 10;
  m.vmax = 30;
  m.accl = 0.5;
  m.mres = 0.0001;
  m.egu = "deg";
  const auto r = scan::plan_fly(c, m, {"", "UInt16", 2048, 1536});
  REQUIRE(r.plan);
  const auto& p = *r.plan;
  const double frame = 0.05 + 0.01234 + 0.001;  // exposure + UInt16 1536 row + margin = 0.06334
  CHECK(p.frame_time_s == Approx(frame));
  CHECK(p.speed_deg_s == Approx(0.5 / frame));  // 7.894 deg/s
  // d_acc = 7.894/2 · 0.5 = 1.9735; ceil(1.9735/0.5 + 0.5) = ceil(4.447) = 5 steps
  CHECK(p.run_up_deg == Approx(2.5));
  // exposure travel 0.05 · 7.894 = 0.3947; ceil((0.3947 + 1.9735)/0.5 + 0.5) = ceil(5.236) = 6
  CHECK(p.run_down_deg == Approx(3.0));
  CHECK(p.geometry.first_counts == 0);
  CHECK(p.geometry.step_counts == 5000);
  CHECK(p.geometry.pulses == 361);
  CHECK(p.darks_before + p.darks_after == 20);
  CHECK(p.flats_before + p.flats_after == 20);
}

TEST_CASE("plan: describe() prints the dry run") {
  auto c = config(10, 12);
  c.scan.projections = 5;
  c.scan.step_deg = 0.5;
  const auto r = scan::plan_fly(c, motor(), camera());
  REQUIRE(r.plan);
  const std::string text =
      scan::describe(*r.plan, c, {{"PCOMP1.START", "101000"}, {"PCOMP1.STEP", "5000"}});
  CHECK(text.starts_with("fly scan plan (plan.toml)\n"));
  CHECK(text.find("5 from 10° to 12° in steps of 0.5°") != std::string::npos);
  CHECK(text.find("speed         5 deg/s on micos:m1") != std::string::npos);
  CHECK(text.find("1.5° from 8.5°") != std::string::npos);  // run-up
  CHECK(text.find("5 at 101000 … 121000 counts, step 5000 counts") != std::string::npos);
  // ≤ 20 triggers: each one, in counts and degrees
  CHECK(text.find("#0         101000 counts     10.000000°") != std::string::npos);
  CHECK(text.find("#4         121000 counts     12.000000°") != std::string::npos);
  CHECK(text.find("    PCOMP1.START=101000\n    PCOMP1.STEP=5000\n") != std::string::npos);
  CHECK(text.find("darks         10 before, 0 after") != std::string::npos);
  CHECK(text.find("projections (first→last)     0.400 s") != std::string::npos);  // 4 · 0.1
  // More than 20 triggers: only first, last and step.
  const auto big = scan::plan_fly(config(), motor(), camera());
  REQUIRE(big.plan);
  const std::string long_text = scan::describe(*big.plan, config());
  CHECK(long_text.find("#0 ") == std::string::npos);
  CHECK(long_text.find("PandA fields") == std::string::npos);
  CHECK(long_text.find("total                        32.670 s") != std::string::npos);
}

TEST_CASE("plan: darks need a shutter") {
  auto c = scan::parse_scan_config(
      "[panda]\ndesign = \"d.sav\"\n[scan]\nstart = 0.0\nend = 10.0\nprojections = 11\n"
      "exposure = 0.01\n[darks]\ncount = 5\n[shutter]\ncommand = \"\"\n[output]\nfile = "
      "\"f.h5\"\n[metadata]\nproposal_id = \"p\"\nprincipal_investigator = \"pi\"\n",
      "s.toml");
  CHECK(c.shutter.command.empty());
  scan::MotorFacts m;
  m.velo = 10;
  m.accl = 0.5;
  m.mres = 0.0001;
  m.egu = "deg";
  scan::CameraFacts cam{"", "UInt16", 256, 256};
  auto r = scan::plan_fly(c, m, cam);
  REQUIRE_FALSE(r.plan);
  CHECK(std::find(r.refusals.begin(), r.refusals.end(),
                  "darks: no shutter to close (shutter.command is \"\"): take no darks, or name "
                  "the shutter") != r.refusals.end());
  c.darks.count = 0;
  r = scan::plan_fly(c, m, cam);
  CHECK(r.plan);
}

// ---- plan_cont: the continuous scan (the camera free-runs at its own rate) ----

TEST_CASE("plan_cont: a positive scan, every value by hand") {
  // The camera's rate 10 frames/s = 1/(0.08 + 0.015 + 0.005): no note.
  const auto r = scan::plan_cont(config(), motor(), camera(), std::nullopt, 10);
  REQUIRE(r.refusals.empty());
  REQUIRE(r.plan);
  const auto& p = *r.plan;
  CHECK(p.kind == scan::ScanKind::cont);
  CHECK(r.notes.empty());
  CHECK(p.frame_rate_hz == 10);
  CHECK(p.frame_time_s == Approx(0.1));  // 1 / 10
  CHECK(p.projections == 181);
  CHECK(p.first_deg == 10);
  CHECK(p.step_deg == 0.5);
  CHECK(p.speed_deg_s == Approx(5));            // 0.5 · 10
  CHECK(p.acceleration_deg_s2 == Approx(10));   // (5 − VBAS 1) / 0.4
  CHECK(p.accel_distance_deg == Approx(1.2));   // (1 + 5)/2 · 0.4
  CHECK(p.run_up_deg == Approx(1.5));           // ceil(1.2/0.5 + 0.5) = ceil(2.9) = 3 steps
  CHECK(p.run_up_start_deg == Approx(8.5));     // 10 − 1.5
  CHECK(p.camera_start_deg == Approx(9.95));    // 8.5 + 1.2 + 0.25
  CHECK(p.run_down_deg == Approx(4.5));         // ceil((0.5 s · 5 + 1.2)/0.5 + 1.5) = 9 steps
  CHECK(p.run_down_end_deg == Approx(104.5));   // 100 + 4.5
  CHECK(p.exposure_travel_deg == Approx(0.4));  // 0.08 · 5
  CHECK(p.geometry.pulses == 0);                // no PandA
  const auto& d = p.durations;
  CHECK(d.to_start_s == Approx(1.65));     // |8.5 − RBV 0| / VELO 10 + 2 · 0.4
  CHECK(d.darks_s == Approx(1.0));         // 10 · 0.1
  CHECK(d.flats_s == Approx(1.0));         // (5 + 5) · 0.1
  CHECK(d.run_up_s == Approx(0.46));       // 0.4 + (1.5 − 1.2)/5
  CHECK(d.projections_s == Approx(18.1));  // 181 frames · 0.1
  CHECK(d.run_down_s == Approx(1.06));     // (4.5 − 1.2)/5 + 0.4
  CHECK(d.return_s == Approx(10.25));      // |10 − 104.5| / 10 + 2 · 0.4
  CHECK(d.total_s == Approx(33.52));       // 1.65 + 1 + 1 + 0.46 + 18.1 + 1.06 + 10.25
}

TEST_CASE("plan_cont: a negative scan starts the camera above the first angle") {
  const auto r = scan::plan_cont(config(100, 10), motor(), camera(), std::nullopt, 10);
  REQUIRE(r.plan);
  const auto& p = *r.plan;
  CHECK(p.run_up_start_deg == Approx(101.5));   // 100 + 1.5
  CHECK(p.camera_start_deg == Approx(100.05));  // 101.5 − (1.2 + 0.25)
  CHECK(p.run_down_end_deg == Approx(5.5));     // 10 − 4.5
}

TEST_CASE("plan_cont: the camera's rate wins over exposure + readout, with a note") {
  const auto r = scan::plan_cont(config(), motor(), camera(), std::nullopt, 8);
  REQUIRE(r.plan);
  CHECK(r.plan->frame_time_s == Approx(0.125));  // 1/8
  CHECK(r.plan->speed_deg_s == Approx(4));       // 0.5 · 8
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0].find("8 frames/s") != std::string::npos);
  CHECK(r.notes[0].find("10 frames/s") != std::string::npos);
  // Within 1 %: no note. 1/exposure exactly is possible (12.5 frames/s for 0.08 s).
  CHECK(scan::plan_cont(config(), motor(), camera(), std::nullopt, 10.05).notes.empty());
  CHECK(scan::plan_cont(config(), motor(), camera(), std::nullopt, 12.5).plan);
}

TEST_CASE("plan_cont: refusals") {
  const auto refused = [](const scan::PlanResult& r, std::string_view text) {
    CHECK_FALSE(r.plan);
    return mentions(r, text);
  };
  for (const double rate : {0.0, -1.0, std::nan(""), HUGE_VAL})
    CHECK(refused(scan::plan_cont(config(), motor(), camera(), std::nullopt, rate),
                  "GC_AcqResFrameRate_RBV"));
  // 20 frames/s > 1/0.08 s = 12.5: the camera cannot expose 0.08 s that often.
  CHECK(refused(scan::plan_cont(config(), motor(), camera(), std::nullopt, 20),
                "faster than 1/exposure"));
  auto m = motor();
  m.vmax = 4;  // v = 5
  CHECK(refused(scan::plan_cont(config(), m, camera(), std::nullopt, 10), "VMAX"));
  m = motor();
  m.vbas = 6;
  CHECK(refused(scan::plan_cont(config(), m, camera(), std::nullopt, 10), "VBAS"));
  m = motor();
  m.accl = 0;
  CHECK(refused(scan::plan_cont(config(), m, camera(), std::nullopt, 10), "ACCL"));
  m = motor();
  m.egu = "mm";
  CHECK(refused(scan::plan_cont(config(), m, camera(), std::nullopt, 10), "EGU"));
  m = motor();
  m.hlm = 104;  // the run-down end is 104.5
  m.llm = 0;
  m.dhlm = 104;
  m.dllm = 0;
  CHECK(refused(scan::plan_cont(config(), m, camera(), std::nullopt, 10),
                "run-down end 104.5° is above the high soft limit"));
  m.hlm = 105;
  m.llm = 9;  // the run-up start is 8.5
  CHECK(refused(scan::plan_cont(config(), m, camera(), std::nullopt, 10),
                "run-up start 8.5° is below the low soft limit"));
  auto c = config();
  c.scan.step_deg = 0;
  CHECK(refused(scan::plan_cont(c, motor(), camera(), std::nullopt, 10), "step 0°"));
  // Every reason at once.
  m = motor();
  m.vmax = 1;
  m.accl = 0;
  m.egu = "mm";
  const auto r = scan::plan_cont(config(), m, camera(), std::nullopt, 10);
  CHECK(r.refusals.size() == 3);
  CHECK(scan::describe_refusal(r, scan::ScanKind::cont).rfind("continuous scan refused", 0) == 0);
}

TEST_CASE("plan: frames over Channel Access are for step scans only") {
  auto c = config();
  c.camera.frames = scan::FrameSource::ca;
  CHECK(mentions(scan::plan_fly(c, motor(), camera(), std::nullopt),
                 "camera.frames = \"ca\": a fly scan takes its frames over ZMQ"));
  CHECK(mentions(scan::plan_cont(c, motor(), camera(), std::nullopt, 10),
                 "camera.frames = \"ca\": a continuous scan takes its frames over ZMQ"));
  const auto step = scan::plan_step(c, motor(), camera(), std::nullopt);
  CHECK_FALSE(mentions(step, "camera.frames"));
  REQUIRE(step.plan);
  CHECK(scan::describe(*step.plan, c).find("over Channel Access from FLIR5:image1:ArrayData") !=
        std::string::npos);
  CHECK(scan::describe(*step.plan, c).find("software trigger (TriggerSoftware)") !=
        std::string::npos);
  c.camera.step_trigger = scan::StepTrigger::single;
  CHECK(scan::describe(*step.plan, c).find("acquire a single image (ImageMode Single, Acquire)") !=
        std::string::npos);
}

TEST_CASE("plan_cont: no PandA, counts or encoder checks") {
  auto c = config();
  c.rotation.counts_per_degree = 3;  // a fly scan: encoder_is_motor refuses it against MRES
  c.rotation.encoder_is_motor = true;
  c.scan.step_deg = 0.50001;  // not a whole number of counts: not snapped
  const auto r = scan::plan_cont(c, motor(), camera(), std::nullopt, 10);
  REQUIRE(r.plan);
  CHECK(r.plan->step_deg == 0.50001);
  CHECK(r.notes.empty());
  CHECK_FALSE(scan::plan_fly(c, motor(), camera()).plan);
}

TEST_CASE("plan_cont: flats check the sample motor's soft limits") {
  scan::MotorFacts sample;
  sample.velo = 2;
  sample.accl = 0.5;
  sample.hlm = 20;
  sample.llm = -20;
  sample.dhlm = 20;
  sample.dllm = -20;
  auto c = config();
  c.flats.sample_motor = "sim:m2";
  c.flats.sample_out = 25;
  const auto r = scan::plan_cont(c, motor(), camera(), sample, 10);
  CHECK_FALSE(r.plan);
  CHECK(mentions(r, "flats.sample_out 25"));
}

TEST_CASE("plan_cont: describe() says the angles are software-synchronised") {
  const auto r = scan::plan_cont(config(), motor(), camera(), std::nullopt, 8);
  REQUIRE(r.plan);
  const auto text = scan::describe(*r.plan, config());
  INFO(text);
  CHECK(text.rfind("continuous scan plan (plan.toml)", 0) == 0);
  CHECK(text.find("8 frames/s from the camera (GC_AcqResFrameRate_RBV)") != std::string::npos);
  CHECK(text.find("software-synchronised") != std::string::npos);
  CHECK(text.find("uncertainty") != std::string::npos);
  CHECK(text.find("never from the frame index") != std::string::npos);
  CHECK(text.find("camera start") != std::string::npos);
  CHECK(text.find("note: the camera runs at 8 frames/s") != std::string::npos);
  CHECK(text.find("counts") == std::string::npos);  // no triggers, no encoder
}

TEST_CASE("plan_cont: describe() shows the stamp convention and the RBV stamp lag") {
  auto c = config();
  const auto r = scan::plan_cont(c, motor(), camera(), std::nullopt, 8);
  REQUIRE(r.plan);
  const auto has = [](const std::string& text, const std::string& part) {
    INFO(text);
    INFO(part);
    return text.find(part) != std::string::npos;
  };
  // Exposure 0.08 s; the readout from the table row that fits.
  CHECK(has(scan::describe(*r.plan, c),
            fmt::format("marks its readout_end (camera.timestamp): mid-exposure = stamp − readout "
                        "− exposure/2 = stamp − {:.6g} s; an RBV update's stamp lags its reading "
                        "by ≤ 0 s (rotation.rbv_stamp_lag)",
                        r.plan->readout_s + 0.04)));
  c.camera.timestamp = capture::StampMeaning::exposure_start;
  c.rotation.rbv_stamp_lag_s = 0.003;
  CHECK(has(scan::describe(*r.plan, c),
            "marks its exposure_start (camera.timestamp): mid-exposure = stamp + exposure/2 = "
            "stamp + 0.04 s; an RBV update's stamp lags its reading by ≤ 0.003 s"));
  c.camera.timestamp = capture::StampMeaning::exposure_end;
  CHECK(has(scan::describe(*r.plan, c), "mid-exposure = stamp − exposure/2 = stamp − 0.04 s"));
}
