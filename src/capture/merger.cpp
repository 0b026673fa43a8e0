// Merger: the header's Rules, in the order a frame meets them: add_frame →
// place (time or number) → put; then emit_ready decides slots from the head.
#include "pandafly/capture/merger.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace pandafly::capture {

namespace {

constexpr auto bit(ProjectionEvent e) {
  return static_cast<std::uint16_t>(e);
}

double median(std::vector<double> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return (*mid + *std::max_element(v.begin(), mid)) / 2;
}

std::int64_t signed_of(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

}  // namespace

std::string_view to_string(ProjectionEvent e) noexcept {
  switch (e) {
    case ProjectionEvent::frame_missing:
      return "frame_missing";
    case ProjectionEvent::missed_trigger:
      return "missed_trigger";
    case ProjectionEvent::row_missing:
      return "row_missing";
    case ProjectionEvent::duplicate_dropped:
      return "duplicate_dropped";
    case ProjectionEvent::reordered:
      return "reordered";
    case ProjectionEvent::time_mismatch:
      return "time_mismatch";
  }
  return "unknown";
}

std::string describe_events(std::uint16_t events) {
  std::string out;
  for (std::uint16_t b = 1; b != 0 && b <= events; b = static_cast<std::uint16_t>(b << 1U)) {
    if ((events & b) == 0) continue;
    if (!out.empty()) out += '|';
    out += to_string(static_cast<ProjectionEvent>(b));
  }
  return out.empty() ? "ok" : out;
}

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::duplicate:
      return "duplicate";
    case DropReason::no_trigger:
      return "no_trigger";
    case DropReason::conflict:
      return "conflict";
    case DropReason::too_late:
      return "too_late";
    case DropReason::beyond_plan:
      return "beyond_plan";
    case DropReason::after_finish:
      return "after_finish";
  }
  return "unknown";
}

Merger::Merger(MergerOptions options)
    : options_(options), sequence_(std::max<std::size_t>(options.window, 1)) {
  if (options_.projections == 0)
    throw std::invalid_argument("Merger: options.projections must be > 0");
  if (!(options_.frame_time_s > 0))
    throw std::invalid_argument(
        fmt::format("Merger: options.frame_time_s must be > 0 (got {})", options_.frame_time_s));
  if (!(options_.tolerance > 0 && options_.tolerance < 0.5))
    throw std::invalid_argument(
        fmt::format("Merger: options.tolerance must be in (0, 0.5) (got {})", options_.tolerance));
  options_.window = std::max<std::size_t>(options_.window, 2);
  options_.reorder_window = std::max<std::size_t>(options_.reorder_window, 1);
  options_.fit_window = std::max<std::size_t>(options_.fit_window, 1);
  options_.bootstrap_frames = std::max<std::size_t>(options_.bootstrap_frames, 1);
  // The number before the first one is "received": a first frame that never
  // comes is then a gap like any other (and a late one a reorder).
  if (options_.first_frame_number && *options_.first_frame_number > 0)
    (void)sequence_.feed(*options_.first_frame_number - 1, std::nullopt);
}

// ------------------------------------------------------------------ input

void Merger::set_start_time(double epics_s) {
  if (start_time_) return;
  start_time_ = epics_s;
  if (offset_) stats_.offset_s = *offset_ - epics_s;
  process();
}

void Merger::add_row(const PandaRow& row) {
  if (finished_ || rows_closed_ || row.index < rows_next_ || row.index < head_ ||
      row.index >= options_.projections) {
    ++stats_.rows_ignored;
    return;
  }
  for (auto k = std::max(rows_next_, head_); k < row.index; ++k) slot(k).row_lost = true;
  slot(row.index).row = row;
  rows_next_ = row.index + 1;
  rows_ended_ = false;
  if (grid_origin_ && !first_row_) {  // the frames-only grid was in the camera's clock:
    grid_origin_.reset();             // anchor again against the rows
    offset_.reset();
    fit_.clear();
  }
  if (std::isfinite(row.ts_start_s)) {  // a row without a time still gives its angle
    row_ts_.resize(row.index + 1, std::numeric_limits<double>::quiet_NaN());
    row_ts_[row.index] = row.ts_start_s;
    if (!first_row_) first_row_ = {row.index, row.ts_start_s};
    last_row_ = {row.index, row.ts_start_s};
  }
  process();
}

