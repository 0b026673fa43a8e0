// pandafly-sim: the project's simulators as one program with a subcommand each.
//   pandafly-sim panda [--control-port P] [--data-port Q] [--command-log FILE]
//                      [--clock real-time|fast] [--design FILE] [--persist FILE]
//                      [--inenc1-velocity COUNTS_PER_S]
//   pandafly-sim ca [--port P] [--repeater-port R] [--config beamline.toml] [--list]
//                   [--zmq SERVERHOST]
//   pandafly-sim camera [--server-host S] [--size WxH] [--type T] [--rate HZ] [--frames N] ...
//   pandafly-sim beamline [--config beamline.toml] [--speed N] [--panda-control-port P] ...
// prints "pandafly-sim panda: control 127.0.0.1:P data 127.0.0.1:Q" once listening
// (real ports when 0 was asked for) and runs until SIGINT/SIGTERM/SIGHUP.
// Exit codes: 0 clean shutdown, 1 bad arguments or design file, 2 cannot listen,
// 3 the persistence file could not be written at shutdown.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "beamline_command.hpp"
#include "ca_command.hpp"
#include "camera_command.hpp"
#include "pandafly/util/signal_watch.hpp"
#include "sim/panda/design_file.hpp"
#include "sim/panda/fpga/motion.hpp"
#include "sim/panda/fpga_runner.hpp"
#include "sim/panda/server.hpp"
#include "sim/text_file.hpp"

namespace {

namespace sim = pandafly::sim;

struct PandaArgs {
  sim::PandaServer::Options server;
  std::string clock = "real-time";
  std::string design;
  std::string persist;
  double inenc1_velocity = 0;
};

sim::Status write_text(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return sim::Error{"cannot write " + tmp};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return sim::Error{"cannot rename " + tmp + " to " + path + ": " + std::strerror(errno)};
  return sim::Done{};
}

// Loads --design, then --persist (when it exists) into the model.
bool load_designs(sim::PandaModel& model, const PandaArgs& args) {
  for (const std::string* path : {&args.design, &args.persist}) {
    if (path->empty()) continue;
    auto text = sim::read_text(*path);
    if (!text) {
      if (path == &args.persist) continue;  // created at the first save
      fmt::print(stderr, "pandafly-sim panda: cannot read design file {}\n", *path);
      return false;
    }
    const sim::Status s = sim::load_design(model, *text);
    if (!s.ok()) {
      fmt::print(stderr, "pandafly-sim panda: {}: {}\n", *path, s.error());
      return false;
    }
  }
  return true;
}

int run_panda(const PandaArgs& args) {
  const auto& options = args.server;
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
  if (!load_designs(server->model(), args)) return 1;
  sim::PandaFpga fpga(io, *server,
                      {.clock = args.clock == "fast" ? sim::PandaFpga::Clock::fast
                                                     : sim::PandaFpga::Clock::real_time});
  if (args.inenc1_velocity != 0) {
    // A stand-in for the motor: from rest at 0, accelerating in 0.1 s, then on for ever.
    auto axis = std::make_shared<sim::fpga::TrapezoidMotion>(0.0);
    const double v = std::abs(args.inenc1_velocity);
    axis->move_to(0, std::copysign(1.9e9, args.inenc1_velocity), v, 10 * v);
    fpga.set_motion(1, axis);
  }
  if (!args.persist.empty()) {
    server->model().on_save_state = [&] {
      return write_text(args.persist, sim::save_design(server->model()));
    };
  }
  // SIGINT, SIGTERM, SIGHUP, once or repeated: stop on the io thread, then
  // write the persistence file below.
  pandafly::util::SignalWatch signals([&](int, int count) {
    if (count > 1) return;
    boost::asio::post(io, [&] {
      fpga.stop();
      server->stop();
    });
  });
  fmt::print("pandafly-sim panda: control 127.0.0.1:{} data 127.0.0.1:{}\n", server->control_port(),
             server->data_port());
  std::fflush(stdout);
  io.run();
  if (!args.persist.empty()) {
    const sim::Status saved = write_text(args.persist, sim::save_design(server->model()));
    if (!saved.ok()) {
      fmt::print(stderr, "pandafly-sim panda: {}\n", saved.error());
      return 3;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pandafly simulators (listen on 127.0.0.1 only)", "pandafly-sim"};
  app.require_subcommand(1);

  PandaArgs panda;
  auto* panda_cmd = app.add_subcommand("panda", "PandA control (8888) and data (8889) ports");
  panda_cmd
      ->add_option("--control-port", panda.server.control_port, "control port, 0 = any free port")
      ->capture_default_str();
  panda_cmd->add_option("--data-port", panda.server.data_port, "data port, 0 = any free port")
      ->capture_default_str();
  panda_cmd->add_option("--command-log", panda.server.command_log,
                        "append every received control line to this file");
  panda_cmd
      ->add_option("--clock", panda.clock,
                   "real-time: virtual time follows the wall clock; fast: as fast as the CPU "
                   "allows, paced only by data clients")
      ->check(CLI::IsMember({"real-time", "fast"}))
      ->capture_default_str();
  panda_cmd->add_option("--design", panda.design, "load this .sav design at start");
  panda_cmd->add_option("--persist", panda.persist,
                        "persistence file: loaded at start when it exists, written on "
                        "*SAVESTATE= and at shutdown");
  panda_cmd->add_option("--inenc1-velocity", panda.inenc1_velocity,
                        "INENC1 turns at this many counts/s from start (until the motor "
                        "simulator drives it)");

  sim::CaArgs ca;
  auto* ca_cmd = sim::add_ca_command(app, ca);

  sim::CameraArgs camera;
  auto* camera_cmd = sim::add_camera_command(app, camera);

  sim::BeamlineArgs beamline;
  auto* beamline_cmd = sim::add_beamline_command(app, beamline);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help: 0; every bad argument: 1, as documented above
  }
  if (panda_cmd->parsed()) return run_panda(panda);
  if (ca_cmd->parsed()) return sim::run_ca(ca);
  if (camera_cmd->parsed()) return sim::run_camera(camera);
  if (beamline_cmd->parsed()) return sim::run_beamline(beamline);
  return 1;
}
