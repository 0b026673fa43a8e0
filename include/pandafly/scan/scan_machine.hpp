#pragma once
// scan::ScanMachine: a scan's sequence (fly, step or cont) as a sans-IO state machine. It is fed
// events (step completions, PandA rows and camera frames as counts, motor
// status, time, Ctrl-C, failures) and emits commands (move, arm, acquire, …);
// the I/O shell carries the commands out on the PandA, Channel Access, the
// ZMQ receiver and the DXfile writer, and reports back. No I/O, threads or
// clocks here: the time is an argument of every call.
//
// Rules
//   - The sequence is fixed at construction from a ScanSequence (the plan
//     made concrete): [darks before] [flats before] projections [flats after]
//     [darks after] return, close. Each phase is a list of steps; a step is
//     one command and what completes it. One step runs at a time, except that
//     the projection phase also collects PandA rows and frames while the
//     stage moves, and a continuous scan's move runs in the background while
//     the steps after its launch run.
//   - Darks: shutter closed, FrameType dark, the camera in internal trigger
//     Multiple N; done when N dark frames came. Flats: shutter open, the
//     sample out, FrameType flat, internal Multiple N; then the sample back.
//     With triggered_fields, the camera is in point_trigger's mode instead and each field frame is
//     one TriggerCamera{i, kind} followed by a wait for that one frame (counted from the trigger's
//     issue), as a step scan's point. Projections: FrameType projection, shutter open, the PandA
//     fields put, the stage to the run-up start at its normal speed, the PandA armed there (so no
//     trigger can fire while the stage travels to the run-up, whatever PCOMP's direction guess),
//     `settle` seconds of rest there, the scan speed set, the camera started in external trigger
//     Multiple N, then the move through the range to the run-down end. Collection ends when the
//     move is done and either every row and frame came or nothing new came for `collect_grace` (a
//     camera that stalled or a PandA whose data connection dropped leaves projections missing: the
//     merger records which; the scan is incomplete, not aborted). Then the PandA is disarmed, the
//     camera stopped and the stage's speed restored.
//   - A step scan (kind step: no PandA) has the same phases; its
//     projections: shutter open, FrameType projection, the camera in
//     software trigger Multiple N and started (or, with point_trigger
//     single, in ImageMode Single and not started), then per point k: the stage
//     moved to points[k] (put-callback; checked as every move is),
//     `point_settle` seconds of rest when > 0, the camera triggered
//     (TriggerCamera{k}) and its frame awaited: a point is done when a
//     projection frame came after its trigger (counted from the trigger's
//     issue, so a frame that beats the trigger's completion counts); none
//     within the frame deadline (exposure + frame time + step_timeout) fails
//     the scan naming the point. Then the camera is stopped. No speed change,
//     no PandA: cleanup neither disarms nor restores a speed.
//   - A continuous scan (kind cont: no PandA; the camera free-runs) has the
//     same phases; its projections: shutter open, FrameType projection, the
//     camera in internal trigger Multiple N at the frame time, the stage to
//     the run-up start at its normal speed, `settle` s of rest, the scan
//     speed set, then the scan move to the run-down end is *launched*: a
//     background move, issued and not awaited, so the next steps run while
//     it is in flight. Next: wait until a rotation MotorStatus shows the
//     stage past `camera_start` in the scan's direction (the stage at speed:
//     plan_cont's Rules; only statuses that came after the launch count, the
//     direction is that from run_up_start to run_down_end); then the camera started; then
//     collection: done when N projection frames came and the scan move completed, or, once it
//     completed, nothing new came for `collect_grace` (incomplete, not
//     failed: as the fly scan's). Then the camera stopped and the speed
//     restored. The background move is checked as every move is (its
//     MoveDone within tolerance of the run-down end, LVIO, limits); its
//     StepFailed, a stall reported while it is in flight, or its deadline
//     (distance/speed + ramps, ×1.5 + margin, extended by MotorStatus
//     progress) fails the scan at once, whatever step is running. Its
//     completion before the camera-start position was seen fails the scan
//     (the frames would not be at speed). The camera-start wait's deadline
//     is the move time from the run-up start to camera_start at the scan
//     speed, extended by the rotation's progress; the collection's is the
//     move's remaining time, extended by frames and progress.
//   - A move is done when its completion event says so; it must end within
//     `position_tolerance` of its target, else the scan fails (a soft limit
//     makes a put-callback complete at once without moving; a hard limit
//     completes it at the trip). Every step has a deadline (moves: distance /
//     speed + accelerations + margin; others: step_timeout); missing it fails
//     the scan naming the step. A step still making progress is not failed
//     by its deadline: while the motor being moved reports new positions
//     (MotorStatus), or frames come during an acquisition, or rows and frames
//     during the scan move, the deadline is at least `progress_timeout` after
//     the last progress (hardware slower than planned, a simulator whose
//     clock waits for its renderer). A motor reporting a stall (MSTA
//     SLIP_STALL or PROBLEM) while it should move fails at once.
//   - Failure or interruption (Ctrl-C, a fault, a failed step, the writer
//     failing): the motors are stopped, the PandA disarmed, the camera
//     stopped, the rotation speed restored, the shutter left as it is, and
//     the file closed as interrupted with the reason; each of those cleanup
//     commands is issued once (kind step: no disarm, no speed; kind cont:
//     no disarm) and its completion (or failure: cleanup goes on
//     regardless) awaited until `cleanup_timeout`. A second interruption
//     during cleanup skips the waits. Nothing acquired is dropped: the shell
//     keeps writing what it receives until CloseFile.
//   - Every command carries an id; completions name it. Completions for ids
//     not awaited (late, after a timeout) are ignored.
//   - outcome(): once finished, whether the scan completed its sequence, the
//     reason otherwise, and the exit code the tool should return (0 complete,
//     see ExitCode). Whether the *file* is complete is the writer's judgement
//     (dx::judge_completeness) over what was stored; the shell combines both.
//
// Example (the shell's loop):
//   ScanMachine scan(sequence);
//   scan.start(now());
//   while (!scan.finished()) {
//     for (auto& c : scan.take_commands()) execute(c);   // async; reports back
//     Event e = wait_for_event_until(scan.deadline());   // or a Tick
//     scan.handle(e, now());
//   }
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pandafly/scan/scan_config.hpp"

