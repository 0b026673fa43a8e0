#pragma once
// judge_completeness: the one rule that calls a DXfile scan complete. dx::Writer
// applies it at finish() to what it wrote (EndState::complete, the file's
// /process/acquisition/pandafly_end/complete) and dx::validate applies it again
// to what the file holds, so `pandafly-dx record` and `pandafly-dx validate`
// cannot disagree.
//
// Rules
//   A scan is complete when all of these hold:
//     - it was not interrupted (Ctrl-C, abort, receiver error, the writer
//       destroyed early) and no write failed;
//     - no frame was lost: every frame received was stored (a frame of the
//       wrong size, shape or pixel type, or whose attributes could not be read
//       so that its routing and angle are unknown, is lost);
//     - every detector dataset with an expected count holds exactly that many
//       frames (datasets without an expectation are not constrained; a total
//       such as `record --frames` is a stop condition, not an expectation);
//       a slotted dataset (dx::Writer Rules, "Slots") holds the frames of
//       its filled slots, and the reason names its first missing slots;
//     - every projection has a finite angle (a NaN or "Undefined" angle in
//       /exchange/theta is a scan whose geometry is unknown);
//     - the acquisition found nothing wrong with what it stored (`faults`,
//       from dx::Ending: e.g. a continuous scan's camera stall, which leaves
//       every slot filled but part of the range without a projection). Each
//       is a reason as given. The file says so only through its complete
//       flag and end reason (validate, which cannot see it, then warns).
//   Pure; any thread. Reasons are short sentences, in the order above.
//
// Example:
//   CompletenessFacts f;
//   f.expected["/exchange/data"] = 1801;
//   f.stored["/exchange/data"] = 1800;
//   auto c = judge_completeness(f);
//   // c.complete == false
//   // c.reasons == {"/exchange/data holds 1800 frames, 1801 expected"}
//   f.missing_slots["/exchange/data"] = {17};   // the writer's slots
//   // c.reasons == {"/exchange/data holds 1800 frames, 1801 expected (missing slots: 17)"}
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pandafly::dx {

struct CompletenessFacts {
  bool interrupted = false;
  bool write_failed = false;
  std::uint64_t frames_lost = 0;
  std::map<std::string, std::uint64_t> expected;  ///< detector dataset path → frames
  std::map<std::string, std::uint64_t> stored;    ///< detector dataset path → frames
  std::uint64_t projections_without_angle = 0;    ///< NaN/±inf angles of projections
  /// Slotted datasets: the missing slots, in order (the first few suffice;
  /// the count is expected − stored).
  std::map<std::string, std::vector<std::uint64_t>> missing_slots;
  std::vector<std::string> faults;  ///< found by the acquisition (Rules), each a reason
};

/// How many missing slots a reason names before "…".
inline constexpr std::size_t missing_slots_named = 5;

struct Completeness {
  bool complete = false;
  std::vector<std::string> reasons;  ///< why not; empty when complete
};

[[nodiscard]] Completeness judge_completeness(const CompletenessFacts& facts);

}  // namespace pandafly::dx
