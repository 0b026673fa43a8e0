// dx::validate on small DXfiles written by h5py (/usr/bin/python3): one good
// file, and one variant per rule that breaks exactly that rule. h5py writes
// variable-length strings; the "fixed" variant writes NDFileHDF5-style
// fixed-length ones, so both string kinds are read.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <variant>

#include <doctest/doctest.h>

#include "pandafly/dx/layout.hpp"
#include "pandafly/dx/validate.hpp"
#include "pandafly/h5/error.hpp"
#include "temp_dir.hpp"

using namespace pandafly;

namespace {

// argv: path variant. Writes the good file, then applies the variant's change.
constexpr const char* kMaker = R"PY(
import sys, h5py, numpy as np
path, variant = sys.argv[1], sys.argv[2]
fixed = lambda s: np.bytes_(s.encode() + b"\0")
with h5py.File(path, "w") as f:
    f["implements"] = ["exchange:measurement:process"]  # shape (1,), as NDFileHDF5 writes it
    def stack(name, n, desc):
        d = f.create_dataset("exchange/" + name, data=np.zeros((n, 4, 5), np.uint16))
        d.attrs["description"] = desc
        d.attrs["axes"] = "theta:y:x"
        d.attrs["units"] = "counts"
    stack("data", 3, "ImageData")
    stack("data_dark", 2, "DarkData")
    stack("data_white", 2, "WhiteData")
    f["exchange/theta"] = np.array([0.0, 60.0, 120.0], np.float32)
    f["exchange/theta"].attrs["units"] = "degrees"
    f["exchange/theta_dark"] = np.zeros(2)
    f["exchange/theta_dark"].attrs["units"] = "degrees"
    f["measurement/sample/name"] = ["rock"]
    a = f.create_group("process/acquisition")
    a["complete"] = np.array([1], np.uint8)
    a["frames_expected"] = np.array([7], np.int64)
    a["frames_received"] = np.array([7], np.int64)
    a["end_reason"] = ["Ok"]
    f.create_group("defaults")
    f["entry/data"] = h5py.SoftLink("/nowhere")
    v = variant
    if v == "implements_attribute": del f["implements"]; f.attrs["implements"] = "exchange"
    if v == "implements_missing": del f["implements"]
    if v == "implements_group": del f["implements"]; f.create_group("implements")
    if v == "implements_number": del f["implements"]; f["implements"] = 3
    if v == "implements_scalar": del f["implements"]; f["implements"] = "exchange:measurement:process"
    if v == "implements_2": del f["implements"]; f["implements"] = ["exchange", "process"]
    if v == "implements_lists_absent": f["implements"][0] = "exchange:measurement:process:analysis"
    if v == "implements_unlisted": f["implements"][0] = "exchange"
    if v == "fixed":
        del f["implements"]; f["implements"] = np.array([fixed("exchange:measurement:process")])
        for n in ("data", "data_dark", "data_white"):
            for k, x in f["exchange/" + n].attrs.items(): f["exchange/" + n].attrs[k] = fixed(x)
        f["exchange/theta"].attrs["units"] = fixed("degrees")
        del a["end_reason"]; a["end_reason"] = np.array([b"Ok"], "S256")
    if v == "no_exchange": del f["exchange"]
    if v == "no_data": del f["exchange/data"]
    if v == "data_2d": del f["exchange/data"]; f["exchange/data"] = np.zeros((4, 5))
    if v == "dark_shape": del f["exchange/data_dark"]; f["exchange/data_dark"] = np.zeros((2, 4, 6))
    if v == "white_2d": del f["exchange/data_white"]; f["exchange/data_white"] = np.zeros((4, 5))
    if v == "theta_missing": del f["exchange/theta"]
    if v == "theta_length": del f["exchange/theta"]; f["exchange/theta"] = np.zeros(2); f["exchange/theta"].attrs["units"] = "degrees"
    if v == "theta_2d": del f["exchange/theta"]; f["exchange/theta"] = np.zeros((3, 1))
    if v == "theta_radians": f["exchange/theta"].attrs["units"] = "rad"
    if v == "theta_no_units": del f["exchange/theta"].attrs["units"]
    if v == "theta_dark_length": del f["exchange/theta_dark"]; f["exchange/theta_dark"] = np.zeros(3); f["exchange/theta_dark"].attrs["units"] = "degrees"
    if v == "no_attributes":
        for k in ("description", "axes", "units"): del f["exchange/data"].attrs[k]
    if v == "other_attributes": f["exchange/data"].attrs["description"] = "Projections"; f["exchange/data_dark"].attrs["axes"] = "theta_dark:y:x"
    if v == "incomplete": a["complete"][0] = 0; a["frames_received"][0] = 5; a["end_reason"][0] = "aborted"
    if v == "received_mismatch": a["frames_received"][0] = 6; a["frames_expected"][0] = 6
    if v == "expected_mismatch": a["frames_expected"][0] = 9
    if v == "theta_nan": f["exchange/theta"][1] = np.nan
    if v == "theta_inf": f["exchange/theta"][2] = np.inf
    if v == "per_dataset_short": f["exchange/data"].attrs["frames_expected"] = np.uint64(4)
    if v == "per_dataset_met": f["exchange/data"].attrs["frames_expected"] = np.uint64(3); a["frames_expected"][0] = 3
)PY";

