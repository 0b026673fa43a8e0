#include "pandafly/scan/scan_sequence.hpp"

#include <algorithm>
#include <cmath>

namespace pandafly::scan {

ScanSequence make_sequence(const ScanPlan& plan, const ScanConfig& config, const MotorFacts& motor,
                           std::optional<double> sample_position, double sample_speed) {
  ScanSequence s;
  s.kind = plan.kind;
  s.projections = plan.projections;
  if (plan.kind == ScanKind::step) {
    for (std::uint64_t k = 0; k < plan.projections; ++k) s.points.push_back(plan.angle(k));
    s.point_settle = config.scan.settle_s;
    // Frames read over Channel Access one at a time cannot follow a
    // free-running camera: each dark and flat is triggered and awaited.
    s.triggered_fields = config.camera.frames == FrameSource::ca;
    s.point_trigger =
        config.camera.step_trigger == StepTrigger::single ? Trigger::single : Trigger::software;
  }
  s.run_up_start = plan.run_up_start_deg;
  s.run_down_end = plan.run_down_end_deg;
  s.scan_speed = plan.speed_deg_s;
  s.normal_speed = motor.velo;
  s.acceleration_time = plan.accel_time_s;
  s.start_position = motor.rbv;
  if (config.scan.return_to_start) s.return_position = config.scan.start_deg;
  if (plan.kind != ScanKind::step) s.settle = config.scan.settle_s;
  if (plan.kind == ScanKind::cont) s.camera_start = plan.camera_start_deg;
  s.exposure = plan.exposure_s;
  s.frame_time = plan.frame_time_s;
  s.darks_before = plan.darks_before;
  s.darks_after = plan.darks_after;
  s.flats_before = plan.flats_before;
  s.flats_after = plan.flats_after;
  s.has_shutter = !config.shutter.command.empty();
  if (plan.flats_before + plan.flats_after > 0) {
    s.sample_out = config.flats.sample_out;
    s.sample_in = config.flats.has_sample_in ? config.flats.sample_in : sample_position.value_or(0);
    s.sample_speed = sample_speed > 0 ? sample_speed : 1.0;
  }
  s.rotation_tolerance = motor.rdbd > 0 ? std::max(motor.rdbd, std::abs(motor.mres))
                                        : std::max(0.01, 10 * std::abs(motor.mres));
  s.collect_grace = std::max(2.0, 10 * plan.frame_time_s);
  return s;
}

}  // namespace pandafly::scan
