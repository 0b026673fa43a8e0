#include "beamline_command.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "pandafly/util/signal_watch.hpp"
#include "sim/beamline_simulator.hpp"
#include "sim/ca/config.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/fault_plan.hpp"
#include "sim/text_file.hpp"

namespace pandafly::sim {

namespace {

constexpr const char* kName = "pandafly-sim beamline";

/// The configuration with the command line's overrides; throws ca::ConfigError
/// or std::invalid_argument (a bad --fault).
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
  for (const auto& spec : a.faults) add_fault(c.faults, spec);
  return c;
}

void print_endpoints(const BeamlineSimulator& sim) {
  fmt::print("{}: PandA control 127.0.0.1:{} data 127.0.0.1:{}\n", kName, sim.panda_control_port(),
             sim.panda_data_port());
  fmt::print("{}: CA 127.0.0.1:{} repeater 127.0.0.1:{}, {} PVs\n", kName, sim.ca_port(),
             sim.ca_repeater_port(), sim.pv_count());
  const std::string zmq = sim.zmq_description();
  if (!zmq.empty()) fmt::print("{}: camera ZMQ {}\n", kName, zmq);
  if (const auto speed = sim.config().simulator.speed)
    fmt::print(
        "{}: clock speed {} (simulated seconds per wall second; simulated time waits for "
        "the camera renderer)\n",
        kName, *speed);
  else
    fmt::print("{}: clock: real time\n", kName);
  fmt::print(
      "export EPICS_CA_ADDR_LIST=127.0.0.1:{} EPICS_CA_AUTO_ADDR_LIST=NO "
      "EPICS_CA_SERVER_PORT={} EPICS_CA_REPEATER_PORT={}\n",
      sim.ca_port(), sim.ca_port(), sim.ca_repeater_port());
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
                  "a time scale: N simulated seconds per wall second, simulated time waiting for "
                  "the camera renderer (default: the file's [simulator] speed; none: real time, "
                  "where a renderer that falls behind loses frames, reported as an overrun)");
  cmd->add_option("--panda-control-port", args.panda_control_port, "0: any free port");
  cmd->add_option("--panda-data-port", args.panda_data_port, "0: any free port");
  cmd->add_option("--ca-port", args.ca_port, "CA server port (TCP and UDP search); 0: any free");
  cmd->add_option("--ca-repeater-port", args.ca_repeater_port, "0: any free port");
  cmd->add_option("--zmq", args.zmq,
                  "the camera ZMQ plugin's serverHost, e.g. 'tcp://127.0.0.1:0 PUB' ('' : none)");
  cmd->add_option("--panda-design", args.panda_design, "load this .sav design at start");
  cmd->add_option("--fault", args.faults,
                  "inject a fault (repeatable; with the file's [faults]): drop-frame=K, "
                  "duplicate-frame=K, swap-frames=K, stall-camera=K:SECONDS, miss-trigger=K, "
                  "close-panda-data=ROW, motor-stall=[MOTOR:]POS, hard-limit=[MOTOR:]POS, "
                  "ca-restart=AT:DOWNTIME (frames by UniqueId, triggers and rows from 1, times "
                  "in simulated seconds; see sim/fault_plan.hpp)");
  cmd->add_option("--truth-log", args.truth_log,
                  "tests: write the true stage angle of every exposure here (JSON lines)");
  cmd->add_option("--truth-slice", args.truth_slice,
                  "write the phantom's true slice at the camera's middle row here (width x width "
                  "float32, 1/mm, centred on the rotation axis): what a reconstruction must show");
  return cmd;
}

namespace {

bool write_truth_slice(const ca::BeamlineConfig& config, const std::string& path) {
  if (config.cameras.empty()) return false;
  const auto& cam = config.cameras.front();
  const camera::FrameSource source(
      {static_cast<std::size_t>(cam.size_x), static_cast<std::size_t>(cam.size_y),
       camera::data_type_of(cam.data_type)},
      BeamlineSimulator::frame_source_options(config));
  const auto slice = source.truth_slice(static_cast<std::size_t>(cam.size_y) / 2);
  return write_floats(path, slice);
}

}  // namespace

int run_beamline(const BeamlineArgs& args) {
  ca::BeamlineConfig config;
  try {
    config = load(args);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 1;
  }
  if (!args.truth_slice.empty() && !write_truth_slice(config, args.truth_slice)) {
    fmt::print(stderr, "{}: --truth-slice {}: cannot write the file\n", kName, args.truth_slice);
    return 1;
  }
  std::FILE* truth = nullptr;
  if (!args.truth_log.empty()) {
    truth = std::fopen(args.truth_log.c_str(), "w");
    if (truth == nullptr) {
      fmt::print(stderr, "{}: --truth-log {}: {}\n", kName, args.truth_log, std::strerror(errno));
      return 1;
    }
  }
  // Closed at return (a null pointer is never passed to the deleter).
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> truth_file(
      truth, [](std::FILE* f) { return std::fclose(f); });
  BeamlineSimulator::Options options;
  if (truth != nullptr)
    options.on_truth = [truth](const camera::FrameTruth& t) {
      fmt::print(truth, "{}\n", camera::truth_json_line(t));
      std::fflush(truth);
    };
  boost::asio::io_context io;
  std::unique_ptr<BeamlineSimulator> sim;
  try {
    sim = std::make_unique<BeamlineSimulator>(io, config, options);
  } catch (const BeamlineSimulator::ListenError& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 1;
  }
  util::SignalWatch signals([&](int, int count) {
    if (count == 1) sim->stop();
  });
  print_endpoints(*sim);
  io.run();
  fmt::print("{}: {}\n", kName, sim->summary());
  return 0;
}

}  // namespace pandafly::sim
