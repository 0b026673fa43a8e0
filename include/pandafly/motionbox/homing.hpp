#pragma once
// motionbox::Homing: the homing of one motor record against a hard-limit
// switch, as a sans-IO state machine (the Motion Box's `home`). It is fed
// the motor's status (RBV DMOV HLS LLS MSTA LVIO), put completions, time and
// Ctrl-C, and emits puts, put-callback moves and STOP; the shell
// (homing_runner.hpp) carries them out over Channel Access. No I/O, threads
// or clocks here: the time (seconds, any origin) is an argument.
//
// Rules (direction hi; lo mirrors it: LLS, lo_lim - tolerance, the low side)
//   - start(): refused at once (no command) when SPMG is Stop or Pause, VELO
//     <= 0, or the switch homed to is already active (HLS 1): the position
//     where the motor rests on an active switch is somewhere past the trip
//     point, so it cannot be calibrated there — move it off the switch first.
//   - prepare: FOFF = Variable, then the soft limits opened (DHLM = DLLM = 0:
//     the motor record then checks none), each put awaited. Why FOFF
//     Variable: in SET mode a VAL write then changes only the record's OFF
//     (user = dial + OFF); the controller's position, the dial limits and
//     anything that follows the encoder (a PandA) are untouched. With FOFF
//     Frozen the record would redefine the controller's position (DVAL) instead.
//   - search: a put-callback move towards the switch by search_distance
//     (2 x (hi_lim - lo_lim + 2 x tolerance), at least 1: from anywhere on the
//     travel the switch is nearer). Failures (the motor is then STOPped):
//     MSTA SLIP_STALL or PROBLEM (a stall); no RBV change for still_timeout
//     after the move began while DMOV is 0 (does not move); the opposite
//     switch trips (DIR or wiring reversed); no completion by the deadline
//     search_distance / VELO + 2 x ACCL + margin (never reaches the switch).
//     The move's completion without the switch active is "never reached the
//     switch" (or "did not move" / "refused: LVIO" when RBV did not change).
//   - settle: after the completion, wait until DMOV is 1 and RBV has not
//     changed for settle_time (a motor coasts to rest past the trip point);
//     the switch must then be active.
//   - redefine: SET = Set, VAL = hi_lim + tolerance, SET = Use; then HLM =
//     hi_lim, LLM = lo_lim (user values, after the redefinition).
//   - center: a put-callback move to `center` (deadline from distance and
//     VELO as above); done when it completes with LVIO 0. finished(), ok.
//   - Any failure or interruption: cleanup, each command issued once and
//     awaited (its failure is ignored) up to cleanup_timeout in all, after
//     the write in flight (if any) has completed, so that no restoring write
//     can be overtaken by it: STOP
//     (when a move may be under way), SET = Use (when it was set), the
//     original DHLM/DLLM (when the soft limits were opened and not yet
//     replaced by HLM/LLM), the original FOFF (when changed). The result says
//     where the motor stands (the last RBV) and why it stopped. A second
//     interruption during cleanup skips the remaining waits.
//   - Every command carries an id; completions name it; a completion for an
//     id not awaited is ignored.
//
// Example (the shell's loop):
//   Homing h(params);
//   h.start(settings, now());
//   while (!h.finished()) {
//     for (auto& c : h.take_commands()) execute(c);     // reports back
//     h.handle(wait_for_event_until(h.deadline()), now());
//   }
//   Result r = h.result();
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pandafly::motionbox {

enum class Direction { hi, lo };

/// The rules applied to one motor (from the JSON file).
struct HomingParams {
  Direction direction = Direction::hi;
  double lo_lim = 0, center = 0, hi_lim = 0, tolerance = 0;
  double margin = 10;           ///< s added to every move's deadline
  double still_timeout = 3;     ///< s without an RBV change while DMOV 0: does not move
  double settle_time = 0.5;     ///< s of unchanged RBV (and DMOV 1) at the switch
  double cleanup_timeout = 10;  ///< s for all cleanup commands together
};

/// The motor record's status fields, as last seen.
struct MotorStatus {
  double rbv = 0;
  bool dmov = true;
  bool hls = false, lls = false, lvio = false;
  std::uint32_t msta = 0;
  friend bool operator==(const MotorStatus&, const MotorStatus&) = default;
};

/// What start() needs to know besides the status.
struct MotorSettings {
  MotorStatus status;
  double velo = 1, accl = 0.2;
  double dhlm = 0, dllm = 0;
  std::uint16_t foff = 0;  ///< 0 Variable, 1 Frozen
  std::uint16_t spmg = 3;  ///< 0 Stop, 1 Pause, 2 Move, 3 Go
};

/// The plan start() follows; plan() gives it for --dry-run.
struct HomingPlan {
  double search_target = 0;    ///< user position the search move aims at
  double search_distance = 0;  ///< |search_target - RBV|
  double search_timeout = 0;   ///< s
  double switch_value = 0;     ///< what the switch position reads after the redefinition
  double hlm = 0, llm = 0, center = 0;
};
[[nodiscard]] HomingPlan plan(const HomingParams& p, const MotorSettings& s);

// ---------------------------------------------------------------- commands
/// A plain field write awaited (ca put_wait: done when processed). `as_enum`:
/// the value is a menu index (FOFF, SET).
struct Put {
  std::string field;
  double value = 0;
  bool as_enum = false;
};
/// A put-callback to VAL: done when the motion is (DMOV 1).
struct Move {
  double target = 0;
  double timeout = 0;  ///< s; the machine has its own deadline too
};
/// STOP = 1.
struct Stop {};
struct Command {
  std::uint64_t id = 0;
  std::variant<Put, Move, Stop> body;
};

// ---------------------------------------------------------------- events
struct Status {
  MotorStatus status;
};
struct Done {
  std::uint64_t id = 0;
};
struct Failed {
  std::uint64_t id = 0;
  std::string what;
};
struct Interrupted {
  std::string reason = "interrupted";
};
/// Time passed (the shell calls this at deadline()).
struct Tick {};
using Event = std::variant<Status, Done, Failed, Interrupted, Tick>;

enum class Phase { idle, prepare, search, settle, redefine, center, cleanup, done };
/// "start" (idle: refused before anything was written), "prepare", ...
[[nodiscard]] const char* phase_name(Phase p);

struct Result {
  bool ok = false;
  bool interrupted = false;
  std::string error;  ///< empty when ok
  Phase failed_in = Phase::idle;
  MotorStatus last;                     ///< where the motor stands
  std::optional<double> switch_before;  ///< RBV at rest on the switch, before the redefinition
  std::optional<double> switch_value;   ///< what it reads after
};

class Homing {
 public:
  explicit Homing(HomingParams params);

  void start(const MotorSettings& settings, double now);
  void handle(const Event& event, double now);
  [[nodiscard]] std::vector<Command> take_commands();
  /// When handle(Tick{}) is due at the latest; nullopt when none (finished).
  [[nodiscard]] std::optional<double> deadline() const;
  [[nodiscard]] bool finished() const { return phase_ == Phase::done; }
  [[nodiscard]] Phase phase() const { return phase_; }
  [[nodiscard]] const MotorStatus& status() const { return status_; }
  /// Valid once finished().
  [[nodiscard]] const Result& result() const { return result_; }

 private:
  void on_status(const MotorStatus& s, double now);
  void on_done(std::uint64_t id, double now);
  void on_tick(double now);
  void issue(std::variant<Put, Move, Stop> body, double now, double timeout);
  void next_put(double now);
  void after_put(double now);
  void begin_search(double now);
  void search_done(double now);
  void settled(double now);
  void begin_center(double now);
  void fail(std::string why, double now, bool interrupted = false);
  void next_cleanup(double now);
  void finish();
  [[nodiscard]] bool at_switch(const MotorStatus& s) const;
  [[nodiscard]] bool at_other_switch(const MotorStatus& s) const;
  [[nodiscard]] const char* switch_field() const;

  HomingParams p_;
  MotorSettings settings_;
  HomingPlan plan_;
  Phase phase_ = Phase::idle;
  MotorStatus status_;
  Result result_;
  std::vector<Command> out_;
  std::uint64_t next_id_ = 1;
  std::optional<std::uint64_t> awaited_;
  bool awaited_is_put_ = false;
  double step_deadline_ = 0, step_timeout_ = 0;
  std::vector<Put> puts_;  ///< the rest of the current put sequence
  Put last_put_;           ///< the write awaited
  // search / center
  double last_move_ = 0;  ///< time of the last RBV change (or of the move's start)
  double start_rbv_ = 0;
  bool centering_ = false;  ///< settling after the move to center
  bool other_switch_at_start_ = false;
  // what cleanup must undo
  bool limits_opened_ = false, set_mode_ = false, foff_changed_ = false, may_move_ = false;
  std::vector<std::variant<Put, Move, Stop>> cleanup_;
  double cleanup_deadline_ = 0;
  bool stop_issued_ = false, waiting_rest_ = false;
};

}  // namespace pandafly::motionbox
