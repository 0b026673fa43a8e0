// The CA simulator's beamline configuration: the built-in default equals
// sim/ca/beamline.toml, a custom file, and errors that name the file, the
// line, the column and the key.
#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "sim/ca/config.hpp"
#include "temp_dir.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::ca;

namespace {

std::string error_of(std::string_view text) {
  try {
    (void)parse_config(text, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("config: [simulator] sets the joined simulator's endpoints and clock") {
  const BeamlineConfig c = parse_config(
      "[simulator]\nspeed = 10.0\npanda_control_port = 0\npanda_data_port = 0\n"
      "ca_port = 0\nca_repeater_port = 0\nzmq = \"tcp://127.0.0.1:0 PUB\"\n"
      "panda_design = \"panda/flyscan.sav\"\n",
      "test.toml");
  CHECK(c.simulator.speed == 10.0);
  CHECK(c.simulator.panda_control_port == 0);
  CHECK(c.simulator.panda_data_port == 0);
  CHECK(c.simulator.ca_port == 0);
  CHECK(c.simulator.ca_repeater_port == 0);
  CHECK(c.simulator.zmq == "tcp://127.0.0.1:0 PUB");
  CHECK(c.simulator.panda_design == "panda/flyscan.sav");
  CHECK(c.motors.empty());
  CHECK(parse_config("", "empty.toml").simulator == SimulatorConfig{});
}

TEST_CASE("config: [faults] holds the same plan as the --fault options") {
  const BeamlineConfig c = parse_config(
      "[faults]\ndrop_frame = [5]\nduplicate_frame = [7]\nswap_frames = [9]\n"
      "miss_trigger = [3]\nstall_camera = [{ frame = 10, seconds = 2.5 }]\n"
      "close_panda_data = 50\nmotor_stall = [{ position = 90.5 }]\n"
      "hard_limit = [{ motor = \"sample_x\", position = -12.0 }]\n"
      "ca_restart = [{ at = 4.0, downtime = 3.0 }]\n",
      "test.toml");
  pandafly::sim::FaultPlan expect;
  for (const char* spec : {"drop-frame=5", "duplicate-frame=7", "swap-frames=9", "miss-trigger=3",
                           "stall-camera=10:2.5", "close-panda-data=50", "motor-stall=90.5",
                           "hard-limit=sample_x:-12", "ca-restart=4:3"})
    pandafly::sim::add_fault(expect, spec);
  CHECK(c.faults == expect);
  CHECK(error_of("[faults]\ndrop_frame = 5\n") ==
        "test.toml:2:14: faults.drop_frame: must be an array, e.g. [5, 9]");
  CHECK(error_of("[faults]\ndrop_frame = [0]\n") ==
        "test.toml:2:15: faults.drop_frame[0]: must be in [1, 9223372036854775807], got 0");
  CHECK(error_of("[faults]\nstall_camera = [{ frame = 2 }]\n") ==
        "test.toml:2:17: faults.stall_camera[0]: missing key \"seconds\"");
  CHECK(error_of("[faults]\nstall_camera = [{ frame = 2, second = 1.0 }]\n") ==
        "test.toml:2:30: faults.stall_camera[0].second: unknown key");
  CHECK(error_of("[faults]\ndrop_frames = [1]\n") ==
        "test.toml:2:1: faults.drop_frames: unknown key");
}

TEST_CASE("config: the built-in beamline is the seed's and equals sim/ca/beamline.toml") {
  const BeamlineConfig builtin = default_config();
  REQUIRE(builtin.motors.size() == 2);  // rotation, sample translation
  REQUIRE(builtin.cameras.size() == 1);
  REQUIRE(builtin.shutters.size() == 1);
  CHECK(builtin.motors[1].name == "sample_x");
  CHECK(builtin.motors[1].prefix == "micos:m2");
  CHECK(builtin.cameras[0].sample_motor == "sample_x");
  CHECK(builtin.cameras[0].shutter == builtin.shutters[0].name);
  const MotorConfig& m = builtin.motors[0];
  CHECK(m.prefix == "micos:m1");
  CHECK(m.egu == "deg");
  CHECK(m.encoder.counts_per_unit == 10000.0);
  CHECK(m.encoder.inenc == 1);
  const CameraConfig& c = builtin.cameras[0];
  CHECK(c.prefix + c.cam == "FLIR5:cam5:");
  CHECK(c.size_x == 2048);
  CHECK(c.size_y == 1536);
  CHECK(c.data_type == CameraDataType::uint16);
  CHECK(c.ttlout == 1);
  CHECK(load_config(PANDAFLY_SOURCE_DIR "/sim/ca/beamline.toml") == builtin);
}

TEST_CASE("config: the default devices serve the beamline's PV names") {
  const auto devices = load_devices(std::nullopt);
  REQUIRE(devices.size() == 4);  // 2 motors, the camera, the shutter
  PvDatabase db;
  for (const auto& d : devices) d->publish(db);
  for (auto name : {"micos:m1.VAL",
                    "micos:m1.RBV",
                    "micos:m1.VELO",
                    "micos:m1.VMAX",
                    "micos:m1.ACCL",
                    "FLIR5:cam5:AcquireTime",
                    "FLIR5:cam5:NumImages",
                    "FLIR5:cam5:ImageMode",
                    "FLIR5:cam5:Acquire",
                    "FLIR5:cam5:AcquireBusy",
                    "FLIR5:cam5:ArrayCounter_RBV",
                    "FLIR5:cam5:ArraySizeX_RBV",
                    "FLIR5:cam5:ArraySize_RBV",
                    "FLIR5:cam5:TriggerMode",
                    "FLIR5:cam5:TriggerSource",
                    "FLIR5:cam5:TriggerSoftware",
                    "FLIR5:cam5:GC_AcqResFrameRate_RBV",
                    "FLIR5:image1:EnableCallbacks",
                    "FLIR5:image1:ArrayCallbacks",
                    "FLIR5:image1:ArrayData",
                    "FLIR5:ZMQ1:ArrayCallbacks",
                    "FLIR5:ZMQ1:EnableCallbacks",
                    "FLIR5:FrameType",
                    "micos:m2.VAL",
                    "BEATS:shutter:Cmd",
                    "BEATS:shutter:Status"}) {
    CAPTURE(name);
    CHECK(db.find(name) != nullptr);
  }
  CHECK(db.find("micos:m1")->name() == "micos:m1.VAL");
  const auto data = db.find("FLIR5:image1:ArrayData");
  CHECK(data->native_type() == DbrType::long_);
  CHECK(data->max_count() == 2048u * 1536u);
  CHECK(std::get<Longs>(db.find("FLIR5:cam5:ArraySize_RBV")->value())[0] == 2048 * 1536 * 2);
}

TEST_CASE("config: a custom file") {
  pandafly::test::TempDir dir("sim_ca_config");
  const auto file = dir.path / "bench.toml";
  std::ofstream(file) << R"(# a test bench
[[motor]]
name = "x"
prefix = "bench:m1"
egu = "mm"
mres = 0.001
velo = 2      # integers are numbers too
dhlm = 50.0
dllm = -50.0
high_switch = 55.0
low_switch = -55.0
home = -55.0
dir = "Neg"
encoder = { counts_per_unit = 1000.0, inenc = 2 }

[[motor]]
prefix = "bench:m2"

[[camera]]
prefix = "CAM:"
cam = "cam1:"
size_x = 640
size_y = 480
data_type = "Int16"
acquire_time = 0.02
)";
  const BeamlineConfig config = load_config(file);
  REQUIRE(config.motors.size() == 2);
  const MotorConfig& x = config.motors[0];
  CHECK(x.name == "x");
  CHECK(x.egu == "mm");
  CHECK(x.mres == 0.001);
  CHECK(x.velo == 2.0);
  CHECK(x.high_switch == 55.0);
  CHECK(x.low_switch == -55.0);
  CHECK(x.home == -55.0);
  CHECK(x.dir_negative);
  CHECK(x.encoder.counts_per_unit == 1000.0);
  CHECK(x.encoder.inenc == 2);
  CHECK(config.motors[1].name == "bench:m2");  // defaults to the prefix
  CHECK(!config.motors[1].high_switch);
  REQUIRE(config.cameras.size() == 1);
  CHECK(config.cameras[0].name == "CAM:cam1:");
  CHECK(config.cameras[0].data_type == CameraDataType::int16);
  CHECK(config.cameras[0].acquire_time == 0.02);
  CHECK(config.cameras[0].acquire_period == 0.1);

  const Beamline beamline = build_beamline(config);
  REQUIRE(beamline.motors.size() == 2);
  REQUIRE(beamline.devices().size() == 3);
  PvDatabase db;
  for (const auto& d : beamline.devices()) d->publish(db);
  CHECK(std::get<Doubles>(db.find("bench:m1.HLM")->value())[0] == 50.0);  // -DLLM, DIR Neg
  CHECK(db.find("CAM:image1:ArrayData")->native_type() == DbrType::short_);
  CHECK(db.find("bench:m2.EGU") != nullptr);
}

TEST_CASE("config: errors name the file, line, column and key") {
  CHECK(error_of("[[motor]]\nprefix = \"a\"\nmres = 0\n") ==
        "test.toml:3:8: motor[0].mres: must not be 0");
  CHECK(error_of("[[motor]]\nprefix = \"a\"\nvelo = \"fast\"\n") ==
        "test.toml:3:8: motor[0].velo: must be a number");
  CHECK(error_of("[[motor]]\nprefix = \"a\"\n\nvelocity = 3\n") ==
        "test.toml:4:1: motor[0].velocity: unknown key");
  CHECK(error_of("[[motor]]\nprefix = \"a\"\n[[motor]]\negu = \"mm\"\n") ==
        "test.toml:3:1: motor[1]: missing key \"prefix\"");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\ndata_type = \"UInt12\"\n") ==
        "test.toml:3:13: camera[0].data_type: must be one of Int8 UInt8 Int16 UInt16 Int32 "
        "UInt32 Float32 Float64");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nsize_x = 0\n") ==
        "test.toml:3:10: camera[0].size_x: must be in [1, 65536], got 0");
  CHECK(error_of("[[motor]]\nprefix = \"a\"\nencoder = { inenc = 9 }\n")
            .starts_with("test.toml:3:21: motor[0].encoder.inenc: must be in [0, 4]"));
  CHECK(error_of("[[motor]]\nprefix = \"a\"\ndhlm = -1.0\ndllm = 1.0\n") ==
        "test.toml:1:1: motor[0]: dllm must be below dhlm (or both 0: no limits)");
  CHECK(error_of("[[motor]]\nprefix = \"a\"\n[[motor]]\nprefix = \"a\"\n") ==
        "test.toml:3:1: motor[1]: name \"a\" used twice");
  CHECK(
      error_of("[motor]\nprefix = \"a\"\n").starts_with("test.toml:1:1: motor: must be an array"));
  CHECK(error_of("speed = 3\n") ==
        "test.toml:1:1: speed: unknown key (expected [simulator], [faults], [phantom], [[motor]], "
        "[[camera]] or [[shutter]] tables)");
  CHECK(error_of("[simulator]\nspeed = 0\n") ==
        "test.toml:2:9: simulator.speed: must be > 0, got 0");
  CHECK(error_of("[simulator]\nca_port = 70000\n") ==
        "test.toml:2:11: simulator.ca_port: must be in [0, 65535], got 70000");
  CHECK(error_of("[simulator]\nspeeed = 2.0\n") == "test.toml:2:1: simulator.speeed: unknown key");
  CHECK(error_of("simulator = 1\n") == "test.toml:1:13: simulator: must be a table ([simulator])");
  CHECK(error_of("[[motor]]\nprefix = \"a b\"\n") ==
        "test.toml:2:10: motor[0].prefix: must be a non-empty name without spaces");
  const std::string syntax = error_of("[[motor]]\nprefix = \"a\"\nvelo = = 3\n");
  CHECK(syntax.starts_with("test.toml:3:"));
  CHECK(syntax.find("syntax error") != std::string::npos);
  CHECK(error_of("") == "(no error)");  // an empty beamline is allowed

