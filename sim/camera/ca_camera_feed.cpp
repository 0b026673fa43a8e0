#include "sim/camera/ca_camera_feed.hpp"

#include <chrono>
#include <variant>

namespace pandafly::sim::camera {

capture::DataType data_type_of(ca::CameraDataType type) {
  using ca::CameraDataType;
  using capture::DataType;
  switch (type) {
    case CameraDataType::int8:
      return DataType::int8;
    case CameraDataType::uint8:
      return DataType::uint8;
    case CameraDataType::int16:
      return DataType::int16;
    case CameraDataType::uint16:
      return DataType::uint16;
    case CameraDataType::int32:
      return DataType::int32;
    case CameraDataType::uint32:
      return DataType::uint32;
    case CameraDataType::float32:
      return DataType::float32;
    case CameraDataType::float64:
      return DataType::float64;
  }
  return DataType::uint16;
}

FrameJob job_for(const ca::FrameInfo& frame, FrameKind kind, double angle_deg,
                 double epics_seconds) {
  return {.kind = kind,
          .angle_deg = angle_deg,
          .timestamp = epics_seconds,
          .format = {static_cast<std::size_t>(frame.width), static_cast<std::size_t>(frame.height),
                     data_type_of(frame.data_type)},
          .tick = frame.exposure_start,
          .unique_id = static_cast<std::uint64_t>(frame.unique_id)};
}

std::shared_ptr<ca::MotorRecord> rotation_motor(const ca::Beamline& beamline) {
  for (const auto& m : beamline.motors)
    if (m->config().name == "rotation") return m;
  for (const auto& m : beamline.motors)
    if (m->config().egu == "deg") return m;
  return beamline.motors.empty() ? nullptr : beamline.motors.front();
}

namespace {

double first_number(const std::shared_ptr<ca::Pv>& pv, double fallback) {
  if (!pv) return fallback;
  return std::visit(
      [&](const auto& v) -> double {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_arithmetic_v<T>) {
          return v.empty() ? fallback : static_cast<double>(v.front());
        } else {
          return fallback;
        }
      },
      pv->value());
}

double system_epics_seconds() {
  const double unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return unix_s - kEpicsEpochUnixSeconds;
}

}  // namespace

double user_position(const ca::MotorRecord& motor, Tick t) {
  const double dial = motor.motion()->position(t);
  const double sign = first_number(motor.field("DIR"), 0) == 1 ? -1.0 : 1.0;  // DIR: Pos, Neg
  return dial * sign + first_number(motor.field("OFF"), 0);
}

CaCameraFeed::CaCameraFeed(std::shared_ptr<ca::Camera> camera,
                           std::shared_ptr<ca::MotorRecord> motor, Options options)
    : camera_(std::move(camera)),
      motor_(std::move(motor)),
      epics_seconds_(std::move(options.epics_seconds)),
      publisher_(std::make_unique<Publisher>(std::move(options.publisher))) {
  camera_->on_frame([this](const ca::FrameInfo& f) { on_frame(f); });
}

CaCameraFeed::~CaCameraFeed() {
  camera_->on_frame({});
  publisher_->stop();
}

void CaCameraFeed::on_frame(const ca::FrameInfo& frame) {
  const double angle = motor_ ? user_position(*motor_, frame.exposure_start) : 0.0;
  const double stamp = epics_seconds_ ? epics_seconds_(frame.tick) : system_epics_seconds();
  (void)publisher_->submit(job_for(frame, kind_.value_or(FrameKind::projection), angle, stamp));
}

}  // namespace pandafly::sim::camera
