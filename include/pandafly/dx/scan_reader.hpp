#pragma once
// ScanReader: the parts of a DXfile (written by dx::Writer, or any Data
// Exchange file) that normalisation, previews and slices need — projections,
// darks and flats frame by frame or one detector row at a time, the measured
// angles, and when each frame was taken.
//
// Rules
//   - Required: /exchange/data (N × H × W, any integer type HDF5 converts
//     to uint16) and /exchange/theta (N, degrees); /exchange/data_dark and
//     /exchange/data_white may be absent or empty (then there is nothing to
//     normalise by: dark_count()/flat_count() are 0 and callers refuse).
//   - Frame times and flat sets come from the per-frame NDAttribute columns
//     /defaults/HDF5FrameLocation (which dataset each frame went to, in
//     arrival order) and /defaults/NDArrayTimeStamp (s). Flats that arrived
//     before the first projection form the "before" set, those after the last
//     projection the "after" set (flats taken between projections count as
//     before). In a slotted file (/exchange/data @slot_status names a status
//     dataset with @ndattribute_row_first b; writer.hpp "Slots") projection k
//     is row b + k, also when the slot has no frame (its time is then NaN).
//     Without those columns (or if they disagree with the datasets' sizes)
//     every flat is one set and no frame has a time (has_times() false).
//   - Errors: h5::Error from HDF5; std::runtime_error naming the file and the
//     dataset for a missing or misshapen one.
//   - One thread at a time (HDF5).
//
// Example:
//   dx::ScanReader scan("scan.h5");
//   auto rows = scan.projection_rows(scan.height() / 2);  // N × W
//   auto theta = scan.theta();
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pandafly/dx/normalize.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"

namespace pandafly::dx {

class ScanReader {
 public:
  explicit ScanReader(const std::filesystem::path& path);

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::size_t projections() const noexcept { return n_; }
  [[nodiscard]] std::size_t height() const noexcept { return h_; }
  [[nodiscard]] std::size_t width() const noexcept { return w_; }
  [[nodiscard]] std::size_t dark_count() const noexcept { return darks_; }
  [[nodiscard]] std::size_t flat_count() const noexcept {
    return flats_before_.size() + flats_after_.size();
  }
  [[nodiscard]] const std::vector<double>& theta() const noexcept { return theta_; }
  [[nodiscard]] hid_t file_id() const noexcept { return file_.id(); }

  /// True if every projection and flat has a time stamp (a slot without a
  /// frame: NaN).
  [[nodiscard]] bool has_times() const noexcept { return has_times_; }
  /// Time stamp of projection k (s; NaN without has_times()).
  [[nodiscard]] double projection_time(std::size_t k) const;
  /// Indices into data_white of the flats before / after the projections.
  [[nodiscard]] const std::vector<std::size_t>& flats_before() const noexcept {
    return flats_before_;
  }
  [[nodiscard]] const std::vector<std::size_t>& flats_after() const noexcept {
    return flats_after_;
  }
  /// Mean time of a set of flats (NaN without times or for an empty set).
  [[nodiscard]] double flat_time(const std::vector<std::size_t>& set) const;

  /// Projection k (H × W).
  [[nodiscard]] std::vector<std::uint16_t> projection(std::size_t k) const;
  /// Row `row` of every projection (N × W).
  [[nodiscard]] std::vector<std::uint16_t> projection_rows(std::size_t row) const;
  /// Every dark (dark_count() × H × W), or row `row` of each (dark_count() × W).
  [[nodiscard]] std::vector<std::uint16_t> darks() const;
  [[nodiscard]] std::vector<std::uint16_t> dark_rows(std::size_t row) const;
  /// The flats of `set` (indices into data_white), whole or row `row` of each.
  [[nodiscard]] std::vector<std::uint16_t> flats(const std::vector<std::size_t>& set) const;
  [[nodiscard]] std::vector<std::uint16_t> flat_rows(const std::vector<std::size_t>& set,
                                                     std::size_t row) const;

 private:
  void read_times();
  [[nodiscard]] std::vector<std::uint16_t> frames_of(const h5::Dataset& d,
                                                     const std::vector<std::size_t>& which,
                                                     std::size_t row, bool one_row) const;

  std::filesystem::path path_;
  h5::File file_;
  h5::Dataset data_, dark_, white_;
  std::size_t n_ = 0, h_ = 0, w_ = 0, darks_ = 0, flats_ = 0;
  std::vector<double> theta_;
  bool has_times_ = false;
  std::vector<double> projection_times_, flat_times_;
  std::vector<std::size_t> flats_before_, flats_after_;
};

/// The dark field and the flat set(s) of a scan, whole frames or one row.
struct ScanFields {
  Field dark;
  Field before;                      ///< flats before the projections (or the only set)
  Field after;                       ///< flats after (empty value: none)
  double t_before = 0, t_after = 0;  ///< the sets' mean times (NaN: unknown)
  /// The flat for a frame taken at time t: interpolated between the sets by
  /// time when both exist and times are known (normalize.hpp Rules), else
  /// the one set there is.
  [[nodiscard]] Field flat_at(double t) const;
};
/// Reads and combines the darks and flats (all of a frame, or row `row` of
/// each when `row` is ≥ 0). Throws std::runtime_error naming the file if it
/// has no darks or no flats.
[[nodiscard]] ScanFields read_fields(const ScanReader& scan, FieldStatistic statistic,
                                     const NoiseModel& noise, long row = -1);

/// Row `row` of every projection as line integrals −ln T (N × W) for a slice
/// or a sinogram preview. T ≤ 1e-6 is taken as 1e-6 (as the acceptance
/// tests' reconstruction does); a pixel whose flat − dark ≤ min_denominator
/// is 0 (no attenuation). `flagged` counts both kinds.
[[nodiscard]] std::vector<float> read_sinogram(const ScanReader& scan, std::size_t row,
                                               FieldStatistic statistic,
                                               const NormalizeOptions& options,
                                               std::size_t& flagged);

}  // namespace pandafly::dx
