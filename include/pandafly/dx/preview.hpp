#pragma once
// Previews and plots of a scan for people (pandafly-dx preview/plots, and the
// scan report that embeds them): each renderer writes PNG files into a
// directory and returns what it made, so a caller can list or embed them.
//
// Rules
//   - render_previews: 8-bit grey PNGs (util::write_png_gray8) of the first,
//     middle (N/2) and last projection — of those holding a frame: a slot
//     without one (status 0) gives way to the first, the nearest to N/2 (the
//     lower on a tie) and the last slot with a frame, the caption saying so —
//     the first dark, the first flat, that middle projection normalised
//     ((p − dark)/(flat − dark), normalize.hpp,
//     flats interpolated by time) and the sinogram of one detector row
//     (N × W; −ln T when there are darks and flats, else raw counts; the rows
//     of slots without a frame — status 0, writer.hpp "Slots" — are NaN:
//     black, outside the window's statistics). Each is
//     windowed between the `low`th and `high`th percentiles of its full-size
//     values (image_window.hpp); `max_size` > 0 shrinks an image by the
//     smallest integer factor that fits both sides in it (block means; the
//     window still comes from the full-size values).
//   - An image the file cannot give (no darks, no flats, no frame at all) is Skipped with a
//     reason, never an error. Files are named <name>.png in `dir` (created),
//     replaced if present.
//   - Errors: std::runtime_error / h5::Error from reading or writing, naming
//     the file; std::invalid_argument for a row outside the frame or bad
//     percentiles. One thread at a time (HDF5).
//
// Example:
//   dx::ScanReader scan("scan.h5");
//   auto made = dx::render_previews(scan, "previews", {.row = 100});
//   for (auto& i : made.images) html << "<img src='" << i.file << "'>" << i.caption;
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/dx/image_window.hpp"
#include "pandafly/dx/normalize.hpp"
#include "pandafly/dx/scan_reader.hpp"

namespace pandafly::dx {

/// One PNG written.
struct RenderedImage {
  std::string name{};            ///< e.g. "projection_first", "theta"
  std::filesystem::path file{};  ///< dir / (name + ".png")
  std::string caption{};         ///< one line for a person
  std::size_t width = 0, height = 0;
  std::optional<Window> window{};  ///< previews: the grey window (values at 0 and 255)
  std::optional<long> index{};     ///< previews: the frame's index in its dataset
  std::string values{};            ///< previews: what the grey levels show
};

/// Something that could not be drawn from this file, and why.
struct Skipped {
  std::string name, reason;
};

struct Rendered {
  std::vector<RenderedImage> images;
  std::vector<Skipped> skipped;
};

struct PreviewOptions {
  long row = -1;  ///< sinogram row; -1: the middle
  double low = 0.5, high = 99.5;
  std::size_t max_size = 0;  ///< 0: full size
  FieldStatistic fields = FieldStatistic::mean;
};

[[nodiscard]] Rendered render_previews(const ScanReader& scan, const std::filesystem::path& dir,
                                       const PreviewOptions& options);

/// Block-mean shrink of a w × h image by `factor` (≥ 1; edge blocks average
/// what they hold); the new size in w, h.
[[nodiscard]] std::vector<float> shrink(std::span<const float> image, std::size_t& w,
                                        std::size_t& h, std::size_t factor);
/// The smallest integer factor fitting w and h in max_size (0: 1).
[[nodiscard]] std::size_t shrink_factor(std::size_t w, std::size_t h, std::size_t max_size);

}  // namespace pandafly::dx
