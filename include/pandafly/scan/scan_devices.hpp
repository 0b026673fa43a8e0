#pragma once
// scan::ScanDevices: the fly scan's hardware — the rotation and sample motor
// records, the camera (cam, ZMQ plugin, FrameType), the shutter over Channel
// Access, and the PandA's control port — carrying out scan::ScanMachine's device
// commands and reporting back as scan::Events.
//
// Rules
//   - The constructor connects every PV the scan file names, all searches
//     at once, and the PandA control port; anything missing is one error
//     (std::runtime_error) naming every PV that did not connect and the PandA
//     address. Optional PVs (the camera's Model_RBV) are read when present.
//   - read_motor_facts() / read_camera_facts() / sample_position(): what the
//     plan needs, read before anything moves (plain gets).
//   - execute(command) returns at once: each command runs on its own thread
//     (a move blocks in its put-callback for seconds while a STOP must still
//     go out), and posts StepDone / StepFailed / MoveDone with the command's
//     id to `post`. CloseFile is not a device command (the caller's).
//     Camera Acquire=1 is a plain put confirmed by a read-back of the same PV
//     (Channel Access answers a circuit's requests in order), never a
//     put-callback (that would complete only when the acquisition ends).
//     A Move is a put-callback on .VAL; when it completes the position (RBV),
//     HLS, LLS and LVIO are read and reported in MoveDone.
//   - Monitored from construction: the rotation's MSTA (an update with
//     SLIP_STALL, bit 6 = 64, or PROBLEM, bit 9 = 512, posts MotorStatus
//     {stalled}) and the RBV of both motors (each update posts MotorStatus
//     {position}: the state machine's sign of progress).
//   - The PandA control client is used by one command at a time (a mutex).
//   - One way to stop (util/stop.hpp): every Channel Access wait of a command
//     takes the devices' stop token; stop() abandons them all at once.
//     join() (and the destructor) stops, then waits for every command thread
//     and the monitors. Threads: construct, read_* and join on one thread;
//     execute from the same thread.
//
// Example:
//   scan::ScanDevices dev(config, ctx, [&](scan::Event e) { queue.post(std::move(e)); });
//   auto motor = dev.read_motor_facts();
//   dev.execute(command);
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "pandafly/ca/context.hpp"
#include "pandafly/scan/plan.hpp"
#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_machine.hpp"

namespace pandafly::scan {

/// What the PandA is told around a scan: the scan-dependent fields (put by
/// PutPandaFields), and fields put right after `*PCAP.ARM=` and right before
/// `*PCAP.DISARM=` (e.g. an enable bit), in order.
struct PandaScanFields {
  FieldList fields;
  FieldList after_arm;
  FieldList before_disarm;
};

class ScanDevices {
 public:
  using Post = std::function<void(Event)>;

  /// kind step/cont: no PandA (its control port is not connected; PandA
  /// commands are not to be given); step requires the camera's
  /// TriggerSoftware, cont its GC_AcqResFrameRate_RBV.
  ScanDevices(const ScanConfig& config, const ca::Context& context, Post post,
              ScanKind kind = ScanKind::fly);
  ~ScanDevices();
  ScanDevices(const ScanDevices&) = delete;
  ScanDevices& operator=(const ScanDevices&) = delete;

  /// Loads the design file (only what differs from the PandA's state is sent).
  /// Returns how many lines were sent. Throws on a refusal, naming the line.
  std::size_t load_design(const std::string& design_text);
  [[nodiscard]] MotorFacts read_motor_facts() const;
  [[nodiscard]] CameraFacts read_camera_facts() const;
  /// The sample motor's position (RBV); nullopt when the scan takes no flats.
  [[nodiscard]] std::optional<double> sample_position() const;
  /// kind cont: sets the camera's AcquireTime and AcquirePeriod and reads the
  /// rate it will really run at (GC_AcqResFrameRate_RBV, Hz).
  double configure_frame_rate(double exposure, double period);
  /// The sample motor's VELO (EGU/s); 1 when there is none.
  [[nodiscard]] double sample_speed() const;

  /// The camera driver's ArrayCounter_RBV (the number of its last frame, which
  /// the next frame's NDArray uniqueId follows); nullopt when it cannot be read.
  [[nodiscard]] std::optional<std::uint64_t> camera_frame_counter() const;
  /// What PutPandaFields, ArmPanda and DisarmPanda put (set before execute()).
  void set_panda_fields(PandaScanFields fields);

  void execute(const Command& command);
  /// Any thread: every command still waiting on Channel Access (a move's
  /// put-callback, a get) gives up at once with "cancelled" (the device side
  /// goes on: a motor keeps moving until STOP).
  void stop();
  /// stop(), then waits for every command thread and the monitors.
  void join();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::scan
