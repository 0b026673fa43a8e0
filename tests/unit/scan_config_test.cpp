// The fly-scan file: every key, its defaults, and errors that name
// file:line:column and the key.
#include "pandafly/scan/scan_config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "pandafly/dx/metadata.hpp"
#include "pandafly/scan/scan_config_file.hpp"

using namespace pandafly;

namespace {

// The required keys only.
const std::string kMinimal = R"([panda]
design = "flyscan.sav"
[scan]
start = 0
end = 180
projections = 361
exposure = 0.05
[output]
file = "out.h5"
[metadata]
proposal_id = "20261042"
principal_investigator = "R. Haddad"
)";

std::string error_of(const std::string& text, std::string_view source = "scan.toml") {
  try {
    (void)scan::parse_scan_config(text, source);
  } catch (const scan::ConfigError& e) {
    return e.what();
  }
  FAIL("accepted: " << text);
  return {};
}

// "scan.toml:<line>:<column>: " of the first occurrence of `needle` in `text`
// (1-based, as toml++ and editors count).
std::string where(const std::string& text, std::string_view needle) {
  const auto pos = text.find(needle);
  REQUIRE(pos != std::string::npos);
  const auto line_start = text.rfind('\n', pos);
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(
                                   text.begin(), text.begin() + static_cast<long>(pos), '\n'));
  const std::size_t column = pos - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
  return "scan.toml:" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

// kMinimal with `from` replaced by `to`.
std::string with(std::string_view from, std::string_view to) {
  std::string t = kMinimal;
  const auto pos = t.find(from);
  REQUIRE(pos != std::string::npos);
  t.replace(pos, from.size(), to);
  return t;
}

}  // namespace

TEST_CASE("scan config: the required keys only, every default for the beamline simulator") {
  const auto c = scan::parse_scan_config(kMinimal, "scans/scan.toml");
  CHECK(c.source == "scans/scan.toml");
  CHECK(c.panda.host == "127.0.0.1");
  CHECK(c.panda.control_port == 8888);
  CHECK(c.panda.data_port == 8889);
  CHECK(c.panda.design == "scans/flyscan.sav");  // relative to the scan file's folder
  CHECK(c.panda.timeout_s == 5.0);
  CHECK(c.rotation.motor == "micos:m1");
  CHECK(c.rotation.encoder == "INENC1");
  CHECK(c.rotation.counts_per_degree == 10000);
  CHECK(c.rotation.encoder_offset_counts == 0);
  CHECK(c.rotation.encoder_is_motor);
  CHECK(c.camera.prefix == "FLIR5:");
  CHECK(c.camera.cam == "cam5:");
  CHECK(c.camera.image == "image1:");
  CHECK(c.camera.zmq_plugin == "ZMQ1:");
  CHECK(c.camera.zmq == "tcp://127.0.0.1:1234 PUB");
  CHECK(c.camera.ioc_host == "127.0.0.1");
  CHECK(c.camera.trigger_source == "Line2");
  CHECK(c.camera.frame_type_pv == "FLIR5:FrameType");
  CHECK(c.camera.model.empty());
  CHECK(c.camera.readout_margin_s == 0.001);
  CHECK(c.camera.readout_time_s == 0.01234);
  CHECK(c.camera.readout.empty());
  CHECK(c.camera.timestamp == capture::StampMeaning::readout_end);
  CHECK(c.rotation.rbv_stamp_lag_s == 0);
  CHECK(c.scan.start_deg == 0);
  CHECK(c.scan.end_deg == 180);
  CHECK(c.scan.projections == 361);
  CHECK(c.scan.step_deg == 0.5);  // 180 / (361 - 1)
  CHECK(c.scan.exposure_s == 0.05);
  CHECK(c.scan.return_to_start);
  CHECK(c.scan.settle_s == 0);
  CHECK(c.darks.count == 0);
  CHECK(c.darks.when == scan::When::before);
  CHECK(c.flats.count == 0);
  CHECK(c.flats.when == scan::When::both);
  CHECK(c.flats.sample_motor == "micos:m2");
  CHECK_FALSE(c.flats.has_sample_in);
  CHECK(c.shutter.command == "BEATS:shutter:Cmd");
  CHECK(c.shutter.status == "BEATS:shutter:Status");
  CHECK(c.shutter.open == "Open");
  CHECK(c.shutter.close == "Close");
  CHECK(c.output.file == "out.h5");
  CHECK(c.output.layout.empty());
  CHECK_FALSE(c.output.overwrite);
  CHECK(c.output.compression == scan::Compression::none);
  CHECK(c.metadata.proposal_id == "20261042");
  CHECK(c.metadata.principal_investigator == "R. Haddad");
  CHECK(c.metadata.facility == "SESAME");  // dx::parse_metadata's default
}