namespace pandafly::scan {

/// Which motor a command moves.
enum class Axis { rotation, sample };
/// What the camera's frames are (tomoscan's FrameType: DarkField, FlatField, Projection).
enum class FrameKind { dark = 0, flat = 1, projection = 2 };
/// single: ImageMode Single, TriggerMode Off; each TriggerCamera is one
/// Acquire (no StartCamera).
enum class Trigger { internal, external, software, single };

/// A scan's plan made concrete: everything the sequence needs.
struct ScanSequence {
  ScanKind kind = ScanKind::fly;
  std::uint64_t projections = 0;  ///< triggers = rows = frames expected
  /// kind step: the rotation's target of each projection, in order (size = projections).
  std::vector<double> points;
  double point_settle = 0;  ///< kind step: s at rest before each trigger
  /// kind step: how each frame is made (software: started once, then
  /// TriggerSoftware per frame; single: Acquire per frame).
  Trigger point_trigger = Trigger::software;
  /// Darks and flats one software-triggered frame at a time (each awaited
  /// before the next trigger) instead of free-running at the frame time: for
  /// frames read over Channel Access, which cannot keep up with a stream.
  bool triggered_fields = false;
  double run_up_start = 0;                ///< degrees: where the scan move starts
  double run_down_end = 0;                ///< degrees: where it ends
  double scan_speed = 0;                  ///< degrees/s through the range
  double normal_speed = 0;                ///< the rotation's VELO before the scan (restored after)
  double acceleration_time = 0;           ///< ACCL, s
  double start_position = 0;              ///< rotation position before the scan (degrees)
  std::optional<double> return_position;  ///< where to go at the end; nullopt: stay
  double settle = 0;                      ///< s at the run-up start before the scan move
  /// kind cont: degrees the stage must have passed (MotorStatus, in the scan's
  /// direction) before the camera is started.
  double camera_start = 0;
  double exposure = 0;    ///< s
  double frame_time = 0;  ///< s between triggers
  std::uint64_t darks_before = 0, darks_after = 0;
  std::uint64_t flats_before = 0, flats_after = 0;
  bool has_shutter = false;
  std::optional<double> sample_out;  ///< flats: sample motor position out of the beam
  double sample_in = 0;              ///< and back in
  double sample_speed = 1;           ///< EGU/s, for the sample moves' deadlines
  double rotation_tolerance = 0.01;  ///< degrees: |end − target| allowed after a move
  double sample_tolerance = 0.01;
  double step_timeout = 10;     ///< s, for steps other than moves and acquisitions
  double move_margin = 5;       ///< s added to every move's expected duration (×1.5)
  double collect_grace = 2;     ///< s without new rows/frames after the move ends
  double progress_timeout = 5;  ///< s a progressing step is given past its last progress
  double cleanup_timeout = 10;  ///< s for each cleanup step
};

// ---- commands (imperative) ----
struct SetShutter {
  bool open = false;
};
struct SetFrameType {
  FrameKind kind = FrameKind::projection;
};
/// Camera: trigger mode, ImageMode Multiple, NumImages, AcquireTime (and period).
struct ConfigureCamera {
  Trigger trigger = Trigger::internal;
  std::uint64_t images = 0;
  double exposure = 0;
  double period = 0;
};
struct StartCamera {};  ///< Acquire = 1 (done when the camera accepted it, not when it finished)
/// One frame for step scan point `point` (kind projection) or a dark or flat
/// field's frame number `point` of its phase (ScanSequence::triggered_fields):
/// with the camera in software trigger, TriggerSoftware = 1, done when the
/// camera accepted it; in single, Acquire = 1, done when that acquisition
/// ended. Either way the frame itself is awaited separately.
struct TriggerCamera {
  std::uint64_t point = 0;
  FrameKind kind = FrameKind::projection;
};
struct StopCamera {};  ///< Acquire = 0
struct PutPandaFields {};
struct ArmPanda {};
struct DisarmPanda {};
struct SetSpeed {
  Axis axis = Axis::rotation;
  double speed = 0;  ///< EGU/s (VELO)
};
/// A put-callback move; completion reports where the motor ended.
struct Move {
  Axis axis = Axis::rotation;
  double position = 0;
};
struct StopMotor {
  Axis axis = Axis::rotation;
};
/// Close the DXfile; complete = the sequence ran to its end (the writer still
/// judges what was stored); reason when not.
struct CloseFile {
  bool interrupted = false;
  std::string reason;
};
using CommandBody =
    std::variant<SetShutter, SetFrameType, ConfigureCamera, StartCamera, TriggerCamera, StopCamera,
                 PutPandaFields, ArmPanda, DisarmPanda, SetSpeed, Move, StopMotor, CloseFile>;
struct Command {
  std::uint64_t id = 0;
  CommandBody body;
};

// ---- events (nouns) ----
/// A command finished as asked.
struct StepDone {
  std::uint64_t id = 0;
};
/// A command failed; `what` is the error as the shell saw it.
struct StepFailed {
  std::uint64_t id = 0;
  std::string what;
};
/// A Move's completion: where the motor ended and the switches.
struct MoveDone {
  std::uint64_t id = 0;
  double position = 0;
  bool high_limit = false;  ///< HLS
  bool low_limit = false;   ///< LLS
  bool soft_limit = false;  ///< LVIO: the target was beyond a soft limit
};
/// A camera frame received (already handed to the merger/writer by the shell).
struct FrameArrived {
  FrameKind kind = FrameKind::projection;
};
/// A PandA capture row received.
struct RowArrived {};
/// The PandA data acquisition ended (END; ok = "Ok").
struct PandaEnded {
  bool ok = true;
  std::string reason;
};
/// The PandA data connection failed: no more rows will come.
struct PandaDataLost {
  std::string reason;
};
/// A motor status update (monitor).
struct MotorStatus {
  Axis axis = Axis::rotation;
  double position = 0;
  bool stalled = false;  ///< MSTA SLIP_STALL or PROBLEM
};
/// Ctrl-C / SIGTERM / SIGHUP.
struct Interrupted {
  std::string why;
};
/// The writer, the receiver or another part failed for good.
struct Failure {
  std::string what;
};
/// Nothing happened; time passed (the shell calls this at deadline()).
struct Tick {};
using Event = std::variant<StepDone, StepFailed, MoveDone, FrameArrived, RowArrived, PandaEnded,
                           PandaDataLost, MotorStatus, Interrupted, Failure, Tick>;

enum class Phase {
  idle,
  darks_before,
  flats_before,
  projections,
  flats_after,
  darks_after,
  returning,
  closing,
  cleanup,  ///< after a failure or interruption: stopping everything
  done,
};
[[nodiscard]] const char* phase_name(Phase p) noexcept;

/// Exit codes of the scan tools.
enum class ExitCode : int {
  complete = 0,
  incomplete = 5,   ///< ran to the end, but the file is not complete (missing projections)
  failed = 6,       ///< a device or step failed; file closed, marked incomplete
  interrupted = 7,  ///< Ctrl-C / signal
};

struct Outcome {
  bool finished = false;
  bool sequence_completed = false;  ///< every phase ran to its end
  bool interrupted = false;         ///< Ctrl-C or a signal
  std::string reason;               ///< why not completed ("" when it was)
  /// Things the scan noticed that do not stop it (PandA data lost, a
  /// collection that ended by the grace rule, a cleanup step that failed).
  std::vector<std::string> notes;
};

/// The tool's exit code: the scan's outcome combined with the writer's
/// judgement of the file (dx::judge_completeness).
[[nodiscard]] ExitCode exit_code(const Outcome& outcome, bool file_complete) noexcept;

/// What a progress display shows; any time.
struct Progress {
  Phase phase = Phase::idle;
  std::string step;  ///< the step running, e.g. "move rotation to -2.5"
  std::uint64_t rows = 0, frames = 0, expected = 0;
  std::uint64_t darks = 0, flats = 0;
};

class ScanMachine {
 public:
  explicit ScanMachine(ScanSequence sequence);

