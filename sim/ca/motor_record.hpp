#pragma once
// A simulated EPICS motor record (reference channel-access.md §4.1, §5.1):
// the fields a CA client uses (VAL RBV DMOV MOVN VELO ACCL HLM SPMG STOP MSTA
// ...) served as PVs `<prefix>.<FIELD>`, and a trapezoidal motion in
// simulation ticks that the PandA simulator's encoder can follow exactly.
//
// Semantics (the reference's, plus the choices it leaves open):
//   * Positions: user = dial * (DIR == Neg ? -1 : 1) + OFF. The motion moves in
//     dial units to the target rounded to whole MRES steps; DRBV is the dial
//     position rounded to MRES steps, RBV its user value.
//   * A move accelerates at ACCS = (VELO - VBAS) / ACCL. The motion model
//     starts from rest, so with VBAS > 0 the ramp takes ACCL * VELO / (VELO -
//     VBAS) instead of ACCL (an approximation; exact for VBAS = 0). With VELO
//     == VBAS the ramp is 1 ms.
//   * Every commanded move posts DMOV 1 -> 0 -> 1 (a move of length 0 and a
//     soft limit violation too). MOVN is 1 only while
//     the axis moves. RBV/DRBV, HLS/LLS, ATHM, TDIR and MSTA are updated every
//     0.1 s of simulation time from the move's start (the driver poll) and at
//     its end; then, in one pass: RBV, MSTA, MOVN 0, VAL <- RBV when the move
//     did not reach its target, DMOV 1 (after DLY seconds), put-callbacks.
//   * Put-callbacks on VAL, DVAL, TWF, TWR, HOMF, HOMR complete when DMOV
//     returns to 1. A put-callback to one of these fields while another is
//     pending is queued (as EPICS queues a put-notify to a busy record): it is
//     processed when the pending one has completed, in order. A plain put
//     (no callback) of a new target while moving stops the axis (it
//     overshoots by the deceleration) and, at the first driver poll that sees
//     it at rest, moves on to the new target (DMOV stays 0; the pending
//     callback completes at the final stop).
//   * Limit switches at configured dial positions (HLS/LLS are the user
//     high/low switches: with DIR = Neg, HLS is the switch at the low dial
//     end, as the record maps them; MSTA PLUS_LS/MINUS_LS stay the raw, dial
//     ones): a move that would cross
//     one decelerates (at ACCS) from the switch on. At the first poll that
//     sees the switch: HLS/LLS set, MOVN 0, VAL <- RBV (of that poll), DMOV 1
//     and the put-callbacks complete while the axis still decelerates (its
//     RBV still posted every poll, so the final RBV differs from VAL).
//   * SPMG: Stop/STOP = decelerate, VAL <- RBV, DMOV 1; Pause = decelerate,
//     keep VAL, DMOV stays 0 and the put-callbacks stay pending; Go/Move
//     resume (the callbacks complete on arrival); Move = SPMG <- Pause after
//     the move. A target written while Stop or Pause is kept (VAL posted),
//     DMOV goes 0 and stays 0, no motion until Go/Move, its put-callback
//     completes after that move; STOP (or SPMG Stop) while held forgets the
//     target (VAL <- RBV, DMOV 1, callbacks complete).
//   * Homing (HOMF = +dial, HOMR = -dial) at HVEL: straight to the home
//     position when it lies ahead, else to the limit switch first and back;
//     ATHM and MSTA HOME (bit 7) when at the home position (same MRES step),
//     MSTA HOMED (bit 14) after a homing that ended there.
//   * SET = Set with FOFF = Variable (the default): writing VAL redefines OFF
//     (no motion, no DMOV pulse; the dial position and dial limits stay);
//     with FOFF = Frozen (the record would redefine the controller's
//     position instead) and DVAL writes: refused (ECA_PUTFAIL, not simulated). Non-finite numbers,
//     VELO/HVEL/ACCL/ACCS
//     <= 0, MRES 0, an enum index out of range, HOMF/HOMR = 0: ECA_PUTFAIL.
//   * Event order at a move's put: DMOV 0, VAL, DVAL, LVIO, MSTA (DONE
//     cleared, nothing else new), MOVN 1. TDIR and MSTA's MOVING and
//     DIRECTION (dial direction of travel) come from the driver's status, so
//     only from the first poll on; at rest DIRECTION is cleared and TDIR is 0. MSTA bits:
//     DIRECTION, DONE, PLUS_LS, HOME, MOVING, MINUS_LS, HOMED; SLIP_STALL and
//     PROBLEM only while stalled by a fault.
//   * Faults (set_faults, MotorFaults): a stall at a user position stops the
//     axis dead in the tick it gets there (no deceleration; the encoder view
//     stops there too): RBV posted, MSTA SLIP_STALL | PROBLEM (not DONE), MOVN
//     0, STAT STATE / SEVR MAJOR (also the RBV and MSTA alarms); DMOV stays 0
//     and the put-callbacks stay pending; Go/Move, targets and homing do not
//     move it; STOP or SPMG Stop: MSTA/alarms cleared, VAL <- RBV, DMOV 1, the
//     callbacks complete. It fires once. A hard limit places a limit switch at
//     run time (see MotorFaults); it is logged when the record first sees it.
//
// Threading: one thread calls publish/advance/puts (the CA server's); the
// motion() and encoder_motion() objects may be read from any thread.
//
// Example:
//   MotorRecord m1(MotorConfig{.prefix = "micos:m1"});
//   PvDatabase db;  m1.publish(db);
//   m1.advance(0, wall);
//   (void)db.find("micos:m1.VAL")->put(Doubles{5.0}, [](std::uint32_t) { /* done */ });
//   while (m1.next_wake() != kNever) m1.advance(m1.next_wake(), wall);
//   fpga.set_motion(1, m1.encoder_motion(10000.0, 0.0));   // INENC1 follows it
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ca/device.hpp"
#include "sim/ca/motor_motion.hpp"
#include "sim/subscribers.hpp"