TEST_CASE("scan config: every key arrives (tests/data/scan/full.toml)") {
  const std::string path = std::string(PANDAFLY_TEST_DATA) + "/scan/full.toml";
  const auto c = scan::load_fly_scan_config(path);
  const std::string dir = std::string(PANDAFLY_TEST_DATA) + "/scan/";
  CHECK(c.panda.host == "panda.example");
  CHECK(c.panda.control_port == 18888);
  CHECK(c.panda.data_port == 18889);
  CHECK(c.panda.design == dir + "designs/fly.sav");
  CHECK(c.panda.timeout_s == 2.5);
  CHECK(c.rotation.motor == "BL:rot");
  CHECK(c.rotation.encoder == "INENC3");
  CHECK(c.rotation.counts_per_degree == 20000);  // an integer in a float key
  CHECK(c.rotation.encoder_offset_counts == -1234);
  CHECK_FALSE(c.rotation.encoder_is_motor);
  CHECK(c.camera.prefix == "CAM:");
  CHECK(c.camera.cam == "cam1:");
  CHECK(c.camera.image == "image2:");
  CHECK(c.camera.zmq_plugin == "ZMQ2:");
  CHECK(c.camera.zmq == "tcp://*:5555 PUB");
  CHECK(c.camera.ioc_host == "ioc.example");
  CHECK(c.camera.trigger_source == "Line0");
  CHECK(c.camera.frame_type_pv == "CAM:FrameType");
  CHECK(c.camera.frames == scan::FrameSource::ca);
  CHECK(c.camera.step_trigger == scan::StepTrigger::single);
  CHECK(c.camera.model == "Oryx ORX-10G-51S5M");
  CHECK(c.camera.readout_margin_s == 0.002);
  CHECK(c.camera.readout_time_s == 0.02);
  REQUIRE(c.camera.readout.size() == 2);
  CHECK(c.camera.readout[0] == scan::ReadoutEntry{"UInt8", 1536, 0.00618});
  CHECK(c.camera.readout[1] == scan::ReadoutEntry{"UInt16", 768, 0.00617});
  CHECK(c.scan.start_deg == 180);
  CHECK(c.scan.end_deg == -180);
  CHECK(c.scan.step_deg == -0.25);
  CHECK(c.scan.projections == 1441);  // round(-360 / -0.25) + 1
  CHECK(c.scan.exposure_s == 0.004);
  CHECK_FALSE(c.scan.return_to_start);
  CHECK(c.scan.settle_s == 0.75);
  CHECK(c.darks.count == 20);
  CHECK(c.darks.when == scan::When::after);
  CHECK(c.flats.count == 30);
  CHECK(c.flats.when == scan::When::before);
  CHECK(c.flats.sample_motor == "BL:samx");
  CHECK(c.flats.sample_out == -12.5);
  CHECK(c.flats.has_sample_in);
  CHECK(c.flats.sample_in == 0.25);
  CHECK(c.shutter.command == "BL:shutter:Open");
  CHECK(c.shutter.status == "BL:shutter:State");
  CHECK(c.shutter.open == "1");
  CHECK(c.shutter.close == "0");
  CHECK(c.output.file == "/data/run7.h5");  // absolute: as written
  CHECK(c.output.layout == dir + "my_layout.xml");
  CHECK(c.output.overwrite);
  CHECK(c.output.compression == scan::Compression::bitshuffle_lz4);
  CHECK(c.metadata.proposal_id == "P-1");
}

