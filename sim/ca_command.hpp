#pragma once
// `pandafly-sim ca`: the Channel Access simulator serving the beamline's
// devices (motor records, the FLIR camera) on 127.0.0.1; with --zmq, the
// camera's ZMQ plugin publishes every frame (a projection of the phantom at the
// rotation motor's angle at the exposure's start) as ADZMQ messages.
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace pandafly::sim {

struct CaArgs {
  std::uint16_t port = 5064;           // EPICS_CA_SERVER_PORT when set
  std::uint16_t repeater_port = 5065;  // EPICS_CA_REPEATER_PORT when set
  std::string config;                  // TOML beamline file; empty: the built-in one
  bool list = false;                   // print the PV names and exit
  std::string zmq;                     // the camera's ZMQ serverHost; empty: no publisher
};

/// Adds the `ca` subcommand with its options (defaults from the environment).
CLI::App* add_ca_command(CLI::App& app, CaArgs& args);
/// Runs it until SIGINT/SIGTERM/SIGHUP. Exit codes: 0 clean shutdown, 1 bad
/// configuration or --zmq serverHost, 2 cannot listen (CA or ZMQ).
int run_ca(const CaArgs& args);

}  // namespace pandafly::sim
