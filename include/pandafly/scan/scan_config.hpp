#pragma once
// ScanConfig: a fly scan's TOML scan file (tools/examples/flyscan.toml is a
// complete one for `pandafly-sim beamline`), parsed into values. Sans-IO: the
// text comes in as a string; load_fly_scan_config() (pandafly_scan_io) reads
// the file and calls parse_scan_config(). Any thread.
//
// Rules
//   - Tables: [panda] [rotation] [camera] (+ [[camera.readout]] rows) [scan]
//     [darks] [flats] [shutter] [output] [metadata] [attributes]. Every key but those named
//     "required" has the default shown in the struct below, chosen for
//     `pandafly-sim beamline` with sim/ca/beamline.toml. Required: panda.design
//     (fly scans),
//     scan.start, scan.end, scan.exposure, one of scan.projections /
//     scan.step, output.file, flats.sample_out when flats are taken, and the
//     [metadata] table (read by dx::parse_metadata, the same reader
//     `pandafly-dx record --metadata` uses; its rules in dx/metadata.hpp).
//   - Unknown tables and keys, wrong types and out-of-range values are errors:
//     a typo never silently becomes a default. Every error is a ConfigError
//     whose message starts "<source>:<line>:<column>: <table>.<key>: " (the
//     position of the offending value or key; for a missing key, the position
//     of its table's header; a missing table has no position:
//     "<source>: <table>.<key>: missing …").
//   - Numbers: a float key takes an integer too (start = 0); an integer key
//     takes only integers.
//   - Strings: PV names, hosts and values are never "" (left out, the
//     default stays); "" is meaningful only for camera.cam/image/zmq_plugin
//     (no such part), camera.frame_type_pv (no FrameType record),
//     camera.model (the table is not checked against a model) and
//     output.layout (the shipped one).
//   - scan: end is inclusive. With `projections` (≥ 2): step = (end − start) /
//     (projections − 1). With `step`: projections = round((end − start)/step) + 1,
//     the step's sign must be the direction from start to end, and the last
//     angle is start + (projections − 1)·step (which may differ from `end` by
//     less than half a step). Both given is an error.
//   - Paths: panda.design and output.layout, when relative, are relative to
//     the scan file's folder (the folder part of `source`); output.file is
//     kept as written (relative to the working directory of the command).
//     output.layout empty = the shipped layouts/dxfile_fly.xml, found by the
//     tool as `pandafly-dx` finds its layouts.
//   - darks/flats: `count` frames at each `when` ("before", "after", "both",
//     "none"); count 0 or "none" = none taken. flats.sample_out must differ
//     from flats.sample_in when both are given.
//   - camera.readout rows are kept as tomoscan keeps its camera table: the
//     readout of the camera's DataType with the smallest size_y ≥ its SizeY
//     wins, else camera.readout_time (the lookup is in plan.hpp).
//
// Example:
//   const scan::ScanConfig c = scan::parse_scan_config(text, "scans/a.toml");
//   auto r = scan::plan_fly(c, motor_facts, camera_facts);   // plan.hpp
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pandafly/capture/frame_timing.hpp"
#include "pandafly/dx/metadata.hpp"

