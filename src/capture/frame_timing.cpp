// Frame timing of a free-running camera (contract in
// include/pandafly/capture/frame_timing.hpp).
#include "pandafly/capture/frame_timing.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace pandafly::capture {
namespace {

void require_positive(double v, const char* field) {
  if (!(std::isfinite(v) && v > 0))
    throw std::invalid_argument(std::string("frame timing: ") + field + " must be > 0 and finite");
}

}  // namespace

std::string_view to_string(StampMeaning meaning) noexcept {
  switch (meaning) {
    case StampMeaning::readout_end:
      return "readout_end";
    case StampMeaning::exposure_end:
      return "exposure_end";
    case StampMeaning::exposure_start:
      return "exposure_start";
  }
  return "?";
}

std::optional<StampMeaning> stamp_meaning_from(std::string_view name) noexcept {
  for (const auto m :
       {StampMeaning::readout_end, StampMeaning::exposure_end, StampMeaning::exposure_start})
    if (to_string(m) == name) return m;
  return std::nullopt;
}

double mid_exposure(double stamp, StampMeaning meaning, double exposure_s,
                    double readout_s) noexcept {
  switch (meaning) {
    case StampMeaning::readout_end:
      return stamp - readout_s - exposure_s / 2;
    case StampMeaning::exposure_end:
      return stamp - exposure_s / 2;
    case StampMeaning::exposure_start:
      return stamp + exposure_s / 2;
  }
  return stamp;
}

FrameTiming place_frame(const GapRules& rules, const std::optional<FrameTiming>& prev,
                        std::uint64_t number, double mid) {
  require_positive(rules.period_s, "period_s");
  require_positive(rules.exposure_s, "exposure_s");
  if (!(std::isfinite(rules.gap_periods) && rules.gap_periods > 1))
    throw std::invalid_argument("frame timing: gap_periods must be > 1 and finite");
  FrameTiming t{number, mid, mid, 0, false};
  if (!prev || prev->number >= number) return t;
  const auto frames = static_cast<double>(number - prev->number);
  const double since = mid - prev->mid;
  if (since > (frames - 1 + rules.gap_periods) * rules.period_s) {
    t.gap_s = since;
  } else if (prev->late() && since < (frames + 1 - rules.gap_periods) * rules.period_s) {
    t.bunched = true;
  } else {
    return t;
  }
  // Never later than its own stamp says: a previous frame that was itself
  // late cannot push the earliest past it.
  t.earliest = std::min(mid, prev->earliest + frames * rules.exposure_s);
  return t;
}

RangeVerdict check_range(double angle_deg, double exposure_travel_deg,
                         const SpeedPart& part) noexcept {
  if (std::isnan(angle_deg)) return RangeVerdict::inside;
  const double dir = part.to_deg >= part.from_deg ? 1.0 : -1.0;
  const double half = std::abs(exposure_travel_deg) / 2;
  // Signed distances along the scan direction.
  if (dir * (angle_deg - part.to_deg) + half > 0) return RangeVerdict::beyond;
  if (dir * (part.from_deg - angle_deg) + half > 0) return RangeVerdict::before;
  return RangeVerdict::inside;
}

}  // namespace pandafly::capture
