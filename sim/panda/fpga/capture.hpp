#pragma once
// The position side of the simulated FPGA: INENC (encoder counts from a
// MotionSource) and PCAP (position capture into RAW samples).
//
// INENC: VAL = floor(motion position) + the offset a SETP write sets. One event
// per count change, at the exact tick (MotionSource::next_change), so PCOMP
// and PCAP see every count. Without a motion source VAL holds its value. The
// next change is asked once per change; when the motion's plan changes (a
// motor move commanded, cut short, stopped) the owner calls motion_changed()
// so that the encoder asks again — also after a rest that had "no next change".
//
// PCAP, per reference §3.7 and PandABlocks-FPGA modules/pcap (pcap_core.vhd,
// pcap_arming.vhd, pcap_frame.vhd, pcap_buffer.vhd, pcap.timing.ini):
//   arm()            *PCAP.ARM: plans the sample from the model's CAPTURE settings
//                    (an error when nothing is captured or the sample is too big);
//                    ACTIVE goes high a tick later and stays high until the
//                    acquisition ends (firmware: ACTIVE = armed, "ARM -> ACTIVE=1"
//                    before any ENABLE in the timing diagrams);
//   ENABLE high      while armed: the acquisition starts (a Start event with the
//                    arm and start ticks);
//   ENABLE masks     TRIG and GATE (firmware: trig_en = TRIG and ENABLE, gate =
//                    GATE and ENABLE), so ENABLE rising while TRIG is high is a
//                    rising TRIG edge, and ENABLE falling while TRIG is high a
//                    falling one;
//   TRIG edge        (TRIG_EDGE) while running: one sample. It covers the ticks
//                    from the previous trigger (or the start) up to but not
//                    including this one: Value is the position at the trigger
//                    tick; Sum/Mean/Min/Max/StdDev over the gated ticks (GATE
//                    high), Diff = the position change while GATE was high;
//                    GATE_DURATION = gated ticks; TS_TRIG = trigger tick, TS_START
//                    / TS_END = first gate rise / last gate fall in the period (a
//                    gate still high at the trigger ends at the trigger; -1 when
//                    none), all relative to the start tick; BITSn = the bit bus.
//                    SHIFT_SUM shifts Sum/Mean sums and GATE_DURATION right.
//   ENABLE low       ends the acquisition with "Ok"; disarm() with "Disarmed";
//                    two triggers closer than the sample's 32-bit word count
//                    with "Framing error". A disarm before the start still gives
//                    a Start (start = disarm tick) and END 0 Disarmed, so a data
//                    client waiting for the acquisition is never left hanging.
//   the pipeline     a sample reaches the data only kCaptureLatency ticks after
//                    its trigger (firmware: the trigger passes pcap_frame's 3
//                    register stages and pcap_buffer's output register before
//                    pcap_dat_valid, which is what keeps the arming state
//                    machine waiting at ENABLE's fall). An acquisition that ends
//                    earlier than that after a trigger (ENABLE falling, disarm,
//                    framing error) resets the pipeline and loses the sample: a
//                    trigger at t is kept only if the end comes at t + 5 or
//                    later (t + 4 for a one-word sample, whose single word is
//                    out in that tick); a framing error keeps every earlier
//                    sample (firmware finds it ~4 ticks on, in pcap_buffer). A design must keep
//                    ENABLE high a few ticks past its last trigger. (Deviation: a disarm cutting a
//                    multi-word sample's write short is not modelled; the sample is kept whole once
//                    its write started.)
// Samples are little-endian RAW as CaptureLayout::raw_header() lays them out.
// take_events() hands them to the owner (the server's runner), in order.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/panda/columns.hpp"
#include "sim/panda/capture_layout.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/fpga/motion.hpp"

namespace pandafly::sim::fpga {

class Inenc final : public Behaviour {
 public:
  /// Follows `motion` from now on (null: hold the current value).
  void set_motion(std::shared_ptr<const MotionSource> motion, Engine& engine);
  /// The motion's planned future changed from tick `from` on (a motor started,
  /// re-planned or stopped): the encoder asks next_change() again from now().
  /// Must be called before the engine runs past `from`; a later call (from <
  /// now()) still re-follows from now() but counts in late_changes(), since the
  /// counts shown in [from, now()) came from the old plan.
  void motion_changed(Tick from, Engine& engine);
  /// motion_changed() calls that came after the engine had passed `from`.
  [[nodiscard]] std::uint64_t late_changes() const { return late_changes_; }

  void configure(const InstanceConfig& config, Engine& engine) override;
  void inputs(std::vector<Signal>&, std::vector<Signal>&) const override {}
  void on_inputs(Engine&) override {}
  void on_wake(Engine& engine) override;
  void on_write(std::string_view field, Engine& engine) override;

