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
#include "pandafly/dx/scan_slice.hpp"
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

struct Result {
  dx::ScanSlice slice;
  std::size_t threads = 1;
  nlohmann::json seconds = nlohmann::json::object();
  std::string png, h5;
};

void write_h5(const SliceCmdOptions& o, const Result& r, const std::vector<float>& image) {
  auto file = h5::File::create(r.h5, {.overwrite = o.force});
  auto d = h5::Dataset::create(
      file.id(), "/slice",
      {.type = h5::Type::float32, .chunk_rows = r.slice.size, .row_shape = {r.slice.size}});
  d.append(std::as_bytes(std::span(image)));
  h5::write_attribute(d.id(), "units", "1/pixel");
  h5::write_attribute(d.id(), "description",
                      "filtered back-projection of one detector row (attenuation per pixel; "
                      "divide by the pixel size for 1/length)");
  h5::write_attribute(d.id(), "centre", r.slice.centre.centre);
  h5::write_attribute(d.id(), "centre_estimated", std::uint8_t{r.slice.estimated});
  h5::write_attribute(d.id(), "row", static_cast<std::uint64_t>(r.slice.row));
  h5::write_attribute(d.id(), "filter", o.filter);
  h5::write_attribute(d.id(), "method", o.method);
  h5::write_attribute(d.id(), "source", std::filesystem::absolute(o.file).string());
  h5::write_attribute(d.id(), "projections", static_cast<std::uint64_t>(r.slice.angles));
  d.close();
  file.close();
}

void reconstruct(const SliceCmdOptions& o, Result& r) {
  dx::ScanReader scan(o.file);
  r.threads = o.threads == 0 ? util::default_threads() : o.threads;
  dx::ScanSliceOptions so{.row = o.row,
                          .filter = dx::parse_slice_filter(o.filter),
                          .method = dx::parse_slice_method(o.method),
                          .centre = o.centre,
                          .fields = dx::parse_field_statistic(o.fields),
                          .threads = r.threads};
  if (r.threads > 1) so.parallel = util::parallel_on(r.threads);
  r.slice = dx::slice_scan(scan, so);
  r.seconds = {{"read", r.slice.read_s},
               {"centre", r.slice.centre_s},
               {"setup", r.slice.setup_s},
               {"reconstruct", r.slice.reconstruct_s}};
}

void print(const SliceCmdOptions& o, const Result& r) {
  if (o.json) {
    nlohmann::json j{{"file", o.file},
                     {"row", r.slice.row},
                     {"png", r.png},
                     {"h5", r.h5},
                     {"size", r.slice.size},
                     {"projections", r.slice.angles},
                     {"centre", r.slice.centre.centre},
                     {"centre_estimated", r.slice.estimated},
                     {"filter", o.filter},
                     {"method", o.method},
                     {"threads", r.threads},
                     {"flagged_pixels", r.slice.flagged},
                     {"left_out", r.slice.left_out},
                     {"seconds", r.seconds}};
    if (r.slice.estimated) {
      j["centre_pair"] = {r.slice.centre.first, r.slice.centre.second};
      j["centre_correlation"] = r.slice.centre.correlation;
    }
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{}: row {} of {} projections, centre {:.2f}{}, {} × {} → {}, {} ({:.3f} s)\n", o.file,
             r.slice.row, r.slice.angles, r.slice.centre.centre,
             r.slice.estimated ? " (estimated)" : "", r.slice.size, r.slice.size, r.png, r.h5,
             r.seconds.value("total", 0.0));
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
  try {
    reconstruct(o, r);
  } catch (const dx::CannotReconstruct& e) {
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
    const auto t = Clock::now();
    const auto& image = r.slice.image;
    const auto window = dx::percentile_window(image, o.low, o.high);
    util::write_png_gray8(r.png, r.slice.size, r.slice.size, dx::to_gray8(image, window));
    write_h5(o, r, image);
    r.seconds["write"] = std::chrono::duration<double>(Clock::now() - t).count();
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx slice: {}\n", e.what());
    return Exit::unreadable;
  }
  r.seconds["total"] = std::chrono::duration<double>(Clock::now() - start).count();
  print(o, r);
  return Exit::ok;
}

}  // namespace pandafly_dx
