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
//   Independent of the state: arrays handed to the plugins are processed
//   plugin_delay after their delivery, in order, even after the acquisition
//   ended (queued_).
//   Events are handled in tick order; at equal ticks the plugins come first
//   (their arrays are older), then a delivery, then a trigger, so a trigger
//   right at the end of an exposure is not dropped.
#include <algorithm>
#include <cmath>
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
  if (!queued_.empty()) next = std::min(next, queued_.front().due);
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
    if (!queued_.empty() && queued_.front().due == next) {
      run_plugins();
    } else if (state_ == State::exposing && exposure_end_ == next) {
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
  busy_ = true;
  post_status("Acquiring images");
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
  post_status("Acquisition complete");
  end_busy_if_done();
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
  post(config_.cam + "ArrayCounter", Longs{id});
  post(config_.cam + "ArrayCounter_RBV", Longs{id});
  post(config_.cam + "NumImagesCounter_RBV", Longs{images_});
  set_state(2);  // Readout
  if (get_enum(config_.cam + "ArrayCallbacks") == 1) {
    Queued q{FrameInfo{id, id, at, exposure_start_, get_long(config_.cam + "SizeX"),
                       get_long(config_.cam + "SizeY"),
                       static_cast<CameraDataType>(get_enum(config_.cam + "DataType"))},
             at + std::max<Tick>(
                      0, std::llround(config_.plugin_delay * static_cast<double>(kTicksPerSecond))),
             get_enum(config_.image + "EnableCallbacks") == 1,
             get_enum(config_.zmq + "EnableCallbacks") == 1};
    if (q.image || q.zmq) {
      queued_.push_back(std::move(q));
      post_queue();
    }
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

// The plugins' processing of the oldest queued array (see camera.hpp).
void Camera::run_plugins() {
  const Queued q = std::move(queued_.front());
  queued_.pop_front();
  const std::string& i = config_.image;
  if (q.image) {
    if (get_enum(i + "ArrayCallbacks") == 1) fill_array(q.frame);
    post(i + "ArraySize0_RBV", Longs{q.frame.width});
    post(i + "ArraySize1_RBV", Longs{q.frame.height});
    post(i + "UniqueId_RBV", Longs{q.frame.unique_id}, true);
    post(i + "ArrayCounter_RBV", Longs{get_long(i + "ArrayCounter_RBV") + 1});
  }
  const std::string& z = config_.zmq;
  if (q.zmq) {
    if (on_frame_) on_frame_(q.frame);
    post(z + "UniqueId_RBV", Longs{q.frame.unique_id}, true);
    post(z + "ArrayCounter_RBV", Longs{get_long(z + "ArrayCounter_RBV") + 1});
  }
  post_queue();
  end_busy_if_done();
}

// cam NumQueuedArrays and each plugin's QueueFree from queued_.
void Camera::post_queue() {
  const auto count = [&](bool Queued::*plugin) {
    return static_cast<std::int32_t>(
        std::count_if(queued_.begin(), queued_.end(), [&](const Queued& q) { return q.*plugin; }));
  };
  const std::int32_t image = count(&Queued::image), zmq = count(&Queued::zmq);
  post(config_.cam + "NumQueuedArrays", Longs{static_cast<std::int32_t>(queued_.size())});
  post(config_.image + "QueueFree", Longs{get_long(config_.image + "QueueSize") - image});
  post(config_.zmq + "QueueFree", Longs{get_long(config_.zmq + "QueueSize") - zmq});
}

// AcquireBusy 0 once idle (and, with WaitForPlugins Yes, the plugins are done).
void Camera::end_busy_if_done() {
  if (!busy_ || state_ != State::idle) return;
  if (get_enum(config_.cam + "WaitForPlugins") == 1 && !queued_.empty()) return;
  busy_ = false;
  post(config_.cam + "AcquireBusy", Enums{0});
}

void Camera::fill_array(const FrameInfo& frame) {
  const auto& data = pvs_.find(config_.image + "ArrayData")->second;
  const auto n = static_cast<std::size_t>(frame.width) * static_cast<std::size_t>(frame.height);
  if (pattern_.index() != data->value().index() || size_of(pattern_) != n ||
      pattern_width_ != frame.width) {
    // Built once per frame size: (x + y) mod 256, which every element type holds.
    pattern_ = data->value();
    pattern_width_ = frame.width;
    std::visit(
        [&](auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_arithmetic_v<T>) {
            const auto width = static_cast<std::size_t>(frame.width);
            v.resize(n);
            for (std::size_t i = 0; i < v.size(); ++i)
              v[i] = static_cast<T>((i % width + i / width) % 256);
          }
        },
        pattern_);
  }
  const std::int32_t unique_id = frame.unique_id;
  Elements array = pattern_;
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
      array);
  data->set(std::move(array), stamp_, true);
  data->set_alarm({});
  const std::string& i = config_.image;
  post(i + "ArrayData.NORD", Longs{static_cast<std::int32_t>(n)});
  post(i + "ArrayData.STAT", Enums{0});
  post(i + "ArrayData.SEVR", Enums{0});
}

void Camera::set_state(std::uint16_t detector_state) {
  post(config_.cam + "DetectorState_RBV", Enums{detector_state});
}

}  // namespace pandafly::sim::ca
