#pragma once
// `pandafly-sim camera`: a free-running simulated camera publishing ADZMQ
// frames (projections of a 3D phantom on a turning stage, after optional
// darks and flats) on 127.0.0.1, as NDPluginZMQ would.
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace pandafly::sim {

struct CameraArgs {
  std::string server_host = "tcp://127.0.0.1:1234 PUB";
  std::string size = "2048x1536";  // WxH
  std::string type = "uint16";
  double rate = 10;          // frames per second
  std::uint64_t frames = 0;  // projections; 0 = until SIGINT/SIGTERM/SIGHUP
  double speed = 1.8;        // deg/s
  double start = 0;          // deg
  std::size_t darks = 0;
  std::size_t flats = 0;
  bool noise = true;
  std::uint64_t seed = 0;
  bool legacy_header = false;
  bool lossless = false;  ///< back-pressure instead of drops (tests)
  double pixel_mm = 0.0065;
  std::string truth_slice;  // write the phantom's mu at the middle row here (raw float32)
};

/// Adds the `camera` subcommand with its options.
CLI::App* add_camera_command(CLI::App& app, CameraArgs& args);
/// Runs it until the last frame is sent or SIGINT/SIGTERM/SIGHUP. Exit codes: 0 done,
/// 1 bad arguments, 2 the socket cannot bind/connect.
int run_camera(const CameraArgs& args);

}  // namespace pandafly::sim
