// FaultPlan: `--fault KIND=VALUE` specs, their errors, and the round trip.
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "sim/fault_plan.hpp"

namespace sim = pandafly::sim;

namespace {

std::string error_of(std::string_view spec) {
  sim::FaultPlan plan;
  try {
    sim::add_fault(plan, spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("fault plan: every kind of spec lands in its field") {
  sim::FaultPlan plan;
  for (const char* spec : {"drop-frame=5", "duplicate-frame=7", "swap-frames=9", "miss-trigger=3",
                           "stall-camera=10:2.5", "close-panda-data=50", "motor-stall=90.5",
                           "hard-limit=sample_x:-12", "ca-restart=4:3"})
    sim::add_fault(plan, spec);
  CHECK(plan.drop_frames == std::vector<std::uint64_t>{5});
  CHECK(plan.duplicate_frames == std::vector<std::uint64_t>{7});
  CHECK(plan.swap_frames == std::vector<std::uint64_t>{9});
  CHECK(plan.miss_triggers == std::vector<std::uint64_t>{3});
  REQUIRE(plan.camera_stalls.size() == 1);
  CHECK(plan.camera_stalls[0] == sim::FaultPlan::CameraStall{10, 2.5});
  CHECK(plan.close_panda_data_at_row == 50u);
  REQUIRE(plan.motor_stalls.size() == 1);
  CHECK(plan.motor_stalls[0] == sim::FaultPlan::MotorAt{"", 90.5});
  REQUIRE(plan.hard_limits.size() == 1);
  CHECK(plan.hard_limits[0] == sim::FaultPlan::MotorAt{"sample_x", -12});
  REQUIRE(plan.ca_restarts.size() == 1);
  CHECK(plan.ca_restarts[0] == sim::FaultPlan::CaRestart{4, 3});
  CHECK_FALSE(plan.empty());

  sim::FaultPlan again;
  for (const auto& spec : sim::fault_specs(plan)) sim::add_fault(again, spec);
  CHECK(again == plan);
  CHECK(sim::FaultPlan{}.empty());
}

TEST_CASE("fault plan: a bad spec names itself and what is wrong") {
  CHECK(error_of("drop-frame") == "--fault drop-frame: expected KIND=VALUE");
  CHECK(error_of("drop-frame=0") ==
        "--fault drop-frame=0: the frame must be a whole number >= 1, got '0'");
  CHECK(error_of("drop-frame=2x") ==
        "--fault drop-frame=2x: the frame must be a whole number >= 1, got '2x'");
  CHECK(error_of("stall-camera=3") ==
        "--fault stall-camera=3: expected stall-camera=FRAME:SECONDS");
  CHECK(error_of("stall-camera=3:-1") ==
        "--fault stall-camera=3:-1: the seconds must be >= 0, got -1");
  CHECK(error_of("motor-stall=rotation:nan") ==
        "--fault motor-stall=rotation:nan: the position must be a number, got 'nan'");
  CHECK(error_of("ca-restart=5") ==
        "--fault ca-restart=5: expected ca-restart=AT:DOWNTIME (simulated seconds)");
  CHECK(error_of("explode=1").starts_with("--fault explode=1: unknown fault (drop-frame, "));
}
