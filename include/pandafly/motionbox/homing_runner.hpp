#pragma once
// motionbox::HomingRunner: the I/O shell that runs motionbox::Homing over
// Channel Access, one machine per motor, all motors at once. It is what the
// `pandafly motionbox home` command calls, and what a web page's server can
// call too: connect(), plans() for a dry run, run() with a progress callback
// (phase and status of each motor as they change) and interrupt() from any
// thread.
//
// Rules
//   - connect() creates every motor's channels (<pv_root>.VAL RBV DMOV HLS
//     LLS MSTA LVIO STOP SET FOFF DHLM DLLM HLM LLM VELO ACCL SPMG) and waits
//     for all of them up to the timeout; ConnectError names every PV that did
//     not connect. Nothing is written.
//   - plans() reads each motor's settings and status (gets only) and returns
//     what homing would do (homing.hpp's plan()).
//   - run(): per motor a thread runs its Homing: six monitors (RBV DMOV HLS
//     LLS MSTA LVIO) feed its status, each command runs on a thread of its own
//     (puts and put-callback moves with ca::Channel::put_wait), completions
//     and updates go to the motor's event queue. It returns when every
//     machine has finished; one motor's failure does not stop the others.
//   - interrupt() (any thread, any number of times; e.g. from a SignalWatch
//     callback): every machine gets Interrupted: moving motors are STOPped,
//     what was changed is restored, each result says where its motor stands.
//     An interrupt() before run() interrupts that run at its start (a Ctrl-C
//     between installing the handler and starting is not lost).
//   - run() may be called again (a web page homes again): each run starts
//     with empty queues and no interruption pending.
//   - Progress callbacks run on the motors' threads (serialised by a mutex):
//     keep them short.
//
// Example:
//   ca::Context ctx;
//   HomingRunner runner(ctx, {{"A", box.motor("A")}}, {.direction = Direction::hi,
//                                                      .tolerance = box.tolerance()});
//   runner.connect();
//   for (const auto& r : runner.run()) print(r.name, r.result.ok, r.result.last.rbv);
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "pandafly/ca/context.hpp"
#include "pandafly/motionbox/box_file.hpp"
#include "pandafly/motionbox/homing.hpp"

namespace pandafly::motionbox {

class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MotorJob {
  std::string name;
  MotorEntry entry;
};

struct HomeOptions {
  Direction direction = Direction::hi;
  double tolerance = 0;
  double connect_timeout = 5;  ///< s, for all channels together
  HomingParams timing;         ///< margins and timeouts (its limits are ignored)
};

struct MotorProgress {
  std::string name;
  Phase phase = Phase::idle;
  MotorStatus status;
};

struct MotorPlan {
  std::string name;
  MotorSettings settings;
  HomingPlan plan;
};

struct MotorReport {
  std::string name;
  std::string pv_root;
  Direction direction = Direction::hi;
  HomingPlan plan;
  Result result;
  double seconds = 0;
};

class HomingRunner {
 public:
  using OnProgress = std::function<void(const MotorProgress&)>;

  HomingRunner(const ca::Context& context, std::vector<MotorJob> jobs, HomeOptions options);
  ~HomingRunner();
  HomingRunner(const HomingRunner&) = delete;
  HomingRunner& operator=(const HomingRunner&) = delete;

  /// Throws ConnectError naming every PV that did not connect.
  void connect();
  /// The plan per motor from its current settings (reads only). Throws ca::Error.
  [[nodiscard]] std::vector<MotorPlan> plans();
  /// Homes every motor at once; one report per motor, in the jobs' order.
  [[nodiscard]] std::vector<MotorReport> run(OnProgress on_progress = {});
  /// Any thread; see Rules.
  void interrupt(std::string reason = "interrupted");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::motionbox