void Merger::add_frame(const MergerFrame& frame) {
  if (finished_) {
    drop(Pending{frame, false, {}}, DropReason::after_finish, std::nullopt);
    return;
  }
  const auto verdict = sequence_.feed(frame.number, frame.timestamp);
  if (verdict.kind == FrameVerdict::Kind::duplicate) {
    ++stats_.duplicates;
    // The original still waits: the copy goes back with it, once it is placed.
    for (auto& p : pending_) {
      if (p.frame.number == frame.number && p.frame.timestamp == frame.timestamp) {
        p.duplicates.push_back(frame);
        return;
      }
    }
    std::optional<std::uint64_t> s;
    if (auto it = number_slot_.find(frame.number); it != number_slot_.end()) s = it->second;
    if (s && *s >= head_) slot(*s).events |= bit(ProjectionEvent::duplicate_dropped);
    drop(Pending{frame, false, {}}, DropReason::duplicate, s);
    process();
    return;
  }
  if (!lowest_number_ || frame.number < *lowest_number_) lowest_number_ = frame.number;
  pending_.push_back({frame, verdict.kind == FrameVerdict::Kind::late, {}});
  process();
}

void Merger::end_rows() {
  if (rows_closed_ || finished_) return;
  rows_closed_ = true;
  rows_ended_ = true;
  process();
}

void Merger::finish(std::optional<std::uint64_t> last_camera_frame) {
  if (finished_) return;
  last_camera_frame_ = last_camera_frame;
  rows_ended_ = true;
  finished_ = true;
  process();
}

std::vector<MergerEvent> Merger::take() {
  return std::exchange(out_, {});
}

// ------------------------------------------------------------------ placing

Merger::Slot& Merger::slot(std::uint64_t s) {
  while (slots_.size() <= s - head_) slots_.emplace_back();
  return slots_[s - head_];
}

const Merger::Slot* Merger::find_slot(std::uint64_t s) const {
  if (s < head_ || s - head_ >= slots_.size()) return nullptr;
  return &slots_[s - head_];
}

std::optional<std::int64_t> Merger::base() const {
  if (base_) return base_;
  if (options_.first_frame_number) return signed_of(*options_.first_frame_number);
  if (lowest_number_) return signed_of(*lowest_number_);
  return std::nullopt;
}

double Merger::period() const {
  if (first_row_ && last_row_ && last_row_->first > first_row_->first) {
    const double p = (last_row_->second - first_row_->second) /
                     static_cast<double>(last_row_->first - first_row_->first);
    if (p > 0) return p;
  }
  return options_.frame_time_s;
}

void Merger::process() {
  for (int pass = 0; pass < 2; ++pass) {
    if (!offset_) try_anchor();
    if (!offset_ && rows_ended_ && !first_row_) anchor_on_frames();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (place(*it) == Placed::placed)
        it = pending_.erase(it);
      else
        ++it;
    }
    if (rows_ended_ || pending_.size() < options_.window) break;
    rows_ended_ = true;  // `window` frames wait for rows: the PandA data is taken as lost
  }
  emit_ready();
}

