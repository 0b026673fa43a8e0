// What DXfiles from the shipped layouts look like to other readers (issue 15,
// items 1-4, 10, 11, 17): files written by dx::Writer with layouts/dxfile_fly.xml
// and dxfile_step.xml, read by tests/unit/dx_interop_check.py with h5py and
// Debian's python3-dxchange metadata readers (read_hdf_meta,
// create_standard_meta). The checker takes the expected values from the layout
// XML and the NDAttribute values below, not from our output.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/layout.hpp"
#include "pandafly/dx/writer.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pandafly;
using test::TempDir;

namespace {

std::string shipped_layout_path(const std::string& name) {
  return std::string(PANDAFLY_SOURCE_DIR) + "/layouts/" + name;
}

dx::Layout shipped_layout(const std::string& name) {
  std::ifstream in(shipped_layout_path(name));
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = dx::parse_layout(text.str());
  REQUIRE(std::holds_alternative<dx::Layout>(parsed));
  return std::get<dx::Layout>(std::move(parsed));
}

// Every NDAttribute layouts/README.md lists as known at file open, as the
// recorder gets them: numbers typed as `--set` parses them (Energy=20 → int64).
dx::AttributeValues open_values() {
  return {{"Facility", std::string("SESAME")},
          {"Beamline", std::string("ID10-BEATS")},
          {"ProposalId", std::string("20261042")},
          {"PrincipalInvestigator", std::string("R. Haddad")},
          {"PersistentIdentifier", std::string("doi:10.1234/abc")},
          {"ExperimentTitle", std::string("Shepp-Logan in a tube")},
          {"License", std::string("CC-BY-4.0")},
          {"DateTimeStart", std::string("2026-01-15T10:00:00+03:00")},
          {"SampleName", std::string("shepp")},
          {"SampleDescription", std::string("phantom, 40 \xc2\xb5m wall")},  // UTF-8
          {"SampleUUID", std::string("5b2f0c1e-7a9d-4c1b-9e2f-0d3c4b5a6f70")},
          {"Experimenters", std::string("A; B")},
          {"ExperimenterAffiliation", std::string("SESAME")},
          {"ExperimenterEmail", std::string("a@example.org")},
          {"DetectorManufacturer", std::string("FLIR")},
          {"DetectorModel", std::string("ORX-10G-51S5M")},
          {"DetectorSizeX", std::int64_t{8}},
          {"DetectorSizeY", std::int64_t{6}},
          {"DetectorPixelSize", 3.45},
          {"BinX", std::int64_t{1}},
          {"BinY", std::int64_t{1}},
          {"CameraDistance", std::int64_t{150}},
          {"ExposureTime", 0.01},
          {"FrameRate", std::int64_t{80}},
          {"ImagePixelSize", 0.65},
          {"Energy", std::int64_t{20}},  // --set Energy=20
          {"RotationStart", std::int64_t{0}},
          {"RotationStep", 1.5},
          {"RotationSpeed", std::int64_t{120}},
          {"NumAngles", std::int64_t{4}},
          {"NumDarkFields", std::int64_t{2}},
          {"NumFlatFields", std::int64_t{2}},
          {"DarkFieldValue", std::int64_t{100}},
          {"FlatFieldValue", std::int64_t{40000}}};
}

dx::AttributeValues close_values() {
  return {{"DateTimeEnd", std::string("2026-01-15T10:05:00+03:00")},
          {"EmbargoEndDate", std::string("2029-01-15")}};
}

nlohmann::json to_json(const dx::AttributeValues& v) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : v) std::visit([&](const auto& x) { j[name] = x; }, value);
  return j;
}

struct Written {
  fs::path file;
  fs::path plan;
};

// 2 darks, 2 flats, 4 projections. Every frame carries PandaTheta (the
// encoder), theta_readout (the motor read-back, 0.01° off: a mix-up shows),
// PandaTime/FrameTime, ColorMode and an NDAttribute Undefined on the first
// frame, numeric later. No FrameRecord::angle: the NDAttribute is the source.
Written write_scan(const TempDir& dir, const std::string& layout_name) {
  dx::WriterOptions o;
  o.path = dir.path / (layout_name + ".h5");
  o.layout = shipped_layout(layout_name);
  o.frame = {.height = 6, .width = 8, .type = capture::DataType::uint16};
  o.frames_expected = {{test::dark, 2}, {test::white, 2}, {test::data, 4}};
  o.open_attributes = open_values();
  dx::Writer w(o);
  nlohmann::json frames = nlohmann::json::array();
  const char* where[] = {test::dark, test::dark, test::white, test::white,
                         test::data, test::data, test::data,  test::data};
  for (std::int64_t k = 0; k < 8; ++k) {
    auto r = dx::FrameRecord::owning(test::pattern<std::uint16_t>(k, 6, 8));
    r.unique_id = k;
    r.timestamp = 1.0e9 + static_cast<double>(k);
    const double encoder = k < 4 ? 0.0 : 1.5 * static_cast<double>(k - 4);
    r.set("HDF5FrameLocation", std::string(where[k]));
    r.set("PandaTheta", encoder);
    r.set("theta_readout", encoder + 0.01);
    r.set("PandaTime", 0.1 * static_cast<double>(k));
    r.set("FrameTime", 0.1 * static_cast<double>(k));
    r.set("ColorMode", std::int64_t{0});
    r.set("RingCurrent", k == 0 ? dx::AttributeValue(std::string("Undefined"))
                                : dx::AttributeValue(std::int64_t{200}));
    frames.push_back({{"to", where[k]},
                      {"PandaTheta", encoder},
                      {"theta_readout", encoder + 0.01},
                      {"RingCurrent", k == 0 ? nlohmann::json() : nlohmann::json(200.0)}});
    REQUIRE(w.push(std::move(r)));
  }
  const auto end = w.finish(dx::Ending::completed(close_values()));
  CHECK(end.complete);
  CHECK(end.close_error.empty());
  bool warned = false;
  for (const auto& s : end.warnings) {
    if (s.find("RingCurrent was Undefined on the first frame: stored as float64") !=
        std::string::npos)
      warned = true;
  }
  CHECK_MESSAGE(warned, "no warning about the Undefined RingCurrent");
  nlohmann::json plan;
  plan["layout"] = shipped_layout_path(layout_name);
  auto values = to_json(open_values());
  values.update(to_json(close_values()));
  values["AcquisitionComplete"] = 1;
  values["EndReason"] = "completed";
  values["FramesExpected"] = 8;
  values["FramesReceived"] = 8;
  plan["values"] = values;
  plan["frames"] = frames;
  Written out{o.path, o.path.string() + ".plan.json"};
  std::ofstream(out.plan) << plan.dump(1);
  return out;
}

}  // namespace

TEST_CASE("interop: DXfiles from the shipped layouts read in dxchange's metadata readers") {
  TempDir dir("dx_interop");
  for (const char* layout : {"dxfile_fly.xml", "dxfile_step.xml"}) {
    CAPTURE(layout);
    const auto w = write_scan(dir, layout);
    const auto r = test::run_python("dx_interop_check.py",
                                    "'" + w.file.string() + "' '" + w.plan.string() + "'");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(r.output.find("create_standard_meta=ok") != std::string::npos);
    CHECK(r.output.find("nxtomo=ok") != std::string::npos);
  }
}
