#include "sim/beamline_simulator.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>
#include <fmt/format.h>

#include "sim/ca/server.hpp"
#include "sim/camera/ca_camera_feed.hpp"
#include "sim/panda/design_file.hpp"
#include "sim/panda/fpga_runner.hpp"
#include "sim/panda/server.hpp"
#include "sim/text_file.hpp"

namespace pandafly::sim {

namespace {

BeamlineSimulator::Options with_default_log(BeamlineSimulator::Options o) {
  if (!o.log)
    o.log = [](std::string_view line) {
      fmt::print(stderr, "pandafly-sim beamline: {}\n", line);
      std::fflush(stderr);
    };
  return o;
}

void load_design_file(PandaModel& model, const std::string& path) {
  if (path.empty()) return;
  const auto text = read_text(path);
  if (!text) throw std::runtime_error(fmt::format("cannot read design file {}", path));
  const Status s = load_design(model, *text);
  if (!s.ok()) throw std::runtime_error(fmt::format("{}: {}", path, s.error()));
}

Tick ticks_of(double seconds) {
  return static_cast<Tick>(seconds * static_cast<double>(kTicksPerSecond));
}

ca::CaServerFaults ca_faults(const FaultPlan& plan) {
  ca::CaServerFaults f;
  if (plan.ca_restarts.size() > 1)
    throw std::runtime_error("faults: one ca-restart at most (the CA server restarts once)");
  if (!plan.ca_restarts.empty()) {
    f.restart_at = ticks_of(plan.ca_restarts.front().at);
    f.restart_downtime = ticks_of(plan.ca_restarts.front().downtime);
  }
  return f;
}

std::int32_t frame_number(std::uint64_t k) {
  if (k > static_cast<std::uint64_t>(INT32_MAX))
    throw std::runtime_error(fmt::format("faults: frame {} is beyond the camera's counter", k));
  return static_cast<std::int32_t>(k);
}

ca::CameraFaults camera_faults(const FaultPlan& plan) {
  ca::CameraFaults f;
  for (auto k : plan.drop_frames) f.drop_frames.push_back(frame_number(k));
  for (auto k : plan.duplicate_frames) f.duplicate_frames.push_back(frame_number(k));
  for (auto k : plan.swap_frames) f.swap_frames.push_back(frame_number(k));
  for (const auto& s : plan.camera_stalls) f.stalls.push_back({frame_number(s.frame), s.seconds});
  f.miss_triggers = plan.miss_triggers;
  return f;
}

}  // namespace

std::function<void(bool)> BeamlineSimulator::backlog_handler() {
  // Under a time scale simulated time waits for the renderer; in real time it
  // cannot, so a renderer that falls behind is the simulator's overrun (said
  // loudly), never the camera's fault.
  if (config_.simulator.speed)
    return [clock = clock_](bool behind) { behind ? clock->hold() : clock->release(); };
  return [log = options_.log](bool behind) {
    if (behind)
      log("SIMULATOR OVERRUN: the camera renderer is behind real time; frames it cannot queue "
          "are lost (run with a time scale, --speed N, where simulated time waits for it)");
  };
}

camera::FrameSourceOptions BeamlineSimulator::frame_source_options(
    const ca::BeamlineConfig& config) {
  camera::FrameSourceOptions o;
  o.pixel_mm = config.phantom.pixel_mm;
  o.phantom = config.phantom.phantom();
  o.axis_offset_px = config.phantom.axis_offset_px;
  return o;
}

BeamlineSimulator::BeamlineSimulator(boost::asio::io_context& io, ca::BeamlineConfig config,
                                     Options options)
    : io_(io),
      config_(std::move(config)),
      options_(with_default_log(std::move(options))),
      clock_(std::make_shared<SimClock>(config_.simulator.speed.value_or(1.0))),
      beamline_(ca::build_beamline(config_)),
      db_(std::make_shared<ca::PvDatabase>()) {
  const auto& sc = config_.simulator;
  PandaServer::Options po;
  po.control_port = sc.panda_control_port;
  po.data_port = sc.panda_data_port;
  try {
    panda_ = std::make_unique<PandaServer>(io_, po);
  } catch (const boost::system::system_error& e) {
    throw ListenError(
        fmt::format("cannot listen on 127.0.0.1 for the PandA (control {}, data {}): {}",
                    po.control_port, po.data_port, e.code().message()));
  }
  load_design_file(panda_->model(), sc.panda_design);
  ca::CaServer::Options co;
  co.port = sc.ca_port;
  co.repeater_port = sc.ca_repeater_port;
  co.clock = clock_;
  co.log = options_.log;
  co.faults = ca_faults(config_.faults);
  // The FPGA catches up before the devices advance: its TTL edges reach the
  // camera before the camera's time passes them (one thread, one clock).
  co.before_advance = [this](Tick target) {
    if (fpga_) fpga_->catch_up(target);
  };
  try {
    ca_ = std::make_unique<ca::CaServer>(io_, db_, beamline_.devices(), co);
  } catch (const boost::system::system_error& e) {
    throw ListenError(
        fmt::format("cannot listen on 127.0.0.1 for Channel Access (port {}, "
                    "repeater {}): {}",
                    co.port, co.repeater_port, e.code().message()));
  }
  PandaFpga::Options fpga_options;
  fpga_options.sim_clock = clock_;
  fpga_options.faults.close_data_at_row = config_.faults.close_panda_data_at_row;
  fpga_options.log = options_.log;
  // Under a time scale simulated time also waits for the FPGA (an encoder
  // counting 200 000 times a simulated second can be slower than the clock):
  // the CA devices, which catch the FPGA up before they advance, then never
  // wait long for it.
  if (sc.speed) fpga_options.hold_clock_when_behind = kTicksPerSecond / 100;
  fpga_ = std::make_unique<PandaFpga>(io_, *panda_, fpga_options);
  set_motor_faults();
  wire();
  if (!beamline_.cameras.empty() && !sc.zmq.empty()) {
    const auto& cam = beamline_.cameras.front();
    auto fo = camera::feed_options(beamline_, *cam, sc.zmq, clock_);
    fo.publisher.source = frame_source_options(config_);
    fo.publisher.on_backlog = backlog_handler();
    // Under a time scale a hold stops simulated time, but frames the io thread
    // already owes (it may lag the clock by a few wall milliseconds, i.e. many
    // simulated frames) still arrive: the queue of job descriptions (no pixels)
    // must take such a burst. In real time the camera's own pool size applies.
    if (sc.speed) fo.publisher.queue_capacity = 4096;
    // Frames in flight in libzmq (a PUSH whose peer is slow or absent keeps
    // them) hold their buffers; when every buffer is in flight the frame is
    // dropped and counted ("without a buffer"), as a camera whose NDArray
    // pool ran dry — never waited for, or a peerless PUSH would stop
    // simulated time for good through the renderer's hold. Up to 256 MiB.
    fo.publisher.wait_for_buffer = false;
    const std::size_t frame_bytes = fo.publisher.format->bytes();
    fo.publisher.buffers = std::clamp<std::size_t>(
        (std::size_t{256} << 20) / std::max<std::size_t>(frame_bytes, 1), 8, 64);
    fo.on_truth = options_.on_truth;
    // image1's ArrayData carries the rendered frames: the publisher thread
    // hands each frame's pixels back to the CA server's thread, whose device
    // timer then re-plans so image1 processes the array at once.
    fo.post_to_camera = [this](std::function<void()> fn) {
      boost::asio::post(io_, [this, fn = std::move(fn)] {
        fn();
        ca_->devices_changed();
      });
    };
    cam->set_faults(camera_faults(config_.faults));
    cam->on_log(options_.log);
    try {
      feed_ = std::make_unique<camera::CaCameraFeed>(cam, camera::rotation_motor(beamline_),
                                                     std::move(fo));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(fmt::format("camera ZMQ serverHost '{}': {}", sc.zmq, e.what()));
    } catch (const std::exception& e) {
      throw ListenError(fmt::format("camera ZMQ '{}': {}", sc.zmq, e.what()));
    }
  }
}

BeamlineSimulator::~BeamlineSimulator() {
  feed_.reset();  // unhooks the camera, stops the publisher thread
  ttl_subscription_.reset();
  motion_subscriptions_.clear();
  fpga_.reset();
}

void BeamlineSimulator::wire() {
  for (const auto& motor : beamline_.motors) {
    const auto& e = motor->config().encoder;
    if (e.inenc == 0) continue;
    const auto inenc = static_cast<std::size_t>(e.inenc);
    fpga_->set_motion(inenc, motor->encoder_motion(e.counts_per_unit, e.offset_counts));
    // Same thread: applied at once, before the FPGA can run past `from`.
    motion_subscriptions_.push_back(motor->subscribe_motion_change(
        [fpga = fpga_.get(), inenc](Tick from) { fpga->motion_changed(inenc, from); }));
  }
  std::vector<std::shared_ptr<ca::Camera>> triggered;
  for (const auto& camera : beamline_.cameras)
    if (camera->config().ttlout > 0) triggered.push_back(camera);
  if (triggered.empty()) return;
  ttl_subscription_ =
      fpga_->subscribe_ttl_out([triggered](std::size_t ttlout, bool level, Tick at) {
        if (!level) return;
        for (const auto& camera : triggered)
          if (static_cast<std::size_t>(camera->config().ttlout) == ttlout)
            camera->external_trigger(at);
      });
}

void BeamlineSimulator::set_motor_faults() {
  const auto& plan = config_.faults;
  const auto rotation = camera::rotation_motor(beamline_);
  std::map<const ca::MotorRecord*, ca::MotorFaults> faults;
  const auto motor_of = [&](const std::string& name) -> const ca::MotorRecord* {
    if (name.empty()) {
      if (!rotation) throw std::runtime_error("faults: no rotation motor for a motor fault");
      return rotation.get();
    }
    for (const auto& m : beamline_.motors)
      if (m->config().name == name) return m.get();
    throw std::runtime_error(fmt::format("faults: no [[motor]] named \"{}\"", name));
  };
  for (const auto& f : plan.motor_stalls) faults[motor_of(f.motor)].stall_at.push_back(f.position);
  for (const auto& f : plan.hard_limits)
    faults[motor_of(f.motor)].hard_limit_at.push_back(f.position);
  for (const auto& m : beamline_.motors) {
    const auto it = faults.find(m.get());
    if (it != faults.end()) m->set_faults(it->second, options_.log);
  }
}

void BeamlineSimulator::stop() {
  boost::asio::post(io_, [this] {
    fpga_->stop();
    panda_->stop();
    ca_->stop();
  });
}

std::uint16_t BeamlineSimulator::panda_control_port() const {
  return panda_->control_port();
}
std::uint16_t BeamlineSimulator::panda_data_port() const {
  return panda_->data_port();
}
std::uint16_t BeamlineSimulator::ca_port() const {
  return ca_->port();
}
std::uint16_t BeamlineSimulator::ca_repeater_port() const {
  return ca_->repeater_port();
}
std::size_t BeamlineSimulator::pv_count() const {
  return db_->size();
}

std::string BeamlineSimulator::summary() const {
  std::string out;
  for (const auto& cam : beamline_.cameras)
    out += fmt::format("camera {}: {} triggers, {} missed while busy, {} while idle; ",
                       cam->config().name, cam->triggers_received(), cam->missed_triggers(),
                       cam->dropped_triggers());
  if (feed_) {
    const auto st = feed_->publisher().stats();
    out += fmt::format(
        "ZMQ: {} frames submitted, {} sent, {} renderer overruns, {} send drops, {} without a "
        "buffer, {} failed",
        st.submitted, st.sent, st.overruns, st.dropped, st.no_buffer, st.failed);
  }
  return out;
}

std::string BeamlineSimulator::zmq_description() const {
  if (!feed_) return {};
  const auto& s = feed_->publisher().socket();
  return fmt::format("{} {} {}", s.pattern == camera::SocketPattern::pub ? "PUB" : "PUSH",
                     s.bind ? "bind" : "connect", feed_->publisher().endpoint());
}

}  // namespace pandafly::sim
