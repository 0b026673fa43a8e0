// pandafly-sim: the project's simulators as one program with a subcommand each.
//   pandafly-sim panda [--control-port P] [--data-port Q] [--command-log FILE]
// prints "pandafly-sim panda: control 127.0.0.1:P data 127.0.0.1:Q" once listening
// (real ports when 0 was asked for) and runs until SIGINT/SIGTERM.
// Exit codes: 0 clean shutdown, 1 bad arguments, 2 cannot listen.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "sim/panda/server.hpp"

namespace {

int run_panda(const pandafly::sim::PandaServer::Options& options) {
  boost::asio::io_context io;
  std::unique_ptr<pandafly::sim::PandaServer> server;
  try {
    server = std::make_unique<pandafly::sim::PandaServer>(io, options);
  } catch (const boost::system::system_error& e) {
    fmt::print(stderr, "pandafly-sim panda: cannot listen on 127.0.0.1 (control {} data {}): {}\n",
               options.control_port, options.data_port, e.code().message());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim panda: {}\n", e.what());
    return 2;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server->stop(); });
  fmt::print("pandafly-sim panda: control 127.0.0.1:{} data 127.0.0.1:{}\n", server->control_port(),
             server->data_port());
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pandafly simulators (listen on 127.0.0.1 only)", "pandafly-sim"};
  app.require_subcommand(1);

  pandafly::sim::PandaServer::Options panda;
  auto* panda_cmd = app.add_subcommand("panda", "PandA control (8888) and data (8889) ports");
  panda_cmd->add_option("--control-port", panda.control_port, "control port, 0 = any free port")
      ->capture_default_str();
  panda_cmd->add_option("--data-port", panda.data_port, "data port, 0 = any free port")
      ->capture_default_str();
  panda_cmd->add_option("--command-log", panda.command_log,
                        "append every received control line to this file");

  CLI11_PARSE(app, argc, argv);
  if (panda_cmd->parsed()) return run_panda(panda);
  return 1;
}
