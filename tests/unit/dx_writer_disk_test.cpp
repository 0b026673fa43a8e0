// dx::Writer on a really full disk (a 4 MiB tmpfs, as root), with each
// compression (read back through the Debian filter plugins by h5py and
// dxchange), and with the shipped layout files parsed by dx::parse_layout.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/layout.hpp"
#include "pandafly/dx/writer.hpp"
#include "temp_dir.hpp"
#include "tiny_disk.hpp"

namespace fs = std::filesystem;
using namespace pandafly;
using test::Plan;
using test::TempDir;

namespace {

using test::dark;
using test::data;
using test::white;

// Darks, flats, projections, flats. `angle_attribute`: also send each
// angle as that NDAttribute (a step scan's motor read-back, theta_readout).
void push_short_scan(dx::Writer& w, Plan& plan, const char* angle_attribute = nullptr) {
  std::int64_t k = 0;
  const auto push = [&](const char* to, std::optional<double> angle) {
    auto r = plan.frame(k++, to, to, angle);
    if (angle_attribute != nullptr && angle) r.set(angle_attribute, *angle);
    CHECK(w.push(std::move(r)));
  };
  push(dark, std::nullopt);
  push(white, 0.0);
  for (int i = 0; i < 6; ++i) push(data, i * 30.0);
  push(white, 180.0);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE(
    "Writer: a full disk stops writing cleanly: stored frames readable, the rest counted, reason "
    "recorded" *
    doctest::test_suite(test::kNeedsMount)) {
  TempDir dir("dx_writer_full");
  test::TinyDisk disk(dir.path / "disk", "4m");
  const fs::path path = disk.dir / "scan.h5";
  Plan plan;
  plan.height = 256;
  plan.width = 256;  // 128 KiB frames: about 30 fit
  auto o = test::writer_options(path, plan);
  o.max_batch = 4;
  o.frames_expected = {{data, 100}};
  dx::Writer w(o);
  for (int k = 0; k < 100; ++k) CHECK(w.push(plan.frame(k, nullptr, data, k * 1.8)));
  const auto end = w.finish(dx::Ending::completed());
  CHECK(end.close_error == "");
  CHECK_FALSE(end.complete);
  CHECK(end.reason.rfind("disk full: ", 0) == 0);
  CHECK(end.reason.find("(scan: completed)") != std::string::npos);
  CHECK(end.frames_received == 100);
  CHECK(end.frames_written > 5);
  CHECK(end.frames_lost > 0);
  CHECK(end.frames_written + end.frames_lost == 100);
  plan.extra["written"] = end.frames_written;
  plan.extra["end"] = {{"complete", 0},
                       {"reason_contains", "disk full"},
                       {"frames_received", 100},
                       {"frames_written", end.frames_written},
                       {"frames_lost", end.frames_lost}};
  plan.extra["defaults"] = true;
  plan.extra["placed"] = {"Temperature", "HDF5FrameLocation"};
  plan.extra["per_frame"] = {{"/process/acquisition/image_theta", "angle"}};
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE("Writer: gzip, LZ4 and bitshuffle/LZ4 frames round-trip through h5py and dxchange") {
  const std::pair<dx::Compression, const char*> cases[] = {
      {dx::Compression::gzip, "gzip"},
      {dx::Compression::lz4, "32004"},
      {dx::Compression::bitshuffle_lz4, "32008"}};
  for (const auto& [compression, filter] : cases) {
    INFO(std::string(filter));
    TempDir dir(std::string("dx_writer_compress_") + filter);
    const fs::path path = dir.path / "scan.h5";
    Plan plan;
    plan.height = 64;
    plan.width = 64;
    auto o = test::writer_options(path, plan);
    o.compression = compression;
    dx::Writer w(o);
    push_short_scan(w, plan);
    const auto end = w.finish(dx::Ending::completed());
    CHECK(end.frames_written == 9);
    CHECK(end.close_error == "");
    plan.extra["filter"] = filter;
    plan.extra["smaller"] = true;
    plan.extra["dxchange"] = true;
    plan.extra["nxtomo"] = true;
    const auto r = test::check_file(path, plan);
    INFO(r.output);
    CHECK(r.status == 0);
  }
}

// One scan written with a shipped layout file (layouts/<name>), checked end to end.
void check_shipped_layout(const std::string& name) {
  auto parsed = dx::parse_layout(read_text(PANDAFLY_SOURCE_DIR "/layouts/" + name));
  if (const auto* e = std::get_if<dx::LayoutError>(&parsed)) FAIL(e->message);
  TempDir dir("dx_writer_shipped_" + name);
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  plan.height = 32;
  plan.width = 48;
  auto o = test::writer_options(path, plan);
  o.layout = std::get<dx::Layout>(parsed);
  o.open_attributes = {{"DateTimeStart", std::string("2026-11-23T09:00:00Z")},
                       {"RotationStart", 0.0},
                       {"RotationStep", 30.0},
                       {"NumAngles", std::int64_t{6}},
                       {"ProposalId", std::string("20261234")},
                       {"SampleName", std::string("phantom")}};
  o.frames_expected = {{data, 6}, {dark, 1}, {white, 2}};
  dx::Writer w(o);
  // The step layout fills image_theta from theta_readout, the fly layout from PandaTheta.
  push_short_scan(w, plan, name == "dxfile_step.xml" ? "theta_readout" : nullptr);
  const auto end =
      w.finish(dx::Ending::completed({{"DateTimeEnd", std::string("2026-11-23T09:20:00Z")}}));
  CHECK(end.complete);
  CHECK(end.nxtomo);
  CHECK(end.close_error == "");
  plan.extra["dxchange"] = true;
  plan.extra["nxtomo"] = true;
  plan.extra["defaults"] = true;
  plan.extra["placed"] = {"HDF5FrameLocation", "theta_readout"};
  plan.extra["per_frame"] = {{"/process/acquisition/image_theta", "angle"}};
  plan.extra["end"] = {{"complete", 1}, {"frames_written", 9}};
  plan.extra["meta"] = {{"/implements", "exchange:measurement:process"},
                        {"/process/acquisition/start_date", "2026-11-23T09:00:00Z"},
                        {"/process/acquisition/end_date", "2026-11-23T09:20:00Z"},
                        {"/process/acquisition/complete", {1}},
                        {"/process/acquisition/end_reason", "completed"},
                        {"/process/acquisition/frames_received", {9}},
                        {"/process/acquisition/rotation/rotation_step", {30.0}},
                        {"/measurement/sample/experiment/proposal", "20261234"},
                        {"/entry/sample/name", "phantom"}};
  plan.extra["attrs"] = {{"/exchange/data@axes", "theta:y:x"},
                         {"/process/acquisition/rotation/rotation_step@units", "degrees"}};
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE(
    "Writer: the shipped layouts drive the tree; the PandA angle lands in theta and image_theta") {
  for (const std::string name : {"dxfile_fly.xml", "dxfile_step.xml"}) {
    INFO(name);
    check_shipped_layout(name);
  }
}