namespace pandafly::sim::ca {

/// Motor faults on demand, in user positions at the time set_faults() is
/// called (a mechanical fault: it stays at that dial position). Each fault that
/// fires is logged once ("fault: ... (t=... s)").
struct MotorFaults {
  /// Jams: the first move that reaches one of these positions stops dead there
  /// (RBV and the encoder stay, MSTA SLIP_STALL | PROBLEM, STAT STATE / SEVR
  /// MAJOR, DMOV stays 0, put-callbacks stay pending) until STOP or SPMG Stop
  /// (VAL <- RBV, DMOV 1, callbacks complete); each jam fires once, then the
  /// axis passes that position normally.
  std::vector<double> stall_at = {};
  /// Hard limit switches placed at these positions, each on the side it lies
  /// on as seen from the axis at set_faults() (replacing a configured or
  /// earlier placed switch on that side unless that one is nearer, in which
  /// case it could never be reached and is ignored); they act as the
  /// configured switches do.
  std::vector<double> hard_limit_at = {};
  friend bool operator==(const MotorFaults&, const MotorFaults&) = default;
};

struct MotorConfig {
  std::string name = "rotation";  // a label (messages, wiring)
  std::string prefix = "micos:m1";
  std::string description;
  std::string egu = "deg";
  double mres = 0.0001;
  std::int16_t prec = 4;
  double velo = 10, vbas = 0, vmax = 30, accl = 0.5, hvel = 2;
  double dhlm = 0, dllm = 0;  // dial soft limits; both 0: none
  double off = 0;
  bool dir_negative = false;
  double twv = 1, rdbd = 0.0001, dly = 0;
  double position = 0;                // dial position at start
  double home = 0;                    // dial position of the home switch
  std::optional<double> high_switch;  // dial position of the + limit switch (none: never)
  std::optional<double> low_switch;   // dial position of the - limit switch
  struct Encoder {
    double counts_per_unit = 0;  // 0: no encoder
    double offset_counts = 0;
    int inenc = 0;  // the PandA INENC it drives (1-based; 0: none) — for the wiring
    friend bool operator==(const Encoder&, const Encoder&) = default;
  } encoder;
  friend bool operator==(const MotorConfig&, const MotorConfig&) = default;
};

class MotorRecord final : public Device {
 public:
  /// The configuration is not validated here (config.cpp does that).
  explicit MotorRecord(MotorConfig config);
  ~MotorRecord() override;

