#include "pandafly/capture/angle_track.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace pandafly::capture {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void require(bool ok, const char* field, const char* rule) {
  if (!ok) throw std::invalid_argument(std::string("AngleTrackConfig.") + field + " " + rule);
}

// One neighbouring interval of the bracketing one: its mean speed and length.
struct Neighbour {
  bool present = false;
  double speed = 0;
  double length = 0;
};

// The speed variation Δv inside the bracketing interval (header Rules): `v`
// and `noise` are the bracketing interval's speed and speed noise; `e` is one
// reading's error, from which each neighbour's speed noise 2e/h follows.
double speed_variation(double v, double noise, const Neighbour& prev, const Neighbour& next,
                       double e) {
  const double np = prev.present ? 2 * e / prev.length : 0;
  const double nn = next.present ? 2 * e / next.length : 0;
  if (prev.present && next.present) {
    const double dp = v - prev.speed, dn = v - next.speed;
    const bool peak = dp > np + noise && dn > nn + noise;
    const bool trough = dp < -(np + noise) && dn < -(nn + noise);
    if (peak || trough) return 2 * std::max(std::abs(dp), std::abs(dn)) + np + noise + nn;
    return std::abs(next.speed - prev.speed) + np + nn;  // monotone: the rigorous case
  }
  if (prev.present) return 2 * std::abs(v - prev.speed) + np + noise;
  if (next.present) return 2 * std::abs(next.speed - v) + nn + noise;
  return kInf;
}

}  // namespace

std::string_view to_string(AngleStatus status) noexcept {
  switch (status) {
    case AngleStatus::interpolated:
      return "interpolated";
    case AngleStatus::at_rest:
      return "at_rest";
    case AngleStatus::gap:
      return "gap";
    case AngleStatus::not_constant_speed:
      return "not_constant_speed";
    case AngleStatus::before_first:
      return "before_first";
    case AngleStatus::after_last:
      return "after_last";
    case AngleStatus::no_data:
      return "no_data";
  }
  return "unknown";
}

AngleTrack::AngleTrack(AngleTrackConfig config) : config_(config) {
  const auto non_negative = [](double x) { return std::isfinite(x) && x >= 0; };
  require(non_negative(config_.resolution), "resolution", "must be finite and >= 0");
  require(non_negative(config_.stamp_lag), "stamp_lag", "must be finite and >= 0");
  require(non_negative(config_.update_interval), "update_interval", "must be finite and >= 0");
  require(non_negative(config_.speed_tolerance), "speed_tolerance", "must be finite and >= 0");
  require(std::isfinite(config_.gap_intervals) && config_.gap_intervals > 1, "gap_intervals",
          "must be finite and > 1");
}

// Header Rules, "Updates".
UpdateVerdict AngleTrack::add(double stamp, double position) {
  if (!std::isfinite(stamp) || !std::isfinite(position)) {
    ++counts_.rejected;
    return UpdateVerdict::rejected;
  }
  const auto it = std::lower_bound(updates_.begin(), updates_.end(), stamp,
                                   [](const Update& u, double t) { return u.stamp < t; });
  if (it != updates_.end() && it->stamp == stamp) {
    if (it->position == position) {
      ++counts_.duplicates;
      return UpdateVerdict::duplicate;
    }
    it->position = position;
    ++counts_.replaced;
    median_ = -1;
    return UpdateVerdict::replaced;
  }
  const bool at_end = it == updates_.end();
  updates_.insert(it, Update{stamp, position});
  median_ = -1;
  if (at_end) return UpdateVerdict::added;
  ++counts_.out_of_order;
  return UpdateVerdict::out_of_order;
}

bool AngleTrack::covers(double stamp) const noexcept {
  return !updates_.empty() && updates_.front().stamp <= stamp && stamp <= updates_.back().stamp;
}

