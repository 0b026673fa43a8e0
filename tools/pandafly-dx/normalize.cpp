// pandafly-dx normalize (contract in normalize.hpp).
#include "normalize.hpp"

#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pandafly/dx/normalize.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"

namespace pandafly_dx {
namespace {

namespace dx = pandafly::dx;
namespace h5 = pandafly::h5;

constexpr const char* kNoiseModel =
    "var(D) = max(D - dark, 0) / gain + read_noise^2 (ADU^2) for a frame value D; a field's "
    "mean has var/n, its median (pi/2) var/n; flats before/after interpolated linearly in time, "
    "variances with squared weights; T = (D - dark)/(flat - dark) with first-order propagation "
    "(dark shared by numerator and denominator); -log: sigma_L = sigma_T / T";

struct NothingToNormalise : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", utc);
}

std::string options_text(const NormalizeCmdOptions& o) {
  return fmt::format("--fields {} {}--gain {} --read-noise {} --min-denominator {}", o.fields,
                     o.minus_log ? "--minus-log " : "", o.gain, o.read_noise, o.min_denominator);
}

void write_string(hid_t loc, const std::string& name, const std::string& text) {
  auto d = h5::Dataset::create_c_string(loc, name, text);
  d.close();
}

h5::Dataset frames(hid_t loc, const std::string& name, h5::Type type, const dx::ScanReader& s,
                   const char* description, const char* units) {
  auto d = h5::Dataset::create(
      loc, name, {.type = type, .chunk_rows = 1, .row_shape = {s.height(), s.width()}});
  h5::write_attribute(d.id(), "description", description);
  h5::write_attribute(d.id(), "axes", "theta:y:x");
  h5::write_attribute(d.id(), "units", units);
  return d;
}

struct Written {
  std::size_t frames = 0, flagged = 0;
  bool interpolated = false;
};

Written normalise(const NormalizeCmdOptions& o) {
  dx::ScanReader scan(o.in);
  if (scan.dark_count() == 0 || scan.flat_count() == 0)
    throw NothingToNormalise(fmt::format("{}: {} darks and {} flats: nothing to normalise by", o.in,
                                         scan.dark_count(), scan.flat_count()));
  const dx::NormalizeOptions options{.minus_log = o.minus_log,
                                     .noise = {.gain = o.gain, .read_noise = o.read_noise},
                                     .min_denominator = o.min_denominator};
  const auto fields = dx::read_fields(scan, dx::parse_field_statistic(o.fields), options.noise);
  auto file = h5::File::create(o.out, {.overwrite = o.force});
  write_string(file.id(), "/implements", "exchange:process");
  h5::Handle exchange = h5::create_group(file.id(), "/exchange");
  const char* units = o.minus_log ? "-ln(transmission)" : "transmission";
  auto value =
      frames(file.id(), "/exchange/data", h5::Type::float32, scan, "NormalizedData", units);
  auto sigma = frames(file.id(), "/exchange/data_uncertainty", h5::Type::float32, scan,
                      "one standard deviation of /exchange/data by the noise model", units);
  auto flags = frames(file.id(), "/exchange/data_flags", h5::Type::uint8, scan,
                      "1: flat - dark at or below --min-denominator; 2: -log of T <= 0 (NaN "
                      "in data and data_uncertainty)",
                      "bits");
  auto theta = h5::Dataset::create(file.id(), "/exchange/theta", {.type = h5::Type::float64});
  theta.append(std::as_bytes(std::span(scan.theta())));
  h5::write_attribute(theta.id(), "units", "degrees");
  const std::size_t pixels = scan.height() * scan.width();
  std::vector<float> v(pixels), s(pixels);
  std::vector<std::uint8_t> f(pixels);
  Written w;
  w.interpolated = !fields.after.value.empty() && !fields.before.value.empty() && scan.has_times();
  for (std::size_t k = 0; k < scan.projections(); ++k) {
    const auto flat = fields.flat_at(scan.projection_time(k));
    w.flagged += dx::normalize_frame(scan.projection(k), fields.dark, flat, options, v, s, f);
    value.append(std::as_bytes(std::span(v)));
    sigma.append(std::as_bytes(std::span(s)));
    flags.append(std::as_bytes(std::span(f)));
    ++w.frames;
  }
  h5::Handle process = h5::create_group(file.id(), "/process/normalize");
  write_string(process.get(), "tool", "pandafly-dx normalize");
  write_string(process.get(), "version", PANDAFLY_VERSION);
  write_string(process.get(), "input", std::filesystem::absolute(o.in).string());
  write_string(process.get(), "options", options_text(o));
  write_string(process.get(), "noise_model", kNoiseModel);
  write_string(process.get(), "flat_interpolation",
               w.interpolated ? "flats before and after, linear in the frames' time stamps"
                              : "one set of flats");
  write_string(process.get(), "date", utc_now());
  auto count = h5::Dataset::create_single(process.get(), "flagged_pixels", h5::Type::uint64);
  count.write_value(static_cast<std::uint64_t>(w.flagged));
  file.close();
  return w;
}

}  // namespace

int cmd_normalize(const NormalizeCmdOptions& o) {
  const bool existed = std::filesystem::exists(o.out);
  if (existed && !o.force) {
    fmt::print(stderr, "pandafly-dx normalize: {} exists (use --force to replace it)\n", o.out);
    return Exit::unreadable;
  }
  std::error_code ec;
  if (std::filesystem::equivalent(o.in, o.out, ec)) {
    fmt::print(stderr, "pandafly-dx normalize: OUT is the input file\n");
    return Exit::unreadable;
  }
  Written w;
  try {
    w = normalise(o);
  } catch (const NothingToNormalise& e) {
    fmt::print(stderr, "pandafly-dx normalize: {}\n", e.what());
    return Exit::findings;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx normalize: {}: {}\n", o.in, e.what());
    if (!existed) std::filesystem::remove(o.out, ec);  // a half-written output is no result
    return Exit::unreadable;
  }
  if (o.json) {
    fmt::print("{}\n", nlohmann::json{{"in", o.in},
                                      {"out", o.out},
                                      {"projections", w.frames},
                                      {"flagged_pixels", w.flagged},
                                      {"flats_interpolated", w.interpolated}}
                           .dump());
  } else {
    fmt::print("{}: {} projections normalised{}, {} pixels flagged\n", o.out, w.frames,
               w.interpolated ? " (flats interpolated in time)" : "", w.flagged);
  }
  return Exit::ok;
}

}  // namespace pandafly_dx
