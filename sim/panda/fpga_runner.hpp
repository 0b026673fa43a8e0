#pragma once
// PandaFpga: runs the simulated FPGA of a PandaServer. It owns an fpga::Engine
// over the server's model, advances its virtual time and turns what PCAP
// produces into the server's data-port acquisitions, so `*PCAP.ARM=` on the
// control port starts a capture that data clients receive, exactly as on the
// real box.
//
//   Clock::real_time  virtual time follows the steady clock (tick 0 = construction);
//                     the engine is advanced every `period`.
//   Clock::fast       virtual time runs as fast as the CPU allows while anything
//                     is scheduled, slowed only by data clients: while any
//                     client has more than `fast_backlog_bytes` unsent, time
//                     waits (so a fast simulation never overruns a reader).
//
// `*PCAP.ARM=` is refused with "Data clients still taking data" while a data
// client still has bytes of an earlier acquisition unsent. Bus values and
// read-only block state reach the model (reads, `*CHANGES`) every `publish_period`.
//
// Threading: everything runs on the server's io_context thread; set_motion(),
// stop() and now() may be called from any thread. Construct it before the
// io_context runs or on its thread; destroy it after the io_context stopped
// running or on its thread.
//
// Example:
//   boost::asio::io_context io;
//   PandaServer server(io, {.control_port = 0, .data_port = 0});
//   PandaFpga fpga(io, server, {.clock = PandaFpga::Clock::fast});
//   fpga.set_motion(1, std::make_shared<fpga::Stationary>(0));
//   std::thread t([&] { io.run(); });
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/server.hpp"

namespace pandafly::sim {

class PandaFpga {
 public:
  enum class Clock { real_time, fast };
  struct Options {
    Clock clock = Clock::real_time;
    std::chrono::microseconds period{1000};                // real_time: advance this often
    std::chrono::milliseconds publish_period{20};          // bus values → model
    fpga::Tick fast_slice = fpga::kTicksPerSecond / 1000;  // fast: virtual time per step
    std::size_t fast_backlog_bytes = std::size_t{8} << 20;
  };

  /// Builds the engine over server.model() and starts advancing it. The
  /// io_context and the server must outlive this object.
  PandaFpga(boost::asio::io_context& io, PandaServer& server, Options options);
  PandaFpga(const PandaFpga&) = delete;
  PandaFpga& operator=(const PandaFpga&) = delete;
  ~PandaFpga();

  /// INENCn (1-based) follows `motion` from now on (thread-safe).
  void set_motion(std::size_t inenc, std::shared_ptr<const fpga::MotionSource> motion);
  /// Calls `fn(ttlout_number, level, tick)` on the io_context thread for every
  /// TTLOUT edge (the camera simulator's trigger input); empty to remove (thread-safe).
  void on_ttl_out(std::function<void(std::size_t, bool, fpga::Tick)> fn);
  /// Stops advancing time (thread-safe; also done by the destructor).
  void stop();
  /// Virtual time reached so far (thread-safe).
  [[nodiscard]] fpga::Tick now() const { return now_.load(std::memory_order_relaxed); }
  /// The engine; io_context thread only.
  [[nodiscard]] fpga::Engine& engine() { return *engine_; }

 private:
  void schedule();
  void step();
  void advance_to(fpga::Tick target);
  void forward_capture();
  [[nodiscard]] fpga::Tick wall_tick() const;
  [[nodiscard]] std::string wall_time(fpga::Tick tick) const;

  boost::asio::io_context& io_;
  PandaServer& server_;
  Options options_;
  std::unique_ptr<fpga::Engine> engine_;
  fpga::Pcap* pcap_ = nullptr;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point t0_;
  std::chrono::system_clock::time_point t0_wall_;
  std::chrono::steady_clock::time_point last_publish_;
  std::atomic<fpga::Tick> now_{0};
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace pandafly::sim
