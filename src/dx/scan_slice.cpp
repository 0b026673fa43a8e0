// slice_scan (contract in scan_slice.hpp).
#include "pandafly/dx/scan_slice.hpp"

#include <chrono>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace pandafly::dx {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point& t) {
  const auto now = Clock::now();
  const double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

}  // namespace

ScanSlice slice_scan(const ScanReader& scan, const ScanSliceOptions& o) {
  const auto file = scan.path().string();
  ScanSlice r;
  auto t = Clock::now();
  if (o.row >= static_cast<long>(scan.height()))
    throw CannotReconstruct(
        fmt::format("{}: row {} is outside the frame (height {})", file, o.row, scan.height()));
  r.row = o.row < 0 ? scan.height() / 2 : static_cast<std::size_t>(o.row);
  if (scan.dark_count() == 0 || scan.flat_count() == 0)
    throw CannotReconstruct(fmt::format("{}: {} darks and {} flats: nothing to normalise by", file,
                                        scan.dark_count(), scan.flat_count()));
  auto sino = read_sinogram(scan, r.row, o.fields, {}, r.flagged);
  // Projections without a measured angle are left out (rows moved up in place).
  const auto& all = scan.theta();
  const std::size_t w = scan.width();
  std::vector<double> theta;
  std::vector<std::size_t> index;  // each kept row's projection
  theta.reserve(all.size());
  for (std::size_t k = 0; k < all.size(); ++k) {
    if (!std::isfinite(all[k])) {
      ++r.left_out;
      continue;
    }
    if (theta.size() != k)
      std::copy_n(sino.begin() + static_cast<std::ptrdiff_t>(k * w), w,
                  sino.begin() + static_cast<std::ptrdiff_t>(theta.size() * w));
    theta.push_back(all[k]);
    index.push_back(k);
  }
  sino.resize(theta.size() * w);
  r.angles = theta.size();
  if (r.angles < 2)
    throw CannotReconstruct(fmt::format("{}: {} of {} projections have an angle, 2 are needed",
                                        file, r.angles, all.size()));
  r.read_s = seconds_since(t);
  if (o.centre) {
    r.centre.centre = *o.centre;
  } else {
    try {
      r.centre = estimate_centre(sino, w, theta);
      r.centre.first = index[r.centre.first];  // as projections of the file
      r.centre.second = index[r.centre.second];
    } catch (const std::invalid_argument& e) {
      throw CannotReconstruct(fmt::format("{}: {} (give --centre)", file, e.what()));
    }
    r.estimated = true;
  }
  r.centre_s = seconds_since(t);
  SliceReconstructor rec(
      w, {.filter = o.filter, .method = o.method, .parallel = o.parallel, .threads = o.threads});
  r.size = rec.size();
  r.setup_s = seconds_since(t);
  try {
    r.image = rec.reconstruct(sino, theta, r.centre.centre);
  } catch (const std::invalid_argument& e) {
    throw CannotReconstruct(fmt::format("{}: {}", file, e.what()));
  }
  r.reconstruct_s = seconds_since(t);
  return r;
}

}  // namespace pandafly::dx
