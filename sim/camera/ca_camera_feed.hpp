#pragma once
// CaCameraFeed: the simulated FLIR camera's ZMQ plugin. It hooks
// sim::ca::Camera::on_frame and publishes every frame the camera delivers
// (size and type from the frame, unique id from the camera) as a projection
// of the phantom at the rotation motor's angle at the exposure's start.
//
// Rules
//   * The hook only reads the motor's motion and queues a FrameJob; the
//     Publisher's thread renders and sends (the CA server's io_context never
//     waits ~25 ms for physics). A full queue counts an overrun, never blocks.
//   * Angle: the motor record's user position (dial * DIR sign + OFF, read from
//     its PVs at the frame) at FrameInfo::exposure_start; 0 without a motor.
//   * Time stamp: options.epics_seconds(FrameInfo::tick) (the delivery), or
//     the system clock when the frame is delivered.
//   * set_kind() turns every following frame into darks or flats (a scan
//     closing the shutter or moving the sample out); nullopt: projections.
//   * Threads: construct, destroy and set_kind() on the CA server's thread (or
//     while its io_context is not running): the hook and the camera are that
//     thread's. Shutdown order: stop the io_context, destroy the feed (it
//     unhooks, then stops its Publisher), then the devices.
//
// Example:
//   auto beamline = ca::build_beamline(ca::default_config());
//   CaCameraFeed feed(beamline.cameras[0], rotation_motor(beamline),
//                     {.publisher = {.server_host = "tcp://127.0.0.1:1234 PUB"}});
//   ca::CaServer server(io, db, beamline.devices(), {});   // then io.run()
#include <functional>
#include <memory>
#include <optional>

#include "sim/ca/camera.hpp"
#include "sim/ca/config.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim/camera/publisher.hpp"

namespace pandafly::sim::camera {

/// The wire type of a CA camera DataType (every NDDataType has one).
[[nodiscard]] capture::DataType data_type_of(ca::CameraDataType type);
/// The job for one delivered frame.
[[nodiscard]] FrameJob job_for(const ca::FrameInfo& frame, FrameKind kind, double angle_deg,
                               double epics_seconds);
/// The beamline's rotation stage: the motor named "rotation", else the first in
/// degrees, else the first; nullptr without motors.
[[nodiscard]] std::shared_ptr<ca::MotorRecord> rotation_motor(const ca::Beamline& beamline);
/// The motor's user position at tick `t` (see Rules).
[[nodiscard]] double user_position(const ca::MotorRecord& motor, Tick t);

class CaCameraFeed {
 public:
  struct Options {
    PublisherOptions publisher{};
    std::function<double(Tick)> epics_seconds{};  ///< empty: the system clock at delivery
  };

  /// Creates the Publisher (throws as it does) and hooks the camera.
  CaCameraFeed(std::shared_ptr<ca::Camera> camera, std::shared_ptr<ca::MotorRecord> motor,
               Options options);
  CaCameraFeed(const CaCameraFeed&) = delete;
  CaCameraFeed& operator=(const CaCameraFeed&) = delete;
  /// Unhooks the camera, then stops the Publisher.
  ~CaCameraFeed();

  void set_kind(std::optional<FrameKind> kind) { kind_ = kind; }
  [[nodiscard]] Publisher& publisher() { return *publisher_; }

 private:
  void on_frame(const ca::FrameInfo& frame);

  std::shared_ptr<ca::Camera> camera_;
  std::shared_ptr<ca::MotorRecord> motor_;
  std::function<double(Tick)> epics_seconds_;
  std::optional<FrameKind> kind_;
  std::unique_ptr<Publisher> publisher_;
};

}  // namespace pandafly::sim::camera