double AngleTrack::update_interval() const {
  if (config_.update_interval > 0) return config_.update_interval;
  if (median_ >= 0) return median_;
  // Only intervals in which RBV changed: a motor at rest posts nothing, so
  // the intervals around a rest say nothing about the poll period.
  std::vector<double> moving;
  for (std::size_t i = 0; i + 1 < updates_.size(); ++i)
    if (updates_[i].position != updates_[i + 1].position)
      moving.push_back(updates_[i + 1].stamp - updates_[i].stamp);
  if (moving.empty()) return median_ = 0;
  const auto mid = moving.begin() + static_cast<std::ptrdiff_t>(moving.size() / 2);
  std::nth_element(moving.begin(), mid, moving.end());
  return median_ = *mid;
}

double AngleTrack::speed(std::size_t a) const noexcept {
  return (updates_[a + 1].position - updates_[a].position) /
         (updates_[a + 1].stamp - updates_[a].stamp);
}

// Header Rules, "Query".
AngleEstimate AngleTrack::angle_at(double stamp) const {
  if (updates_.empty() || std::isnan(stamp)) return {};
  if (stamp < updates_.front().stamp) return extrapolate(stamp, AngleStatus::before_first);
  if (stamp > updates_.back().stamp) return extrapolate(stamp, AngleStatus::after_last);
  if (updates_.size() == 1) {  // stamp is the only update's: its reading, speed unknown
    const double e = config_.stamp_lag > 0 ? kInf : config_.resolution / 2;
    return {updates_.front().position, e, 0, AngleStatus::interpolated};
  }
  const auto it = std::upper_bound(updates_.begin(), updates_.end(), stamp,
                                   [](double t, const Update& u) { return t < u.stamp; });
  const auto b = std::min(static_cast<std::size_t>(it - updates_.begin()), updates_.size() - 1);
  return interpolate(stamp, b);
}

AngleEstimate AngleTrack::extrapolate(double stamp, AngleStatus side) const noexcept {
  const bool before = side == AngleStatus::before_first;
  const Update& u = before ? updates_.front() : updates_.back();
  const std::size_t n = updates_.size();
  const double v = n < 2 ? 0 : speed(before ? 0 : n - 2);
  return {u.position + v * (stamp - u.stamp), kInf, v, side};
}

// Header Rules: the angle, its bound and its status between updates b−1 and b.
AngleEstimate AngleTrack::interpolate(double stamp, std::size_t b) const {
  const std::size_t a = b - 1;
  const Update &ua = updates_[a], &ub = updates_[b];
  const double h = ub.stamp - ua.stamp, w = (stamp - ua.stamp) / h, dp = ub.position - ua.position;
  const double v = dp / h;
  Neighbour prev, next;
  if (a >= 1) prev = {true, speed(a - 1), ua.stamp - updates_[a - 1].stamp};
  if (b + 1 < updates_.size()) next = {true, speed(b), updates_[b + 1].stamp - ub.stamp};

  double lo = v, hi = v, fastest = std::abs(v);
  for (const Neighbour* n : {&prev, &next}) {
    if (!n->present) continue;
    lo = std::min(lo, n->speed), hi = std::max(hi, n->speed);
    fastest = std::max(fastest, std::abs(n->speed));
  }
  const double spread = hi - lo;
  const double e = config_.resolution / 2 + config_.stamp_lag * (fastest + spread);
  const double noise = 2 * e / h;
  const double dv = speed_variation(v, noise, prev, next, e);
  const double span = (stamp - ua.stamp) * (ub.stamp - stamp);  // 0 at either update
  const double u_interp = span <= 0 ? e : e + dv * span / h;    // dv = inf, span > 0: inf
  const double u_mono = e + std::max(w, 1 - w) * std::abs(dp);
  AngleEstimate out{ua.position + w * dp, std::min(u_interp, u_mono), v, AngleStatus::interpolated};

  const double interval = update_interval();
  double spread_noise = noise;
  if (prev.present) spread_noise += 2 * e / prev.length;
  if (next.present) spread_noise += 2 * e / next.length;
  if (dp == 0) {
    out.status = AngleStatus::at_rest;
  } else if (interval > 0 && h > config_.gap_intervals * interval) {
    out.status = AngleStatus::gap;
  } else if (spread > spread_noise + config_.speed_tolerance * fastest) {
    out.status = AngleStatus::not_constant_speed;
  }
  return out;
}

}  // namespace pandafly::capture
