#pragma once
// FaultPlan: the faults a joined beamline simulator injects on demand, for
// tests of what a scan does when the beamline misbehaves. The same plan comes
// from the beamline TOML's [faults] table or from `--fault KIND=VALUE` options
// (both added together). Each fault is logged by the part that fires it.
//
// Numbering (shared by the TOML keys and the options):
//   frame k    the camera frame with UniqueId k (1-based since the simulator started)
//   trigger k  the k-th rising trigger edge the camera received since the start
//   row k      the k-th captured PandA row (sample) of an acquisition (1-based)
//
//   --fault                      [faults] key                    effect
//   drop-frame=K                 drop_frame = [K, ...]           frame K is never published
//   duplicate-frame=K            duplicate_frame = [K, ...]      frame K is published twice
//   swap-frames=K                swap_frames = [K, ...]          frames K and K+1 go out swapped
//   stall-camera=K:SECONDS       stall_camera = [{frame = K, seconds = S}, ...]
//                                                                from frame K the camera delivers
//                                                                nothing for S (simulated) seconds
//   miss-trigger=K               miss_trigger = [K, ...]         trigger K starts no exposure
//   close-panda-data=K           close_panda_data = K            after row K every data
//                                                                connection is closed, no END
//   motor-stall=[MOTOR:]POS      motor_stall = [{motor = "rotation", position = P}, ...]
//                                                                the axis jams at user position P
//   hard-limit=[MOTOR:]POS       hard_limit = [{motor = "rotation", position = P}, ...]
//                                                                a limit switch at user position P
//   ca-restart=AT:DOWNTIME       ca_restart = [{at = T, downtime = D}, ...]
//                                                                the IOC reboots at simulated T s,
//                                                                away for D s
// MOTOR is a [[motor]] name; without it, the rotation stage.
//
// Example:
//   FaultPlan plan;
//   add_fault(plan, "drop-frame=5");          // throws std::invalid_argument on a bad spec
//   add_fault(plan, "stall-camera=10:2.5");
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::sim {

struct FaultPlan {
  std::vector<std::uint64_t> drop_frames;
  std::vector<std::uint64_t> duplicate_frames;
  std::vector<std::uint64_t> swap_frames;
  std::vector<std::uint64_t> miss_triggers;
  struct CameraStall {
    std::uint64_t frame = 0;
    double seconds = 0;
    friend bool operator==(const CameraStall&, const CameraStall&) = default;
  };
  std::vector<CameraStall> camera_stalls;
  std::optional<std::uint64_t> close_panda_data_at_row;
  struct MotorAt {
    std::string motor;  // a [[motor]] name; empty: the rotation stage
    double position = 0;
    friend bool operator==(const MotorAt&, const MotorAt&) = default;
  };
  std::vector<MotorAt> motor_stalls;
  std::vector<MotorAt> hard_limits;
  struct CaRestart {
    double at = 0;        // simulated seconds since the start
    double downtime = 0;  // simulated seconds
    friend bool operator==(const CaRestart&, const CaRestart&) = default;
  };
  std::vector<CaRestart> ca_restarts;

  [[nodiscard]] bool empty() const { return *this == FaultPlan{}; }
  friend bool operator==(const FaultPlan&, const FaultPlan&) = default;
};

/// Adds one `KIND=VALUE` fault (see the table above). Throws
/// std::invalid_argument naming the spec and what is wrong with it.
void add_fault(FaultPlan& plan, std::string_view spec);
/// The plan as `--fault` specs, one per fault (round-trips through add_fault).
[[nodiscard]] std::vector<std::string> fault_specs(const FaultPlan& plan);

}  // namespace pandafly::sim
