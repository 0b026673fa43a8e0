#include "camera_command.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "pandafly/util/signal_watch.hpp"
#include "sim/camera/acquisition.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/camera/publisher.hpp"
#include "sim/text_file.hpp"

namespace pandafly::sim {

namespace {

using namespace std::chrono_literals;
using camera::FrameFormat;

// Set by run_camera's util::SignalWatch on SIGINT, SIGTERM or SIGHUP.
std::atomic<bool> g_stop{false};

/// "WxH" → format; nullopt when malformed.
std::optional<FrameFormat> parse_size(const std::string& text) {
  unsigned long w = 0, h = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%lu%c%lu%c", &w, &x, &h, &extra) != 3 || (x != 'x' && x != 'X'))
    return std::nullopt;
  if (w == 0 || h == 0 || w > 65536 || h > 65536) return std::nullopt;
  return FrameFormat{w, h, capture::DataType::uint16};
}

/// The options as the library wants them; throws std::invalid_argument naming the option.
camera::AcquisitionConfig acquisition_config(const CameraArgs& a) {
  auto format = parse_size(a.size);
  if (!format)
    throw std::invalid_argument(fmt::format("--size '{}': expected WxH, e.g. 2048x1536", a.size));
  const auto type = capture::data_type_from(a.type);
  if (!type || (*type != capture::DataType::uint8 && *type != capture::DataType::uint16 &&
                *type != capture::DataType::float32))
    throw std::invalid_argument(
        fmt::format("--type '{}': expected uint8, uint16 or float32", a.type));
  format->type = *type;
  if (!(a.rate > 0 && a.rate <= 10000))
    throw std::invalid_argument("--rate: expected 0 < HZ <= 10000");
  if (!std::isfinite(a.speed)) throw std::invalid_argument("--speed: expected a finite number");
  if (!std::isfinite(a.start)) throw std::invalid_argument("--start: expected a finite number");
  if (!(a.pixel_mm > 0 && std::isfinite(a.pixel_mm)))
    throw std::invalid_argument("--pixel-mm: expected > 0");
  const double unix_now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return {.format = *format,
          .rate_hz = a.rate,
          .darks = a.darks,
          .flats = a.flats,
          .projections = a.frames,
          .start_deg = a.start,
          .speed_deg_s = a.speed,
          .epics_seconds_at_tick0 = unix_now - camera::kEpicsEpochUnixSeconds};
}

camera::PublisherOptions publisher_options(const CameraArgs& a, const FrameFormat& format) {
  camera::PublisherOptions o;
  o.server_host = a.server_host;
  o.header = a.legacy_header ? capture::HeaderStyle::legacy : capture::HeaderStyle::current;
  o.source = {.pixel_mm = a.pixel_mm, .noise = a.noise, .seed = a.seed};
  o.format = format;
  o.lossless = a.lossless;
  return o;
}

/// Internal triggers on the steady clock until the acquisition ends or a signal stops it.
void run_free(camera::Acquisition& acq, camera::Publisher& pub) {
  const auto t0 = std::chrono::steady_clock::now();
  auto tick_now = [&] {
    return static_cast<Tick>((std::chrono::steady_clock::now() - t0) / std::chrono::nanoseconds(8));
  };
  acq.start(0);
  while (!acq.done() && !g_stop.load()) {
    for (auto& job : acq.advance(tick_now())) (void)pub.submit(std::move(job));
    const Tick next = acq.next_due();
    const auto wait = next == kNever ? 20ms
                                     : std::min<std::chrono::nanoseconds>(
                                           20ms, std::chrono::nanoseconds((next - tick_now()) * 8));
    if (wait > 0ns) std::this_thread::sleep_for(wait);
  }
}

/// The truth a reconstruction of the middle detector row is compared with
/// (the projector's geometry: pixel u looks along x = (u - u0) * pixel, row v
/// at z = ((H - 1) / 2 - v) * pixel).
bool write_truth_slice(const CameraArgs& a, const FrameFormat& format) {
  const camera::FrameSource source(format, {.pixel_mm = a.pixel_mm, .noise = false});
  const auto slice = source.truth_slice(format.height / 2);
  return write_floats(a.truth_slice, slice);
}

}  // namespace

CLI::App* add_camera_command(CLI::App& app, CameraArgs& args) {
  auto* cmd = app.add_subcommand(
      "camera",
      "ADZMQ camera publisher: parallel-beam projections of a 3D phantom on a turning stage "
      "(NDPluginZMQ messages: JSON header + pixels), free-running");
  cmd->add_option(
         "--server-host", args.server_host,
         "NDZMQConfigure serverHost: 'tcp://ADDR:PORT [PUB|PUSH] [BIND|CONNECT]'. No type: "
         "PUB + bind when ADDR is '*', else PUSH + connect. Simulators bind 127.0.0.1 "
         "only: a '*' or 0.0.0.0 host means 127.0.0.1. Port 0 binds any free port "
         "(printed when ready)")
      ->capture_default_str();
  cmd->add_option("--size", args.size, "frame size WxH (pixels)")->capture_default_str();
  cmd->add_option("--type", args.type, "pixel type: uint8, uint16 or float32")
      ->capture_default_str();
  cmd->add_option("--rate", args.rate, "frames per second (internal trigger)")
      ->capture_default_str();
  cmd->add_option("--frames", args.frames,
                  "projections to send, then exit; 0 = until SIGINT/SIGTERM/SIGHUP")
      ->capture_default_str();
  cmd->add_option("--speed", args.speed,
                  "stage rotation speed, deg/s (turning from the first projection on)")
      ->capture_default_str();
  cmd->add_option("--start", args.start, "stage angle of the first projection, deg")
      ->capture_default_str();
  cmd->add_option("--darks", args.darks,
                  "dark frames before the projections (HDF5FrameLocation /exchange/data_dark)")
      ->capture_default_str();
  cmd->add_option("--flats", args.flats,
                  "flat frames after the darks (HDF5FrameLocation /exchange/data_white)")
      ->capture_default_str();
  cmd->add_flag("--noise,!--no-noise", args.noise,
                "Poisson photon and Gaussian read noise (default on; seeded, reproducible)");
  cmd->add_option("--seed", args.seed, "noise seed")->capture_default_str();
  cmd->add_flag("--lossless", args.lossless,
                "for tests on a loaded machine: wait instead of dropping (a trigger waits for "
                "queue room, a PUSH send for its peer), so every frame arrives; the frame "
                "timeline slips");
  cmd->add_flag("--legacy-header", args.legacy_header,
                "ADZMQ < 1.4 header: htype [\"array-1.0\"], shape fastest first");
  cmd->add_option("--pixel-mm", args.pixel_mm,
                  "pixel size at the sample, mm (the phantom fills "
                  "the field of view whatever the size)")
      ->capture_default_str();
  cmd->add_option("--truth-slice", args.truth_slice,
                  "write the phantom's attenuation (1/mm) in the plane the middle detector row "
                  "sees to FILE before sending: W x W little-endian float32, row j = sample y, "
                  "column i = sample x, both (index - (W-1)/2) * pixel-mm — what a "
                  "reconstruction of that row must show");
  cmd->footer(
      "Frames carry NDAttributes ColorMode, HDF5FrameLocation and theta_readout (deg); frame "
      "numbers count from 1, timeStamp is seconds since the EPICS epoch (1990). Prints "
      "'pandafly-sim camera: <PUB|PUSH> <bind|connect> <endpoint> ...' when ready and a summary "
      "line (sent, dropped) at the end. A PUB loses frames sent before a subscriber joins. "
      "Exit codes: 0 done, 1 bad arguments, 2 cannot bind/connect.");
  return cmd;
}

int run_camera(const CameraArgs& args) {
  std::optional<camera::Acquisition> acq;
  std::unique_ptr<camera::Publisher> pub;
  try {
    acq.emplace(acquisition_config(args));
    (void)camera::sender_socket_for(args.server_host);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "pandafly-sim camera: {}\n", e.what());
    return 1;
  }
  const FrameFormat format = acq->config().format;
  if (!args.truth_slice.empty() && !write_truth_slice(args, format)) {
    fmt::print(stderr, "pandafly-sim camera: --truth-slice {}: cannot write the file\n",
               args.truth_slice);
    return 1;
  }
  try {
    pub = std::make_unique<camera::Publisher>(publisher_options(args, format));
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-sim camera: --server-host: {}\n", e.what());
    return 2;
  }
  // Any number of them: the first stops sending; the publisher is still
  // drained (briefly) and closed.
  util::SignalWatch signals([](int, int) { g_stop.store(true); });
  fmt::print("pandafly-sim camera: {} {} {}, {}x{} {}, {} Hz\n",
             pub->socket().pattern == camera::SocketPattern::pub ? "PUB" : "PUSH",
             pub->socket().bind ? "bind" : "connect", pub->endpoint(), format.width, format.height,
             capture::to_string(format.type), args.rate);
  std::fflush(stdout);
  run_free(*acq, *pub);
  (void)pub->wait_idle(g_stop.load() ? 1s : 30s);
  pub->stop();
  const auto s = pub->stats();
  fmt::print(
      "pandafly-sim camera: {} frames sent, {} dropped, {} without a free buffer, "
      "{} overruns\n",
      s.sent, s.dropped, s.no_buffer, s.overruns);
  std::fflush(stdout);
  return 0;
}

}  // namespace pandafly::sim
