#include "sim/camera/acquisition.hpp"

#include <cmath>
#include <stdexcept>

namespace pandafly::sim::camera {

Acquisition::Acquisition(AcquisitionConfig config) : config_(std::move(config)) {
  if (!std::isfinite(config_.start_deg) || !std::isfinite(config_.speed_deg_s))
    throw std::invalid_argument("Acquisition: start angle and speed must be finite");
  if (config_.mode == TriggerMode::internal &&
      !(config_.rate_hz > 0 && std::isfinite(config_.rate_hz)))
    throw std::invalid_argument("Acquisition: the frame rate must be positive");
}

void Acquisition::start(Tick at) {
  state_ = State::running;
  start_ = at;
  rotation_start_.reset();
  frames_ = sequence_ = 0;
}

void Acquisition::stop() {
  state_ = State::done;
}

FrameKind Acquisition::kind_of_next() const {
  if (forced_kind_) return *forced_kind_;
  if (sequence_ < config_.darks) return FrameKind::dark;
  if (sequence_ < config_.darks + config_.flats) return FrameKind::flat;
  return FrameKind::projection;
}

double Acquisition::angle_at(Tick t) const {
  if (config_.angle) return config_.angle(t);
  if (!rotation_start_) return config_.start_deg;
  return config_.start_deg +
         config_.speed_deg_s * static_cast<double>(t - *rotation_start_) * kSecondsPerTick;
}

Tick Acquisition::due(std::uint64_t k) const {
  // From the start each time, so the schedule never accumulates rounding.
  return start_ +
         static_cast<Tick>(std::llround(static_cast<double>(k) *
                                        static_cast<double>(kTicksPerSecond) / config_.rate_hz));
}

FrameJob Acquisition::make(Tick at) {
  const FrameKind kind = kind_of_next();
  if (kind == FrameKind::projection && !forced_kind_ && !rotation_start_) rotation_start_ = at;
  FrameJob job{
      .kind = kind,
      .angle_deg = angle_at(at),
      .timestamp = config_.epics_seconds_at_tick0 + static_cast<double>(at) * kSecondsPerTick,
      .format = config_.format,
      .tick = at};
  ++frames_;
  if (!forced_kind_) ++sequence_;
  const std::uint64_t total = config_.darks + config_.flats + config_.projections;
  if (config_.projections != 0 && sequence_ >= total) state_ = State::done;
  return job;
}

std::vector<FrameJob> Acquisition::advance(Tick now) {
  std::vector<FrameJob> jobs;
  if (config_.mode != TriggerMode::internal) return jobs;
  while (state_ == State::running && due(frames_) <= now) jobs.push_back(make(due(frames_)));
  return jobs;
}

Tick Acquisition::next_due() const {
  if (config_.mode != TriggerMode::internal || state_ != State::running) return kNever;
  return due(frames_);
}

std::optional<FrameJob> Acquisition::trigger(Tick at) {
  if (config_.mode == TriggerMode::internal || state_ != State::running || at < start_) {
    ++dropped_triggers_;
    return std::nullopt;
  }
  return make(at);
}

}  // namespace pandafly::sim::camera
