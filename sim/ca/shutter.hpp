#pragma once
// A simulated beamline shutter (no seed names one; the PVs follow tomoscan's
// shutter use: a command PV the scan writes and a status PV it waits on):
//
//   <prefix><command>  bo,   "Close" / "Open"          (writable)
//   <prefix><status>   mbbi, "Closed" / "Open" / "Moving" (read only)
//
// Rules
//   * Writing Open while not open: Status Moving at once, Open after
//     `open_time` s. Writing Close while not closed: Moving at once, Closed
//     after `close_time` s. A command the shutter already obeys changes
//     nothing. A command that reverses a travel restarts it from now (the
//     whole travel time). The command PV keeps the last command.
//   * Put-callback: completes when the shutter has reached the commanded
//     state (at once when it is already there); a reversed travel's pending
//     callbacks complete at the reversal.
//   * The beam sees the sample only while the shutter is fully open:
//     open_throughout(from, to) says whether it was open at every tick of
//     [from, to] — exact for the past (the open intervals are kept; the last
//     kHistory of them), so a camera may ask after an exposure has ended.
//   * Sans-IO; one thread (the CA server's) calls everything.
//
// Example:
//   Shutter shutter(ShutterConfig{});
//   shutter.publish(db);
//   // a client writes BEATS:shutter:Cmd = Open (put-callback waits 0.5 s)
//   bool beam = shutter.open_throughout(exposure_start, exposure_end);
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/ca/device.hpp"

namespace pandafly::sim::ca {

struct ShutterConfig {
  std::string name = "shutter";  // a label (the camera's `shutter` key names it)
  std::string prefix = "BEATS:shutter:";
  std::string command = "Cmd";
  std::string status = "Status";
  double open_time = 0.5;   // s from Open to fully open
  double close_time = 0.5;  // s from Close to fully closed
  bool open = true;  // the state at start (open: a scan that never touches it sees the sample)
  friend bool operator==(const ShutterConfig&, const ShutterConfig&) = default;
};

class Shutter final : public Device {
 public:
  /// The configuration is not validated here (config.cpp does that).
  explicit Shutter(ShutterConfig config);
  ~Shutter() override;

  void publish(PvDatabase& db) override;
  void advance(Tick now, EpicsTime wall) override;
  [[nodiscard]] Tick next_wake() const override;

  [[nodiscard]] const ShutterConfig& config() const { return config_; }
  [[nodiscard]] std::shared_ptr<Pv> command_pv() const { return command_; }
  [[nodiscard]] std::shared_ptr<Pv> status_pv() const { return status_; }
  /// True when the shutter was fully open at every tick of [from, to].
  [[nodiscard]] bool open_throughout(Tick from, Tick to) const;

  static constexpr std::size_t kHistory = 1024;

 private:
  enum Status : std::uint16_t { closed = 0, open = 1, moving = 2 };
  struct Interval {
    Tick from, until;  // fully open in [from, until)
  };

  std::uint32_t on_command(std::uint16_t command, Pv::Completion done);
  void complete_pending();

  ShutterConfig config_;
  std::shared_ptr<Pv> command_, status_;
  Tick now_ = 0;
  EpicsTime wall_;
  bool target_open_;
  Tick arrival_ = kNever;  // when a travel under way ends
  std::deque<Interval> open_;
  std::vector<Pv::Completion> pending_;
};

}  // namespace pandafly::sim::ca
