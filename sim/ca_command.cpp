#include "ca_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "pandafly/util/signal_watch.hpp"
#include "sim/ca/config.hpp"
#include "sim/ca/server.hpp"
#include "sim/camera/ca_camera_feed.hpp"

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
                  "the built-in micos:m1 stage, micos:m2 sample translation, FLIR5 camera and "
                  "BEATS:shutter: shutter");
  cmd->add_flag("--list", args.list, "print the PV names served and exit");
  cmd->add_option("--zmq", args.zmq,
                  "publish the first camera's frames as its ZMQ plugin would (ADZMQ), with this "
                  "NDZMQConfigure serverHost, e.g. 'tcp://*:1234' (PUB; '*' binds 127.0.0.1 "
                  "only). Frames: the phantom at the rotation motor's true angle at mid-exposure "
                  "(darks while the camera's shutter is not fully open, flats while its sample "
                  "motor is out); attributes HDF5FrameLocation (from the FrameType PV) and "
                  "theta_readout (the motor's RBV as posted); size and type from "
                  "SizeX/SizeY/DataType");
  return cmd;
}

namespace {

/// The beamline of --config, or the built-in one; nullopt (message printed) on error.
std::optional<ca::Beamline> load_beamline(const CaArgs& args) {
  try {
    return ca::build_beamline(args.config.empty() ? ca::default_config()
                                                  : ca::load_config(args.config));
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim ca: {}\n", e.what());
    return std::nullopt;
  }
}

/// The camera's ZMQ plugin; time stamps from the server's simulation clock.
std::unique_ptr<camera::CaCameraFeed> make_feed(const CaArgs& args, const ca::Beamline& beamline,
                                                const ca::CaServer& server) {
  const auto& cam = beamline.cameras.front();
  auto options = camera::feed_options(beamline, *cam, args.zmq, server.clock());
  return std::make_unique<camera::CaCameraFeed>(cam, camera::rotation_motor(beamline),
                                                std::move(options));
}

}  // namespace

int run_ca(const CaArgs& args) {
  std::optional<ca::Beamline> beamline = load_beamline(args);
  if (!beamline) return 1;
  if (!args.zmq.empty()) {
    if (beamline->cameras.empty()) {
      fmt::print(stderr, "pandafly-sim ca: --zmq: the beamline has no camera\n");
      return 1;
    }
    try {
      (void)camera::sender_socket_for(args.zmq);
    } catch (const std::invalid_argument& e) {
      fmt::print(stderr, "pandafly-sim ca: --zmq: {}\n", e.what());
      return 1;
    }
  }
  auto db = std::make_shared<ca::PvDatabase>();
  if (args.list) {
    for (auto& d : beamline->devices()) d->publish(*db);
    for (const auto& name : db->names()) fmt::print("{}\n", name);
    return 0;
  }
  boost::asio::io_context io;
  std::unique_ptr<ca::CaServer> server;
  try {
    ca::CaServer::Options options;
    options.port = args.port;
    options.repeater_port = args.repeater_port;
    server = std::make_unique<ca::CaServer>(io, db, beamline->devices(), options);
  } catch (const boost::system::system_error& e) {
    fmt::print(stderr, "pandafly-sim ca: cannot listen on 127.0.0.1 (port {}, repeater {}): {}\n",
               args.port, args.repeater_port, e.code().message());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim ca: {}\n", e.what());
    return 1;
  }
  // Destroyed before the server and the devices: it unhooks the camera, then
  // stops its publisher thread (io.run() has returned by then).
  std::unique_ptr<camera::CaCameraFeed> feed;
  try {
    if (!args.zmq.empty()) feed = make_feed(args, *beamline, *server);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim ca: --zmq: {}\n", e.what());
    return 2;
  }
  // SIGINT, SIGTERM, SIGHUP, once or repeated: the server stops on the io thread.
  util::SignalWatch signals([&](int, int count) {
    if (count == 1) boost::asio::post(io, [&] { server->stop(); });
  });
  fmt::print("pandafly-sim ca: 127.0.0.1:{} repeater 127.0.0.1:{}, {} PVs", server->port(),
             server->repeater_port(), db->size());
  if (feed) {
    const auto& s = feed->publisher().socket();
    fmt::print(", ZMQ {} {} {}", s.pattern == camera::SocketPattern::pub ? "PUB" : "PUSH",
               s.bind ? "bind" : "connect", feed->publisher().endpoint());
  }
  fmt::print("\n");
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace pandafly::sim
