// Camera: the acquisition state machine.
//
// Rules
//   States: idle -> (Acquire = 1) waiting | exposing.
//   waiting   -> exposing  at next_start_ (TriggerMode Off) or at a trigger of
//                           the selected source (TriggerMode On);
//   exposing  -> reading   at exposure_end_ (readout_end_ = it + the readout
//                           time, + a stall fault's seconds);
//   reading   -> waiting   at readout_end_: the frame is delivered; with
//                           TriggerMode Off the next exposure starts
//                           max(AcquirePeriod, AcquireTime + readout) after
//                           this one began (at once when that is now or
//                           past: exposing again); a zero readout delivers at
//                           the exposure's end;
//   exposing, reading: a trigger of the selected source is missed (counted).
//   any       -> idle      after the last frame (Single: 1, Multiple:
//                           NumImages) or on Acquire = 0; pending put-callbacks
//                           on Acquire complete.
//   Independent of the state: arrays handed to the plugins are processed
//   plugin_delay after their delivery, in order, even after the acquisition
//   ended (queued_).
//   With an array provider, image1's processing is split: at its tick the
//   array joins image_waiting_ (and the provider is asked); the front of
//   image_waiting_, once answered, is processed at the camera's current
//   tick (image_wake: now, or the tick after image1's last array).
//   Events are handled in tick order; at equal ticks the plugins come first
//   (their arrays are older; image1's answered arrays before the queue),
//   then an exposure's end, then a delivery, then a trigger, so a trigger
//   right at the end of a readout is not missed.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "sim/ca/camera.hpp"
#include "sim/fault_log.hpp"

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
  next = std::min(next, image_wake());
  if (state_ == State::exposing) next = std::min(next, exposure_end_);
  if (state_ == State::reading) next = std::min(next, readout_end_);
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
    if (image_wake() == next) {
      process_ready_image();
    } else if (!queued_.empty() && queued_.front().due == next) {
      run_plugins();
    } else if (state_ == State::exposing && exposure_end_ == next) {
      end_exposure(next);
    } else if (state_ == State::reading && readout_end_ == next) {
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
  exposure_end_ = readout_end_ = next_start_ = kNever;
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
  const std::uint64_t k = ++triggers_received_;
  if (std::find(faults_.miss_triggers.begin(), faults_.miss_triggers.end(), k) !=
      faults_.miss_triggers.end()) {
    ++missed_triggers_;
    log_fault(at, fmt::format("missed trigger {}", k));
    return;
  }
  const bool selected = state_ != State::idle && at >= acquisition_start_ && source() == from;
  if (selected && (state_ == State::exposing || state_ == State::reading)) {
    ++missed_triggers_;
    return;
  }
  if (!selected || state_ != State::waiting) {
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

void Camera::end_exposure(Tick at) {
  exposure_end_ = kNever;
  last_exposure_end_ = at;
  state_ = State::reading;
  readout_end_ = at + readout_ticks();
  const std::int32_t next_id = array_counter_ + 1;
  for (const auto& stall : faults_.stalls) {
    if (stall.frame != next_id) continue;
    readout_end_ +=
        std::max<Tick>(0, std::llround(stall.seconds * static_cast<double>(kTicksPerSecond)));
    log_fault(at, fmt::format("camera stalled {:.6f} s at frame {}", stall.seconds, next_id));
  }
  set_state(2);  // Readout
  if (readout_end_ == at) deliver(at);
}

bool Camera::faulted(const std::vector<std::int32_t>& frames, std::int32_t id) const {
  return std::find(frames.begin(), frames.end(), id) != frames.end();
}

void Camera::log_fault(Tick at, std::string_view what) {
  sim::log_fault(log_, what, at);
}

void Camera::deliver(Tick at) {
  state_ = State::waiting;
  readout_end_ = kNever;
  ++images_;
  const std::int32_t id = ++array_counter_;
  const bool callbacks = get_enum(config_.cam + "ArrayCallbacks") == 1;
  Queued q{FrameInfo{id, id, at, exposure_start_, last_exposure_end_, false, FrameFault::none,
                     get_long(config_.cam + "SizeX"), get_long(config_.cam + "SizeY"),
                     static_cast<CameraDataType>(get_enum(config_.cam + "DataType"))},
           at + std::max<Tick>(
                    0, std::llround(config_.plugin_delay * static_cast<double>(kTicksPerSecond))),
           callbacks && get_enum(config_.image + "EnableCallbacks") == 1,
           callbacks && get_enum(config_.zmq + "EnableCallbacks") == 1};
  FrameInfo& f = q.frame;
  f.to_zmq = q.zmq;
  f.to_image = q.image;
  if (faulted(faults_.drop_frames, id)) {
    f.fault = FrameFault::dropped;
  } else if (faulted(faults_.duplicate_frames, id)) {
    f.fault = FrameFault::duplicated;
  } else if (faulted(faults_.swap_frames, id)) {
    f.fault = FrameFault::swapped;
  } else if (std::any_of(faults_.stalls.begin(), faults_.stalls.end(),
                         [&](const CameraFaults::Stall& s) { return s.frame == id; })) {
    f.fault = FrameFault::stalled;
  }
  readouts_.notify(f);
  post(config_.cam + "ArrayCounter", Longs{id});
  post(config_.cam + "ArrayCounter_RBV", Longs{id});
  post(config_.cam + "NumImagesCounter_RBV", Longs{images_});
  set_state(2);  // Readout
  if (q.image || q.zmq) {
    queued_.push_back(std::move(q));
    post_queue();
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
  if (q.image) {
    const bool array = get_enum(config_.image + "ArrayCallbacks") == 1;
    if (!array_provider_) {
      process_image(q.frame, array, std::nullopt);
    } else {
      // Waits for its pixels (and behind the arrays before it).
      image_waiting_.push_back(ImageWait{q.frame, array, !array, std::nullopt});
      if (array) array_provider_(q.frame);
    }
  }
  if (q.zmq) {
    const FrameInfo& f = q.frame;
    if (f.fault == FrameFault::dropped) {
      const std::string dropped = config_.zmq + "DroppedArrays_RBV";
      post(dropped, Longs{get_long(dropped) + 1});
      log_fault(q.due, fmt::format("dropped frame {}", f.unique_id));
    } else if (f.fault == FrameFault::swapped && !swap_held_) {
      swap_held_ = f;  // published after the next one
    } else {
      publish_zmq(f);
      if (f.fault == FrameFault::duplicated) {
        publish_zmq(f);
        log_fault(q.due, fmt::format("sent frame {} twice", f.unique_id));
      }
      if (swap_held_) {
        const FrameInfo held = *std::exchange(swap_held_, std::nullopt);
        publish_zmq(held);
        log_fault(q.due, fmt::format("swapped frames {} and {}", held.unique_id, f.unique_id));
      }
    }
  }
  if (swap_held_ && state_ == State::idle && queued_.empty()) {
    // Nothing follows the held frame: publish it last.
    const FrameInfo held = *std::exchange(swap_held_, std::nullopt);
    publish_zmq(held);
    log_fault(q.due, fmt::format("swapped frame {} with nothing (published last)", held.unique_id));
  }
  post_queue();
  end_busy_if_done();
}

// image1's processing of one array: ArrayData (when `array`: `pixels`, or
// the gradient without them), then its counters.
void Camera::process_image(const FrameInfo& frame, bool array, std::optional<Elements> pixels) {
  const std::string& i = config_.image;
  if (array) fill_array(frame, std::move(pixels));
  post(i + "ArraySize0_RBV", Longs{frame.width});
  post(i + "ArraySize1_RBV", Longs{frame.height});
  post(i + "DataType_RBV", Enums{static_cast<std::uint16_t>(frame.data_type)});
  post(i + "UniqueId_RBV", Longs{frame.unique_id}, true);
  post(i + "ArrayCounter_RBV", Longs{get_long(i + "ArrayCounter_RBV") + 1});
}

// When image1 processes its answered front array: now, one tick after its
// previous array at the earliest (so every array has its own time stamp).
Tick Camera::image_wake() const {
  if (image_waiting_.empty() || !image_waiting_.front().ready) return kNever;
  return std::max(now_, last_image_tick_ + 1);
}

void Camera::process_ready_image() {
  last_image_tick_ = image_wake();
  ImageWait w = std::move(image_waiting_.front());
  image_waiting_.pop_front();
  if (w.array && !w.pixels) {
    // The provider could not make the pixels: image1 drops the array.
    const std::string dropped = config_.image + "DroppedArrays_RBV";
    post(dropped, Longs{get_long(dropped) + 1});
    log_fault(last_image_tick_,
              fmt::format("image1 dropped frame {}: no pixels for it (the simulator's "
                          "renderer could not make them)",
                          w.frame.unique_id));
  } else {
    process_image(w.frame, w.array, std::move(w.pixels));
  }
  post_queue();
  end_busy_if_done();
}

void Camera::array_ready(std::int32_t unique_id, std::optional<Elements> pixels) {
  for (auto& w : image_waiting_) {
    if (w.frame.unique_id != unique_id || w.ready || !w.array) continue;
    w.ready = true;
    w.pixels = std::move(pixels);
    return;
  }
}

// ZMQ1's processing of one array: the hook, then its counters.
void Camera::publish_zmq(const FrameInfo& frame) {
  const std::string& z = config_.zmq;
  frames_.notify(frame);
  post(z + "UniqueId_RBV", Longs{frame.unique_id}, true);
  post(z + "ArrayCounter_RBV", Longs{get_long(z + "ArrayCounter_RBV") + 1});
}

// cam NumQueuedArrays and each plugin's QueueFree from queued_.
void Camera::post_queue() {
  const auto count = [&](bool Queued::*plugin) {
    return static_cast<std::int32_t>(
        std::count_if(queued_.begin(), queued_.end(), [&](const Queued& q) { return q.*plugin; }));
  };
  const auto waiting = static_cast<std::int32_t>(image_waiting_.size());
  const std::int32_t image = count(&Queued::image) + waiting, zmq = count(&Queued::zmq);
  post(config_.cam + "NumQueuedArrays", Longs{static_cast<std::int32_t>(queued_.size()) + waiting});
  post(config_.image + "QueueFree", Longs{get_long(config_.image + "QueueSize") - image});
  post(config_.zmq + "QueueFree", Longs{get_long(config_.zmq + "QueueSize") - zmq});
}

// AcquireBusy 0 once idle (and, with WaitForPlugins Yes, the plugins are done).
void Camera::end_busy_if_done() {
  if (!busy_ || state_ != State::idle) return;
  if (get_enum(config_.cam + "WaitForPlugins") == 1 &&
      (!queued_.empty() || !image_waiting_.empty()))
    return;
  busy_ = false;
  post(config_.cam + "AcquireBusy", Enums{0});
}

void Camera::fill_array(const FrameInfo& frame, std::optional<Elements> pixels) {
  const auto& data = pvs_.find(config_.image + "ArrayData")->second;
  const auto n = static_cast<std::size_t>(frame.width) * static_cast<std::size_t>(frame.height);
  if (pixels) {
    data->set(std::move(*pixels), stamp_, true);
    post_array_status(n);
    return;
  }
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
  post_array_status(n);
}

// ArrayData's fields after it was processed with `n` elements.
void Camera::post_array_status(std::size_t n) {
  pvs_.find(config_.image + "ArrayData")->second->set_alarm({});
  const std::string& i = config_.image;
  post(i + "ArrayData.NORD", Longs{static_cast<std::int32_t>(n)});
  post(i + "ArrayData.STAT", Enums{0});
  post(i + "ArrayData.SEVR", Enums{0});
}

void Camera::set_state(std::uint16_t detector_state) {
  post(config_.cam + "DetectorState_RBV", Enums{detector_state});
}

}  // namespace pandafly::sim::ca