TEST_CASE(
    "scan config: tools/examples/flyscan.toml is a complete fly scan; its [metadata] still "
    "reads for pandafly-dx") {
  const std::string path = std::string(PANDAFLY_SOURCE_DIR) + "/tools/examples/flyscan.toml";
  const auto c = scan::load_fly_scan_config(path);
  CHECK(c.panda.design ==
        std::string(PANDAFLY_SOURCE_DIR) + "/tools/examples/../../panda/flyscan.sav");
  CHECK(c.scan.projections == 361);
  CHECK(c.camera.readout.size() == 4);
  CHECK(c.darks.count == 10);
  CHECK(c.flats.count == 10);
  CHECK(c.metadata.proposal_id == "20261042");
  // pandafly-dx record/xdi --metadata read only [metadata], by dx::parse_metadata.
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(dx::parse_metadata(text.str(), path) == c.metadata);
}

TEST_CASE("scan config: tools/examples/stepscan.toml is a step scan (no [panda]), not a fly scan") {
  const std::string path = std::string(PANDAFLY_SOURCE_DIR) + "/tools/examples/stepscan.toml";
  const auto c = scan::load_fly_scan_config(path, scan::ScanKind::step);
  CHECK(c.panda.design.empty());
  CHECK(c.scan.projections == 181);
  CHECK(c.scan.step_deg == doctest::Approx(1.0));
  CHECK(c.output.file == "stepscan.h5");
  CHECK(c.metadata.xray_source == "3-pole wiggler");
  // Read for a fly scan, the missing design is named.
  try {
    (void)scan::load_fly_scan_config(path);
    FAIL("a fly scan needs panda.design");
  } catch (const scan::ConfigError& e) {
    CHECK(std::string(e.what()).find("panda.design: missing") != std::string::npos);
  }
}

TEST_CASE("scan config: paths relative to the scan file; absolute ones as written") {
  CHECK(scan::parse_scan_config(kMinimal, "scan.toml").panda.design == "flyscan.sav");
  CHECK(scan::parse_scan_config(kMinimal, "/a/b/scan.toml").panda.design == "/a/b/flyscan.sav");
  CHECK(scan::parse_scan_config(with("flyscan.sav", "/abs/d.sav"), "/a/b/scan.toml").panda.design ==
        "/abs/d.sav");
  const auto c = scan::parse_scan_config(
      with("file = \"out.h5\"", "file = \"out.h5\"\nlayout = \"l.xml\""), "x/scan.toml");
  CHECK(c.output.layout == "x/l.xml");
  CHECK(c.output.file == "out.h5");  // the output file stays relative to the working directory
}

TEST_CASE("scan config: projections or step; end inclusive; both directions") {
  const auto step = [](std::string_view range) {
    return scan::parse_scan_config(with("start = 0\nend = 180\nprojections = 361", range),
                                   "scan.toml")
        .scan;
  };
  auto s = step("start = 0\nend = 180\nstep = 0.5");
  CHECK(s.projections == 361);  // round(180 / 0.5) + 1
  CHECK(s.step_deg == 0.5);
  s = step("start = 0\nend = 180\nstep = 0.7");
  CHECK(s.projections == 258);  // round(257.14…) + 1; last angle 0.7·257 = 179.9
  s = step("start = 180\nend = 0\nstep = -0.5");
  CHECK(s.projections == 361);
  CHECK(s.step_deg == -0.5);
  s = step("start = 180\nend = 0\nprojections = 5");
  CHECK(s.step_deg == -45);  // (0 − 180) / (5 − 1)
  const std::string wrong_sign = with("end = 180\nprojections = 361", "end = 180\nstep = -0.5");
  CHECK(error_of(wrong_sign) ==
        where(wrong_sign, "-0.5") + "scan.step: -0.5 does not lead from start 0 to end 180");
  const std::string both = with("projections = 361", "projections = 361\nstep = 0.5");
  CHECK(error_of(both) == where(both, "0.5\n") + "scan.step: give projections or step, not both");
  const std::string neither = with("projections = 361\n", "");
  CHECK(error_of(neither) == where(neither, "[scan]") + "scan.projections: missing (or scan.step)");
  const std::string one = with("projections = 361", "projections = 1");
  CHECK(error_of(one) == where(one, "1\nexposure") + "scan.projections: must be in 2..2147483647");
  const std::string zero = with("projections = 361", "step = 0");
  CHECK(error_of(zero) == where(zero, "0\nexposure") + "scan.step: must not be 0");
  const std::string flat = with("end = 180", "end = 0");
  CHECK(error_of(flat) ==
        where(flat, "0\nprojections") + "scan.end: equals scan.start: nothing to scan");
}

