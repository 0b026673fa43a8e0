#pragma once
// scan::ScanRunner: the scans' I/O shell (fly, step and cont). It connects the sans-IO sequence
// (scan::ScanMachine) to the hardware (scan::ScanDevices: Channel Access and the
// PandA's control port), the PandA's data port (capture::PandaCapture with a
// PandaRowSink), the camera's ZMQ stream (capture::ZmqReceiver), the merger
// (capture::Merger) and the DXfile (dx::Writer), and runs one scan.
//
// Rules
//   - prepare(): connects everything the scan file names, loads the PandA
//     design, reads the motor record and the camera, and plans; nothing moves
//     and nothing is written but the design (which the dry run leaves out).
//     A plan that cannot work is returned with its refusals.
//   - run(): one scan, after a successful prepare(). Threads: the caller's
//     runs the state machine and owns it; one thread reads the PandA's data
//     port (rows → merger); one takes frames off the ZMQ receiver (darks and
//     flats → writer, projections → merger); the merger (one mutex) hands
//     each decided projection to the writer with its slot and measured
//     angle; device commands run on ScanDevices' threads; the writer's thread
//     owns the file. Everything reports to the state machine through one
//     event queue.
//   - interrupt(why): any thread (a signal watcher): the scan stops as the
//     state machine's cleanup says; a second call hurries the cleanup.
//   - A step scan (options.kind step): no PandA and no merger. The frame
//     that comes after TriggerCamera{k} goes to slot k with the rotation's
//     RBV at the trigger (the stage at rest there) as its angle; a projection
//     frame with no trigger outstanding is an extra frame, not stored.
//   - A continuous scan (options.kind cont): no PandA and no merger. A
//     projection frame goes to slot (its frame number − the first one's
//     after the camera's start); its mid-exposure time comes from its time
//     stamp by the scan file's camera.timestamp, its angle from the
//     rotation's time-stamped RBV updates there (capture::AngleTrack, with
//     rotation.rbv_stamp_lag). A camera stall — frames' stamps further apart
//     than 1.5 frame times (capture::place_frame) — is noted at the slot of
//     the frame after it, naming the gap and the range it left without a
//     projection; that frame, exposed at an unknown time in the gap, is
//     stored at the middle of the stage's travel there with half of it as
//     its bound; so is a frame delivered in a burst right after it (a
//     camera that buffered through the stall). A frame exposed outside the
//     scan move's constant speed (the stage decelerating or at rest, after
//     a long stall) is noted too.
//     Nothing acquired is dropped; each stall and the out-of-range frames
//     are faults of the file (dx::Ending::faults: incomplete, exit 5 when
//     the scan otherwise completed), counted in ScanResult and noted.
//   - The file is closed by CloseFile: the ZMQ receiver is stopped and
//     drained, the PandA capture ended (it has its END by then, or is
//     stopped), the merger finished; every projection goes to its slot, the
//     per-projection events, the PandA's columns (/measurement/panda/…) and
//     the planned angles (/process/acquisition/planned_theta) are added, and
//     the writer judges completeness.
//
// Example:
//   scan::ScanRunner runner(config, {});
//   auto prep = runner.prepare();
//   if (!prep.plan) { print(describe_refusal(prep)); return 2; }
//   scan::ScanResult r = runner.run();
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/dx/writer.hpp"
#include "pandafly/scan/plan.hpp"
#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_machine.hpp"
#include "pandafly/util/progress.hpp"

namespace pandafly::scan {

struct ScanRunOptions {
  /// step: a step scan (no PandA: plan_step, software trigger per point, each
  /// frame stored in its point's slot with the rotation's RBV at its trigger).
  ScanKind kind = ScanKind::fly;
  /// The layout file's text source: a path ("" = config.output.layout).
  std::string layout_path;
  /// Called from the run() thread after events, at most every `progress_period`:
  /// projections stored (with their frame), the last measured angle, drops
  /// (projections missing a frame or a row so far) and the phase.
  std::function<void(const util::ProgressSnapshot&)> on_progress;
  std::chrono::milliseconds progress_period{100};
  /// "": none; else a ZMQ endpoint to bind (e.g. "tcp://*:5600"): every
  /// projection stored is republished there as an NDPluginZMQ message with
  /// its measured angle (capture::LivePublisher), never slowing the scan.
  std::string live_endpoint;
  /// Projections held for each live subscriber before a slow one loses
  /// messages (ZMQ_SNDHWM; memory: this many frames at most).
  int live_queue = 64;
};

struct FlyPreparation {
  PlanResult plan;
  MotorFacts motor;
  CameraFacts camera;
  FieldList panda_fields;  ///< what PutPandaFields will put
  std::size_t design_lines_sent = 0;
};

struct ScanResult {
  std::string file;
  Outcome outcome;
  dx::EndState end;  ///< what the writer recorded
  ExitCode exit_code = ExitCode::failed;
  std::uint64_t projections_expected = 0;
  std::uint64_t projections_complete = 0;  ///< row and frame
  std::uint64_t frames_missing = 0, missed_triggers = 0, rows_missing = 0;
  std::uint64_t duplicates = 0, reorders = 0, extra_frames = 0;
  /// Continuous scans: camera stalls (gaps between frames' time stamps) and
  /// projections exposed outside the scan move's constant speed; either
  /// makes the file incomplete (ScanRunner Rules).
  std::uint64_t camera_gaps = 0, beyond_range = 0;
  std::uint64_t darks = 0, flats = 0;
  std::uint64_t live_published = 0, live_dropped = 0;
  double first_angle = 0, last_angle = 0;  ///< measured, of the first/last complete projection
  double seconds = 0;                      ///< run() wall time
  /// Wall seconds before the first trigger not spent moving the stage: from
  /// run() to the run-up move, and from its end to the scan move (camera and
  /// PandA set-up, arming, speed; darks and flats when taken before).
  std::optional<double> overhead_before_first_trigger_s;
  /// Wall seconds from run() to the first PandA row (the first exposure's
  /// end): the motion to it (plan) plus everything the scan does before.
  std::optional<double> first_row_s;
  /// Step scans, per point: wall seconds from its move's completion to the
  /// next point's move (the camera's stop after the last), less exposure and
  /// readout: the trigger, the frame's way to the file, the loop.
  std::vector<double> point_overhead_s;
  /// Wall seconds from the last frame received to the file closed.
  std::optional<double> last_frame_to_closed_s;
};

class ScanRunner {
 public:
  ScanRunner(ScanConfig config, ScanRunOptions options);
  ~ScanRunner();
  ScanRunner(const ScanRunner&) = delete;
  ScanRunner& operator=(const ScanRunner&) = delete;

  /// See Rules. Throws std::runtime_error when something cannot be reached
  /// (naming every PV that did not connect) or read.
  [[nodiscard]] FlyPreparation prepare(bool load_design = true);
  /// See Rules. Precondition: prepare() returned a plan.
  [[nodiscard]] ScanResult run();
  /// Any thread; see Rules.
  void interrupt(std::string why);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::scan