  try {
    (void)load_config("/nonexistent/beamline.toml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).starts_with("/nonexistent/beamline.toml: cannot read: "));
  }
}

TEST_CASE("config: a shutter, the camera's readout table and beamline-state keys") {
  const BeamlineConfig config = parse_config(R"([[motor]]
name = "sx"
prefix = "b:m2"
egu = "mm"

[[shutter]]
name = "fe"
prefix = "FE:"
command = "OpenCmd"
status = "OpenStatus"
open_time = 0.25
close_time = 0
initial = "Open"

[[camera]]
prefix = "CAM:"
readout_time = 0.01
readout = [ { data_type = "UInt8", size_y = 512, seconds = 0.002 },
            { data_type = "UInt16", size_y = 1024, seconds = 0.004 } ]
frame_type_pv = "TS:FrameType"
shutter = "fe"
sample_motor = "sx"
sample_in = 2.5
sample_out_threshold = 0.5
)",
                                             "test.toml");
  REQUIRE(config.shutters.size() == 1);
  const ShutterConfig& s = config.shutters[0];
  CHECK(s.name == "fe");
  CHECK(s.prefix + s.command == "FE:OpenCmd");
  CHECK(s.prefix + s.status == "FE:OpenStatus");
  CHECK(s.open_time == 0.25);
  CHECK(s.close_time == 0);
  CHECK(s.open);
  const CameraConfig& c = config.cameras.at(0);
  CHECK(c.readout_time == 0.01);
  CHECK(c.readout == std::vector<ReadoutEntry>{{CameraDataType::uint8, 512, 0.002},
                                               {CameraDataType::uint16, 1024, 0.004}});
  CHECK(c.frame_type_pv == "TS:FrameType");
  CHECK(c.shutter == "fe");
  CHECK(c.sample_motor == "sx");
  CHECK(c.sample_in == 2.5);
  CHECK(c.sample_out_threshold == 0.5);
  const Beamline beamline = build_beamline(config);
  REQUIRE(beamline.shutters.size() == 1);
  PvDatabase db;
  for (const auto& d : beamline.devices()) d->publish(db);
  CHECK(db.find("FE:OpenCmd") != nullptr);
  CHECK(db.find("TS:FrameType") != nullptr);
}