  /// Begins the sequence at time `now` (s, any epoch, monotonic).
  void start(double now);
  /// Feeds one event at time `now` (not earlier than the previous call's).
  void handle(const Event& event, double now);
  /// Commands issued since the last call, in order.
  [[nodiscard]] std::vector<Command> take_commands();
  /// When the shell must call handle(Tick{}) at the latest; nullopt when finished.
  [[nodiscard]] std::optional<double> deadline() const;
  [[nodiscard]] bool finished() const noexcept;
  [[nodiscard]] const Outcome& outcome() const noexcept;
  [[nodiscard]] Progress progress() const;
  [[nodiscard]] const ScanSequence& sequence() const noexcept { return seq_; }

 private:
  /// launch: the command is issued as the background move and the next step
  /// follows at once; position: no command, done when the rotation passed
  /// seq_.camera_start.
  enum class Wait { step, frames, collect, close, pause, launch, position };
  struct Step {
    std::optional<CommandBody> body;  ///< nullopt: a wait without a command
    std::string label;
    double timeout = 0;        ///< s after issue
    std::uint64_t frames = 0;  ///< Wait::frames: how many of `kind`
    FrameKind kind = FrameKind::projection;
    Wait wait = Wait::step;
  };

  void build_phases();
  /// The camera set, started, its N frames of `kind` awaited, stopped.
  void add_field_frames(Phase phase, FrameKind kind, std::uint64_t n);
  /// A wait for one frame of `kind` after a TriggerCamera.
  void add_one_frame_wait(Phase phase, FrameKind kind, std::string label);
  void add_darks(Phase phase, std::uint64_t n);
  void add_flats(Phase phase, std::uint64_t n);
  [[nodiscard]] static const char* trigger_name(Trigger trigger);
  void add_configure_camera(Phase phase, Trigger trigger, std::uint64_t n);
  /// StartCamera (labelled), unless `trigger` is single (nothing to start).
  void add_start_camera(Phase phase, Trigger trigger, std::string label);
  [[nodiscard]] double trigger_timeout() const;  ///< a TriggerCamera's allowance
  void add_projection_camera(Trigger trigger);   ///< shutter open, FrameType, camera set
  void add_run_up();                             ///< to the run-up start, settle
  void add_projections();
  void add_points();
  void add_continuous();
  [[nodiscard]] bool passed_camera_start(double position) const;
  void on_background_done(const MoveDone& done, double now);
  void on_rotation_status(const MotorStatus& status, bool moved, double now);
  void add_step(Phase phase, std::optional<CommandBody> body, std::string label, double timeout,
                Wait wait = Wait::step);
  void add_frames_wait(Phase phase, FrameKind kind, std::uint64_t n);
  [[nodiscard]] double move_timeout(double from, double to, double speed) const;
  void issue_next(double now);
  void issue(const Step& step, double now);
  void on_completion(std::uint64_t id, double now);
  void on_move_done(const MoveDone& done, double now);
  [[nodiscard]] std::optional<std::string> move_error(const Move& move, const MoveDone& done) const;
  void on_tick(double now);
  void on_data(double now);
  void on_progress(double now);
  void check_acquisition_done(double now);
  [[nodiscard]] std::uint64_t count_of(FrameKind kind) const;
  void check_collection_done(double now, bool by_grace);
  void fail(std::string reason, double now, bool interrupted = false);
  void start_cleanup(double now);
  void issue_cleanup(double now);
  void finish_cleanup(double now);
  [[nodiscard]] std::uint64_t emit(CommandBody body);