namespace pandafly::scan {

/// Which scan a scan file is read for (and a sequence runs): fly (the PandA
/// triggers at encoder positions), step (software: move, trigger, frame) or
/// cont (software-synchronised continuous: the camera free-runs while the
/// stage moves at constant speed; angles from time-stamped RBV updates).
enum class ScanKind { fly, step, cont };

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PandaConfig {
  std::string host = "127.0.0.1";
  std::uint16_t control_port = 8888;
  std::uint16_t data_port = 8889;
  std::string design;      ///< required: the .sav design, resolved (see Rules: Paths)
  double timeout_s = 5.0;  ///< `timeout`: per request / connection, seconds (> 0)
};

struct RotationConfig {
  std::string motor = "micos:m1";          ///< motor record PV prefix (no field)
  std::string encoder = "INENC1";          ///< the PandA encoder block that follows the stage
  double counts_per_degree = 10000;        ///< > 0: counts = degrees·this + offset
  std::int64_t encoder_offset_counts = 0;  ///< counts at 0 degrees (user)
  /// The encoder is the motor's own (counts = the motor's steps, or its
  /// encoder steps ERES when the record has one): the plan then checks
  /// counts_per_degree against 1/ERES (or 1/MRES) and the motor's DIR.
  bool encoder_is_motor = true;
  /// `rbv_stamp_lag` (continuous scans): a bound on how long before its
  /// EPICS time stamp an RBV update's position was read (the controller
  /// round trip and record processing: a few ms on a real IOC, 0 in
  /// pandafly-sim), seconds, ≥ 0; capture::AngleTrackConfig::stamp_lag.
  double rbv_stamp_lag_s = 0;
};

/// One row of the camera's readout table (camera.readout).
struct ReadoutEntry {
  std::string data_type;  ///< an NDDataType name: Int8 UInt8 Int16 UInt16 Int32 UInt32 Int64 UInt64
                          ///< Float32 Float64
  std::int64_t size_y = 0;    ///< > 0: rows read out
  double readout_time_s = 0;  ///< ≥ 0, seconds from the exposure's end to the frame
  friend bool operator==(const ReadoutEntry&, const ReadoutEntry&) = default;
};

enum class FrameSource { zmq, ca };
/// How a step scan makes each frame: "software" (TriggerMode On,
/// TriggerSource Software, ImageMode Multiple, one TriggerSoftware per frame)
/// or "single" (TriggerMode Off, ImageMode Single, one Acquire per frame).
enum class StepTrigger { software, single };

struct CameraConfig {
  std::string prefix = "FLIR5:";
  std::string cam = "cam5:";
  std::string image = "image1:";
  std::string zmq_plugin = "ZMQ1:";
  /// Where the frames come from: "zmq" (the ZMQ plugin, `zmq`) or "ca" (the
  /// standard-arrays plugin `image` over Channel Access: step scans only).
  FrameSource frames = FrameSource::zmq;
  StepTrigger step_trigger = StepTrigger::software;  ///< step scans only
  std::string zmq = "tcp://127.0.0.1:1234 PUB";      ///< the ZMQ plugin's serverHost
  std::string ioc_host = "127.0.0.1";  ///< where to connect when `zmq` binds a wildcard (*)
  /// TriggerSource for the PandA's TTL; tomoscan uses Line2 on an Oryx; the
  /// beamline simulator takes any Line0..Line3 as the external input.
  std::string trigger_source = "Line2";
  std::string frame_type_pv = "FLIR5:FrameType";  ///< tomoscan's FrameType record
  std::string model;                ///< the model the readout table is for ("": not checked)
  double readout_margin_s = 0.001;  ///< added to exposure + readout (≥ 0)
  double readout_time_s = 0.01234;  ///< when no readout row fits (≥ 0)
  std::vector<ReadoutEntry> readout;
  /// `timestamp` (continuous scans): what instant a frame's time stamp marks
  /// — "readout_end" (ADSpinnaker with TimeStampMode EPICS, pandafly-sim),
  /// "exposure_end" or "exposure_start" (capture/frame_timing.hpp).
  capture::StampMeaning timestamp = capture::StampMeaning::readout_end;
};

enum class When { none, before, after, both };

struct ScanRange {
  double start_deg = 0;
  double end_deg = 0;             ///< inclusive (see Rules)
  std::uint64_t projections = 0;  ///< ≥ 2, always filled
  double step_deg = 0;            ///< signed, always filled
  double exposure_s = 0;          ///< > 0
  bool return_to_start = true;
  double settle_s = 0;  ///< wait at the run-up start before moving through (≥ 0)
};

struct DarksConfig {
  std::uint64_t count = 0;
  When when = When::before;
};

struct FlatsConfig {
  std::uint64_t count = 0;
  When when = When::both;
  std::string sample_motor = "micos:m2";
  double sample_out = 0;  ///< required when flats are taken
  /// Where the sample goes back to; not set: where it was before the scan.
  bool has_sample_in = false;
  double sample_in = 0;
};

struct ShutterConfig {
  /// "": no shutter (then no darks can be taken: the plan refuses them).
  std::string command = "BEATS:shutter:Cmd";
  std::string status = "BEATS:shutter:Status";
  std::string open = "Open";    ///< value written to `command` to open
  std::string close = "Close";  ///< value written to `command` to close
};

enum class Compression { none, gzip, lz4, bitshuffle_lz4 };

struct OutputConfig {
  std::string file;    ///< required, as written
  std::string layout;  ///< "" = the shipped dxfile_fly.xml; else resolved (Rules: Paths)
  bool overwrite = false;
  Compression compression = Compression::none;  ///< "none" "gzip" "lz4" "bitshuffle-lz4"
};

/// One [attributes] entry: an NDAttribute value only the beamline knows.
struct NamedValue {
  std::string name;
  std::variant<std::int64_t, double, std::string> value;
  friend bool operator==(const NamedValue&, const NamedValue&) = default;
};

struct ScanConfig {
  std::string source;  ///< the name the text was parsed under (the file's path)
  PandaConfig panda;
  RotationConfig rotation;
  CameraConfig camera;
  ScanRange scan;
  DarksConfig darks;
  FlatsConfig flats;
  ShutterConfig shutter;
  OutputConfig output;
  dx::ScanMetadata metadata;
  /// [attributes]: values of the layout's OnFileOpen NDAttributes that only
  /// the beamline knows (Energy, DetectorPixelSize, CameraDistance, BinX, …),
  /// written into the DXfile as an IOC's NDAttributes would be. Values the
  /// scan measures or plans itself (ExposureTime, RotationStart, …) win.
  std::vector<NamedValue> attributes;
};

/// Parses a scan file's text; `source` names it in messages and is the base
/// of relative paths. Throws ConfigError (rules above).
/// `kind` step: [panda] may be left out or lack its design (a step scan does
/// not use the PandA; a file written for both kinds still reads).
[[nodiscard]] ScanConfig parse_scan_config(std::string_view text, std::string_view source,
                                           ScanKind kind = ScanKind::fly);

/// How many of `count` frames are taken before / after the projections.
[[nodiscard]] std::uint64_t frames_before(std::uint64_t count, When when);
[[nodiscard]] std::uint64_t frames_after(std::uint64_t count, When when);

[[nodiscard]] std::string_view to_string(When when);
[[nodiscard]] std::string_view to_string(Compression c);

}  // namespace pandafly::scan
