#include "pandafly/capture/frame_sequence.hpp"

#include <algorithm>

namespace pandafly::capture {

void FrameSequence::remember(std::uint64_t f, std::optional<double> timestamp) {
  if (timestamp) recent_[f] = *timestamp;
  while (recent_.size() > window_) recent_.erase(recent_.begin());
}

// Header Rules.
FrameVerdict FrameSequence::feed(std::uint64_t f, std::optional<double> timestamp) {
  using Kind = FrameVerdict::Kind;
  auto& last = counts_.last;
  if (!last || f > *last) {
    FrameVerdict v{last ? Kind::in_order : Kind::first};
    if (last && f > *last + 1) {
      v = {Kind::gap, *last + 1, f - *last - 1};
      counts_.missing += v.skipped;
      const std::uint64_t w = window_;
      for (std::uint64_t g = std::max(*last + 1, f > w ? f - w : 0); g < f; ++g) gaps_.insert(g);
      while (gaps_.size() > window_) gaps_.erase(gaps_.begin());
    }
    last = f;
    remember(f, timestamp);
    return v;
  }
  if (gaps_.erase(f) > 0) {  // counted missing when the gap opened: it came late
    --counts_.missing;
    ++counts_.reorders;
    remember(f, timestamp);
    return {Kind::late};
  }
  if (!timestamp) return {Kind::seen};
  const auto seen = recent_.find(f);
  if (seen != recent_.end() && seen->second == *timestamp) {
    ++counts_.duplicates;
    return {Kind::duplicate};
  }
  // A number already used (or older than anything remembered) with a new time
  // stamp: the camera's ArrayCounter was reset — a new acquisition.
  ++counts_.restarts;
  gaps_.clear();
  recent_.clear();
  last = f;
  remember(f, timestamp);
  return {Kind::restart};
}

}  // namespace pandafly::capture
