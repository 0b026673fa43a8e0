// pandafly-dx xdi (contract in xdi.hpp).
#include "xdi.hpp"

#include <array>
#include <exception>
#include <filesystem>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "pandafly/dx/metadata.hpp"
#include "pandafly/dx/xdi_writer.hpp"
#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"

namespace pandafly_dx {
namespace {

namespace dx = pandafly::dx;
namespace h5 = pandafly::h5;

constexpr std::size_t kReferenceReaderLines = 16384;  // libxdifile's limit (file-formats.md §4.4)

struct Capture {
  std::vector<double> angle;
  std::vector<double> time;
  std::string angle_units;
  std::string start_time;
};

std::string attribute_or(hid_t loc, const char* name) {
  return h5::has_attribute(loc, name) ? h5::read_string_attribute(loc, name) : std::string();
}

// The two columns, or an exit code after saying why.
std::optional<Capture> read_capture(const XdiOptions& o, int& rc) {
  try {
    auto file = h5::File::open(o.capture);
    Capture c;
    for (const auto* name : {&o.angle, &o.time}) {
      if (!h5::exists(file.id(), *name)) {
        fmt::print(stderr, "pandafly-dx xdi: {}: no dataset '{}'\n", o.capture, *name);
        rc = Exit::findings;
        return std::nullopt;
      }
    }
    auto angle = h5::Dataset::open(file.id(), o.angle);
    c.angle = angle.read<double>();
    c.angle_units = attribute_or(angle.id(), "units");
    c.time = h5::Dataset::open(file.id(), o.time).read<double>();
    c.start_time = attribute_or(file.id(), "start_time");
    if (c.angle.size() != c.time.size()) {
      fmt::print(stderr, "pandafly-dx xdi: {}: {} has {} rows, {} has {}\n", o.capture, o.angle,
                 c.angle.size(), o.time, c.time.size());
      rc = Exit::findings;
      return std::nullopt;
    }
    return c;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx xdi: {}: {}\n", o.capture, e.what());
    rc = Exit::unreadable;
    return std::nullopt;
  }
}

dx::XdiHeader header_for(const XdiOptions& o, const Capture& c, const dx::ScanMetadata& m) {
  dx::XdiHeader h;
  h.columns = {{std::string(dx::xdi_rotation_column), "degrees"}, {"elapsed_time", "seconds"}};
  h.fields = {{"Facility", "name", m.facility},
              {"Facility", "xray_source", m.xray_source},
              {"Beamline", "name", m.beamline}};
  if (!c.start_time.empty()) h.fields.push_back({"Scan", "start_time", c.start_time});
  if (!m.proposal_id.empty()) h.fields.push_back({"pandafly", "proposal", m.proposal_id});
  h.fields.push_back({"pandafly", "source", std::filesystem::path(o.capture).filename().string()});
  h.fields.push_back({"pandafly", "angle_column", o.angle});
  h.fields.push_back({"pandafly", "time_column", o.time});
  h.comments = {"PandA position capture, one row per trigger"};
  return h;
}

}  // namespace

int cmd_xdi(const XdiOptions& o) {
  dx::ScanMetadata metadata;
  if (!o.metadata.empty()) {
    const auto text = read_text(o.metadata);
    if (!text) {
      fmt::print(stderr, "pandafly-dx xdi: {}: cannot read the file\n", o.metadata);
      return Exit::unreadable;
    }
    try {
      metadata = dx::parse_metadata(*text, o.metadata);
    } catch (const dx::MetadataError& e) {
      fmt::print(stderr, "pandafly-dx xdi: {}\n", e.what());
      return Exit::unreadable;
    }
  }
  int rc = Exit::ok;
  const auto capture = read_capture(o, rc);
  if (!capture) return rc;
  if (!capture->angle_units.empty() && capture->angle_units != "deg" &&
      capture->angle_units != "degrees") {
    fmt::print(stderr, "pandafly-dx xdi: {}: {} is in '{}', not degrees\n", o.capture, o.angle,
               capture->angle_units);
    return Exit::findings;
  }
  try {
    dx::XdiWriter out(o.out, header_for(o, *capture, metadata), {.overwrite = o.force});
    for (std::size_t i = 0; i < capture->angle.size(); ++i)
      out.append(std::array{capture->angle[i], capture->time[i]});
    out.close();
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx xdi: {}\n", e.what());
    return Exit::unreadable;
  }
  if (capture->angle.size() + 20 > kReferenceReaderLines)
    fmt::print(stderr,
               "pandafly-dx xdi: warning: {} rows; the XDI reference reader stops at {} lines\n",
               capture->angle.size(), kReferenceReaderLines);
  fmt::print("{}: {} rows\n", o.out, capture->angle.size());
  return Exit::ok;
}

}  // namespace pandafly_dx
