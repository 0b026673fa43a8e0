#pragma once
// `pandafly-dx slice`: a filtered back-projection of one detector row of a
// DXfile at its measured angles (dx::SliceReconstructor), the centre of
// rotation estimated from the 0°/180° pair unless given, written as an 8-bit
// PNG (percentile window) and as a float32 HDF5 dataset /slice (attenuation
// per pixel, attributes: centre, row, filter, method, source, units).
// Exit codes: 0 written, 1 the scan cannot be reconstructed (no darks or
// flats, no 180° pair for the centre, a centre off the detector), 2 a file
// cannot be read or written (an existing output without --force).
#include <cstddef>
#include <optional>
#include <string>

namespace pandafly_dx {

struct SliceCmdOptions {
  std::string file;
  long row = -1;  ///< -1: the middle row
  std::string out = "slice.png";
  std::string h5;  ///< "": OUT with the extension .h5
  std::string filter = "ramp";
  std::string method = "gridrec";
  std::optional<double> centre;
  std::string fields = "mean";
  std::size_t threads = 0;  ///< 0: every core
  double low = 0.5, high = 99.5;
  bool json = false;
  bool force = false;
};

int cmd_slice(const SliceCmdOptions& o);

}  // namespace pandafly_dx
