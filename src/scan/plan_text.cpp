// describe(): the dry-run text of a fly scan plan (contract in
// include/pandafly/scan/plan.hpp). Pure formatting.
#include <array>
#include <cmath>
#include <initializer_list>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "pandafly/capture/frame_timing.hpp"
#include "pandafly/scan/plan.hpp"

namespace pandafly::scan {
namespace {

constexpr std::uint64_t kListAll = 20;  // up to this many triggers, list each one

void line(std::string& out, std::string_view label, std::string_view text) {
  fmt::format_to(std::back_inserter(out), "  {:<13} {}\n", label, text);
}

std::string seconds(double s) {
  if (s >= 60)
    return fmt::format("{:.1f} s ({}:{:04.1f} min)", s, static_cast<int>(s / 60),
                       std::fmod(s, 60.0));
  return fmt::format("{:.3f} s", s);
}

void triggers(std::string& out, const ScanPlan& p) {
  const auto& g = p.geometry;
  line(out, "triggers",
       fmt::format("{} at {} … {} counts, step {} counts ({:.8g}° … {:.8g}°, step {:.8g}°)",
                   g.pulses, g.first_counts, p.trigger_counts(p.projections - 1), g.step_counts,
                   p.first_deg, p.last_deg(), p.step_deg));
  line(out, "encoder",
       fmt::format("{} counts/degree, offset {} counts; PCOMP pre-start {} counts",
                   g.counts_per_degree, g.offset_counts, g.pre_start_counts));
  if (p.projections > kListAll) return;
  for (std::uint64_t k = 0; k < p.projections; ++k)
    fmt::format_to(std::back_inserter(out), "    #{:<3} {:>12} counts  {:>12.6f}°\n", k,
                   p.trigger_counts(k), p.angle(k));
}

void frames(std::string& out, std::string_view what, std::uint64_t before, std::uint64_t after,
            std::string_view how) {
  if (before + after == 0) {
    line(out, what, "none");
    return;
  }
  line(out, what, fmt::format("{} before, {} after ({})", before, after, how));
}

void fields_and_output(std::string& out, const ScanPlan& p, const ScanConfig& c) {
  frames(out, "darks", p.darks_before, p.darks_after,
         fmt::format("shutter {} closed", c.shutter.command));
  frames(out, "flats", p.flats_before, p.flats_after,
         fmt::format("{} out to {:.8g}", c.flats.sample_motor, c.flats.sample_out));
  line(out, "output", c.output.file);
}

/// "expected durations" and one row per (label, seconds), then the notes.
void durations_and_notes(std::string& out,
                         std::initializer_list<std::pair<std::string_view, double>> rows,
                         const ScanPlan& p) {
  out += "  expected durations\n";
  for (const auto& [label, s] : rows)
    fmt::format_to(std::back_inserter(out), "    {:<28} {}\n", label, seconds(s));
  for (const auto& note : p.notes) fmt::format_to(std::back_inserter(out), "  note: {}\n", note);
}

// The durations of a scan that moves through its range (fly, cont): to the
// run-up start, settle, fields, run-up, the projections, run-down, return.
void run_durations_and_notes(std::string& out, const ScanPlan& p, std::string_view projections) {
  const auto& d = p.durations;
  durations_and_notes(out,
                      {{"move to the run-up start", d.to_start_s},
                       {"settle", d.settle_s},
                       {"darks", d.darks_s},
                       {"flats", d.flats_s},
                       {"run-up", d.run_up_s},
                       {projections, d.projections_s},
                       {"run-down", d.run_down_s},
                       {"return to start", d.return_s},
                       {"total", d.total_s}},
                      p);
}

void ramp(std::string& out, const ScanPlan& p) {
  line(out, "ramp",
       fmt::format("ACCL {:.6g} s, {:.6g} deg/s², covers {:.6g}°", p.accel_time_s,
                   p.acceleration_deg_s2, p.accel_distance_deg));
}

std::string describe_step(const ScanPlan& p, const ScanConfig& c) {
  std::string out = fmt::format("step scan plan ({})\n", c.source);
  line(out, "projections",
       fmt::format("{} from {:.8g}° to {:.8g}° in steps of {:.8g}°", p.projections, p.first_deg,
                   p.last_deg(), p.step_deg));
  line(out, "frame time",
       fmt::format("{:.6g} s = exposure {:.6g} s + readout {:.6g} s [{}] + margin {:.6g} s",
                   p.frame_time_s, p.exposure_s, p.readout_s, p.readout_from,
                   c.camera.readout_margin_s));
  line(out, "per point",
       fmt::format("move at {:.6g} deg/s (ACCL {:.6g} s) on {}, settle {:.6g} s, {}, wait for "
                   "the frame",
                   p.speed_deg_s, p.accel_time_s, c.rotation.motor, c.scan.settle_s,
                   c.camera.step_trigger == StepTrigger::single
                       ? "acquire a single image (ImageMode Single, Acquire)"
                       : "software trigger (TriggerSoftware)"));
  line(out, "frames",
       c.camera.frames == FrameSource::ca
           ? fmt::format("over Channel Access from {}{}ArrayData (each after its UniqueId_RBV); "
                         "darks and flats triggered one at a time",
                         c.camera.prefix, c.camera.image)
           : fmt::format("over ZMQ from {}", c.camera.zmq));
  if (p.projections <= kListAll)
    for (std::uint64_t k = 0; k < p.projections; ++k)
      fmt::format_to(std::back_inserter(out), "    #{:<3} {:>12.6f}°\n", k, p.angle(k));
  fields_and_output(out, p, c);
  const auto& d = p.durations;
  durations_and_notes(out,
                      {{"move to the first point", d.to_start_s},
                       {"darks", d.darks_s},
                       {"flats", d.flats_s},
                       {"points (moves and frames)", d.projections_s},
                       {"return to start", d.return_s},
                       {"total", d.total_s}},
                      p);
  return out;
}

// The conventions a continuous scan's angles assume (camera.timestamp,
// rotation.rbv_stamp_lag).
void time_stamps(std::string& out, const ScanPlan& p, const ScanConfig& c) {
  static constexpr std::array<std::string_view, 3> kFormula = {
      "stamp − readout − exposure/2", "stamp − exposure/2", "stamp + exposure/2"};
  const auto m = c.camera.timestamp;
  const double offset = capture::mid_exposure(0, m, p.exposure_s, p.readout_s);
  line(out, "time stamps",
       fmt::format("a frame's stamp marks its {} (camera.timestamp): mid-exposure = {} = stamp "
                   "{} {:.6g} s; an RBV update's stamp lags its reading by ≤ {:.6g} s "
                   "(rotation.rbv_stamp_lag)",
                   capture::to_string(m), kFormula[static_cast<std::size_t>(m)],
                   offset < 0 ? "−" : "+", std::abs(offset), c.rotation.rbv_stamp_lag_s));
}

std::string describe_cont(const ScanPlan& p, const ScanConfig& c) {
  std::string out = fmt::format("continuous scan plan ({})\n", c.source);
  line(out, "projections",
       fmt::format("{} nominally from {:.8g}° to {:.8g}° in steps of {:.8g}°", p.projections,
                   p.first_deg, p.last_deg(), p.step_deg));
  line(out, "frame rate",
       fmt::format("{:.6g} frames/s from the camera (GC_AcqResFrameRate_RBV): frame time {:.6g} "
                   "s, exposure {:.6g} s, internal trigger, free-running",
                   p.frame_rate_hz, p.frame_time_s, p.exposure_s));
  line(out, "speed",
       fmt::format("{:.6g} deg/s on {} (step × frame rate)", p.speed_deg_s, c.rotation.motor));
  ramp(out, p);
  line(out, "run-up", fmt::format("{:.6g}° from {:.6g}°", p.run_up_deg, p.run_up_start_deg));
  line(out, "camera start",
       fmt::format("once the stage's RBV has passed {:.6g}° (the ramp's end + ½ step)",
                   p.camera_start_deg));
  line(out, "run-down",
       fmt::format("{:.6g}° to {:.6g}° (covers a {:.3g} s camera start allowance)", p.run_down_deg,
                   p.run_down_end_deg, kContStartAllowanceS));
  line(out, "angles",
       "software-synchronised: each frame's angle is interpolated from the time-stamped RBV "
       "updates at the frame's time stamp (EPICS clock), with its estimated uncertainty "
       "(from the RBV update interval and the speed); never from the frame index");
  time_stamps(out, p, c);
  fields_and_output(out, p, c);
  run_durations_and_notes(out, p, "projections (N frames)");
  return out;
}

}  // namespace

std::string describe(const ScanPlan& p, const ScanConfig& c, const FieldList& panda_fields) {
  if (p.kind == ScanKind::step) return describe_step(p, c);
  if (p.kind == ScanKind::cont) return describe_cont(p, c);
  std::string out = fmt::format("fly scan plan ({})\n", c.source);
  line(out, "projections",
       fmt::format("{} from {:.8g}° to {:.8g}° in steps of {:.8g}°", p.projections, p.first_deg,
                   p.last_deg(), p.step_deg));
  line(out, "frame time",
       fmt::format("{:.6g} s = exposure {:.6g} s + readout {:.6g} s [{}] + margin {:.6g} s ({:.4g} "
                   "frames/s)",
                   p.frame_time_s, p.exposure_s, p.readout_s, p.readout_from,
                   c.camera.readout_margin_s, 1 / p.frame_time_s));
  line(out, "speed", fmt::format("{:.6g} deg/s on {}", p.speed_deg_s, c.rotation.motor));
  ramp(out, p);
  line(out, "run-up",
       fmt::format("{:.6g}° from {:.6g}° (the speed reached at least half a step before trigger "
                   "0)",
                   p.run_up_deg, p.run_up_start_deg));
  line(out, "run-down",
       fmt::format("{:.6g}° to {:.6g}° (the last exposure travels {:.6g}°)", p.run_down_deg,
                   p.run_down_end_deg, p.exposure_travel_deg));
  triggers(out, p);
  fields_and_output(out, p, c);
  if (!panda_fields.empty()) {
    out += "  PandA fields\n";
    for (const auto& [field, value] : panda_fields)
      fmt::format_to(std::back_inserter(out), "    {}={}\n", field, value);
  }
  run_durations_and_notes(out, p, "projections (first→last)");
  return out;
}

std::string describe_refusal(const PlanResult& result, ScanKind kind) {
  std::string out = fmt::format("{} scan refused ({} reason{}):\n",
                                kind == ScanKind::step   ? "step"
                                : kind == ScanKind::cont ? "continuous"
                                                         : "fly",
                                result.refusals.size(), result.refusals.size() == 1 ? "" : "s");
  for (const auto& why : result.refusals) fmt::format_to(std::back_inserter(out), "  - {}\n", why);
  return out;
}

}  // namespace pandafly::scan
