// Grey-level previews of a scan (contracts in include/pandafly/dx/preview.hpp).
#include "pandafly/dx/preview.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"
#include "pandafly/util/png.hpp"

namespace pandafly::dx {
namespace {

std::vector<float> to_float(const std::vector<std::uint16_t>& v) {
  return {v.begin(), v.end()};
}

// Slots of /exchange/data that hold no frame (writer.hpp "Slots"; status 0);
// empty for a file without a status dataset.
std::vector<bool> missing_slots(const ScanReader& scan) {
  const char* path = "/process/acquisition/projection_status";
  if (!h5::path_exists(scan.file_id(), path)) return {};
  const auto status = h5::Dataset::open(scan.file_id(), path).read<std::uint8_t>();
  std::vector<bool> missing(scan.projections(), false);
  for (std::size_t k = 0; k < status.size() && k < missing.size(); ++k) missing[k] = status[k] == 0;
  return missing;
}

struct Writer {
  const std::filesystem::path& dir;
  const PreviewOptions& options;
  Rendered& out;

  void image(RenderedImage info, const std::vector<float>& values, std::size_t w, std::size_t h) {
    const auto window = percentile_window(values, options.low, options.high);
    const auto factor = shrink_factor(w, h, options.max_size);
    const auto small = factor > 1 ? shrink(values, w, h, factor) : std::vector<float>{};
    const auto grey = to_gray8(factor > 1 ? small : values, window);
    info.file = dir / (info.name + ".png");
    util::write_png_gray8(info.file, w, h, grey);
    info.width = w, info.height = h, info.window = window;
    out.images.push_back(std::move(info));
  }
};

// The first, middle and last projection that hold a frame (Rules); empty
// when none does.
struct Chosen {
  const char* label;
  std::size_t nominal, k;
};
std::vector<Chosen> choose_projections(std::size_t n, const std::vector<bool>& missing) {
  std::vector<std::size_t> stored;
  for (std::size_t k = 0; k < n; ++k)
    if (k >= missing.size() || !missing[k]) stored.push_back(k);
  if (stored.empty()) return {};
  const auto distance = [n](std::size_t k) { return k > n / 2 ? k - n / 2 : n / 2 - k; };
  const auto middle = *std::min_element(stored.begin(), stored.end(),
                                        [&](auto a, auto b) { return distance(a) < distance(b); });
  return {{"first", 0, stored.front()}, {"middle", n / 2, middle}, {"last", n - 1, stored.back()}};
}

void projections(const ScanReader& scan, Writer& write, const std::vector<Chosen>& chosen) {
  const std::size_t n = scan.projections(), w = scan.width(), h = scan.height();
  if (chosen.empty()) {
    for (const char* label : {"first", "middle", "last"})
      write.out.skipped.push_back(
          {fmt::format("projection_{}", label), "no projection slot holds a frame"});
    return;
  }
  for (const auto& [label, nominal, k] : chosen) {
    write.image({.name = fmt::format("projection_{}", label),
                 .caption = fmt::format(
                     "{} projection ({} of {}, theta {:.3f} deg){}", label, k, n, scan.theta()[k],
                     k != nominal ? fmt::format(": the nearest to {} with a frame", nominal) : ""),
                 .index = static_cast<long>(k),
                 .values = "counts (ADU)"},
                to_float(scan.projection(k)), w, h);
  }
}

void fields(const ScanReader& scan, Writer& write) {
  const std::size_t w = scan.width(), h = scan.height(), pixels = w * h;
  if (scan.dark_count() == 0) {
    write.out.skipped.push_back({"dark", "the file has no darks (/exchange/data_dark)"});
  } else {
    auto darks = scan.darks();
    darks.resize(pixels);
    write.image({.name = "dark",
                 .caption = fmt::format("dark field 0 of {}", scan.dark_count()),
                 .index = 0,
                 .values = "counts (ADU)"},
                to_float(darks), w, h);
  }
  if (scan.flat_count() == 0) {
    write.out.skipped.push_back({"flat", "the file has no flats (/exchange/data_white)"});
    return;
  }
  write.image({.name = "flat",
               .caption = fmt::format("flat field 0 of {}", scan.flat_count()),
               .index = 0,
               .values = "counts (ADU)"},
              to_float(scan.flats({0})), w, h);
}

void normalised(const ScanReader& scan, Writer& write, std::size_t k) {
  const std::size_t w = scan.width(), h = scan.height();
  const auto f = read_fields(scan, write.options.fields, {});
  const auto flat = f.flat_at(scan.projection_time(k));
  std::vector<float> value(w * h), sigma(w * h);
  std::vector<std::uint8_t> flags(w * h);
  (void)normalize_frame(scan.projection(k), f.dark, flat, {}, value, sigma, flags);
  write.image({.name = "normalized",
               .caption = fmt::format("projection {} normalised: (p - dark) / (flat - dark)", k),
               .index = static_cast<long>(k),
               .values = "transmission"},
              value, w, h);
}

void sinogram(const ScanReader& scan, Writer& write, bool normalise,
              const std::vector<bool>& missing) {
  const std::size_t n = scan.projections(), w = scan.width();
  const auto row =
      write.options.row < 0 ? scan.height() / 2 : static_cast<std::size_t>(write.options.row);
  std::vector<float> values;
  if (normalise) {
    std::size_t flagged = 0;
    values = read_sinogram(scan, row, write.options.fields, {}, flagged);
  } else {
    values = to_float(scan.projection_rows(row));
  }
  // A slot without a frame is no data (not zero counts, not −ln 1e-6).
  for (std::size_t k = 0; k < missing.size(); ++k)
    if (missing[k])
      std::fill_n(values.begin() + static_cast<long>(k * w), w,
                  std::numeric_limits<float>::quiet_NaN());
  write.image({.name = "sinogram",
               .caption = fmt::format("sinogram of row {} ({} projections x {} pixels{})", row, n,
                                      w, normalise ? ", -ln T" : ", raw counts"),
               .index = static_cast<long>(row),
               .values = normalise ? "-ln transmission" : "counts (ADU)"},
              values, w, n);
}

}  // namespace

std::size_t shrink_factor(std::size_t w, std::size_t h, std::size_t max_size) {
  if (max_size == 0) return 1;
  const auto longest = std::max(w, h);
  return std::max<std::size_t>(1, (longest + max_size - 1) / max_size);
}

std::vector<float> shrink(std::span<const float> image, std::size_t& w, std::size_t& h,
                          std::size_t factor) {
  if (factor == 0 || image.size() != w * h)
    throw std::invalid_argument(
        fmt::format("shrink: {} values for {} x {} by {}", image.size(), w, h, factor));
  const std::size_t sw = (w + factor - 1) / factor, sh = (h + factor - 1) / factor;
  std::vector<double> sum(sw * sh, 0.0);
  std::vector<std::size_t> count(sw * sh, 0);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x) {
      const float v = image[y * w + x];
      if (!std::isfinite(v)) continue;
      const auto i = (y / factor) * sw + x / factor;
      sum[i] += v, ++count[i];
    }
  std::vector<float> out(sw * sh, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (count[i] > 0) out[i] = static_cast<float>(sum[i] / static_cast<double>(count[i]));
  w = sw, h = sh;
  return out;
}

Rendered render_previews(const ScanReader& scan, const std::filesystem::path& dir,
                         const PreviewOptions& options) {
  if (options.row >= static_cast<long>(scan.height()))
    throw std::invalid_argument(fmt::format("{}: row {} is outside the frame (height {})",
                                            scan.path().string(), options.row, scan.height()));
  if (scan.projections() == 0)
    throw std::runtime_error(fmt::format("{}: no projections", scan.path().string()));
  std::filesystem::create_directories(dir);
  Rendered out;
  Writer write{dir, options, out};
  const auto missing = missing_slots(scan);
  const auto chosen = choose_projections(scan.projections(), missing);
  projections(scan, write, chosen);
  fields(scan, write);
  const bool can_normalise = scan.dark_count() > 0 && scan.flat_count() > 0;
  if (!can_normalise)
    out.skipped.push_back({"normalized", "needs darks and flats"});
  else if (chosen.empty())
    out.skipped.push_back({"normalized", "no projection slot holds a frame"});
  else
    normalised(scan, write, chosen[1].k);
  sinogram(scan, write, can_normalise, missing);
  return out;
}

}  // namespace pandafly::dx
