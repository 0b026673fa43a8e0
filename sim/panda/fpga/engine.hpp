#pragma once
// Engine: the event-driven FPGA of the simulated PandA. It owns the bit bus and
// the position bus, a queue of timed events in virtual time (125 MHz ticks) and
// one Behaviour per block instance that has one (PCOMP1, PULSE3, PCAP, …).
// Parameters and mux selections are read from the PandaModel's fields, so what
// a control client writes is what the blocks do; bus values go back into the
// model's bit_out/pos_out fields with publish() (for `*CHANGES`, reads).
//
// Rules of time
//   * Signals are piecewise constant: a bus value changes only by an event.
//   * All events of one tick are applied first; then every block one of whose
//     inputs changed in that tick runs on_inputs() once, seeing them together
//     (an input that changed and changed back within the tick also counts:
//     blocks edge-detect against their own previous values).
//   * An output set from on_inputs() takes effect one tick later at the
//     earliest (the FPGA's register stage); from on_wake() (a timer the block
//     asked for) it can take effect in the same tick.
//   * A block edits its own agenda: wakes are never cancelled, a block ignores
//     a wake it no longer wants (compare now() with what it expects).
//   * Sans-IO: no clocks or threads; run_until() advances virtual time, the
//     caller decides whether that follows the wall clock or runs flat out.
//
// Example:
//   PandaModel model;
//   Engine fpga(model);                         // default behaviours
//   (void)model.write("CLOCK1.PERIOD", "1", s);  // via a Session; the hook reconfigures
//   (void)model.write("CLOCK1.ENABLE", "ONE", s);
//   fpga.run_until(fpga.now() + 10 * kTicksPerSecond / 1000);
//   fpga.bit(fpga.bit_index("CLOCK1.OUT"));
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/panda/fields.hpp"
#include "sim/panda/fpga/ticks.hpp"
#include "sim/panda/model.hpp"
#include "sim/subscribers.hpp"

namespace pandafly::sim::fpga {

class Engine;

/// Index of a signal on the bit bus or the position bus. After the bus bits
/// come the constants ZERO and ONE, then the delayed copies that bit muxes
/// with a DELAY read; the last position index is ZERO.
using Signal = std::uint32_t;

/// One block instance's fields in the model, as its Behaviour reads them.
class InstanceConfig {
 public:
  InstanceConfig(Engine& engine, Block& block, std::size_t number);

  /// "PULSE1", "PCAP".
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::size_t number() const { return number_; }
  /// The register value of a param/read/write/time field (enum index, ticks, …).
  [[nodiscard]] std::int64_t param(std::string_view field) const;
  /// The bus signal selected by a bit_mux / pos_mux field; for a bit_mux with
  /// a DELAY, a copy of the signal that follows it DELAY ticks late.
  [[nodiscard]] Signal bit_in(std::string_view field) const;
  [[nodiscard]] Signal pos_in(std::string_view field) const;
  /// This instance's own bit_out / pos_out on the bus.
  [[nodiscard]] Signal bit_out(std::string_view field) const;
  [[nodiscard]] Signal pos_out(std::string_view field) const;
  /// The words of a table field.
  [[nodiscard]] std::span<const std::uint32_t> table(std::string_view field) const;
  /// Sets a read field's value in the model (publishing side), with a change stamp
  /// when it differs.
  void set_read(std::string_view field, std::int64_t raw) const;
  /// The field itself; throws std::logic_error naming it when the block has none
  /// (a bug in a Behaviour, not a runtime condition).
  [[nodiscard]] Field& field(std::string_view name) const;

 private:
  Engine* engine_;
  Block* block_;
  std::size_t number_;
  std::string name_;
};

/// What one block instance does. Implementations keep the previous value of
/// each input they edge-detect.
class Behaviour {
 public:
  Behaviour() = default;
  Behaviour(const Behaviour&) = delete;
  Behaviour& operator=(const Behaviour&) = delete;
  virtual ~Behaviour() = default;

  /// (Re-)reads parameters and mux selections; called at start and after any
  /// write to a field of the instance. Runs at engine.now(); it may set outputs.
  virtual void configure(const InstanceConfig& config, Engine& engine) = 0;
  /// Bus signals whose changes should call on_inputs().
  virtual void inputs(std::vector<Signal>& bits, std::vector<Signal>& positions) const = 0;
  /// One or more inputs changed at engine.now() (or the wiring changed).
  virtual void on_inputs(Engine& engine) = 0;
  /// A wake asked for with Engine::wake() is due (maybe no longer wanted).
  virtual void on_wake(Engine&) {}
  /// A write/action field of the instance was written (FORCE_SET, SETP, SET, …),
  /// after configure().
  virtual void on_write(std::string_view /*field*/, Engine&) {}
  /// Puts read-only state (STATE, PRODUCED, HEALTH, QUEUED, …) into the model.
  virtual void publish(const InstanceConfig&) const {}

 private:
  friend class Engine;
  bool dirty_ = false;
};

/// Makes the Behaviour of one block kind ("PULSE"); the engine asks once per instance.
using BehaviourFactory = std::function<std::unique_ptr<Behaviour>(const InstanceConfig&)>;
using BehaviourRegistry = std::map<std::string, BehaviourFactory, std::less<>>;

/// Every block kind the simulator models (behaviours.cpp).
[[nodiscard]] BehaviourRegistry default_behaviours();

class Engine {
 public:
  /// Builds a Behaviour for every instance of every block in `registry`,
  /// configures them at tick 0 and hooks itself to the model's writes. The
  /// model must outlive the engine; one engine per model.
  explicit Engine(PandaModel& model, BehaviourRegistry registry = default_behaviours());
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // ---- time
  [[nodiscard]] Tick now() const { return now_; }
  /// Processes every event up to and including tick `end`, then sets now() = end
  /// (when later). Returns the number of events processed.
  std::size_t run_until(Tick end);
  /// Tick of the earliest pending event, kNever when none.
  [[nodiscard]] Tick next_event() const;

