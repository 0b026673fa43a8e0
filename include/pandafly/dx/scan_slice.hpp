#pragma once
// slice_scan: one detector row of a DXfile reconstructed at the file's
// measured angles (pandafly-dx slice and the scan report).
//
// Rules
//   - The row: options.row, or the middle row (height / 2) when it is < 0.
//   - The sinogram: read_sinogram (scan_reader.hpp) with the darks and flats
//     (mean or median); a scan without darks or flats cannot be normalised.
//   - Projections whose angle is not a number (a slot without a frame or
//     without a measured angle: /exchange/theta NaN) are left out, counted in
//     `left_out`; the others keep their measured angles, so the interval
//     weights (slice.hpp) widen across the gap. At least two must remain.
//   - The centre of rotation: options.centre, else estimate_centre from the
//     pair nearest 180° apart (slice.hpp).
//   - Errors: CannotReconstruct (a row outside the frame, no darks or flats,
//     fewer than two angles, no 180° pair, a centre the reconstructor
//     refuses), naming the file; h5::Error / std::runtime_error when the file
//     cannot be read. One thread at a time (HDF5); the reconstruction itself
//     runs on options.parallel.
//
// Example:
//   dx::ScanReader scan("scan.h5");
//   auto s = dx::slice_scan(scan, {});
//   util::write_png_gray8("slice.png", s.size, s.size,
//                         dx::to_gray8(s.image, dx::percentile_window(s.image, 0.5, 99.5)));
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <vector>

#include "pandafly/dx/normalize.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/dx/slice.hpp"

namespace pandafly::dx {

/// The scan cannot be reconstructed (as opposed to a file that cannot be read).
class CannotReconstruct : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ScanSliceOptions {
  long row = -1;  ///< -1: the middle row
  SliceFilter filter = SliceFilter::ramp;
  SliceMethod method = SliceMethod::gridrec;
  std::optional<double> centre{};  ///< none: estimated
  FieldStatistic fields = FieldStatistic::mean;
  ParallelFor parallel{};
  std::size_t threads = 1;  ///< tasks handed to `parallel` at once
};

struct ScanSlice {
  std::vector<float> image;  ///< size × size, attenuation per pixel (slice.hpp)
  std::size_t row = 0, size = 0;
  std::size_t angles = 0;    ///< projections used
  std::size_t left_out = 0;  ///< projections without an angle, left out
  std::size_t flagged = 0;   ///< sinogram pixels flagged by read_sinogram
  CentreEstimate centre{};   ///< its pair: projection indices of the file
  bool estimated = false;    ///< the centre was estimated (else given)
  /// Seconds spent reading, estimating the centre, setting up, reconstructing.
  double read_s = 0, centre_s = 0, setup_s = 0, reconstruct_s = 0;
};

[[nodiscard]] ScanSlice slice_scan(const ScanReader& scan, const ScanSliceOptions& options);

}  // namespace pandafly::dx
