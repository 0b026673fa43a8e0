// The completeness rule (contract in include/pandafly/dx/completeness.hpp).
#include "pandafly/dx/completeness.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace pandafly::dx {
namespace {

// " (missing slots: 3, 9)" or " (missing slots: 0, 1, 2, 3, 4, … 40 in all)".
std::string missing_list(const std::vector<std::uint64_t>& slots, std::uint64_t count) {
  const std::size_t named = std::min(slots.size(), missing_slots_named);
  const std::vector<std::uint64_t> first(slots.begin(), slots.begin() + static_cast<long>(named));
  if (count <= named) return fmt::format(" (missing slots: {})", fmt::join(first, ", "));
  return fmt::format(" (missing slots: {}, … {} in all)", fmt::join(first, ", "), count);
}

}  // namespace

Completeness judge_completeness(const CompletenessFacts& f) {
  Completeness c;
  if (f.interrupted) c.reasons.emplace_back("the acquisition was interrupted");
  if (f.write_failed) c.reasons.emplace_back("a write failed");
  if (f.frames_lost > 0) c.reasons.push_back(fmt::format("{} frames lost", f.frames_lost));
  for (const auto& [path, want] : f.expected) {
    const auto it = f.stored.find(path);
    const std::uint64_t have = it == f.stored.end() ? 0 : it->second;
    if (have == want) continue;
    std::string reason = fmt::format("{} holds {} frames, {} expected", path, have, want);
    if (const auto m = f.missing_slots.find(path); m != f.missing_slots.end() && !m->second.empty())
      reason += missing_list(m->second, want > have ? want - have : m->second.size());
    c.reasons.push_back(std::move(reason));
  }
  if (f.projections_without_angle > 0)
    c.reasons.push_back(fmt::format("{} projections have no angle (NaN or Undefined)",
                                    f.projections_without_angle));
  c.reasons.insert(c.reasons.end(), f.faults.begin(), f.faults.end());
  c.complete = c.reasons.empty();
  return c;
}

}  // namespace pandafly::dx