TEST_CASE("config: errors in the shutter and camera-state keys name file, line, column, key") {
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nreadout = [ { data_type = \"UInt16\", size_y = "
                 "4 } ]\n") ==
        "test.toml:3:13: camera[0].readout[0]: needs data_type, size_y "
        "and seconds");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nreadout = [ { data_type = \"UInt16\", size_y = "
                 "4, seconds = -1 } ]\n") ==
        "test.toml:3:59: camera[0].readout[0].seconds: must be >= 0, got -1");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nreadout = [ { rows = 4 } ]\n") ==
        "test.toml:3:15: camera[0].readout[0].rows: unknown key");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nshutter = \"fe\"\n") ==
        "test.toml:3:11: camera[0].shutter: no [[shutter]] named \"fe\"");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nsample_motor = \"sx\"\n") ==
        "test.toml:3:16: camera[0].sample_motor: no [[motor]] named \"sx\"");
  CHECK(error_of("[[camera]]\nprefix = \"C:\"\nsample_out_threshold = 0\n") ==
        "test.toml:3:24: camera[0].sample_out_threshold: must be > 0, got 0");
  CHECK(error_of("[[shutter]]\nprefix = \"S:\"\ninitial = \"ajar\"\n") ==
        "test.toml:3:11: shutter[0].initial: must be \"Open\" or \"Closed\"");
  CHECK(error_of("[[shutter]]\nprefix = \"S:\"\nspeed = 1\n") ==
        "test.toml:3:1: shutter[0].speed: unknown key");
  CHECK(error_of("[[shutter]]\nname = \"x\"\n") ==
        "test.toml:1:1: shutter[0]: missing key "
        "\"prefix\"");
  CHECK(error_of("[[shutter]]\nprefix = \"S:\"\nopen_time = -0.5\n") ==
        "test.toml:3:13: shutter[0].open_time: must be >= 0, got -0.5");
}