TEST_CASE("scan config: errors name file:line:column and the key") {
  SUBCASE("unknown key") {
    const std::string t = with("exposure = 0.05", "exposure = 0.05\nexposur = 0.05");
    CHECK(error_of(t) == where(t, "exposur ") + "scan.exposur: unknown key");
  }
  SUBCASE("unknown table") {
    const std::string t = kMinimal + "[rotaton]\nmotor = \"x\"\n";
    CHECK(error_of(t).starts_with(where(t, "rotaton") + "rotaton: unknown table"));
  }
  SUBCASE("unknown key in a readout row") {
    const std::string t =
        kMinimal +
        "[[camera.readout]]\ndata_type = \"UInt8\"\nsize_y = 4\nreadout_time = "
        "0.1\n[[camera.readout]]\ndata_type = \"UInt8\"\nsize_y = 4\nseconds = 0.1\n";
    CHECK(error_of(t) == where(t, "seconds") + "camera.readout[1].seconds: unknown key");
  }
  SUBCASE("a readout row without its time") {
    const std::string t = kMinimal + "[[camera.readout]]\ndata_type = \"UInt8\"\nsize_y = 4\n";
    CHECK(error_of(t) ==
          where(t, "[[camera.readout]]") + "camera.readout[0].readout_time: missing");
  }
  SUBCASE("a readout row's data type that areaDetector does not have") {
    const std::string t =
        kMinimal + "[[camera.readout]]\ndata_type = \"Mono16\"\nsize_y = 4\nreadout_time = 0.1\n";
    CHECK(error_of(t).starts_with(where(t, "\"Mono16\"") +
                                  "camera.readout[0].data_type: \"Mono16\" is not an NDDataType"));
  }
  SUBCASE("wrong type") {
    const std::string t = with("exposure = 0.05", "exposure = \"50 ms\"");
    CHECK(error_of(t) == where(t, "\"50 ms\"") + "scan.exposure: must be a number");
  }
  SUBCASE("an integer key given a float") {
    const std::string t = with("projections = 361", "projections = 361.0");
    CHECK(error_of(t) == where(t, "361.0") + "scan.projections: must be an integer");
  }
  SUBCASE("out of range") {
    const std::string t = with("exposure = 0.05", "exposure = 0");
    CHECK(error_of(t) == where(t, "0\n[output]") + "scan.exposure: must be > 0");
    const std::string p = kMinimal + "[panda]\n";  // a second [panda] is a TOML error
    CHECK(error_of(p).starts_with("scan.toml:"));
    const std::string port =
        with("design = \"flyscan.sav\"", "design = \"d.sav\"\ndata_port = 70000");
    CHECK(error_of(port) == where(port, "70000") + "panda.data_port: must be in 1..65535");
    const std::string cpd = kMinimal + "[rotation]\ncounts_per_degree = -5\n";
    CHECK(error_of(cpd) == where(cpd, "-5") + "rotation.counts_per_degree: must be > 0");
  }
  SUBCASE("enumerations") {
    const std::string w = kMinimal + "[darks]\ncount = 3\nwhen = \"start\"\n";
    CHECK(error_of(w) ==
          where(w, "\"start\"") +
              "darks.when: \"start\" is not \"before\", \"after\", \"both\" or \"none\"");
    const std::string z = with("file = \"out.h5\"", "file = \"out.h5\"\ncompression = \"zstd\"");
    CHECK(error_of(z) ==
          where(z, "\"zstd\"") +
              "output.compression: \"zstd\" is not none, gzip, lz4 or bitshuffle-lz4");
  }
  SUBCASE("camera.step_trigger: software or single") {
    const std::string t = kMinimal + "[camera]\nstep_trigger = \"hardware\"\n";
    CHECK(error_of(t) ==
          where(t, "\"hardware\"") + "camera.step_trigger: \"hardware\" is not software or single");
    CHECK(scan::parse_scan_config(kMinimal, "s").camera.step_trigger ==
          scan::StepTrigger::software);
    CHECK(scan::parse_scan_config(kMinimal + "[camera]\nstep_trigger = \"single\"\n", "s")
              .camera.step_trigger == scan::StepTrigger::single);
  }
  SUBCASE("camera.frames: zmq or ca") {
    const std::string t = kMinimal + "[camera]\nframes = \"pva\"\n";
    CHECK(error_of(t) == where(t, "\"pva\"") + "camera.frames: \"pva\" is not zmq or ca");
    CHECK(scan::parse_scan_config(kMinimal, "s").camera.frames == scan::FrameSource::zmq);
    CHECK(scan::parse_scan_config(kMinimal + "[camera]\nframes = \"ca\"\n", "s").camera.frames ==
          scan::FrameSource::ca);
  }
  SUBCASE("missing required keys: the table's header") {
    const std::string d = with("design = \"flyscan.sav\"\n", "host = \"p\"\n");
    CHECK(error_of(d) == where(d, "[panda]") + "panda.design: missing");
    const std::string e = with("exposure = 0.05\n", "");
    CHECK(error_of(e) == where(e, "[scan]") + "scan.exposure: missing");
    const std::string f = kMinimal + "[flats]\ncount = 5\n";
    CHECK(error_of(f) ==
          where(f, "[flats]") +
              "flats.sample_out: missing (flats are taken: where the sample goes out of the beam)");
    // Flats not taken: no position needed.
    CHECK_NOTHROW(
        (void)scan::parse_scan_config(kMinimal + "[flats]\ncount = 5\nwhen = \"none\"\n", "s"));
  }
  SUBCASE("empty strings") {
    const std::string m = kMinimal + "[rotation]\nmotor = \"\"\n";
    CHECK(error_of(m) == where(m, "\"\"") + "rotation.motor: must not be empty");
    const std::string d = with("design = \"flyscan.sav\"", "design = \"\"");
    CHECK(error_of(d) == where(d, "\"\"") + "panda.design: must not be empty");
    // "" where it means something
    const auto c = scan::parse_scan_config(
        kMinimal + "[camera]\nframe_type_pv = \"\"\nmodel = \"\"\ncam = \"\"\n", "s");
    CHECK(c.camera.frame_type_pv.empty());
    CHECK(c.camera.cam.empty());
  }
  SUBCASE("flats out where the sample already is") {
    const std::string f = kMinimal + "[flats]\ncount = 5\nsample_out = 3\nsample_in = 3\n";
    CHECK(error_of(f) == where(f, "3\nsample_in") +
                             "flats.sample_out: equals flats.sample_in 3: the sample would stay in "
                             "the beam");
  }
  SUBCASE("a missing table has no position") {
    const std::string t = with("[output]\nfile = \"out.h5\"\n", "");
    CHECK(error_of(t) == "scan.toml: output.file: missing");
  }
  SUBCASE("a key that must be a table") {
    const std::string t = "darks = 5\n" + kMinimal;
    CHECK(error_of(t) == where(t, "5") + "darks: must be a table");
  }
  SUBCASE("TOML syntax") {
    const std::string t = with("end = 180", "end = = 180");
    // toml++ points at the second '=': line 5, column 7
    CHECK(error_of(t) ==
          where(t, "= 180") + "Error while parsing value: could not determine value type");
  }
  SUBCASE("[metadata] by dx::parse_metadata's rules") {
    const std::string t = with("proposal_id = \"20261042\"\n", "");
    CHECK(error_of(t) ==
          where(t, "[metadata]") + "metadata.proposal_id: missing (the data policy requires it)");
  }
}

