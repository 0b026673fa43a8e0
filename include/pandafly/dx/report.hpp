#pragma once
// The scan report: one self-contained HTML page answering "did it work?" from
// the DXfile alone (pandafly-dx report, pandafly fly|step|cont --report).
//
// Rules
//   - Sections, in order: the outcome (complete or not, and why: the file's
//     /process/acquisition/{complete, end_reason}); the counts (projections
//     expected, stored with an angle, stored without one, missing; frames
//     received; darks; flats; the theta range measured) and the slot events
//     (projection_events, at most 200 listed, the rest counted); the
//     data-policy fields (proposal, principal investigator, title,
//     experimenters, facility, beamline, persistent identifier, licence,
//     start, end, embargo end, sample); the acquisition (scan type, rotation,
//     detector, exposure, energy); the Data Exchange conventions
//     (dx::validate without a layout: every finding, errors flagged); the previews
//     (render_previews), the slice (slice_scan, windowed 0.5…99.5 %), the plots (render_plots);
//     every short dataset under /measurement and /process, and the shape of the others (collapsed);
//     what made the page.
//   - Paths are the shipped layouts' (layouts/README.md "The tree"); a field
//     the file lacks reads "not in the file" — marked as a problem for the
//     two the data policy requires (proposal, principal investigator), as is
//     an incomplete file or a missing projection.
//   - Self-contained: every image is a PNG embedded as a data: URI (base64),
//     the style sheet is inline, there is no script and no external
//     reference, so the page can be mailed or archived next to the data.
//   - What the file cannot give (no darks: no normalised preview, no slice;
//     no PandA columns: no trigger plots) is listed with the reason, never an
//     error. Text from the file is HTML-escaped.
//   - Files: the images are rendered into a directory created beside `html`
//     (removed afterwards, also on error); the page is written to
//     `html` + ".part" and renamed over `html`, so a reader never sees half a
//     page and a failure leaves any earlier report in place.
//   - Errors: std::runtime_error / h5::Error naming the file when the scan
//     cannot be read or the page cannot be written; std::invalid_argument for
//     a row outside the frame. One thread at a time (HDF5).
//
// Example:
//   dx::ScanReader scan("scan.h5");
//   auto r = dx::write_report(scan, "scan.html", {.generator = "pandafly-dx 0.1.0"});
//   fmt::print("{}: {} images, {} skipped\n", r.file, r.images.size(), r.skipped.size());
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/dx/normalize.hpp"
#include "pandafly/dx/preview.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/dx/slice.hpp"

namespace pandafly::dx {

struct ReportOptions {
  long row = -1;                   ///< sinogram and slice row; -1: the middle
  std::size_t max_size = 1024;     ///< previews shrunk to fit (0: full size)
  std::optional<double> centre{};  ///< the slice's centre; none: estimated
  FieldStatistic fields = FieldStatistic::mean;
  ParallelFor parallel{};   ///< the slice's reconstruction
  std::size_t threads = 1;  ///< tasks handed to `parallel` at once
  std::string generator{};  ///< "what made this page" (tool, version, time), shown at the end
};

struct ReportSummary {
  std::filesystem::path file;       ///< the page written
  std::size_t bytes = 0;            ///< its size
  std::vector<std::string> images;  ///< names of the images embedded, in page order
  std::vector<Skipped> skipped;     ///< what could not be drawn, and why
  std::optional<bool> complete;     ///< the file's verdict (none: it has none)
  std::string end_reason;
  std::size_t expected =
      0;  ///< projections planned (the slots, else num_angles, else the data's length)
  std::size_t ok = 0, no_angle = 0, missing = 0;  ///< slots by status (no status: all ok)
  std::size_t darks = 0, flats = 0, events = 0;
  std::size_t validation_errors = 0, validation_warnings = 0;  ///< dx::validate's findings
  std::vector<std::string> problems;  ///< what the page flags (incomplete, missing fields …)
};

[[nodiscard]] ReportSummary write_report(const ScanReader& scan, const std::filesystem::path& html,
                                         const ReportOptions& options);

}  // namespace pandafly::dx