  ScanSequence seq_;
  std::vector<std::pair<Phase, Step>> steps_;
  std::size_t next_ = 0;  ///< index of the next step to issue
  std::optional<std::size_t> current_;
  std::uint64_t awaited_id_ = 0;
  bool awaiting_ = false;
  double step_deadline_ = 0;
  double rotation_at_ = 0, sample_at_ = 0;                     ///< last known positions
  std::optional<double> reported_rotation_, reported_sample_;  ///< last MotorStatus positions
  Phase phase_ = Phase::idle;
  std::vector<Command> out_;
  std::uint64_t next_id_ = 1;
  // Acquisition counters.
  std::uint64_t rows_ = 0, frames_ = 0, darks_ = 0, flats_ = 0;
  std::uint64_t phase_frames_start_ = 0;  ///< frames of the waited kind when the wait began
  bool move_done_ = false;                ///< the scan move finished (projection phase)
  bool panda_lost_ = false;
  // kind cont: the scan move in flight while other steps run.
  std::optional<std::uint64_t> background_id_;  ///< set while it is in flight
  double background_deadline_ = 0;
  double background_timeout_ = 0;  ///< its allowance, for the message
  std::string background_label_;
  double last_data_ = 0;
  bool started_ = false;
  // Cleanup.
  std::vector<CommandBody> cleanup_;
  std::size_t cleanup_next_ = 0;
  bool hurry_ = false;
  Outcome outcome_;
  std::string close_reason_;
  bool close_interrupted_ = false;
};

}  // namespace pandafly::scan
