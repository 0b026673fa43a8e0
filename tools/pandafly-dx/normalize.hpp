#pragma once
// `pandafly-dx normalize IN OUT`: every projection of a DXfile normalised by
// its darks and flats (dx::normalize_frame; flats before and after
// interpolated by the frames' time stamps), optionally −log, into a new
// DXfile: /exchange/data (float32, N × H × W), /exchange/data_uncertainty
// (float32, one standard deviation by the noise model),
// /exchange/data_flags (uint8: 1 flat − dark too small, 2 −log of T ≤ 0;
// those pixels are NaN in both), /exchange/theta (copied, degrees), and the
// provenance under /process/normalize (tool, version, input, options, noise
// model, date, flagged pixel count).
// Exit codes: 0 written, 1 nothing to normalise by (no darks or flats),
// 2 a file cannot be read or written (an existing OUT without --force).
#include <string>

namespace pandafly_dx {

struct NormalizeCmdOptions {
  std::string in;
  std::string out;
  std::string fields = "mean";
  bool minus_log = false;
  double gain = 1.0;
  double read_noise = 0.0;
  double min_denominator = 1.0;
  bool force = false;
  bool json = false;
};

int cmd_normalize(const NormalizeCmdOptions& o);

}  // namespace pandafly_dx