// Rules, "Time": counting pairs frame number − base with its slot's row; the
// pairs' offsets folded onto one period pick the genuine frames' phase, the
// prior (else counting from the earliest genuine frame) the whole periods.
void Merger::try_anchor() {
  const auto b = base();
  if (!b) return;
  std::vector<std::pair<std::uint64_t, double>> pairs;  // slot, offset
  for (const auto& p : pending_) {
    const auto s = signed_of(p.frame.number) - *b;
    if (s < 0 || !std::isfinite(p.frame.timestamp)) continue;
    if (const auto t = row_time(static_cast<std::uint64_t>(s)))
      pairs.emplace_back(static_cast<std::uint64_t>(s), p.frame.timestamp - *t);
  }
  if (pairs.empty()) return;
  // Fewer pairs do once rows ended or ran `reorder_window` past them (the
  // camera is not keeping up: more frames may not come soon).
  std::uint64_t last_counted = 0;
  for (const auto& pr : pairs) last_counted = std::max(last_counted, pr.first);
  const bool rows_far = rows_next_ >= last_counted + options_.reorder_window;
  if (pairs.size() < options_.bootstrap_frames && !rows_ended_ && !rows_far) return;
  std::optional<double> prior;
  if (options_.expected_offset_s && start_time_) prior = *start_time_ + *options_.expected_offset_s;
  const double d = choose_offset(std::move(pairs), prior);
  offset_ = d;
  stats_.offset_s = d - start_time_.value_or(0);
}

// Rules, "Time": the offset the counted (slot, offset) pairs give — their
// offsets folded onto one period around `prior` (else the earliest pair's),
// the largest group agreeing within the tolerance (ties: the earliest slot's),
// its whole periods from `prior`, else from the group's earliest pair.
// Precondition: pairs not empty.
double Merger::choose_offset(std::vector<std::pair<std::uint64_t, double>> pairs,
                             std::optional<double> prior) const {
  // Faults (a missed trigger, an extra frame's number) move counted pairs by
  // whole periods; an extra frame's own pair is off by a fraction. So the
  // offsets are first folded onto one period around the prior (else the
  // earliest pair's), and the largest group agreeing within the tolerance
  // is the genuine frames' (ties: the earliest slot's group).
  std::sort(pairs.begin(), pairs.end());
  // The earliest pairs suffice, and bound the grouping's quadratic cost.
  pairs.resize(std::min(pairs.size(), std::max<std::size_t>(options_.bootstrap_frames, 64)));
  const double per = period();
  const double ref = prior.value_or(pairs.front().second);
  const auto fold = [&](double d) {
    return d + static_cast<double>(std::llround((ref - d) / per)) * per;
  };
  std::vector<std::size_t> group;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    std::vector<std::size_t> g;
    for (std::size_t j = 0; j < pairs.size(); ++j)
      if (std::abs(fold(pairs[j].second) - fold(pairs[i].second)) <= tol()) g.push_back(j);
    if (g.size() > group.size()) group = std::move(g);
  }
  // The whole periods: the prior's, else counting from the group's earliest
  // frame (the pairs whose raw offset agrees with it).
  std::vector<double> offsets;
  const double earliest = pairs[group.front()].second;
  for (auto j : group) {
    if (prior)
      offsets.push_back(fold(pairs[j].second));
    else if (std::abs(pairs[j].second - earliest) <= tol())
      offsets.push_back(pairs[j].second);
  }
  return median(std::move(offsets));
}

// Rules, "Time": no row ever came, so the frames' own times make the grid:
// virtual rows at slot × the plan's frame time, anchored by counting.
void Merger::anchor_on_frames() {
  const auto b = base();
  if (!b || pending_.empty()) return;
  // Virtual rows at slot × frame time: counted pairs as in try_anchor.
  std::vector<std::pair<std::uint64_t, double>> pairs;
  for (const auto& p : pending_) {
    const auto s = signed_of(p.frame.number) - *b;
    if (s >= 0 && std::isfinite(p.frame.timestamp))
      pairs.emplace_back(static_cast<std::uint64_t>(s),
                         p.frame.timestamp - static_cast<double>(s) * options_.frame_time_s);
  }
  if (pairs.empty()) return;
  grid_origin_ = {0, 0.0};
  offset_ = choose_offset(std::move(pairs), std::nullopt);
}

