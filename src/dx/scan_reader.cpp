// ScanReader (contract in include/pandafly/dx/scan_reader.hpp).
#include "pandafly/dx/scan_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"

namespace pandafly::dx {
namespace {

constexpr const char* kData = "/exchange/data";
constexpr const char* kDark = "/exchange/data_dark";
constexpr const char* kWhite = "/exchange/data_white";

// The fixed-length strings of a 1-D dataset, NUL padding cut.
std::vector<std::string> read_strings(const h5::Dataset& d) {
  const auto bytes = d.read_bytes();
  const std::size_t size = d.row_bytes();
  std::vector<std::string> out;
  if (size == 0) return out;
  for (std::size_t i = 0; i + size <= bytes.size(); i += size) {
    std::string s(reinterpret_cast<const char*>(bytes.data() + i), size);
    out.push_back(s.substr(0, s.find('\0')));
  }
  return out;
}

}  // namespace

ScanReader::ScanReader(const std::filesystem::path& path)
    : path_(path), file_(h5::File::open(path)) {
  for (const char* name : {kData, "/exchange/theta"})
    if (!h5::path_exists(file_.id(), name))
      throw std::runtime_error(fmt::format("{}: no {}", path.string(), name));
  data_ = h5::Dataset::open(file_.id(), kData);
  const auto shape = data_.shape();
  if (shape.size() != 3 || shape[0] == 0)
    throw std::runtime_error(
        fmt::format("{}: {} is not N × height × width with N > 0", path.string(), kData));
  n_ = shape[0], h_ = shape[1], w_ = shape[2];
  theta_ = h5::Dataset::open(file_.id(), "/exchange/theta").read<double>();
  if (theta_.size() != n_)
    throw std::runtime_error(fmt::format("{}: /exchange/theta has {} angles for {} projections",
                                         path.string(), theta_.size(), n_));
  const auto frames_in = [&](const char* name, h5::Dataset& d) -> std::size_t {
    if (!h5::path_exists(file_.id(), name)) return 0;
    d = h5::Dataset::open(file_.id(), name);
    const auto s = d.shape();
    if (s.size() != 3 || (s[0] > 0 && (s[1] != h_ || s[2] != w_)))
      throw std::runtime_error(
          fmt::format("{}: {} is not N × {} × {}", path.string(), name, h_, w_));
    return s[0];
  };
  darks_ = frames_in(kDark, dark_);
  flats_ = frames_in(kWhite, white_);
  read_times();
}

void ScanReader::read_times() {
  const auto fall_back = [&] {
    has_times_ = false;
    flats_before_.clear(), flats_after_.clear();
    for (std::size_t i = 0; i < flats_; ++i) flats_before_.push_back(i);
  };
  fall_back();
  const char* where = "/defaults/HDF5FrameLocation";
  const char* when = "/defaults/NDArrayTimeStamp";
  if (!h5::path_exists(file_.id(), where) || !h5::path_exists(file_.id(), when)) return;
  const auto locations = read_strings(h5::Dataset::open(file_.id(), where));
  const auto times = h5::Dataset::open(file_.id(), when).read<double>();
  if (locations.size() != times.size()) return;
  // A slotted file (writer.hpp "Slots"): slot k is row first + k, also when
  // the slot never got a frame (its location then reads "", its time NaN).
  std::optional<std::size_t> first;
  if (h5::has_attribute(data_.id(), "slot_status")) {
    const auto status = h5::read_string_attribute(data_.id(), "slot_status");
    if (h5::path_exists(file_.id(), status)) {
      const auto d = h5::Dataset::open(file_.id(), status);
      if (h5::has_attribute(d.id(), "ndattribute_row_first"))
        first = static_cast<std::size_t>(
            h5::read_attribute<std::uint64_t>(d.id(), "ndattribute_row_first"));
    }
  }
  if (first && *first + n_ > locations.size()) return;
  const auto is_slot = [&](std::size_t i) { return first && i >= *first && i < *first + n_; };
  std::vector<double> proj_t, flat_t;
  std::vector<std::size_t> flat_frame;  // arrival index of each flat
  std::size_t last_proj = 0;
  for (std::size_t i = 0; i < locations.size(); ++i) {
    if (is_slot(i)) {
      if (!locations[i].empty() && locations[i] != kData) return;  // not a projection's row
      proj_t.push_back(times[i]);
      last_proj = i;
    } else if (first) {
      if (locations[i] == kWhite) {
        flat_t.push_back(times[i]);
        flat_frame.push_back(i);
      }
    } else if (locations[i] == kData) {
      proj_t.push_back(times[i]);
      last_proj = i;
    } else if (locations[i] == kWhite) {
      flat_t.push_back(times[i]);
      flat_frame.push_back(i);
    }
  }
  if (proj_t.size() != n_ || flat_t.size() != flats_) return;
  projection_times_ = std::move(proj_t), flat_times_ = std::move(flat_t);
  flats_before_.clear();
  for (std::size_t k = 0; k < flats_; ++k)
    (flat_frame[k] > last_proj ? flats_after_ : flats_before_).push_back(k);
  has_times_ = true;
}

double ScanReader::projection_time(std::size_t k) const {
  return has_times_ ? projection_times_.at(k) : std::numeric_limits<double>::quiet_NaN();
}

double ScanReader::flat_time(const std::vector<std::size_t>& set) const {
  if (!has_times_ || set.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (auto k : set) sum += flat_times_.at(k);
  return sum / static_cast<double>(set.size());
}

std::vector<std::uint16_t> ScanReader::projection(std::size_t k) const {
  return data_.read_block<std::uint16_t>({k, 0, 0}, {1, h_, w_});
}

std::vector<std::uint16_t> ScanReader::projection_rows(std::size_t row) const {
  if (row >= h_)
    throw std::runtime_error(
        fmt::format("{}: row {} is outside the frame (height {})", path_.string(), row, h_));
  return data_.read_block<std::uint16_t>({0, row, 0}, {n_, 1, w_});
}

std::vector<std::uint16_t> ScanReader::frames_of(const h5::Dataset& d,
                                                 const std::vector<std::size_t>& which,
                                                 std::size_t row, bool one_row) const {
  if (one_row && row >= h_)
    throw std::runtime_error(
        fmt::format("{}: row {} is outside the frame (height {})", path_.string(), row, h_));
  std::vector<std::uint16_t> out;
  for (auto k : which) {
    const auto f = one_row ? d.read_block<std::uint16_t>({k, row, 0}, {1, 1, w_})
                           : d.read_block<std::uint16_t>({k, 0, 0}, {1, h_, w_});
    out.insert(out.end(), f.begin(), f.end());
  }
  return out;
}

std::vector<std::uint16_t> ScanReader::darks() const {
  std::vector<std::size_t> all(darks_);
  for (std::size_t i = 0; i < darks_; ++i) all[i] = i;
  return frames_of(dark_, all, 0, false);
}

std::vector<std::uint16_t> ScanReader::dark_rows(std::size_t row) const {
  std::vector<std::size_t> all(darks_);
  for (std::size_t i = 0; i < darks_; ++i) all[i] = i;
  return frames_of(dark_, all, row, true);
}

std::vector<std::uint16_t> ScanReader::flats(const std::vector<std::size_t>& set) const {
  return frames_of(white_, set, 0, false);
}

std::vector<std::uint16_t> ScanReader::flat_rows(const std::vector<std::size_t>& set,
                                                 std::size_t row) const {
  return frames_of(white_, set, row, true);
}

Field ScanFields::flat_at(double t) const {
  if (after.value.empty()) return before;
  if (before.value.empty()) return after;
  if (!std::isfinite(t) || !std::isfinite(t_before) || !std::isfinite(t_after)) return before;
  return interpolate_fields(before, after, flat_weight(t, t_before, t_after));
}

ScanFields read_fields(const ScanReader& scan, FieldStatistic statistic, const NoiseModel& noise,
                       long row) {
  if (scan.dark_count() == 0 || scan.flat_count() == 0)
    throw std::runtime_error(fmt::format("{}: {} darks and {} flats: nothing to normalise by",
                                         scan.path().string(), scan.dark_count(),
                                         scan.flat_count()));
  const bool one = row >= 0;
  const auto r = static_cast<std::size_t>(one ? row : 0);
  const std::size_t pixels = one ? scan.width() : scan.width() * scan.height();
  ScanFields f;
  f.dark = combine_fields(one ? scan.dark_rows(r) : scan.darks(), pixels, statistic, noise, {});
  const auto set = [&](const std::vector<std::size_t>& which) {
    if (which.empty()) return Field{};
    return combine_fields(one ? scan.flat_rows(which, r) : scan.flats(which), pixels, statistic,
                          noise, f.dark.value);
  };
  f.before = set(scan.flats_before());
  f.after = set(scan.flats_after());
  f.t_before = scan.flat_time(scan.flats_before());
  f.t_after = scan.flat_time(scan.flats_after());
  return f;
}

std::vector<float> read_sinogram(const ScanReader& scan, std::size_t row, FieldStatistic statistic,
                                 const NormalizeOptions& options, std::size_t& flagged) {
  const auto fields = read_fields(scan, statistic, options.noise, static_cast<long>(row));
  const auto rows = scan.projection_rows(row);
  const std::size_t w = scan.width(), n = scan.projections();
  std::vector<float> sino(n * w), sigma(w);
  std::vector<std::uint8_t> flags(w);
  NormalizeOptions linear = options;
  linear.minus_log = false;
  flagged = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const auto flat = fields.flat_at(scan.projection_time(k));
    const std::span<float> out(sino.data() + k * w, w);
    normalize_frame(std::span(rows).subspan(k * w, w), fields.dark, flat, linear, out, sigma,
                    flags);
    for (std::size_t x = 0; x < w; ++x) {
      if (flags[x] != 0) {
        out[x] = 0.0F, ++flagged;
      } else {
        if (out[x] <= 1e-6F) ++flagged;
        out[x] = -std::log(std::max(out[x], 1e-6F));
      }
    }
  }
  return sino;
}

}  // namespace pandafly::dx
