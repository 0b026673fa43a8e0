#pragma once
// CaCameraFeed: the simulated FLIR camera's ZMQ plugin. It hooks the
// sim::ca::Camera's driver (its readouts) and its ZMQ1 plugin (its frames) and
// publishes every frame ZMQ1 hands on (size, type and unique id from the
// camera) as a projection, flat or dark of the phantom.
//
// Rules
//   * The hooks only read the beamline state and queue a FrameJob; the
//     Publisher's thread renders and sends (the CA server's io_context never
//     waits ~25 ms for physics). A full queue counts an overrun, never blocks.
//   * Content (the truth, which a frame never carries): the rotation motor's
//     user position (dial * DIR sign + OFF, from its MotorMotion, which never
//     rewrites the past) at the exposure's mid tick; 0 without a motor. Kind:
//     dark when the exposure [start, end] overlaps a shutter that is not
//     fully open (Shutter::open_throughout); else flat when the sample motor's
//     user position at mid-exposure is more than sample_out_threshold from
//     sample_in (the camera's config); else projection. No motion blur: one
//     angle per frame (averaging sub-angles would need N renders per frame,
//     and FrameSource's noise would then be averaged too).
//   * Attributes, as an areaDetector attribute file would put them, read when
//     the driver gets the frame (at its readout, delivery): ColorMode 0,
//     HDF5FrameLocation from the FrameType PV (DarkField /exchange/data_dark,
//     FlatField /exchange/data_white, Projection /exchange/data),
//     theta_readout = the rotation motor's RBV PV value as last posted
//     (float64; 0 without a motor), NDArrayTimeStamp = the header's time
//     stamp (EPICS seconds, float64).
//   * Time stamp: options.epics_seconds(FrameInfo::tick) (the delivery), or
//     the system clock when the frame is delivered.
//   * on_truth (tests only) gets one FrameTruth per frame the driver
//     delivers, at delivery: published = ZMQ1 will send it (its callbacks on,
//     no drop fault).
//   * image1's arrays (Options::post_to_camera set): the feed is the
//     camera's array provider (ca::Camera::set_array_provider), so image1's
//     ArrayData is the frame ZMQ1 sends with the same UniqueId, byte for
//     byte (same kind, angle, noise seed), dark and flat frames included.
//     A request for frame k comes at image1's processing of k, just before
//     ZMQ1's of the same array (ca::Camera::run_plugins): when ZMQ1 sends k
//     then (to_zmq, no drop or swap fault) the pixels ride on k's ZMQ job
//     (FrameJob::on_pixels: one render for both); otherwise a render-only
//     job (FrameJob::send false) makes them. The publisher thread converts
//     them to ArrayData's type (ca::array_elements: the one copy) and hands
//     them to post_to_camera, which runs ca::Camera::array_ready on the
//     camera's thread. No pixels (queue full, render failure, a frame the
//     feed knows nothing of): array_ready(k, nullopt), image1 drops k.
//     Without post_to_camera image1 keeps the camera's gradient.
//   * Threads: construct and destroy on the CA server's thread (or while its
//     io_context is not running): the hooks and the devices are that
//     thread's. Shutdown order: stop the io_context, destroy the feed (it
//     unhooks, then stops its Publisher), then the devices.
//
// Example:
//   auto beamline = ca::build_beamline(ca::default_config());
//   CaCameraFeed::Options o{.publisher = {.server_host = "tcp://127.0.0.1:1234 PUB"}};
//   wire_beamline(o, beamline, *beamline.cameras[0]);   // shutter, sample motor
//   CaCameraFeed feed(beamline.cameras[0], rotation_motor(beamline), std::move(o));
//   ca::CaServer server(io, db, beamline.devices(), {});   // then io.run()
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/ca/camera.hpp"
#include "sim/ca/config.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim/ca/shutter.hpp"
#include "sim/camera/publisher.hpp"
#include "sim/sim_clock.hpp"