 private:
  void follow(Engine& engine);

  std::shared_ptr<const MotionSource> motion_;
  Signal val_ = 0;
  std::int64_t setp_ = 0;
  std::int64_t offset_ = 0;  // added to the motion's count (SETP)
  std::int32_t held_ = 0;    // VAL without a motion source
  Tick next_wake_ = kNever;
  std::uint64_t late_changes_ = 0;
};

/// One thing PCAP produced, in order.
struct CaptureEvent {
  enum class Kind { start, samples, end } kind;
  std::shared_ptr<const CaptureLayout> layout;  // start
  Tick arm_tick = 0, start_tick = 0;            // start
  std::vector<std::byte> samples;               // samples: whole RAW samples
  std::string reason;                           // end
};

class Pcap final : public Behaviour {
 public:
  /// Ticks from a trigger to its sample's first word leaving PCAP (see the
  /// file comment): an acquisition must still run at trigger + this.
  static constexpr Tick kCaptureLatency = 5;

  /// *PCAP.ARM. Fails with the server's message when nothing is captured,
  /// the sample is too big or an acquisition is running.
  [[nodiscard]] Status arm(Engine& engine);
  /// *PCAP.DISARM: ends a running or armed acquisition with "Disarmed".
  void disarm(Engine& engine);
  [[nodiscard]] bool armed() const { return state_ != State::idle; }
  /// Samples produced in the current (or last) acquisition.
  [[nodiscard]] std::uint64_t samples() const { return produced_; }
  /// Everything produced since the last call, in order.
  [[nodiscard]] std::vector<CaptureEvent> take_events();

  void configure(const InstanceConfig& config, Engine& engine) override;
  void inputs(std::vector<Signal>& bits, std::vector<Signal>& positions) const override;
  void on_inputs(Engine& engine) override;
  void on_wake(Engine& engine) override;
  void publish(const InstanceConfig& config) const override;

  using Int128 = panda::Int128;

 private:
  enum class State { idle, armed, running };
  // Running sums of one captured position field.
  struct Acc {
    Signal signal;
    std::int32_t value = 0;  // at the last integration
    std::int64_t sum = 0;
    Int128 sum_sq = 0;
    std::int32_t min = 0, max = 0, diff = 0;
    bool gated = false;  // some gated tick seen this period
  };
  // Where one RAW field's value comes from.
  enum class Source {
    value,
    diff,
    sum,
    min,
    max,
    sum_sq,
    ts_start,
    ts_end,
    ts_trig,
    gate_ticks,
    bits
  };
  struct Slot {
    Source source;
    std::size_t acc = 0;   // value..sum_sq: index into accs_; value: also the signal
    Signal signal = 0;     // value
    std::size_t word = 0;  // bits
    std::size_t offset = 0;
    std::size_t size = 4;
  };

  void integrate(Tick to);
  void start(Engine& engine);
  void trigger(Engine& engine);
  void finish(Engine& engine, const std::string& reason);
  // Moves the pending samples whose trigger came at or before `tick` into the
  // events; drop_rest: forgets the others (the pipeline reset at the end).
  void commit(Tick tick, bool drop_rest = false);
  // kCaptureLatency, one tick less for a one-word sample.
  [[nodiscard]] Tick latency() const;
  void reset_period();
  [[nodiscard]] std::vector<CapturedField> captured_fields(Engine& engine) const;
  void plan(const CaptureLayout& layout, Engine& engine);

  // configuration
  Signal enable_ = 0, gate_ = 0, trig_ = 0, active_ = 0;
  std::int64_t trig_edge_ = 0;  // Rising, Falling, Either
  unsigned shift_sum_ = 0;
  // acquisition
  State state_ = State::idle;
  std::shared_ptr<const CaptureLayout> layout_;
  std::vector<Slot> slots_;
  std::vector<Acc> accs_;
  std::size_t words_ = 0;
  Tick arm_tick_ = 0, start_tick_ = 0, last_tick_ = 0, last_trigger_ = 0;
  bool any_trigger_ = false;
  std::int64_t gate_ticks_ = 0, ts_start_ = -1, ts_end_ = -1;
  bool enable_level_ = false, gate_level_ = false, trig_level_ = false;
  std::uint64_t produced_ = 0;
  std::vector<std::byte> pending_;   // samples triggered but still in the pipeline
  std::vector<Tick> pending_ticks_;  // their trigger ticks, oldest first
  std::int64_t health_ = 0;          // HEALTH enum: OK, Capture events too close together
  std::vector<CaptureEvent> events_;
};

}  // namespace pandafly::sim::fpga
