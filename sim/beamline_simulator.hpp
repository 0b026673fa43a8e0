#pragma once
// BeamlineSimulator: the whole simulated beamline on one io_context and one
// SimClock — the PandA (control and data ports, its FPGA), the Channel Access
// server (motor records, camera) and the camera's ZMQ plugin — wired as at the
// beamline: every motor with an encoder drives its PandA INENC (re-read at
// every re-plan of its motion), every rising edge of a camera's TTLOUT
// triggers it, the camera's frames show the phantom at the stage's angle.
//
// Rules
//   * One thread runs the io_context: the PandA server, its FPGA and the CA
//     server all run there and all read the one SimClock, which only moves
//     forward, so the FPGA never runs ahead of the motor record's planning.
//     The camera's publisher thread renders and sends frames, and hands
//     each frame's pixels back to the io_context for image1's ArrayData (the
//     same pixels as the ZMQ frame with the same UniqueId; image1 processes
//     an array once its pixels exist: camera.hpp "Array provider").
//   * Every endpoint binds 127.0.0.1 only; ports 0 take free ones (read them
//     back from the accessors).
//   * Shutdown: stop() (any thread) closes every server and stops the FPGA on
//     the io_context; once io.run() has returned, destroy the simulator (the
//     camera feed unhooks and stops its publisher first, then the servers).
//
// Example:
//   boost::asio::io_context io;
//   BeamlineSimulator sim(io, ca::load_config("beamline.toml"), {});
//   fmt::print("PandA {}, CA {}\n", sim.panda_control_port(), sim.ca_port());
//   std::thread t([&] { io.run(); });
//   ... sim.stop(); t.join();
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "sim/ca/config.hpp"
#include "sim/camera/ca_camera_feed.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/sim_clock.hpp"
#include "sim/subscribers.hpp"

namespace pandafly::sim {

class PandaServer;
class PandaFpga;
namespace ca {
class CaServer;
}

class BeamlineSimulator {
 public:
  struct Options {
    /// Lines about what the simulator does (faults firing, …); empty: stderr.
    std::function<void(std::string_view)> log{};
    /// Tests only: what each frame really saw (its true angle); never in the
    /// frame. Called on the io_context thread.
    std::function<void(const camera::FrameTruth&)> on_truth{};
  };

  /// A PandA, CA or ZMQ endpoint could not be bound (the message names it).
  class ListenError : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  /// Builds and binds everything. Throws ListenError when an endpoint cannot
  /// be bound, std::runtime_error (naming the file or serverHost) for a design
  /// file that cannot be read or loaded or a malformed ZMQ serverHost.
  BeamlineSimulator(boost::asio::io_context& io, ca::BeamlineConfig config, Options options);
  BeamlineSimulator(const BeamlineSimulator&) = delete;
  BeamlineSimulator& operator=(const BeamlineSimulator&) = delete;
  ~BeamlineSimulator();

  /// Closes every server and stops the FPGA (posts to the io_context; any thread).
  void stop();

  [[nodiscard]] std::uint16_t panda_control_port() const;
  [[nodiscard]] std::uint16_t panda_data_port() const;
  [[nodiscard]] std::uint16_t ca_port() const;
  [[nodiscard]] std::uint16_t ca_repeater_port() const;
  /// The camera ZMQ plugin's socket as "PUB bind tcp://127.0.0.1:P"; empty without one.
  [[nodiscard]] std::string zmq_description() const;
  [[nodiscard]] std::size_t pv_count() const;
  /// One line of counters for the end of a run: the camera's triggers (missed
  /// while busy, dropped while idle) and frames, the publisher's sent, lost
  /// (queue overruns, ZMQ drops, no buffer) and failed frames. Call after
  /// io.run() returned or on the io_context thread.
  [[nodiscard]] std::string summary() const;
  [[nodiscard]] const ca::BeamlineConfig& config() const { return config_; }
  [[nodiscard]] const ca::Beamline& devices() const { return beamline_; }
  [[nodiscard]] SimClock& clock() { return *clock_; }

  /// The pixels' options of `config`'s camera (phantom, pixel size, noise):
  /// what the feed renders with, and what a test renders its references with.
  [[nodiscard]] static camera::FrameSourceOptions frame_source_options(
      const ca::BeamlineConfig& config);

 private:
  void wire();
  void set_motor_faults();
  [[nodiscard]] std::function<void(bool)> backlog_handler();

  boost::asio::io_context& io_;
  ca::BeamlineConfig config_;
  Options options_;
  std::shared_ptr<SimClock> clock_;
  ca::Beamline beamline_;
  std::shared_ptr<ca::PvDatabase> db_;
  std::unique_ptr<PandaServer> panda_;
  std::unique_ptr<ca::CaServer> ca_;
  std::unique_ptr<PandaFpga> fpga_;
  Subscription ttl_subscription_;                   // ended before fpga_ goes
  std::vector<Subscription> motion_subscriptions_;  // 〃
  std::unique_ptr<camera::CaCameraFeed> feed_;
};

}  // namespace pandafly::sim