std::string make_file(const test::TempDir& dir, const std::string& variant) {
  const auto script = dir.path / "make_dx.py";
  if (!std::filesystem::exists(script)) std::ofstream(script) << kMaker;
  const auto path = dir.path / (variant + ".h5");
  const std::string cmd =
      "/usr/bin/python3 '" + script.string() + "' '" + path.string() + "' " + variant;
  REQUIRE(std::system(cmd.c_str()) == 0);
  return path.string();
}

bool has(const dx::ValidationReport& r, dx::Severity s, const std::string& path,
         const std::string& words) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const dx::Finding& f) {
    return f.severity == s && f.path == path && f.message.find(words) != std::string::npos;
  });
}

std::string dump(const dx::ValidationReport& r) {
  std::string out;
  for (const auto& f : r.findings)
    out += std::string(dx::to_string(f.severity)) + " " + f.path + ": " + f.message + "\n";
  return out;
}

dx::Layout layout(const std::string& xml) {
  auto r = dx::parse_layout(xml);
  REQUIRE(std::holds_alternative<dx::Layout>(r));
  return std::get<dx::Layout>(r);
}

}  // namespace

TEST_CASE("validate: a conforming file has no findings, with either string kind") {
  const test::TempDir dir("dx_validate_good");
  for (const std::string variant : {"good", "fixed"}) {
    CAPTURE(variant);
    const auto r = dx::validate(make_file(dir, variant));
    CAPTURE(dump(r));
    CHECK(r.findings.empty());
    CHECK(r.valid());
  }
}

TEST_CASE("validate: each broken rule is found, with the right severity and path") {
  const test::TempDir dir("dx_validate_bad");
  using S = dx::Severity;
  struct Case {
    const char* variant;
    S severity;
    const char* path;
    const char* words;
  };
  const Case cases[] = {
      {"implements_attribute", S::error, "/implements", "is an attribute of /"},
      {"implements_missing", S::warning, "/implements", "missing"},
      {"implements_group", S::error, "/implements", "is not a dataset"},
      {"implements_number", S::error, "/implements", "is not a string dataset"},
      {"implements_scalar", S::warning, "/implements", "is scalar: NDFileHDF5 writes shape (1,)"},
      {"implements_2", S::error, "/implements", "must have shape (1,), has shape (2)"},
      {"implements_lists_absent", S::error, "/implements", "lists \"analysis\""},
      {"implements_unlisted", S::warning, "/implements", "does not list the group \"process\""},
      {"no_exchange", S::error, "/exchange", "missing"},
      {"no_data", S::error, "/exchange/data", "missing"},
      {"data_2d", S::error, "/exchange/data", "must be 3-D (frames, y, x), has shape (4, 5)"},
      {"dark_shape", S::error, "/exchange/data_dark", "frames are 4x6 (y, x)"},
      {"white_2d", S::error, "/exchange/data_white", "must be 3-D"},
      {"theta_missing", S::warning, "/exchange/theta", "missing"},
      {"theta_length", S::error, "/exchange/theta", "has 2 angles, /exchange/data has 3 frames"},
      {"theta_2d", S::error, "/exchange/theta", "must be 1-D"},
      {"theta_radians", S::error, "/exchange/theta", "@units is \"rad\""},
      {"theta_no_units", S::warning, "/exchange/theta", "no @units"},
      {"theta_dark_length", S::error, "/exchange/theta_dark", "has 3 angles"},
      {"no_attributes", S::warning, "/exchange/data", "no string attribute axes"},
      {"other_attributes", S::warning, "/exchange/data", "@description is \"Projections\""},
      {"incomplete", S::warning, "/process/acquisition/complete", "marked incomplete"},
      {"incomplete", S::warning, "/process/acquisition/frames_received",
       "5 frames received, 7 expected (end_reason: \"aborted\")"},
      {"received_mismatch", S::error, "/process/acquisition/frames_received",
       "6 frames received, the detector datasets hold 7"},
      {"expected_mismatch", S::error, "/process/acquisition/frames_received",
       "7 frames received, 9 expected"},
      // A file marked complete whose theta has a NaN (what the writer wrote
      // before issue 15 item 8) is an incomplete scan.
      {"theta_nan", S::error, "/exchange",
       "incomplete scan: 1 projections have no angle (NaN or Undefined)"},
      {"theta_inf", S::error, "/exchange", "incomplete scan: 1 projections have no angle"},
      {"per_dataset_short", S::error, "/exchange",
       "incomplete scan: /exchange/data holds 3 frames, 4 expected"},
  };
  for (const auto& c : cases) {
    const std::string variant = c.variant;
    CAPTURE(variant);
    const auto r = dx::validate(make_file(dir, variant));
    CAPTURE(dump(r));
    CHECK(has(r, c.severity, c.path, c.words));
    CHECK(r.valid() == (c.severity == S::warning));
  }
  // Per-dataset expectations replace the total: 3 projections expected, 3
  // stored, darks and whites unconstrained (7 received, "3 expected" in total).
  const auto met = dx::validate(make_file(dir, "per_dataset_met"));
  CAPTURE(dump(met));
  CHECK(met.findings.empty());
  // theta_dark:y:x is the spec's own axes for darks: accepted without a finding.
  const auto r = dx::validate(make_file(dir, "other_attributes"));
  CHECK_FALSE(has(r, S::warning, "/exchange/data_dark", "axes"));
}

