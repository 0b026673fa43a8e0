#include "ca_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "sim/ca/config.hpp"
#include "sim/ca/server.hpp"

namespace pandafly::sim {

namespace {

std::uint16_t port_from_env(const char* name, std::uint16_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n <= 0 || n > 65535) return fallback;
  return static_cast<std::uint16_t>(n);
}

}  // namespace

CLI::App* add_ca_command(CLI::App& app, CaArgs& args) {
  args.port = port_from_env("EPICS_CA_SERVER_PORT", args.port);
  args.repeater_port = port_from_env("EPICS_CA_REPEATER_PORT", args.repeater_port);
  auto* cmd = app.add_subcommand(
      "ca", "Channel Access server: motor records and the FLIR camera (TCP + UDP search)");
  cmd->add_option("--port", args.port,
                  "server port (TCP and UDP search); default EPICS_CA_SERVER_PORT or 5064")
      ->capture_default_str();
  cmd->add_option("--repeater-port", args.repeater_port,
                  "answer repeater registrations here; default EPICS_CA_REPEATER_PORT or 5065")
      ->capture_default_str();
  cmd->add_option("--config", args.config,
                  "beamline TOML (devices and prefixes; see sim/ca/beamline.toml); default: "
                  "the built-in micos:m1 stage and FLIR5 camera");
  cmd->add_flag("--list", args.list, "print the PV names served and exit");
  return cmd;
}

int run_ca(const CaArgs& args) {
  std::vector<std::shared_ptr<ca::Device>> devices;
  try {
    devices = ca::load_devices(
        args.config.empty() ? std::nullopt : std::optional<std::filesystem::path>(args.config));
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim ca: {}\n", e.what());
    return 1;
  }
  auto db = std::make_shared<ca::PvDatabase>();
  if (args.list) {
    for (auto& d : devices) d->publish(*db);
    for (const auto& name : db->names()) fmt::print("{}\n", name);
    return 0;
  }
  boost::asio::io_context io;
  std::unique_ptr<ca::CaServer> server;
  try {
    ca::CaServer::Options options;
    options.port = args.port;
    options.repeater_port = args.repeater_port;
    server = std::make_unique<ca::CaServer>(io, db, devices, options);
  } catch (const boost::system::system_error& e) {
    fmt::print(stderr, "pandafly-sim ca: cannot listen on 127.0.0.1 (port {}, repeater {}): {}\n",
               args.port, args.repeater_port, e.code().message());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim ca: {}\n", e.what());
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server->stop(); });
  fmt::print("pandafly-sim ca: 127.0.0.1:{} repeater 127.0.0.1:{}, {} PVs\n", server->port(),
             server->repeater_port(), db->size());
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace pandafly::sim