  void publish(PvDatabase& db) override;
  void advance(Tick now, EpicsTime wall) override;
  [[nodiscard]] Tick next_wake() const override;

  /// The motion in dial units (thread-safe; shared with encoder views).
  [[nodiscard]] std::shared_ptr<const MotorMotion> motion() const { return motion_; }
  /// The dial position in encoder counts: dial * counts_per_unit + offset_counts,
  /// for the PandA simulator's INENC (std::invalid_argument as EncoderMotion).
  [[nodiscard]] std::shared_ptr<const fpga::MotionSource> encoder_motion(
      double counts_per_unit, double offset_counts) const;
  /// `fn(from)` is called (with the tick from which the planned motion
  /// changed) whenever a move is planned or cut short, until the Subscription
  /// ends — an encoder that already saw "no more changes" must look again
  /// (PandaFpga::motion_changed). Any number of subscribers.
  [[nodiscard]] Subscription subscribe_motion_change(std::function<void(Tick from)> fn) {
    return motion_changes_.subscribe(std::move(fn));
  }
  /// Arms the stalls (replacing the jams armed earlier) and places the hard
  /// limits at once (added to the switches; a move under way that would cross
  /// one is cut). `log` gets one line per fault that fires; empty: stderr.
  /// Same thread as advance() and the puts.
  void set_faults(MotorFaults faults, std::function<void(std::string_view)> log = {});

  [[nodiscard]] const MotorConfig& config() const { return config_; }
  /// The PV of a field ("VAL", "RBV", ...); null for an unknown field.
  [[nodiscard]] std::shared_ptr<Pv> field(std::string_view name) const;

 private:
  enum class Phase { idle, moving, settling, held };
  enum class Ending { target, limit, stop, pause, home, stall };
  struct FaultAt {  // a fault's position
    double dial;
    double user;  // as given, for the log
  };

  // motor_record.cpp: fields and put handling
  void make_fields();
  void add(std::string_view field, Elements initial, bool writable);
  std::uint32_t on_put(std::string_view field, const Elements& value, Pv::Completion& done);
  std::uint32_t put_double(std::string_view field, double v, Pv::Completion& done);
  std::uint32_t put_speed(std::string_view field, double v);
  std::uint32_t put_limit(std::string_view field, double v);
  std::uint32_t put_jog_speed(std::string_view field, double v);
  std::uint32_t put_long(std::string_view field, std::int32_t v, Pv::Completion& done);
  void post_dval();                                   // DVAL and RVAL
  [[nodiscard]] std::int32_t raw(double dial) const;  // dial in MRES steps
  std::uint32_t put_short(std::string_view field, std::int16_t v, Pv::Completion& done);
  std::uint32_t put_enum(std::string_view field, std::uint16_t v, Pv::Completion& done);
  std::uint32_t put_val(double user, Pv::Completion& done);
  void post(std::string_view field, double v);
  void post_short(std::string_view field, std::int16_t v);
  void post_enum(std::string_view field, std::uint16_t v);
  void post_positions();  // VAL DVAL RBV HLM LLM after OFF/DIR/MRES/limit changes
  void post_metadata();
  [[nodiscard]] double sign() const { return dir_negative_ ? -1.0 : 1.0; }
  [[nodiscard]] double to_user(double dial) const { return dial * sign() + off_; }
  [[nodiscard]] double to_dial(double user) const { return (user - off_) * sign(); }
  [[nodiscard]] double quantize(double dial) const;

