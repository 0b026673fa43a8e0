#pragma once
// Acquisition: when the simulated camera takes a frame, of what kind, at which
// stage angle — turned into FrameJobs for the Publisher. Sans-IO: time is
// simulation ticks passed in (sim/ticks.hpp), so a test drives it exactly and
// the shells decide what a tick is (the wall clock, the PandA's FPGA time).
//
// Rules
//   * States: idle -> (start) running -> (the last frame) done. stop() ends it
//     at any time. Frames are only made while running.
//   * Triggers. internal: frame k at start + k / rate_hz (advance(now) hands
//     out every frame due by `now`, in order; next_due() says when the next
//     one is). software and external: trigger(at) makes one frame at `at`
//     (a software TriggerSoftware put, or a rising edge from the PandA's
//     TTLOUT callback). A trigger in the wrong mode, before start(), or after
//     the end makes no frame and is counted (dropped_triggers()).
//   * Kinds: `darks` darks, then `flats` flats, then `projections` projections
//     (0 = for ever), with their HDF5FrameLocation; set_kind() overrides the
//     sequence (a scan closing the shutter or moving the sample out) until
//     set_kind(nullopt). Overridden frames count towards nothing.
//   * Angle: config.angle(tick) when given (e.g. the motor record's motion);
//     otherwise start_deg + speed_deg_s * (seconds since the first
//     projection's trigger): the stage starts turning with the projections,
//     so projection k of an internal acquisition sits at start + k * speed / rate.
//   * Time stamps: epics_seconds_at_tick0 + tick * 8 ns.
//   * One thread at a time (no locks).
//
// Example:
//   Acquisition acq({.format = {256, 256, capture::DataType::uint16}, .rate_hz = 10,
//                    .darks = 2, .flats = 2, .projections = 180, .speed_deg_s = 10});
//   acq.start(0);
//   for (auto& job : acq.advance(now)) publisher.submit(job);   // internal
//   fpga.on_ttl_out([&](std::size_t, bool up, Tick t) {          // external
//     if (auto job = up ? acq.trigger(t) : std::nullopt) publisher.submit(*job); });
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "sim/camera/frame_job.hpp"

namespace pandafly::sim::camera {

enum class TriggerMode { internal, software, external };

/// The stage angle (degrees) at a simulation tick.
using AngleSource = std::function<double(Tick)>;

struct AcquisitionConfig {
  FrameFormat format{};
  TriggerMode mode = TriggerMode::internal;
  double rate_hz = 10;  ///< internal triggers per second (> 0)
  std::size_t darks = 0;
  std::size_t flats = 0;
  std::uint64_t projections = 0;  ///< 0: for ever
  double start_deg = 0;
  double speed_deg_s = 0;
  AngleSource angle{};  ///< overrides start_deg / speed_deg_s
  double epics_seconds_at_tick0 = 0;
};

class Acquisition {
 public:
  /// Throws std::invalid_argument on a non-finite angle or speed, or (internal
  /// mode) a rate that is not positive and finite.
  explicit Acquisition(AcquisitionConfig config);

  /// Starts at `at`: the first internal frame is due then; triggers from then on count.
  void start(Tick at);
  void stop();

  /// Internal mode: every frame due at or before `now`.
  [[nodiscard]] std::vector<FrameJob> advance(Tick now);
  /// Internal mode: when the next frame is due; kNever when none will be.
  [[nodiscard]] Tick next_due() const;
  /// Software / external mode: one frame at `at`, or nullopt (counted) — see Rules.
  [[nodiscard]] std::optional<FrameJob> trigger(Tick at);

  void set_kind(std::optional<FrameKind> kind) { forced_kind_ = kind; }
  [[nodiscard]] bool running() const { return state_ == State::running; }
  [[nodiscard]] bool done() const { return state_ == State::done; }
  [[nodiscard]] std::uint64_t frames() const { return frames_; }
  [[nodiscard]] std::uint64_t dropped_triggers() const { return dropped_triggers_; }
  [[nodiscard]] const AcquisitionConfig& config() const { return config_; }

 private:
  enum class State { idle, running, done };

  [[nodiscard]] FrameKind kind_of_next() const;
  [[nodiscard]] double angle_at(Tick t) const;
  [[nodiscard]] Tick due(std::uint64_t k) const;
  FrameJob make(Tick at);

  AcquisitionConfig config_;
  State state_ = State::idle;
  Tick start_ = 0;
  std::optional<Tick> rotation_start_;  // the first projection's tick
  std::uint64_t frames_ = 0;            // frames made (the internal schedule's k)
  std::uint64_t sequence_ = 0;          // frames made that count towards darks/flats/projections
  std::optional<FrameKind> forced_kind_;
  std::uint64_t dropped_triggers_ = 0;
};

}  // namespace pandafly::sim::camera