namespace pandafly::sim::camera {

/// The wire type of a CA camera DataType (every NDDataType has one).
[[nodiscard]] capture::DataType data_type_of(ca::CameraDataType type);
/// The job for one delivered frame: rendered at `angle_deg`, carrying `attributes`.
[[nodiscard]] FrameJob job_for(const ca::FrameInfo& frame, FrameKind kind, double angle_deg,
                               double epics_seconds, std::vector<capture::Attribute> attributes);
/// The beamline's rotation stage: the motor named "rotation", else the first in
/// degrees, else the first; nullptr without motors.
[[nodiscard]] std::shared_ptr<ca::MotorRecord> rotation_motor(const ca::Beamline& beamline);
/// The motor's user position at tick `t` (see Rules).
[[nodiscard]] double user_position(const ca::MotorRecord& motor, Tick t);
/// The HDF5FrameLocation of a FrameType index (tomoscan's order: 0 DarkField,
/// 1 FlatField, 2 Projection; others: /exchange/data).
[[nodiscard]] std::string_view frame_location_of_frame_type(std::uint16_t frame_type);

/// What a frame really saw (for tests; never in the frame).
struct FrameTruth {
  std::int32_t unique_id = 0;
  Tick exposure_start = 0, exposure_end = 0, delivered = 0;
  double angle_start_deg = 0, angle_mid_deg = 0, angle_end_deg = 0;  // true user angles
  FrameKind kind = FrameKind::projection;                            // rendered
  bool published = false;  // ZMQ1 sends it (false: dropped by a fault, or ZMQ1 off)
  ca::FrameFault fault = ca::FrameFault::none;
};
/// One JSON object on one line (no newline): unique_id, exposure_start_tick,
/// exposure_end_tick, delivered_tick, exposure_start_s, exposure_end_s,
/// angle_start_deg, angle_mid_deg, angle_end_deg, kind, published, fault.
[[nodiscard]] std::string truth_json_line(const FrameTruth& truth);

class CaCameraFeed {
 public:
  struct Options {
    PublisherOptions publisher{};
    std::function<double(Tick)> epics_seconds{};            ///< empty: the system clock at delivery
    std::shared_ptr<const ca::Shutter> shutter{};           ///< empty: the beam is always on
    std::shared_ptr<const ca::MotorRecord> sample_motor{};  ///< empty: the sample is always in
    std::function<void(const FrameTruth&)> on_truth{};
    /// Runs a function on the camera's thread (e.g. a post to the CA
    /// server's io_context, then CaServer::devices_changed()); any thread.
    /// Empty: image1 keeps the camera's gradient (see Rules).
    std::function<void(std::function<void()>)> post_to_camera{};
  };

  /// Creates the Publisher (throws as it does) and hooks the camera.
  CaCameraFeed(std::shared_ptr<ca::Camera> camera, std::shared_ptr<ca::MotorRecord> motor,
               Options options);
  CaCameraFeed(const CaCameraFeed&) = delete;
  CaCameraFeed& operator=(const CaCameraFeed&) = delete;
  /// Unhooks the camera, then stops the Publisher.
  ~CaCameraFeed();

  [[nodiscard]] Publisher& publisher() { return *publisher_; }

 private:
  struct Pending {
    FrameKind kind;
    double angle_deg;
    double stamp;
    std::vector<capture::Attribute> attributes;
    bool image_wants_pixels = false;  // on ZMQ1's job for this frame
  };
  void on_readout(const ca::FrameInfo& frame);
  void on_frame(const ca::FrameInfo& frame);
  void on_image_request(const ca::FrameInfo& frame);
  [[nodiscard]] std::function<void(std::span<const std::byte>)> pixels_to_camera(
      const ca::FrameInfo& frame) const;
  [[nodiscard]] FrameKind kind_of(Tick start, Tick end) const;

  std::shared_ptr<ca::Camera> camera_;
  std::shared_ptr<ca::MotorRecord> motor_;
  Options options_;
  std::map<std::int32_t, Pending> pending_;  // by unique id, until ZMQ1 sends it
  std::unique_ptr<Publisher> publisher_;
  Subscription readouts_, frames_;  // ended first (destructor) so no hook outlives the feed
};

/// Sets options.shutter and options.sample_motor from the camera's config
/// (`shutter`, `sample_motor`: names in `beamline`; unknown names: left empty).
void wire_beamline(CaCameraFeed::Options& options, const ca::Beamline& beamline,
                   const ca::Camera& camera);
/// The feed of `camera` as a beamline IOC's ZMQ plugin with this serverHost:
/// frames in the camera's configured size and type, time stamps from `clock`,
/// wired to the beamline's shutter and sample motor (wire_beamline).
[[nodiscard]] CaCameraFeed::Options feed_options(const ca::Beamline& beamline,
                                                 const ca::Camera& camera, std::string server_host,
                                                 std::shared_ptr<const SimClock> clock);

}  // namespace pandafly::sim::camera
