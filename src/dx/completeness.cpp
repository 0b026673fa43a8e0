// The completeness rule (contract in include/pandafly/dx/completeness.hpp).
#include "pandafly/dx/completeness.hpp"

#include <fmt/format.h>

namespace pandafly::dx {

Completeness judge_completeness(const CompletenessFacts& f) {
  Completeness c;
  if (f.interrupted) c.reasons.emplace_back("the acquisition was interrupted");
  if (f.write_failed) c.reasons.emplace_back("a write failed");
  if (f.frames_lost > 0) c.reasons.push_back(fmt::format("{} frames lost", f.frames_lost));
  for (const auto& [path, want] : f.expected) {
    const auto it = f.stored.find(path);
    const std::uint64_t have = it == f.stored.end() ? 0 : it->second;
    if (have != want)
      c.reasons.push_back(fmt::format("{} holds {} frames, {} expected", path, have, want));
  }
  if (f.projections_without_angle > 0)
    c.reasons.push_back(fmt::format("{} projections have no angle (NaN or Undefined)",
                                    f.projections_without_angle));
  c.complete = c.reasons.empty();
  return c;
}

}  // namespace pandafly::dx
