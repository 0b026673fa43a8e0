#pragma once
// PandaFpga: runs the simulated FPGA of a PandaServer. It owns an fpga::Engine
// over the server's model, advances its virtual time and turns what PCAP
// produces into the server's data-port acquisitions, so `*PCAP.ARM=` on the
// control port starts a capture that data clients receive, exactly as on the
// real box.
//
//   Clock::real_time  virtual time follows Options::sim_clock (the beamline's
//                     one SimClock; null: a real-time SimClock of its own,
//                     tick 0 = construction). The engine never runs beyond the
//                     clock's now(): it is advanced to now() every `period` and
//                     at the steady-clock moment of its next event
//                     (SimClock::steady_deadline, re-checked when the timer
//                     fires), but not again within `min_step` (dense events —
//                     an encoder counting 100k/s — are taken in batches); while
//                     the clock is held it still wakes every `period` (and
//                     finds time standing still).
//   Clock::fast       virtual time runs as fast as the CPU allows while anything
//                     is scheduled, slowed only by data clients: while any
//                     client has more than `fast_backlog_bytes` unsent, time
//                     waits (so a fast simulation never overruns a reader).
//                     The clock, if given, only dates the data headers.
//
// The data header's arm_time/start_time are the clock's iso_utc() of the arm
// and start ticks; PCAP.TS_* are ticks since arm/start as on the real box.
//
// `*PCAP.ARM=` is refused with "Data clients still taking data" while a data
// client still has bytes of an earlier acquisition unsent. Bus values and
// read-only block state reach the model (reads, `*CHANGES`) every `publish_period`.
//
// Encoders: set_motion() gives INENCn a motion; motion_changed() tells it the
// motion's plan changed (subscribe it with MotorRecord::subscribe_motion_change), so the
// encoder follows every move, however often the motor starts, re-plans or stops.
// TTL outputs: subscribe_ttl_out() — any number of observers.
//
// Faults (PandaFaults, each fires once and is logged through Options::log):
//   close_data_at_row k: after the k-th captured row (1-based) of an acquisition
//   has been sent, every data connection is closed abruptly (no END line), as
//   a crashed server or a broken network would; the control port keeps working
//   and the FPGA keeps capturing (rows go to clients that connect later).
//
// Threading: everything runs on the server's io_context thread; set_motion(),
// motion_changed(), subscribe_ttl_out(), on_ttl_out(), stop(), now() and
// late_motion_changes() may be called from any thread. Construct it before
// the io_context runs or on its thread; destroy it after the io_context
// stopped running or on its thread.
//
// Example:
//   boost::asio::io_context io;
//   auto clock = std::make_shared<SimClock>(10.0);
//   PandaServer server(io, {.control_port = 0, .data_port = 0});
//   PandaFpga fpga(io, server, {.sim_clock = clock});
//   fpga.set_motion(1, motor.encoder_motion(10000.0, 0.0));
//   auto follow = motor.subscribe_motion_change([&](Tick from) { fpga.motion_changed(1, from); });
//   auto trig = fpga.subscribe_ttl_out([&](std::size_t n, bool up, Tick t) { ... });
//   std::thread t([&] { io.run(); });
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/server.hpp"
#include "sim/sim_clock.hpp"

namespace pandafly::sim {

/// PandA faults on demand (see PandaFpga). Empty: none.
struct PandaFaults {
  /// Close every data connection after the k-th row (1-based) of the first
  /// acquisition that reaches it.
  std::optional<std::uint64_t> close_data_at_row = std::nullopt;
  friend bool operator==(const PandaFaults&, const PandaFaults&) = default;
};

class PandaFpga {
 public:
  enum class Clock { real_time, fast };
  struct Options {
    Clock clock = Clock::real_time;
    std::shared_ptr<SimClock> sim_clock = nullptr;         // null: a real-time one of its own
    std::chrono::microseconds period{1000};                // real_time: advance at least this often
    std::chrono::microseconds min_step{250};               // real_time: and at most this often
    std::chrono::milliseconds publish_period{20};          // bus values → model
    fpga::Tick fast_slice = fpga::kTicksPerSecond / 1000;  // fast: virtual time per step
    std::size_t fast_backlog_bytes = std::size_t{8} << 20;
    PandaFaults faults = {};
    /// real_time under a time scale: when the FPGA is more than this far
    /// behind the clock before or after a step or a catch_up() (its events
    /// took longer than the simulated time they cover), the clock is held
    /// until the FPGA has caught up, so simulated time waits for it and
    /// whoever waits on the FPGA (the CA devices of a joined simulator) waits
    /// a bounded time. Held before the work too: otherwise the clock runs on
    /// while the FPGA computes and every step is longer than the last. After
    /// a step or catch_up() the clock is held or the FPGA at most this far
    /// behind. 0: never hold.
    fpga::Tick hold_clock_when_behind = 0;
    /// One line per fault that fires (and per late motion change); empty: stderr.
    std::function<void(std::string_view)> log = nullptr;
  };

