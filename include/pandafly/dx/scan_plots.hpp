#pragma once
// Plots of how a scan went (pandafly-dx plots, and the scan report), read
// from the DXfile alone.
//
// Rules (each plot is Skipped with the reason when the file lacks its data)
//   - theta: /exchange/theta against projection index; missing slots marked.
//   - theta_error: theta − /process/acquisition/planned_theta less its median
//     (mdeg; the median, a fly scan's mid-exposure lead, in the title):
//     encoder jitter, read-back error; needs planned_theta.
//   - trigger_intervals: histogram of the intervals (their deviation from
//     the median, µs; the median in the title and caption) between consecutive
//     PandA trigger time stamps (/measurement/panda/PCAP.TS_TRIG.Value or
//     …/TS_TRIG, one row per planned projection) when the file has them,
//     else between consecutive projections' camera time stamps (only pairs
//     of neighbouring slots that both hold a frame).
//   - camera_vs_panda: each projection's camera time stamp against its PandA
//     trigger time, both from their first projection (s); needs both.
//   - time_residual: camera time stamp − PandA trigger time less its median
//     (ms) per projection, missing slots marked; needs both.
//   - frames: the slot status (status dataset of /exchange/data, writer.hpp
//     "Slots") per projection: ok, no_angle or missing, with the slots named
//     in /process/acquisition/projection_events marked; needs the status.
//   - Camera time stamps of slot k: /defaults/NDArrayTimeStamp row b + k
//     (b: the status dataset's @ndattribute_row_first); without a status
//     dataset, ScanReader::projection_time.
//   - Errors as render_previews (preview.hpp). One thread at a time (HDF5).
//
// Example:
//   auto plots = dx::render_plots(scan, "plots");
//   for (auto k : plots.missing) std::cout << "slot " << k << " missing\n";
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "pandafly/dx/preview.hpp"
#include "pandafly/dx/scan_reader.hpp"

namespace pandafly::dx {

struct PlotEvent {
  std::size_t slot = 0;
  std::string what;
};

struct ScanPlots {
  Rendered rendered;
  bool has_status = false;
  std::vector<std::size_t> missing, no_angle;  ///< slots by status (0, 2)
  std::vector<PlotEvent> events;               ///< projection_events of /exchange/data
  std::string interval_source;                 ///< "panda", "camera" or "" (none)
  std::size_t intervals = 0;                   ///< how many went into the histogram
};

[[nodiscard]] ScanPlots render_plots(const ScanReader& scan, const std::filesystem::path& dir);

}  // namespace pandafly::dx
