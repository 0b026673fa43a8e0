#include "beamline_command.hpp"

#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "pandafly/util/signal_watch.hpp"
#include "sim/ca/config.hpp"
#include "sim/ca/server.hpp"
#include "sim/camera/ca_camera_feed.hpp"
#include "sim/panda/design_file.hpp"
#include "sim/panda/fpga_runner.hpp"
#include "sim/panda/server.hpp"
#include "sim/sim_clock.hpp"
#include "sim/text_file.hpp"

namespace pandafly::sim {

namespace {

constexpr const char* kName = "pandafly-sim beamline";

/// The configuration with the command line's overrides; throws ca::ConfigError.
ca::BeamlineConfig load(const BeamlineArgs& a) {
  ca::BeamlineConfig c = a.config.empty() ? ca::default_config() : ca::load_config(a.config);
  auto& s = c.simulator;
  if (a.speed) {
    if (!(*a.speed > 0 && *a.speed <= 1e6))
      throw ca::ConfigError(fmt::format("--speed {}: expected 0 < N <= 1e6", *a.speed));
    s.speed = *a.speed;
  }
  if (a.panda_control_port) s.panda_control_port = *a.panda_control_port;
  if (a.panda_data_port) s.panda_data_port = *a.panda_data_port;
  if (a.ca_port) s.ca_port = *a.ca_port;
  if (a.ca_repeater_port) s.ca_repeater_port = *a.ca_repeater_port;
  if (a.zmq) s.zmq = *a.zmq;
  if (a.panda_design) s.panda_design = *a.panda_design;
  return c;
}

bool load_design(PandaModel& model, const std::string& path) {
  if (path.empty()) return true;
  const auto text = read_text(path);
  if (!text) {
    fmt::print(stderr, "{}: cannot read design file {}\n", kName, path);
    return false;
  }
  const Status s = sim::load_design(model, *text);
  if (!s.ok()) fmt::print(stderr, "{}: {}: {}\n", kName, path, s.error());
  return s.ok();
}

/// The wiring between the devices: every motor with an encoder drives its
/// INENC (and again whenever its motion is re-planned); every rising edge of
/// a camera's TTLOUT triggers it.
void wire(PandaFpga& fpga, const ca::Beamline& beamline) {
  for (const auto& motor : beamline.motors) {
    const auto& e = motor->config().encoder;
    if (e.inenc == 0) continue;
    const auto inenc = static_cast<std::size_t>(e.inenc);
    auto encoder = motor->encoder_motion(e.counts_per_unit, e.offset_counts);
    fpga.set_motion(inenc, encoder);
    motor->on_motion_change([&fpga, inenc, encoder](Tick) { fpga.set_motion(inenc, encoder); });
  }
  std::vector<std::shared_ptr<ca::Camera>> triggered;
  for (const auto& camera : beamline.cameras)
    if (camera->config().ttlout > 0) triggered.push_back(camera);
  if (triggered.empty()) return;
  fpga.on_ttl_out([triggered](std::size_t ttlout, bool level, Tick at) {
    if (!level) return;
    for (const auto& camera : triggered)
      if (static_cast<std::size_t>(camera->config().ttlout) == ttlout) camera->external_trigger(at);
  });
}

std::unique_ptr<camera::CaCameraFeed> make_feed(const ca::BeamlineConfig& config,
                                                const ca::Beamline& beamline,
                                                const std::shared_ptr<SimClock>& clock) {
  if (beamline.cameras.empty() || config.simulator.zmq.empty()) return nullptr;
  const auto& cam = beamline.cameras.front();
  camera::CaCameraFeed::Options options;
  options.publisher.server_host = config.simulator.zmq;
  options.publisher.format = camera::FrameFormat{static_cast<std::size_t>(cam->config().size_x),
                                                 static_cast<std::size_t>(cam->config().size_y),
                                                 camera::data_type_of(cam->config().data_type)};
  options.epics_seconds = [clock](Tick t) { return clock->epics_seconds(t); };
  return std::make_unique<camera::CaCameraFeed>(cam, camera::rotation_motor(beamline),
                                                std::move(options));
}

void print_endpoints(const ca::BeamlineConfig& config, const PandaServer& panda,
                     const ca::CaServer& ca, std::size_t pvs, camera::CaCameraFeed* feed) {
  fmt::print("{}: PandA control 127.0.0.1:{} data 127.0.0.1:{}\n", kName, panda.control_port(),
             panda.data_port());
  fmt::print("{}: CA 127.0.0.1:{} repeater 127.0.0.1:{}, {} PVs\n", kName, ca.port(),
             ca.repeater_port(), pvs);
  if (feed != nullptr) {
    const auto& s = feed->publisher().socket();
    fmt::print("{}: camera ZMQ {} {} {}\n", kName,
               s.pattern == camera::SocketPattern::pub ? "PUB" : "PUSH",
               s.bind ? "bind" : "connect", feed->publisher().endpoint());
  }
  fmt::print("{}: clock speed {} (simulated seconds per wall second)\n", kName,
             config.simulator.speed);
  fmt::print(
      "export EPICS_CA_ADDR_LIST=127.0.0.1:{} EPICS_CA_AUTO_ADDR_LIST=NO "
      "EPICS_CA_SERVER_PORT={} EPICS_CA_REPEATER_PORT={}\n",
      ca.port(), ca.port(), ca.repeater_port());
  std::fflush(stdout);
}

}  // namespace

CLI::App* add_beamline_command(CLI::App& app, BeamlineArgs& args) {
  auto* cmd = app.add_subcommand(
      "beamline",
      "the whole beamline in one process on one simulated clock: PandA (control + data ports), "
      "Channel Access (motor records, camera), the camera's ZMQ stream; the rotation motor turns "
      "the PandA's encoder, the PandA's TTL output triggers the camera");
  cmd->add_option("--config", args.config,
                  "beamline TOML (see sim/ca/beamline.toml: [simulator], [[motor]], "
                  "[[camera]]); default: the built-in one");
  cmd->add_option("--speed", args.speed,
                  "simulated seconds per wall second (default: the file's, else 1 = real time)");
  cmd->add_option("--panda-control-port", args.panda_control_port, "0: any free port");
  cmd->add_option("--panda-data-port", args.panda_data_port, "0: any free port");
  cmd->add_option("--ca-port", args.ca_port, "CA server port (TCP and UDP search); 0: any free");
  cmd->add_option("--ca-repeater-port", args.ca_repeater_port, "0: any free port");
  cmd->add_option("--zmq", args.zmq,
                  "the camera ZMQ plugin's serverHost, e.g. 'tcp://127.0.0.1:0 PUB' ('' : none)");
  cmd->add_option("--panda-design", args.panda_design, "load this .sav design at start");
  cmd->add_option("--truth-log", args.truth_log,
                  "tests: write the true stage angle of every exposure here (JSON lines)");
  return cmd;
}

int run_beamline(const BeamlineArgs& args) {
  ca::BeamlineConfig config;
  ca::Beamline beamline;
  try {
    config = load(args);
    beamline = ca::build_beamline(config);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 1;
  }
  const auto& sc = config.simulator;
  auto clock = std::make_shared<SimClock>(sc.speed);
  boost::asio::io_context io;
  auto db = std::make_shared<ca::PvDatabase>();
  std::unique_ptr<PandaServer> panda;
  std::unique_ptr<ca::CaServer> ca_server;
  try {
    PandaServer::Options po;
    po.control_port = sc.panda_control_port;
    po.data_port = sc.panda_data_port;
    panda = std::make_unique<PandaServer>(io, po);
    ca::CaServer::Options o;
    o.port = sc.ca_port;
    o.repeater_port = sc.ca_repeater_port;
    ca_server = std::make_unique<ca::CaServer>(io, db, beamline.devices(), o);
  } catch (const boost::system::system_error& e) {
    fmt::print(stderr, "{}: cannot listen on 127.0.0.1 (PandA {}/{}, CA {} repeater {}): {}\n",
               kName, sc.panda_control_port, sc.panda_data_port, sc.ca_port, sc.ca_repeater_port,
               e.code().message());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 1;
  }
  if (!load_design(panda->model(), sc.panda_design)) return 1;
  PandaFpga fpga(io, *panda, {.clock = PandaFpga::Clock::real_time});
  wire(fpga, beamline);
  // Destroyed before the servers and the devices: it unhooks the camera, then
  // stops its publisher thread (io.run() has returned by then).
  std::unique_ptr<camera::CaCameraFeed> feed;
  try {
    feed = make_feed(config, beamline, clock);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: camera ZMQ '{}': {}\n", kName, sc.zmq, e.what());
    return 2;
  }
  util::SignalWatch signals([&](int, int count) {
    if (count > 1) return;
    boost::asio::post(io, [&] {
      fpga.stop();
      panda->stop();
      ca_server->stop();
    });
  });
  print_endpoints(config, *panda, *ca_server, db->size(), feed.get());
  io.run();
  return 0;
}

}  // namespace pandafly::sim