TEST_CASE("scan config: the continuous scan's stamp convention and RBV stamp lag") {
  const auto c = scan::parse_scan_config(
      kMinimal + "[camera]\ntimestamp = \"exposure_start\"\n[rotation]\nrbv_stamp_lag = 0.004\n",
      "scan.toml");
  CHECK(c.camera.timestamp == capture::StampMeaning::exposure_start);
  CHECK(c.rotation.rbv_stamp_lag_s == 0.004);
  CHECK(scan::parse_scan_config(kMinimal + "[camera]\ntimestamp = \"exposure_end\"\n", "s")
            .camera.timestamp == capture::StampMeaning::exposure_end);
  CHECK(scan::parse_scan_config(kMinimal + "[rotation]\nrbv_stamp_lag = 0\n", "s")
            .rotation.rbv_stamp_lag_s == 0);
  const std::string camera = kMinimal + "[camera]\ntimestamp = \"Camera\"\n";
  CHECK(error_of(camera) ==
        where(camera, "\"Camera\"") +
            "camera.timestamp: \"Camera\" is not \"readout_end\", \"exposure_end\" or "
            "\"exposure_start\"");
  const std::string number = kMinimal + "[camera]\ntimestamp = 17\n";
  CHECK(error_of(number) == where(number, "17") + "camera.timestamp: must be a string");
  const std::string negative = kMinimal + "[rotation]\nrbv_stamp_lag = -0.001\n";
  CHECK(error_of(negative) == where(negative, "-0.001") + "rotation.rbv_stamp_lag: must be ≥ 0");
  const std::string text = kMinimal + "[rotation]\nrbv_stamp_lag = \"5 ms\"\n";
  CHECK(error_of(text) == where(text, "\"5 ms\"") + "rotation.rbv_stamp_lag: must be a number");
}