  /// Builds the engine over server.model() and starts advancing it. The
  /// io_context and the server must outlive this object.
  PandaFpga(boost::asio::io_context& io, PandaServer& server, Options options);
  PandaFpga(const PandaFpga&) = delete;
  PandaFpga& operator=(const PandaFpga&) = delete;
  ~PandaFpga();

  /// INENCn (1-based) follows `motion` from now on (thread-safe).
  void set_motion(std::size_t inenc, std::shared_ptr<const fpga::MotionSource> motion);
  /// INENCn's motion changed its plan from tick `from` on (thread-safe): the
  /// encoder looks again for its next count change. Called on the io_context
  /// thread outside the engine's run it takes effect at once (so the FPGA can
  /// never run past `from` first); otherwise it is posted.
  void motion_changed(std::size_t inenc, fpga::Tick from);
  /// motion_changed() calls that arrived after the engine had passed `from`
  /// (the encoder showed the old plan for a while; thread-safe). 0 when the
  /// motor and the FPGA share one clock and thread.
  [[nodiscard]] std::uint64_t late_motion_changes() const { return late_changes_.load(); }
  /// Calls `fn(ttlout_number, level, tick)` on the io_context thread for every
  /// TTLOUT edge until the returned Subscription is reset or destroyed
  /// (thread-safe; any number of subscribers).
  [[nodiscard]] Subscription subscribe_ttl_out(
      std::function<void(std::size_t, bool, fpga::Tick)> fn);
  /// The engine's single legacy TTL slot (replaced by each call; empty to
  /// remove; thread-safe). Prefer subscribe_ttl_out().
  void on_ttl_out(std::function<void(std::size_t, bool, fpga::Tick)> fn);
  /// Advances the FPGA to `target` now (real_time only; never beyond the
  /// clock's now()) and forwards what PCAP captured: for a joined simulator
  /// whose devices consume the FPGA's outputs and must not run ahead of them.
  /// Holds the clock as hold_clock_when_behind says. io_context thread only.
  void catch_up(fpga::Tick target);
  /// Stops advancing time (thread-safe; also done by the destructor).
  void stop();
  /// Virtual time reached so far (thread-safe).
  [[nodiscard]] fpga::Tick now() const { return now_.load(std::memory_order_relaxed); }
  /// The clock the runner follows (real_time) or dates headers with (fast).
  [[nodiscard]] const std::shared_ptr<SimClock>& clock() const { return clock_; }
  /// The engine; io_context thread only.
  [[nodiscard]] fpga::Engine& engine() { return *engine_; }

 private:
  void schedule();
  void step();
  void advance_to(fpga::Tick target);
  void pace_clock();  // hold_clock_when_behind
  void apply_motion_change(std::size_t inenc, fpga::Tick from);
  void forward_capture();
  void forward_samples(std::vector<std::byte> samples);
  void log(std::string_view line) const;
  [[nodiscard]] fpga::Tick wall_tick() const;
  [[nodiscard]] std::string wall_time(fpga::Tick tick) const;

  boost::asio::io_context& io_;
  PandaServer& server_;
  Options options_;
  std::shared_ptr<SimClock> clock_;
  bool holding_clock_ = false;  // this runner holds clock_ (hold_clock_when_behind)
  std::unique_ptr<fpga::Engine> engine_;
  fpga::Pcap* pcap_ = nullptr;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_publish_;
  std::chrono::steady_clock::time_point last_step_;
  std::atomic<fpga::Tick> now_{0};
  std::atomic<std::uint64_t> late_changes_{0};
  bool advancing_ = false;     // inside engine_->run_until()
  std::uint64_t rows_ = 0;     // rows of the current acquisition forwarded
  std::size_t row_bytes_ = 0;  // RAW bytes per row of the current acquisition
  bool close_fired_ = false;   // PandaFaults::close_data_at_row done
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace pandafly::sim