std::optional<double> Merger::row_time(std::uint64_t s) const {
  if (s >= row_ts_.size() || std::isnan(row_ts_[s])) return std::nullopt;
  return row_ts_[s];
}

// The row nearest in time to `x` (or the frames-only grid's origin): O(1) —
// the rows' measured period points at the slot, and its neighbours are looked
// at (rows may be missing, times jitter).
std::optional<std::pair<std::uint64_t, double>> Merger::nearest_row(double x) const {
  const auto origin = last_row_ ? last_row_ : grid_origin_;
  if (!origin) return std::nullopt;
  std::optional<std::pair<std::uint64_t, double>> best;
  const auto consider = [&](std::uint64_t k, double t) {
    if (!best || std::abs(x - t) < std::abs(x - best->second)) best = {k, t};
  };
  consider(origin->first, origin->second);
  const auto guess = signed_of(origin->first) + std::llround((x - origin->second) / period());
  for (auto k = guess - 2; k <= guess + 2; ++k) {
    if (k < 0) continue;
    if (const auto t = row_time(static_cast<std::uint64_t>(k)))
      consider(static_cast<std::uint64_t>(k), *t);
  }
  return best;
}

Merger::Placed Merger::place(const Pending& p) {
  if (!std::isfinite(p.frame.timestamp)) {              // no time to check: the number, flagged
    if (!offset_ && !rows_ended_) return Placed::wait;  // the base may still move
    place_by_number(p, true);
    return Placed::placed;
  }
  if (!offset_) {
    if (!rows_ended_) return Placed::wait;
    place_by_number(p);
    return Placed::placed;
  }
  const double x = p.frame.timestamp - *offset_;
  if (!rows_ended_ && (!last_row_ || x > last_row_->second + tol())) return Placed::wait;
  const auto best = nearest_row(x);
  if (!best) {
    place_by_number(p);
    return Placed::placed;
  }
  const auto steps = std::llround((x - best->second) / period());
  const auto s_signed = signed_of(best->first) + steps;
  if (s_signed < 0) {
    drop(p, DropReason::no_trigger, std::nullopt);
    return Placed::placed;
  }
  const auto s = static_cast<std::uint64_t>(s_signed);
  // The slot's time: its row's TS_START, else extrapolated from the nearest row.
  double t = best->second + static_cast<double>(steps) * period();
  const auto row_t = row_time(s);
  const bool measured = row_t.has_value();
  if (row_t) t = *row_t;
  const double res = x - t;
  if (std::abs(res) > tol()) {
    drop(p, DropReason::no_trigger, s);
    return Placed::placed;
  }
  if (s < head_) {
    drop(p, DropReason::too_late, s);
    return Placed::placed;
  }
  const auto by_number = base().value_or(signed_of(p.frame.number));
  const bool agrees = signed_of(p.frame.number) - by_number == s_signed;
  if (put(p, s, res, t) && !measured && !agrees)
    slot(s).events |= bit(ProjectionEvent::time_mismatch);
  return Placed::placed;
}

// Rules: without any anchor, once rows ended (or for a frame without a time
// stamp, flagged time_mismatch), the number decides.
void Merger::place_by_number(const Pending& p, bool unchecked) {
  const auto b = base().value_or(signed_of(p.frame.number));
  const auto s_signed = signed_of(p.frame.number) - b;
  if (s_signed < 0 || static_cast<std::uint64_t>(s_signed) < head_) {
    drop(p, DropReason::too_late,
         s_signed < 0 ? std::nullopt : std::optional<std::uint64_t>(s_signed));
    return;
  }
  const auto s = static_cast<std::uint64_t>(s_signed);
  if (put(p, s, std::nullopt, std::nullopt) && unchecked)
    slot(s).events |= bit(ProjectionEvent::time_mismatch);
}