TEST_CASE("scan config: a file that cannot be read") {
  try {
    (void)scan::load_fly_scan_config("/nonexistent/scan.toml");
    FAIL("loaded");
  } catch (const scan::ConfigError& e) {
    CHECK(std::string(e.what()).starts_with("/nonexistent/scan.toml: cannot read: "));
  }
}

TEST_CASE(
    "scan config: any prefix of a complete file parses or is a ConfigError, never a crash "
    "or another exception") {
  std::ifstream in(std::string(PANDAFLY_TEST_DATA) + "/scan/full.toml");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  REQUIRE(text.size() > 1000);
  std::size_t accepted = 0, refused = 0;
  for (std::size_t n = 0; n <= text.size(); ++n) {
    try {
      (void)scan::parse_scan_config(std::string_view(text).substr(0, n), "full.toml");
      ++accepted;
    } catch (const scan::ConfigError& e) {
      ++refused;
      CHECK_MESSAGE(std::string(e.what()).starts_with("full.toml"), e.what());
    }
  }
  CHECK(accepted > 0);  // the whole file (and its prefixes ending in the metadata table's last key)
  CHECK(refused > 0);
}

TEST_CASE("scan config: [attributes] carries NDAttribute values only the beamline knows") {
  const auto c = scan::parse_scan_config(
      kMinimal + "[attributes]\nEnergy = 20.5\nBinX = 2\nDetectorManufacturer = \"FLIR\"\n",
      "s.toml");
  REQUIRE(c.attributes.size() == 3);  // by name, typed as written
  CHECK(c.attributes[0] == scan::NamedValue{"BinX", std::int64_t{2}});
  CHECK(c.attributes[1] == scan::NamedValue{"DetectorManufacturer", std::string("FLIR")});
  CHECK(c.attributes[2] == scan::NamedValue{"Energy", 20.5});
  CHECK(scan::parse_scan_config(kMinimal, "s.toml").attributes.empty());
  const std::string bad = kMinimal + "[attributes]\nEnergy = [1, 2]\n";
  CHECK(error_of(bad) == where(bad, "[1, 2]") + "attributes.Energy: must be a string or a number");
}
