// DxFile's slots (writer.hpp Rules, "Slots"): slotted detector datasets made
// at full length, slots claimed per batch and released if the batch is not
// stored, the status codes, the writer's own events, and the paths table
// columns must keep clear of.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"
#include "writer_file.hpp"

namespace pandafly::dx::detail {

std::string status_path_for(std::string_view path) {
  const std::string group = parent_of(path);
  const std::string name(path.substr(path.rfind('/') + 1));
  const std::string suffix = name.rfind("data", 0) == 0 ? name.substr(4) : "_" + name;
  std::string prefix;
  if (group != "/exchange") {
    prefix = group == "/" ? std::string("root") : group.substr(1);
    std::replace(prefix.begin(), prefix.end(), '/', '_');
    prefix += '_';
  }
  return "/process/acquisition/" + prefix + "projection_status" + suffix;
}

void make_slotted(hid_t file, Detector& d, std::uint64_t slots) {
  d.slotted = true;
  d.slots = slots;
  d.committed = d.stored = slots;
  d.codes.assign(slots, static_cast<std::uint8_t>(SlotStatus::missing));
  d.frame_ids.assign(slots, 0);
  d.data.set_rows(slots);  // unwritten chunks read as 0 and take no space
  if (d.theta && slots > 0) {
    const std::vector<double> nan(slots, std::numeric_limits<double>::quiet_NaN());
    d.theta.set_rows(slots);
    d.theta.write_rows(0, std::as_bytes(std::span(nan)));
  }
  d.status_path = status_path_for(d.path);
  d.status = h5::Dataset::create(
      file, d.status_path,
      {.type = h5::Type::uint8, .chunk_rows = std::clamp<hsize_t>(slots, 1, 4096)});
  if (slots > 0) d.status.set_rows(slots);  // HDF5's fill value 0: missing
  h5::write_c_string_attribute(d.status.id(), "legend",
                               "0 missing: no frame (pixels 0, theta NaN); 1 ok: frame and "
                               "angle; 2 no_angle: frame without an angle (theta NaN)");
  h5::write_c_string_attribute(d.status.id(), "detector", d.path);
  h5::write_c_string_attribute(d.data.id(), "slot_status", d.status_path);
}

void write_runs(h5::Dataset& d, std::vector<std::pair<std::uint64_t, double>>& values) {
  std::sort(values.begin(), values.end());
  std::vector<double> run;
  for (std::size_t i = 0; i < values.size();) {
    const std::uint64_t first = values[i].first;
    run.clear();
    while (i < values.size() && values[i].first == first + run.size())
      run.push_back(values[i++].second);
    d.write_rows(first, std::as_bytes(std::span(run)));
  }
}

void write_codes(h5::Dataset& d, const std::vector<std::uint8_t>& codes,
                 std::vector<std::uint64_t>& slots) {
  std::sort(slots.begin(), slots.end());
  for (std::size_t i = 0; i < slots.size();) {
    const std::uint64_t first = slots[i];
    std::uint64_t n = 0;
    while (i < slots.size() && slots[i] == first + n) {
      ++n;
      ++i;
    }
    d.write_rows(first, std::as_bytes(std::span(codes).subspan(first, n)));
  }
}

// ------------------------------------------------------------------ slots

// Sizes the slotted detector datasets before SWMR (writer.hpp Rules, "Slots").
void DxFile::make_slots() {
  for (const auto& path : o_.slotted) {
    const auto it = routes_.find(path);
    if (it == routes_.end()) {
      throw std::invalid_argument(fmt::format(
          "dx::Writer: slotted dataset {} is not a detector dataset of the layout", path));
    }
    const auto n = o_.frames_expected.find(path);
    if (n == o_.frames_expected.end()) {
      throw std::invalid_argument(fmt::format(
          "dx::Writer: slotted dataset {} has no frames_expected entry (its number of slots)",
          path));
    }
    make_slotted(file_.id(), tree_.detectors[it->second], n->second);
  }
  late_.events_table = !o_.slotted.empty();
}

// What the writer makes, for check_free(): the layout's objects and its own.
void DxFile::note_paths() {
  struct Walk {
    DxFile& f;
    void operator()(const Group& g, const std::string& path) {
      if (path != "/") f.made_groups_.insert(path);
      for (const auto& d : g.datasets) f.made_objects_.insert(join(path, d.name));
      for (const auto& l : g.hardlinks) f.made_objects_.insert(join(path, l.name));
      for (const auto& c : g.groups) (*this)(c, join(path, c.name));
    }
  };
  Walk{*this}(o_.layout.root, "/");
  for (const auto& d : tree_.detectors) {
    if (!d.theta_path.empty()) made_objects_.insert(d.theta_path);
    if (!d.status_path.empty()) made_objects_.insert(d.status_path);
  }
  made_objects_.insert(std::string(end_group));
  made_objects_.insert(std::string(events_group));
  if (o_.nxtomo) made_objects_.insert("/entry");
}

void DxFile::check_free(std::string_view path) const {
  const auto inside = [](std::string_view a, std::string_view b) {  // a lies inside b
    return a.size() > b.size() && a.starts_with(b) && a[b.size()] == '/';
  };
  const auto clash = [&](std::string_view why, std::string_view other) {
    throw std::invalid_argument(fmt::format("table column {}: {} {}", path, why, other));
  };
  if (made_groups_.count(path) != 0) clash("is a group of the layout:", path);
  for (const auto& r : made_objects_) {
    if (r == path) clash("is made by the writer itself:", r);
    if (inside(path, r)) clash("lies inside", r);
    if (inside(r, path)) clash("would have to be a group for", r);
  }
  for (const auto& g : made_groups_) {
    if (inside(g, path)) clash("would have to be a group for the layout's", g);
  }
}

void DxFile::add_late(LateItems late) {
  for (auto& e : late.events) late_.events.push_back(std::move(e));
  for (auto& c : late.columns) late_.columns.push_back(std::move(c));
}

// A slotted dataset takes the frame into its slot if the slot is free.
FrameFault DxFile::claim_slot(const FrameRecord& f, Detector& d) {
  if (!d.slotted) return f.slot ? FrameFault::slot_unexpected : FrameFault::none;
  if (!f.slot) return FrameFault::slot_missing;
  const std::uint64_t k = *f.slot;
  if (k >= d.slots) return FrameFault::slot_beyond;
  if (d.codes[k] != static_cast<std::uint8_t>(SlotStatus::missing)) return FrameFault::slot_taken;
  d.codes[k] = static_cast<std::uint8_t>(SlotStatus::ok);
  d.frame_ids[k] = f.unique_id;
  d.claimed.push_back(k);
  return FrameFault::none;
}

// The batch's claims undone (it was not stored); best effort on the file.
void DxFile::release_claims() noexcept {
  for (auto& d : tree_.detectors) {
    if (d.claimed.empty()) continue;
    for (const auto k : d.claimed) d.codes[k] = static_cast<std::uint8_t>(SlotStatus::missing);
    for (auto& [k, angle] : d.placed) angle = std::numeric_limits<double>::quiet_NaN();
    try {  // a failed batch may have written some of them
      if (d.theta && !d.placed.empty()) write_runs(d.theta, d.placed);
      write_codes(d.status, d.codes, d.claimed);
    } catch (
        const std::exception&) {  // the writer has failed already: frames_written says the truth
    }
    d.claimed.clear();
    d.placed.clear();
  }
}

void DxFile::commit_claims() {
  for (auto& d : tree_.detectors) {
    d.filled += d.claimed.size();
    d.claimed.clear();
    d.placed.clear();
  }
}

// `to`: where the frame would have gone (no_route: unknown, unreadable NDAttributes).
void DxFile::refusal_event(FrameFault fault, const FrameRecord& f, std::size_t to) {
  if (!f.slot) return;
  const std::string dataset = to == no_route ? std::string() : tree_.detectors[to].path;
  std::string what;
  switch (fault) {
    case FrameFault::slot_taken:
      what = fmt::format("frame {} refused: the slot holds frame {}", f.unique_id,
                         tree_.detectors[to].frame_ids[*f.slot]);
      break;
    case FrameFault::slot_beyond:
      what = fmt::format("frame {} refused: {} has {} slots", f.unique_id, dataset,
                         tree_.detectors[to].slots);
      break;
    case FrameFault::slot_unexpected:
      what = fmt::format("frame {} refused: {} is not slotted", f.unique_id, dataset);
      break;
    case FrameFault::size:
    case FrameFault::shape:
    case FrameFault::type:
      what = fmt::format("frame {} lost: not a {}×{} {} frame", f.unique_id, o_.frame.height,
                         o_.frame.width, capture::to_string(o_.frame.type));
      break;
    case FrameFault::attributes:
      what = fmt::format("frame {} lost: its NDAttributes could not be read", f.unique_id);
      break;
    case FrameFault::slot_missing:
    case FrameFault::none:
      return;
  }
  late_.events.push_back({dataset, *f.slot, -1, f.unique_id, std::move(what)});
}

// The per-frame NDAttribute row of a frame stored in `d` (writer.hpp Rules, "Slots").
std::uint64_t DxFile::column_row(const FrameRecord& f, Detector& d) {
  if (!d.slotted) return columns_.reserve(1);
  if (!d.column_base) d.column_base = columns_.reserve(d.slots);
  return *d.column_base + *f.slot;
}

// The batch's slotted angles and status codes, one write per run of slots.
void DxFile::store_slots() {
  for (auto& d : tree_.detectors) {
    if (!d.slotted || d.claimed.empty()) continue;
    if (d.theta) write_runs(d.theta, d.placed);
    write_codes(d.status, d.codes, d.claimed);
  }
}

}  // namespace pandafly::dx::detail