TEST_CASE("validate: against a layout") {
  const test::TempDir dir("dx_validate_layout");
  const auto file = make_file(dir, "good");
  SUBCASE("everything the layout declares is there") {
    const auto r = dx::validate(file, layout(R"(<hdf5_layout>
  <group name="exchange">
    <dataset name="data" source="detector" det_default="true">
      <attribute name="units" source="constant" value="counts"/>
    </dataset>
    <dataset name="data_dark" source="detector"/>
  </group>
  <group name="process"><group name="acquisition">
    <dataset name="complete" source="ndattribute" ndattribute="AcquisitionComplete" when="OnFileClose"/>
  </group></group>
  <group name="defaults" ndattr_default="true"/>
  <dataset name="implements" source="constant" value="exchange:measurement:process"/>
</hdf5_layout>)"));
    CAPTURE(dump(r));
    CHECK(r.findings.empty());
  }
  SUBCASE("missing objects, wrong kinds, missing attributes, a detector dataset of rank 1") {
    const auto r = dx::validate(file, layout(R"(<hdf5_layout>
  <group name="exchange">
    <attribute name="name" source="constant" value="absorption_tomography"/>
    <dataset name="data" source="detector">
      <attribute name="signal" source="constant" value="1" type="int"/>
    </dataset>
    <dataset name="theta" source="detector"/>
    <group name="data_dark"/>
    <dataset name="data_flat" source="detector"/>
  </group>
  <group name="implements"/>
  <group name="instrument"><dataset name="x" source="detector"/></group>
</hdf5_layout>)"));
    CAPTURE(dump(r));
    CHECK(has(r, dx::Severity::error, "/exchange", "declares attribute @name"));
    CHECK(has(r, dx::Severity::error, "/exchange/data", "declares attribute @signal"));
    CHECK(has(r, dx::Severity::error, "/exchange/theta", "must be 3-D, has shape (3)"));
    CHECK(has(r, dx::Severity::error, "/exchange/data_dark",
              "the layout (line 8) declares a group; the file has another kind of object"));
    CHECK(has(r, dx::Severity::error, "/exchange/data_flat",
              "declares a dataset; the file has none"));
    CHECK(has(r, dx::Severity::error, "/implements", "declares a group"));
    CHECK(has(r, dx::Severity::error, "/instrument", "declares a group; the file has none"));
    CHECK_FALSE(
        has(r, dx::Severity::error, "/instrument/x", ""));  // not looked for below a missing group
  }
  SUBCASE("hardlinks: the same object, another object, a missing link, a dangling soft link") {
    const auto r = dx::validate(file, layout(R"(<hdf5_layout>
  <group name="measurement"><group name="sample">
    <hardlink name="name" target="/measurement/sample/name"/>
  </group></group>
  <group name="exchange">
    <hardlink name="data" target="/exchange/data_dark"/>
    <hardlink name="projections" target="/exchange/data"/>
  </group>
  <group name="entry"><hardlink name="data" target="/exchange/data"/></group>
</hdf5_layout>)"));
    CAPTURE(dump(r));
    CHECK_FALSE(has(r, dx::Severity::error, "/measurement/sample/name", ""));
    CHECK(has(r, dx::Severity::error, "/exchange/data",
              "is not the same object as /exchange/data_dark"));
    CHECK(has(r, dx::Severity::error, "/exchange/projections", "is missing"));
    CHECK(has(r, dx::Severity::error, "/entry/data", "is missing"));
    CHECK(r.errors() == 3);
  }
}

TEST_CASE("validate: a file that is not HDF5 throws h5::Error") {
  const test::TempDir dir("dx_validate_unreadable");
  std::ofstream(dir.path / "text.h5") << "not hdf5\n";
  CHECK_THROWS_AS((void)dx::validate(dir.path / "text.h5"), h5::Error);
  CHECK_THROWS_AS((void)dx::validate(dir.path / "missing.h5"), h5::Error);
}
