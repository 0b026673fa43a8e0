#pragma once
// `pandafly-sim beamline`: the whole simulated beamline in one process on
// 127.0.0.1 — the PandA (control and data ports, its FPGA), the Channel Access
// server (motor records, the camera), and the camera's ZMQ plugin — on one
// simulated clock. The rotation motor turns the PandA's encoder; the PandA's
// TTL output triggers the camera; the camera's frames show the phantom at the
// stage's angle.
//
// Threading: one io_context thread runs the PandA server, its FPGA and the
// CA server, so the FPGA never runs ahead of the motor's planning (both read
// the one SimClock, which only moves forward); the camera's publisher thread
// renders and sends frames.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace pandafly::sim {

struct BeamlineArgs {
  std::string config;  // TOML beamline file; empty: the built-in one
  // Overrides of the file's [simulator] section (unset: the file's value).
  std::optional<double> speed;
  std::optional<std::uint16_t> panda_control_port, panda_data_port, ca_port, ca_repeater_port;
  std::optional<std::string> zmq;
  std::optional<std::string> panda_design;
  std::vector<std::string> faults;  // --fault KIND=VALUE, added to the file's [faults]
  std::string truth_log;            // tests: the true stage angle of every exposure (JSON lines)
  std::string truth_slice;          ///< the phantom's slice at the camera's middle row (float32)
};

/// Adds the `beamline` subcommand with its options.
CLI::App* add_beamline_command(CLI::App& app, BeamlineArgs& args);
/// Runs it until SIGINT/SIGTERM/SIGHUP. Exit codes: 0 clean shutdown, 1 bad
/// configuration or design file, 2 cannot listen (PandA, CA or ZMQ).
int run_beamline(const BeamlineArgs& args);

}  // namespace pandafly::sim