  // motor_record_motion.cpp: the motion state machine
  std::uint32_t request_move(double dial, double user, Pv::Completion& done);
  std::uint32_t request_home(int direction, Pv::Completion& done);
  /// accel 0: the acceleration for `speed` from VBAS/ACCL.
  void start_motion(double dial, double speed, int homing, double accel = 0);
  void jog(int direction, bool on);
  bool plan(Tick start, double target, double speed);
  void stop_motion(Ending ending);
  void resume();
  void run_until(Tick t);
  void poll(Tick t);
  void finish(Tick t);
  void settled();
  void read_back(Tick t);
  void dmov_pulse();
  void complete_pending();
  void release();      // DMOV 1 and the callbacks complete; the axis may still coast
  void drain_queue();  // processes the queued put-callbacks while none is pending
  [[nodiscard]] bool busy() const { return !pending_.empty(); }
  [[nodiscard]] static bool queues(std::string_view field);
  void motion_changed(Tick from);
  // motor_record_motion.cpp: faults
  bool jam_ahead();  // cuts the planned motion at an armed jam; sets end_, ending_
  void stall(Tick t);
  void clear_stall();
  void place_limit(FaultAt limit);
  void note_limit_trip(Tick t);
  void log_fault(const std::string& what, Tick t) const;
  void post_msta();
  [[nodiscard]] double accel_for(double speed) const;
  [[nodiscard]] EpicsTime wall_at(Tick t) const;

  MotorConfig config_;
  std::shared_ptr<MotorMotion> motion_;
  std::map<std::string, std::shared_ptr<Pv>, std::less<>> pvs_;
  Subscribers<Tick> motion_changes_;

  Tick now_ = 0;
  EpicsTime wall_;
  EpicsTime stamp_;  // the time stamp of what is posted now

  // settings
  double val_ = 0, dval_ = 0, velo_, vbas_, vmax_, accl_, accs_ = 0, hvel_;
  double jvel_ = 0, jar_ = 0;
  std::int32_t srev_ = 200;
  double dhlm_, dllm_, mres_, off_, twv_, rdbd_, dly_;
  bool dir_negative_, set_mode_ = false, foff_frozen_ = false;
  std::uint16_t spmg_ = 3;
  std::int16_t prec_;
  std::string egu_;

  // read-back state
  double drbv_ = 0;
  bool hls_ = false, lls_ = false, athm_ = false, tdir_ = false, homed_ = false;

  // the operation under way
  Phase phase_ = Phase::idle;
  Ending ending_ = Ending::target;
  int homing_ = 0;    // +1 HOMF, -1 HOMR, 0 none
  int jogging_ = 0;   // +1 JOGF, -1 JOGR, 0 none
  double accel_ = 1;  // acceleration of the motion under way (for stops)
  Tick end_ = 0, next_poll_ = kNever, settle_end_ = kNever;
  std::vector<Pv::Completion> pending_;  // only callbacks (plain puts pass none)
  bool released_ = false;                // DMOV already 1 for the motion under way
  bool polled_ = false;                  // a driver poll has seen the motion under way
  struct Queued {
    std::string field;
    Elements value;
    Pv::Completion done;
  };
  std::vector<Queued> queued_;
  bool draining_ = false;

  // faults
  std::function<void(std::string_view)> fault_log_;
  std::vector<FaultAt> jams_;           // armed stalls; one is removed when it fires
  std::optional<std::size_t> jam_hit_;  // the jam the planned motion stops at
  bool stalled_ = false;                // jammed: held until STOP / SPMG Stop
  std::vector<FaultAt> limits_;         // placed switches not yet tripped
};

}  // namespace pandafly::sim::ca