// Puts `p` into slot `s`; `fit_time` (the slot's PandA time) when the time
// placed it: the pair then re-bases the numbers and feeds the fit. Returns
// false when the frame was dropped instead.
bool Merger::put(const Pending& p, std::uint64_t s, std::optional<double> residual,
                 std::optional<double> fit_time) {
  if (s >= options_.projections) {
    drop(p, DropReason::beyond_plan, s);
    return false;
  }
  Slot& sl = slot(s);
  if (sl.frame) {  // one frame a slot: the one nearer in time (or placed by time) stays
    const bool nearer =
        residual && (!sl.residual_s || std::abs(*residual) < std::abs(*sl.residual_s));
    if (!nearer) {
      drop(p, DropReason::conflict, s);
      return false;
    }
    drop(Pending{*sl.frame, false, {}}, DropReason::conflict, s);
    sl.events &= static_cast<std::uint16_t>(~bit(ProjectionEvent::reordered));
  }
  sl.frame = p.frame;
  sl.residual_s = residual;
  if (p.late) {
    sl.events |= bit(ProjectionEvent::reordered);
    ++stats_.reorders;
  }
  for (const auto& d : p.duplicates) {
    sl.events |= bit(ProjectionEvent::duplicate_dropped);
    out_.emplace_back(DroppedFrame{d, DropReason::duplicate, s});
  }
  number_slot_[p.frame.number] = s;
  while (number_slot_.size() > options_.window) number_slot_.erase(number_slot_.begin());
  if (!fit_time) return true;
  base_ = signed_of(p.frame.number) - signed_of(s);
  stats_.max_abs_residual_s = std::max(stats_.max_abs_residual_s, std::abs(*residual));
  fit(p.frame.timestamp - *fit_time);
  return true;
}

void Merger::fit(double offset) {
  fit_.push_back(offset);
  while (fit_.size() > options_.fit_window) fit_.pop_front();
  offset_ = median({fit_.begin(), fit_.end()});
  if (!grid_origin_) stats_.offset_s = *offset_ - start_time_.value_or(0);
}

void Merger::drop(const Pending& p, DropReason r, std::optional<std::uint64_t> s) {
  switch (r) {
    case DropReason::duplicate:
      break;  // counted by the caller
    case DropReason::no_trigger:
    case DropReason::conflict:
    case DropReason::beyond_plan:
      ++stats_.extra_frames;
      break;
    case DropReason::too_late:
    case DropReason::after_finish:
      ++stats_.late_frames;
      break;
  }
  out_.emplace_back(DroppedFrame{p.frame, r, s});
  for (const auto& d : p.duplicates) out_.emplace_back(DroppedFrame{d, DropReason::duplicate, s});
}

// ------------------------------------------------------------------ deciding

void Merger::emit_ready() {
  while (head_ < options_.projections) {
    const Slot& h = slot(head_);
    const bool row_decided = h.row || h.row_lost || rows_next_ > head_ || rows_ended_;
    std::uint16_t label = 0;
    if (!row_decided || (!h.frame && !frame_decided(head_, label))) return;
    emit_head(label);
  }
}

// Rules, "Deciding a slot": whether slot `s` (the head, without a frame) can
// still get one; `label` says why not.
bool Merger::frame_decided(std::uint64_t s, std::uint16_t& label) const {
  label = gap_label(s, finished_);
  if (finished_) return true;
  if (!offset_ && !pending_.empty()) return false;  // they may belong here: anchor first
  std::optional<std::uint64_t> next, last;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].frame) continue;
    if (head_ + i > s && !next) next = head_ + i;
    last = head_ + i;
  }
  if (next && label == bit(ProjectionEvent::missed_trigger)) return true;
  if (last && *last >= s + options_.reorder_window) return true;
  return rows_next_ >= s + options_.window;  // rows run on, frames do not: the camera stalled
}

