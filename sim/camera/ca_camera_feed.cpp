#include "sim/camera/ca_camera_feed.hpp"

#include <chrono>
#include <cmath>
#include <optional>
#include <utility>
#include <variant>

#include <fmt/format.h>

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

FrameJob job_for(const ca::FrameInfo& frame, FrameKind kind, double angle_deg, double epics_seconds,
                 std::vector<capture::Attribute> attributes) {
  return {.kind = kind,
          .angle_deg = angle_deg,
          .timestamp = epics_seconds,
          .format = {static_cast<std::size_t>(frame.width), static_cast<std::size_t>(frame.height),
                     data_type_of(frame.data_type)},
          .tick = frame.exposure_start,
          .unique_id = static_cast<std::uint64_t>(frame.unique_id),
          .attributes = std::move(attributes)};
}

std::string_view frame_location_of_frame_type(std::uint16_t frame_type) {
  switch (frame_type) {
    case 0:
      return hdf5_frame_location(FrameKind::dark);
    case 1:
      return hdf5_frame_location(FrameKind::flat);
    default:
      return hdf5_frame_location(FrameKind::projection);
  }
}

std::string truth_json_line(const FrameTruth& t) {
  return fmt::format(
      R"({{"unique_id":{},"exposure_start_tick":{},"exposure_end_tick":{},"delivered_tick":{},)"
      R"("exposure_start_s":{},"exposure_end_s":{},"angle_start_deg":{},"angle_mid_deg":{},)"
      R"("angle_end_deg":{},"kind":"{}","published":{},"fault":"{}"}})",
      t.unique_id, t.exposure_start, t.exposure_end, t.delivered,
      static_cast<double>(t.exposure_start) * kSecondsPerTick,
      static_cast<double>(t.exposure_end) * kSecondsPerTick, t.angle_start_deg, t.angle_mid_deg,
      t.angle_end_deg, to_string(t.kind), t.published ? "true" : "false", ca::to_string(t.fault));
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
      options_(std::move(options)),
      publisher_(std::make_unique<Publisher>(std::move(options_.publisher))) {
  readouts_ = camera_->subscribe_readouts([this](const ca::FrameInfo& f) { on_readout(f); });
  frames_ = camera_->subscribe_frames([this](const ca::FrameInfo& f) { on_frame(f); });
  if (options_.post_to_camera)
    camera_->set_array_provider([this](const ca::FrameInfo& f) { on_image_request(f); });
}

CaCameraFeed::~CaCameraFeed() {
  if (options_.post_to_camera) camera_->set_array_provider({});
  frames_.reset();
  readouts_.reset();
  publisher_->stop();
}

FrameKind CaCameraFeed::kind_of(Tick start, Tick end) const {
  if (options_.shutter && !options_.shutter->open_throughout(start, end)) return FrameKind::dark;
  if (options_.sample_motor) {
    const ca::CameraConfig& c = camera_->config();
    const double x = user_position(*options_.sample_motor, start + (end - start) / 2);
    if (std::abs(x - c.sample_in) > c.sample_out_threshold) return FrameKind::flat;
  }
  return FrameKind::projection;
}

// The driver has the frame: what it shows (truth) and its attributes (what
// the IOC reads now: the RBV as last posted, the FrameType PV).
void CaCameraFeed::on_readout(const ca::FrameInfo& frame) {
  const Tick mid = frame.exposure_start + (frame.exposure_end - frame.exposure_start) / 2;
  const auto angle = [&](Tick t) { return motor_ ? user_position(*motor_, t) : 0.0; };
  FrameTruth truth{.unique_id = frame.unique_id,
                   .exposure_start = frame.exposure_start,
                   .exposure_end = frame.exposure_end,
                   .delivered = frame.tick,
                   .angle_start_deg = angle(frame.exposure_start),
                   .angle_mid_deg = angle(mid),
                   .angle_end_deg = angle(frame.exposure_end),
                   .kind = kind_of(frame.exposure_start, frame.exposure_end),
                   .published = frame.to_zmq && frame.fault != ca::FrameFault::dropped,
                   .fault = frame.fault};
  const bool image = frame.to_image && options_.post_to_camera;
  if (truth.published || image) {
    const double stamp =
        options_.epics_seconds ? options_.epics_seconds(frame.tick) : system_epics_seconds();
    const double rbv = motor_ ? first_number(motor_->field("RBV"), 0.0) : 0.0;
    const auto frame_type = camera_->pv("FrameType");
    const auto type_index = static_cast<std::uint16_t>(first_number(frame_type, 0.0));
    std::vector<capture::Attribute> attributes{
        {"ColorMode", std::int64_t{0}},
        {"HDF5FrameLocation", std::string(frame_location_of_frame_type(type_index))},
        {"theta_readout", rbv},
        {"NDArrayTimeStamp", stamp}};
    pending_.erase(pending_.begin(), pending_.lower_bound(frame.unique_id - 64));
    pending_[frame.unique_id] =
        Pending{truth.kind, truth.angle_mid_deg, stamp, std::move(attributes)};
  }
  if (options_.on_truth) options_.on_truth(truth);
}

void CaCameraFeed::on_frame(const ca::FrameInfo& frame) {
  const auto it = pending_.find(frame.unique_id);
  if (it == pending_.end()) return;  // hooked after its delivery: nothing known about it
  Pending& p = it->second;
  FrameJob job = job_for(frame, p.kind, p.angle_deg, p.stamp, p.attributes);
  const bool image = std::exchange(p.image_wants_pixels, false);
  if (image) job.on_pixels = pixels_to_camera(frame);
  if (!publisher_->submit(std::move(job)) && image) camera_->array_ready(frame.unique_id, {});
}

// image1 processes frame k: its pixels on ZMQ1's job for k when ZMQ1 sends k
// right after (see Rules), else from a job of their own.
void CaCameraFeed::on_image_request(const ca::FrameInfo& frame) {
  const auto it = pending_.find(frame.unique_id);
  if (it == pending_.end()) {
    camera_->array_ready(frame.unique_id, {});
    return;
  }
  Pending& p = it->second;
  const bool zmq_sends_it_now = frame.to_zmq && (frame.fault == ca::FrameFault::none ||
                                                 frame.fault == ca::FrameFault::duplicated ||
                                                 frame.fault == ca::FrameFault::stalled);
  if (zmq_sends_it_now) {
    p.image_wants_pixels = true;
    return;
  }
  FrameJob job = job_for(frame, p.kind, p.angle_deg, p.stamp, {});
  job.send = false;
  job.on_pixels = pixels_to_camera(frame);
  if (!publisher_->submit(std::move(job))) camera_->array_ready(frame.unique_id, {});
}

// On the publisher thread: the pixels as ArrayData's value, handed to the
// camera's thread.
std::function<void(std::span<const std::byte>)> CaCameraFeed::pixels_to_camera(
    const ca::FrameInfo& frame) const {
  return [post = options_.post_to_camera, camera = std::weak_ptr<ca::Camera>(camera_),
          id = frame.unique_id, array_type = camera_->config().data_type,
          pixel_type = frame.data_type](std::span<const std::byte> pixels) {
    std::optional<ca::Elements> value;
    if (!pixels.empty()) value = ca::array_elements(array_type, pixel_type, pixels);
    post([camera, id, value = std::move(value)]() mutable {
      if (const auto c = camera.lock()) c->array_ready(id, std::move(value));
    });
  };
}

void wire_beamline(CaCameraFeed::Options& options, const ca::Beamline& beamline,
                   const ca::Camera& camera) {
  const ca::CameraConfig& c = camera.config();
  for (const auto& s : beamline.shutters)
    if (!c.shutter.empty() && s->config().name == c.shutter) options.shutter = s;
  for (const auto& m : beamline.motors)
    if (!c.sample_motor.empty() && m->config().name == c.sample_motor) options.sample_motor = m;
}

CaCameraFeed::Options feed_options(const ca::Beamline& beamline, const ca::Camera& camera,
                                   std::string server_host, std::shared_ptr<const SimClock> clock) {
  const ca::CameraConfig& c = camera.config();
  CaCameraFeed::Options o;
  o.publisher.server_host = std::move(server_host);
  o.publisher.format = FrameFormat{static_cast<std::size_t>(c.size_x),
                                   static_cast<std::size_t>(c.size_y), data_type_of(c.data_type)};
  o.epics_seconds = [clock = std::move(clock)](Tick t) { return clock->epics_seconds(t); };
  wire_beamline(o, beamline, camera);
  return o;
}

}  // namespace pandafly::sim::camera