  // ---- buses
  [[nodiscard]] bool bit(Signal s) const { return bits_[s] != 0; }
  [[nodiscard]] std::int32_t pos(Signal s) const { return positions_[s]; }
  /// Bus index of a bit_out / pos_out by name ("ZERO", "ONE" too); throws
  /// std::invalid_argument naming an unknown one.
  [[nodiscard]] Signal bit_index(std::string_view name) const;
  [[nodiscard]] Signal pos_index(std::string_view name) const;
  [[nodiscard]] Signal zero_bit() const { return static_cast<Signal>(bus_bits_); }
  [[nodiscard]] Signal one_bit() const { return static_cast<Signal>(bus_bits_ + 1); }
  /// A signal that follows `source` `ticks` late (`source` itself for 0).
  [[nodiscard]] Signal delayed_bit(Signal source, std::uint32_t ticks);
  [[nodiscard]] Signal zero_pos() const { return static_cast<Signal>(positions_.size() - 1); }
  /// Bus bits 32·word … 32·word+31 as PCAP.BITSn captures them.
  [[nodiscard]] std::uint32_t bit_word(std::size_t word) const;

  /// Schedules a bus output change at `at` (see the rules of time for the
  /// earliest tick allowed; earlier requests are moved to it).
  void set_bit(Signal out, bool value, Tick at);
  void set_pos(Signal out, std::int32_t value, Tick at);
  /// Calls on_wake() of `who` at tick `at` (> now(), or == now() from on_wake()).
  void wake(Behaviour& who, Tick at);
  /// Calls on_inputs() of `who` at the next processed tick (e.g. after rewiring).
  void poke(Behaviour& who);

  /// Called with the bus index, new value and tick of every bit change (e.g. a
  /// TTLOUT edge for the camera simulator). One observer; empty to remove.
  std::function<void(Signal, bool, Tick)> on_bit_change;
  /// Called by the TTLOUT behaviour with the output number (1-based), level and
  /// tick of every edge on a TTL output (the camera simulator's trigger input).
  /// One slot, called before the subscribers of subscribe_ttl_out().
  std::function<void(std::size_t, bool, Tick)> on_ttl_out;
  /// Any number of TTL edge observers (same arguments as on_ttl_out), called
  /// during run_until() at the edge's tick; see subscribers.hpp (thread-safe).
  [[nodiscard]] Subscription subscribe_ttl_out(std::function<void(std::size_t, bool, Tick)> fn) {
    return ttl_out_.subscribe(std::move(fn));
  }
  /// Reports a TTL edge to on_ttl_out and every subscriber (the TTLOUT behaviour).
  void ttl_edge(std::size_t number, bool level, Tick at) {
    if (on_ttl_out) on_ttl_out(number, level, at);
    ttl_out_.notify(number, level, at);
  }

  // ---- model side
  [[nodiscard]] PandaModel& model() { return model_; }
  /// The instance's behaviour ("PCAP", "PULSE2"), or null.
  [[nodiscard]] Behaviour* behaviour(std::string_view instance);
  /// Copies bus values and read-only block state into the model's fields.
  void publish();
  /// Rebuilds who listens to which signal (after a mux or capture change).
  void rewire();

 private:
  friend class InstanceConfig;
  struct Event {
    Tick at;
    std::uint64_t seq;
    enum class Kind : std::uint8_t { bit, pos, wake, poke } kind;
    Signal index;
    std::int32_t value;
    Behaviour* who;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Instance {
    Block* block;
    std::size_t number;
    std::unique_ptr<Behaviour> behaviour;
  };

  void push(Event e);
  /// Schedules a bus change; applied at once when it is due now and would be
  /// the next event taken anyway (see push_or_apply in engine.cpp).
  void change(Event::Kind kind, Signal out, std::int32_t value, Tick at);
  /// Applies one event (the switch of run_until()).
  void apply(const Event& e);
  void field_written(Field& field);
  void mark(Behaviour* who);
  [[nodiscard]] Tick earliest(Tick at) const;

  PandaModel& model_;
  Subscribers<std::size_t, bool, Tick> ttl_out_;
  std::size_t bus_bits_ = 0;  // bit_outs on the bus (before ZERO and ONE)
  std::vector<Instance> instances_;
  std::map<std::pair<Signal, std::uint32_t>, Signal> delayed_;  // (source, ticks) → copy
  std::vector<std::unique_ptr<Behaviour>> delay_lines_;
  std::map<const Field*, std::size_t> field_owner_;  // field → instances_ index
  std::map<std::string, std::size_t, std::less<>> by_name_;
  std::vector<std::uint8_t> bits_;
  std::vector<std::int32_t> positions_;
  std::vector<std::vector<Behaviour*>> bit_listeners_, pos_listeners_;
  std::vector<BitOutField*> bit_fields_;
  std::vector<PosOutField*> pos_fields_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::vector<Behaviour*> dirty_;
  Tick now_ = 0;
  std::uint64_t seq_ = 0;
  bool reacting_ = false;      // inside on_inputs(): outputs no earlier than now_ + 1
  bool applying_ = false;      // inside run_until()'s event phase of tick now_
  std::size_t processed_ = 0;  // events applied by run_until() (returned by it)
};

}  // namespace pandafly::sim::fpga
