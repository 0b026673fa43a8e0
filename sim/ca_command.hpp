#pragma once
// `pandafly-sim ca`: the Channel Access simulator serving the beamline's
// devices (motor records, the FLIR camera) on 127.0.0.1.
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace pandafly::sim {

struct CaArgs {
  std::uint16_t port = 5064;           // EPICS_CA_SERVER_PORT when set
  std::uint16_t repeater_port = 5065;  // EPICS_CA_REPEATER_PORT when set
  std::string config;                  // TOML beamline file; empty: the built-in one
  bool list = false;                   // print the PV names and exit
};

/// Adds the `ca` subcommand with its options (defaults from the environment).
CLI::App* add_ca_command(CLI::App& app, CaArgs& args);
/// Runs it until SIGINT/SIGTERM. Exit codes: 0 clean shutdown, 1 bad
/// configuration, 2 cannot listen.
int run_ca(const CaArgs& args);

}  // namespace pandafly::sim