std::uint16_t Merger::gap_label(std::uint64_t s, bool final) const {
  constexpr auto missing = bit(ProjectionEvent::frame_missing);
  constexpr auto missed = bit(ProjectionEvent::missed_trigger);
  // p: the previous slot with a frame (or the virtual slot −1 before the first).
  std::int64_t p_slot = -1;
  std::optional<std::uint64_t> p_number;
  if (prev_frame_) {
    p_slot = signed_of(prev_frame_->first);
    p_number = prev_frame_->second;
  } else if (options_.first_frame_number && *options_.first_frame_number > 0) {
    p_number = *options_.first_frame_number - 1;
  }
  // q: the next slot with a frame, or at the end the camera's last number.
  std::optional<std::pair<std::int64_t, std::uint64_t>> q;
  for (std::size_t i = 0; i < slots_.size() && !q; ++i)
    if (head_ + i > s && slots_[i].frame) q = {signed_of(head_ + i), slots_[i].frame->number};
  std::uint64_t lost = 0;
  std::int64_t slots_between = 0;
  const auto count_gaps = [&](std::uint64_t from, std::uint64_t to) {  // (from, to)
    std::uint64_t n = 0;
    for (auto x = from + 1; x < to && x - from <= options_.window + 1; ++x)
      n += sequence_.is_gap(x) ? 1U : 0U;
    if (to > from + options_.window + 2) n += to - from - options_.window - 2;  // beyond memory
    return n;
  };
  if (q) {
    if (!p_number) {
      if (!(options_.first_frame_number && *options_.first_frame_number == 0))
        return missing | missed;  // where the camera started is unknown
      // Numbers start at 0: those below the lowest received are lost.
      lost = lowest_number_ ? std::min(*lowest_number_, q->second) : q->second;
      lost += count_gaps(lowest_number_.value_or(0), q->second);
    } else {
      if (q->second <= *p_number) return missing | missed;  // the counter restarted
      lost = count_gaps(*p_number, q->second);
    }
    slots_between = q->first - p_slot - 1;
  } else if (final && last_camera_frame_ && p_number && find_slot(s) && find_slot(s)->row) {
    // A missed trigger needs a trigger: only a slot with its row can be one.
    const auto last = sequence_.counts().last.value_or(*p_number);
    lost = (*last_camera_frame_ > last ? *last_camera_frame_ - last : 0) +
           (last > *p_number ? count_gaps(*p_number, last + 1) : 0);
    slots_between = signed_of(std::max(rows_next_, s + 1)) - p_slot - 1;
  } else {
    return missing;
  }
  if (lost == 0) return missed;
  if (signed_of(lost) >= slots_between) return missing;
  return missing | missed;
}

void Merger::emit_head(std::uint16_t frame_label) {
  Slot h = std::move(slots_.front());
  slots_.pop_front();
  MergedProjection m;
  m.slot = head_++;
  m.events = h.events;
  if (!h.frame) m.events |= frame_label;
  if (!h.row) m.events |= bit(ProjectionEvent::row_missing);
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  m.angle_deg = h.row ? h.row->mean_deg : nan;
  m.start_angle_deg = h.row ? (options_.increasing ? h.row->min_deg : h.row->max_deg) : nan;
  m.residual_s = h.residual_s;
  m.row = h.row;
  m.frame = h.frame;
  if (h.frame) prev_frame_ = {m.slot, h.frame->number};
  ++stats_.emitted;
  if (m.complete()) ++stats_.paired;
  if (m.has(ProjectionEvent::frame_missing)) ++stats_.frames_missing;
  if (m.has(ProjectionEvent::missed_trigger)) ++stats_.missed_triggers;
  if (m.has(ProjectionEvent::row_missing)) ++stats_.rows_missing;
  if (m.has(ProjectionEvent::time_mismatch)) ++stats_.time_mismatches;
  out_.emplace_back(std::move(m));
}

}  // namespace pandafly::capture
