// pandafly-dx slice (contract in slice.hpp).
#include "slice.hpp"

#include <chrono>
#include <exception>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pandafly/dx/image_window.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/dx/slice.hpp"
#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"
#include "pandafly/util/parallel.hpp"
#include "pandafly/util/png.hpp"

namespace pandafly_dx {
namespace {

namespace dx = pandafly::dx;
namespace h5 = pandafly::h5;
namespace util = pandafly::util;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point& t) {
  const auto now = Clock::now();
  const double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

// A reason the scan cannot be reconstructed (exit 1), as opposed to a file
// that cannot be read or written (exit 2).
struct CannotReconstruct : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Result {
  std::size_t row = 0, size = 0, angles = 0, flagged = 0, threads = 1;
  dx::CentreEstimate centre{};
  bool estimated = false;
  nlohmann::json seconds = nlohmann::json::object();
  std::string png, h5;
};

void write_h5(const SliceCmdOptions& o, const Result& r, const std::vector<float>& image) {
  auto file = h5::File::create(r.h5, {.overwrite = o.force});
  auto d =
      h5::Dataset::create(file.id(), "/slice",
                          {.type = h5::Type::float32, .chunk_rows = r.size, .row_shape = {r.size}});
  d.append(std::as_bytes(std::span(image)));
  h5::write_attribute(d.id(), "units", "1/pixel");
  h5::write_attribute(d.id(), "description",
                      "filtered back-projection of one detector row (attenuation per pixel; "
                      "divide by the pixel size for 1/length)");
  h5::write_attribute(d.id(), "centre", r.centre.centre);
  h5::write_attribute(d.id(), "centre_estimated", std::uint8_t{r.estimated});
  h5::write_attribute(d.id(), "row", static_cast<std::uint64_t>(r.row));
  h5::write_attribute(d.id(), "filter", o.filter);
  h5::write_attribute(d.id(), "method", o.method);
  h5::write_attribute(d.id(), "source", std::filesystem::absolute(o.file).string());
  h5::write_attribute(d.id(), "projections", static_cast<std::uint64_t>(r.angles));
  d.close();
  file.close();
}

std::vector<float> reconstruct(const SliceCmdOptions& o, Result& r) {
  auto t = Clock::now();
  dx::ScanReader scan(o.file);
  const auto statistic = dx::parse_field_statistic(o.fields);
  if (o.row >= static_cast<long>(scan.height()))
    throw CannotReconstruct(
        fmt::format("{}: row {} is outside the frame (height {})", o.file, o.row, scan.height()));
  r.row = o.row < 0 ? scan.height() / 2 : static_cast<std::size_t>(o.row);
  if (scan.dark_count() == 0 || scan.flat_count() == 0)
    throw CannotReconstruct(fmt::format("{}: {} darks and {} flats: nothing to normalise by",
                                        o.file, scan.dark_count(), scan.flat_count()));
  const auto sino = dx::read_sinogram(scan, r.row, statistic, {}, r.flagged);
  const auto& theta = scan.theta();
  r.angles = theta.size();
  r.seconds["read"] = seconds_since(t);
  if (o.centre) {
    r.centre.centre = *o.centre;
  } else {
    try {
      r.centre = dx::estimate_centre(sino, scan.width(), theta);
    } catch (const std::invalid_argument& e) {
      throw CannotReconstruct(fmt::format("{}: {} (give --centre)", o.file, e.what()));
    }
    r.estimated = true;
  }
  r.seconds["centre"] = seconds_since(t);
  r.threads = o.threads == 0 ? util::default_threads() : o.threads;
  dx::SliceOptions so{.filter = dx::parse_slice_filter(o.filter),
                      .method = dx::parse_slice_method(o.method),
                      .threads = r.threads};
  if (r.threads > 1)
    so.parallel = [n = r.threads](std::size_t count, const std::function<void(std::size_t)>& f) {
      util::parallel_for(n, count, f);
    };
  dx::SliceReconstructor rec(scan.width(), std::move(so));
  r.size = rec.size();
  r.seconds["setup"] = seconds_since(t);
  try {
    auto image = rec.reconstruct(sino, theta, r.centre.centre);
    r.seconds["reconstruct"] = seconds_since(t);
    return image;
  } catch (const std::invalid_argument& e) {
    throw CannotReconstruct(fmt::format("{}: {}", o.file, e.what()));
  }
}

void print(const SliceCmdOptions& o, const Result& r) {
  if (o.json) {
    nlohmann::json j{{"file", o.file},
                     {"row", r.row},
                     {"png", r.png},
                     {"h5", r.h5},
                     {"size", r.size},
                     {"projections", r.angles},
                     {"centre", r.centre.centre},
                     {"centre_estimated", r.estimated},
                     {"filter", o.filter},
                     {"method", o.method},
                     {"threads", r.threads},
                     {"flagged_pixels", r.flagged},
                     {"seconds", r.seconds}};
    if (r.estimated) {
      j["centre_pair"] = {r.centre.first, r.centre.second};
      j["centre_correlation"] = r.centre.correlation;
    }
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{}: row {} of {} projections, centre {:.2f}{}, {} × {} → {}, {} ({:.3f} s)\n", o.file,
             r.row, r.angles, r.centre.centre, r.estimated ? " (estimated)" : "", r.size, r.size,
             r.png, r.h5, r.seconds.value("total", 0.0));
}

}  // namespace

int cmd_slice(const SliceCmdOptions& o) {
  const auto start = Clock::now();
  Result r;
  r.png = o.out;
  r.h5 = o.h5.empty() ? std::filesystem::path(o.out).replace_extension(".h5").string() : o.h5;
  for (const auto& out : {r.png, r.h5}) {
    if (std::filesystem::exists(out) && !o.force) {
      fmt::print(stderr, "pandafly-dx slice: {} exists (use --force to replace it)\n", out);
      return Exit::unreadable;
    }
    std::error_code ec;
    if (std::filesystem::equivalent(out, o.file, ec)) {
      fmt::print(stderr, "pandafly-dx slice: {} is the input file\n", out);
      return Exit::unreadable;
    }
  }
  std::vector<float> image;
  try {
    image = reconstruct(o, r);
  } catch (const CannotReconstruct& e) {
    fmt::print(stderr, "pandafly-dx slice: {}\n", e.what());
    return Exit::findings;
  } catch (const std::invalid_argument& e) {  // a bad --filter/--method/--fields
    fmt::print(stderr, "pandafly-dx slice: {}\n", e.what());
    return Exit::unreadable;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx slice: {}: {}\n", o.file, e.what());
    return Exit::unreadable;
  }
  try {
    auto t = Clock::now();
    const auto window = dx::percentile_window(image, o.low, o.high);
    util::write_png_gray8(r.png, r.size, r.size, dx::to_gray8(image, window));
    write_h5(o, r, image);
    r.seconds["write"] = seconds_since(t);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx slice: {}\n", e.what());
    return Exit::unreadable;
  }
  r.seconds["total"] = std::chrono::duration<double>(Clock::now() - start).count();
  print(o, r);
  return Exit::ok;
}

}  // namespace pandafly_dx
