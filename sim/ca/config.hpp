#pragma once
// The CA simulator's beamline: which motors and cameras it serves, from a
// TOML file (sim/ca/beamline.toml is the default, commented) or built in.
//
//   [[motor]]                      # one table per motor record
//   prefix = "micos:m1"            # required; every other key has a default
//   egu = "deg"
//   mres = 0.0001
//   velo = 10.0
//   accl = 0.5
//   high_switch = 370.0            # dial position of a limit switch (absent: none)
//   home = 0.0                     # dial position of the home switch
//   encoder = { counts_per_unit = 10000.0, offset_counts = 0.0, inenc = 1 }
//
//   [[camera]]
//   prefix = "FLIR5:"              # required; PVs <prefix><cam>..., <prefix><image>...
//   cam = "cam5:"
//   size_x = 2048
//   data_type = "UInt16"
//   ttlout = 1                     # the PandA TTLOUT wired to its trigger input
//   readout = [ { data_type = "UInt16", size_y = 1536, seconds = 0.0122 } ]
//   shutter = "shutter"            # the [[shutter]] whose closing makes darks
//   sample_motor = "sample_x"      # the [[motor]] whose moving out makes flats
//
//   [[shutter]]
//   prefix = "BEATS:shutter:"      # required; PVs <prefix><command>, <prefix><status>
//
//   [phantom]                      # the sample the camera sees (absent: built in)
//   pixel_mm = 0.0065              # detector pixel size at the sample
//   axis_offset_px = 0.0           # rotation axis column = (width - 1) / 2 + offset
//   [[phantom.ellipsoid]]          # any number; none: the built-in Shepp-Logan 3D
//   x = 1.5                        # centre, mm (sample frame; z up the rotation axis)
//   a = 0.5                        # semi-axes a, b, c (mm, required, > 0)
//   b = 0.5
//   c = 0.5
//   phi_deg = 0.0                  # rotation of a's axis about z
//   mu = 0.2                       # attenuation, 1/mm (required)
//
// sim/ca/beamline.toml lists every key with its default.
// Every problem is a ConfigError whose message starts with
// "<file>:<line>:<column>: <key>: " (TOML syntax errors included); unknown
// keys are errors, so a typo never silently falls back to a default.
//
// Example:
//   auto beamline = build_beamline(file ? load_config(*file) : default_config());
//   for (auto& device : beamline.devices()) device->publish(db);
//   fpga.set_motion(1, beamline.motors[0]->encoder_motion(10000.0, 0.0));
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ca/camera.hpp"
#include "sim/ca/device.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim/ca/shutter.hpp"
#include "sim/fault_plan.hpp"
#include "sim/physics/phantom.hpp"

namespace pandafly::sim::ca {

/// `[simulator]`: the joined beamline simulator's endpoints and clock
/// (`pandafly-sim beamline`; the `ca` subcommand ignores it). Command-line
/// options override each key.
struct SimulatorConfig {
  /// Absent: real time (the wall clock; a renderer that falls behind loses
  /// frames, reported as a simulator overrun). Set: a time scale, simulated
  /// seconds per wall second, and simulated time waits for the renderer.
  std::optional<double> speed;
  std::uint16_t panda_control_port = 8888;  // 0: any free port
  std::uint16_t panda_data_port = 8889;
  std::uint16_t ca_port = 5064;  // TCP + UDP search
  std::uint16_t ca_repeater_port = 5065;
  std::string zmq = "tcp://127.0.0.1:1234 PUB";  // the camera's NDZMQConfigure serverHost
  std::string panda_design;                      // a .sav loaded at start ("": none)
  friend bool operator==(const SimulatorConfig&, const SimulatorConfig&) = default;
};

/// [phantom]: what the simulated camera's frames show. The camera feed takes
/// it as FrameSourceOptions{.pixel_mm = pixel_mm, .phantom = phantom(),
/// .axis_offset_px = axis_offset_px}.
struct PhantomConfig {
  std::vector<physics::Ellipsoid> ellipsoids;  ///< empty: the built-in phantom
  double axis_offset_px = 0;                   ///< axis column - (width - 1) / 2, pixels
  double pixel_mm = 0.0065;                    ///< detector pixel size at the sample, mm
  /// The configured phantom; empty when there are no ellipsoids (the camera
  /// then fits Phantom::shepp_logan_3d to its detector, centred on the axis).
  [[nodiscard]] std::optional<physics::Phantom> phantom() const;
  friend bool operator==(const PhantomConfig&, const PhantomConfig&) = default;
};

struct BeamlineConfig {
  SimulatorConfig simulator;
  FaultPlan faults;  // [faults]: see sim/fault_plan.hpp
  std::vector<MotorConfig> motors;
  std::vector<CameraConfig> cameras;
  PhantomConfig phantom;
  std::vector<ShutterConfig> shutters;
  friend bool operator==(const BeamlineConfig&, const BeamlineConfig&) = default;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The built-in beamline (the same as sim/ca/beamline.toml): the micos:m1
/// rotation stage (deg, 10 000 encoder counts/deg on INENC1), the micos:m2
/// sample translation (mm), the FLIR5 camera (2048 x 1536 UInt16, triggered
/// by TTLOUT1) and the BEATS:shutter: shutter.
[[nodiscard]] BeamlineConfig default_config();
/// Parses TOML text; `source` names it in error messages. Throws ConfigError.
[[nodiscard]] BeamlineConfig parse_config(std::string_view text, std::string_view source);
/// Reads and parses a file. Throws ConfigError (also when it cannot be read).
[[nodiscard]] BeamlineConfig load_config(const std::filesystem::path& file);

/// The devices of a configuration, typed for the wiring.
struct Beamline {
  std::vector<std::shared_ptr<MotorRecord>> motors;
  std::vector<std::shared_ptr<Camera>> cameras;
  std::vector<std::shared_ptr<Shutter>> shutters;
  /// All of them: motors, cameras, shutters.
  [[nodiscard]] std::vector<std::shared_ptr<Device>> devices() const;
};
[[nodiscard]] Beamline build_beamline(const BeamlineConfig& config);
/// The devices of `file`, or of the built-in beamline when there is none.
[[nodiscard]] std::vector<std::shared_ptr<Device>> load_devices(
    const std::optional<std::filesystem::path>& file);

}  // namespace pandafly::sim::ca
