// Camera: the acquisition state machine.
//
// Rules
//   States: idle -> (Acquire = 1) waiting | exposing.
//   waiting   -> exposing  at next_start_ (TriggerMode Off) or at a trigger of
//                           the selected source (TriggerMode On);
//   exposing  -> waiting   at exposure_end_: the frame is delivered; with
//                           TriggerMode Off the next exposure starts
//                           AcquirePeriod after this one began (at once when
//                           that is now: exposing again);
//   any       -> idle      after the last frame (Single: 1, Multiple:
//                           NumImages) or on Acquire = 0; pending put-callbacks
//                           on Acquire complete.
//   Events are handled in tick order; at equal ticks a delivery comes before
//   a trigger, so a trigger right at the end of an exposure is not dropped.
#include <algorithm>
#include <type_traits>
#include <utility>

#include "sim/ca/camera.hpp"

namespace pandafly::sim::ca {

void Camera::advance(Tick now, EpicsTime wall) {
  now_ = std::max(now, now_);
  wall_ = wall;
  run_until(now_);
  stamp_ = wall_;
}

Tick Camera::next_wake() const {
  Tick next = triggers_.empty() ? kNever : triggers_.front();
  if (state_ == State::exposing) next = std::min(next, exposure_end_);
  if (state_ == State::waiting && source() == Source::internal) next = std::min(next, next_start_);
  return next;
}

void Camera::external_trigger(Tick at) {
  triggers_.insert(std::upper_bound(triggers_.begin(), triggers_.end(), at), at);
  run_until(now_);
  stamp_ = wall_;
}

void Camera::run_until(Tick t) {
  for (Tick next = next_wake(); next <= t; next = next_wake()) {
    stamp_ = wall_at(next);
    if (state_ == State::exposing && exposure_end_ == next) {
      deliver(next);
    } else if (!triggers_.empty() && triggers_.front() == next) {
      triggers_.pop_front();
      trigger(next, Source::external);
    } else {
      begin_exposure(next);
    }
  }
}

EpicsTime Camera::wall_at(Tick t) const {
  return wall_time_at(t, now_, wall_);
}

void Camera::start() {
  acquisition_start_ = now_;
  images_ = 0;
  post(config_.cam + "NumImagesCounter_RBV", Longs{0});
  post(config_.cam + "Acquire", Enums{1}, true);
  post(config_.cam + "Acquire_RBV", Enums{1});
  post(config_.cam + "AcquireBusy", Enums{1});
  state_ = State::waiting;
  if (source() == Source::internal) {
    begin_exposure(now_);
  } else {
    next_start_ = kNever;
    set_state(7);  // Waiting
  }
}

void Camera::stop() {
  state_ = State::idle;
  exposure_end_ = next_start_ = kNever;
  set_state(0);  // Idle
  post(config_.cam + "Acquire", Enums{0});
  post(config_.cam + "Acquire_RBV", Enums{0});
  post(config_.cam + "AcquireBusy", Enums{0});
  auto pending = std::exchange(pending_, {});
  for (auto& done : pending)
    if (done) done(kEcaNormal);
}

void Camera::trigger(Tick at, Source from) {
  if (state_ != State::waiting || at < acquisition_start_ || source() != from) {
    ++dropped_triggers_;
    return;
  }
  begin_exposure(at);
}

void Camera::begin_exposure(Tick at) {
  state_ = State::exposing;
  exposure_start_ = at;
  exposure_end_ = at + exposure_ticks();
  next_start_ = kNever;
  set_state(1);  // Acquire
}

void Camera::deliver(Tick at) {
  state_ = State::waiting;
  exposure_end_ = kNever;
  ++images_;
  const std::int32_t id = ++array_counter_;
  const bool callbacks = get_enum(config_.cam + "ArrayCallbacks") == 1;
  const std::string& image = config_.image;
  if (callbacks && get_enum(image + "EnableCallbacks") == 1) {
    post(image + "UniqueId_RBV", Longs{id}, true);
    if (get_enum(image + "ArrayCallbacks") == 1) fill_array(id);
    post(image + "ArrayCounter_RBV", Longs{get_long(image + "ArrayCounter_RBV") + 1});
  }
  post(config_.cam + "ArrayCounter", Longs{id});
  post(config_.cam + "ArrayCounter_RBV", Longs{id});
  post(config_.cam + "NumImagesCounter_RBV", Longs{images_});
  set_state(2);  // Readout
  if (on_frame_ && callbacks && get_enum(config_.zmq + "EnableCallbacks") == 1) {
    on_frame_(FrameInfo{id, id, at, exposure_start_, config_.size_x, config_.size_y,
                        static_cast<CameraDataType>(get_enum(config_.cam + "DataType"))});
  }
  const std::uint16_t mode = get_enum(config_.cam + "ImageMode");
  if (mode == 0 || (mode == 1 && images_ >= get_long(config_.cam + "NumImages"))) {
    stop();
    return;
  }
  if (source() == Source::internal) {
    next_start_ = exposure_start_ + period_ticks();
    if (next_start_ <= at) {
      begin_exposure(at);
      return;
    }
  }
  set_state(7);  // Waiting
}

void Camera::fill_array(std::int32_t unique_id) {
  const auto& data = pvs_.find(config_.image + "ArrayData")->second;
  if (pattern_.index() != data->value().index() || size_of(pattern_) == 0) {
    // Built once: (x + y) mod 256, which every element type holds.
    pattern_ = data->value();
    std::visit(
        [&](auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_arithmetic_v<T>) {
            const auto width = static_cast<std::size_t>(config_.size_x);
            v.resize(data->max_count());
            for (std::size_t i = 0; i < v.size(); ++i)
              v[i] = static_cast<T>((i % width + i / width) % 256);
          }
        },
        pattern_);
  }
  Elements frame = pattern_;
  std::visit(
      [&](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::uint8_t>) {
          v.front() = static_cast<T>(unique_id & 0xFF);
        } else if constexpr (std::is_same_v<T, std::int16_t>) {
          v.front() = static_cast<T>(unique_id & 0x7FFF);
        } else if constexpr (std::is_arithmetic_v<T>) {
          v.front() = static_cast<T>(unique_id);
        }
      },
      frame);
  data->set(std::move(frame), stamp_, true);
}

void Camera::set_state(std::uint16_t detector_state) {
  post(config_.cam + "DetectorState_RBV", Enums{detector_state});
}

}  // namespace pandafly::sim::ca
