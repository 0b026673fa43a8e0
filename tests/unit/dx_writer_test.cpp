// dx::Writer: real DXfiles in a scratch directory, read back by /usr/bin/python3
// with h5py and dxchange (tests/unit/dx_writer_check.py): frames, darks, flats,
// theta, /defaults, metadata, attributes, end state and the NXtomo view; no
// overwrite; SWMR readers; interruption from another thread.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/writer.hpp"
#include "pandafly/h5/error.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pandafly;
using namespace std::chrono_literals;
using test::Plan;
using test::TempDir;

namespace {

using test::dark;
using test::data;
using test::white;

dx::WriterOptions options_for(const fs::path& path, const Plan& plan) {
  auto o = test::writer_options(path, plan);
  o.open_attributes = {{"DateTimeStart", std::string("2026-01-15T10:00:00")},
                       {"RotationStart", 12.5},
                       {"NumAngles", std::int64_t{10}},
                       {"Operator", std::string("ada")},
                       {"SampleName", std::string("shepp")}};
  o.flush_period = 20ms;
  return o;
}

// A tomoscan-style sequence: darks, flats, projections (one sent to a path
// that is no detector dataset: it lands in the default), flats at the end.
void push_scan(dx::Writer& w, Plan& plan) {
  std::int64_t k = 0;
  for (int i = 0; i < 2; ++i) CHECK(w.push(plan.frame(k++, dark, dark, std::nullopt)));
  for (int i = 0; i < 3; ++i) CHECK(w.push(plan.frame(k++, white, white, 0.0)));
  for (int i = 0; i < 10; ++i) CHECK(w.push(plan.frame(k++, nullptr, data, i * 18.0 + 0.25)));
  CHECK(w.push(plan.frame(k++, "/exchange/nowhere", data, 200.0)));
  for (int i = 0; i < 2; ++i) CHECK(w.push(plan.frame(k++, white, white, 180.0)));
}

void expect_views(Plan& plan) {
  plan.extra["defaults"] = true;
  plan.extra["placed"] = {"Temperature", "HDF5FrameLocation"};
  plan.extra["per_frame"] = {{"/process/acquisition/image_theta", "angle"},
                             {"/process/acquisition/temperature", "Temperature"}};
  plan.extra["dxchange"] = true;
  plan.extra["nxtomo"] = true;
}

}  // namespace

TEST_CASE(
    "Writer: every frame, angle, NDAttribute and metadata value reads back in h5py and dxchange") {
  TempDir dir("dx_writer_basic");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  auto o = options_for(path, plan);
  o.frames_expected = {{data, 11}, {dark, 2}, {white, 5}};
  dx::Writer w(o);
  push_scan(w, plan);
  const auto end =
      w.finish(dx::Ending::completed({{"DateTimeEnd", std::string("2026-01-15T10:05:00")}}));
  CHECK(end.close_error == "");
  CHECK(end.complete);
  CHECK(end.reason == "completed");
  CHECK(end.frames_received == 18);
  CHECK(end.frames_written == 18);
  CHECK(end.frames_lost == 0);
  CHECK(end.frames_expected == 18);
  CHECK(end.nxtomo);
  CHECK(end.warnings.empty());

  expect_views(plan);
  plan.extra["end"] = {{"complete", 1},         {"reason", "completed"}, {"frames_expected", 18},
                       {"frames_received", 18}, {"frames_written", 18},  {"frames_lost", 0}};
  plan.extra["meta"] = {{"/implements", "exchange:measurement:process"},
                        {"/process/acquisition/start_date", "2026-01-15T10:00:00"},
                        {"/process/acquisition/end_date", "2026-01-15T10:05:00"},
                        {"/links/end_date", "2026-01-15T10:05:00"},
                        {"/process/acquisition/rotation/rotation_start", {12.5}},
                        {"/process/acquisition/rotation/num_angles", {10}},
                        {"/process/acquisition/ints", {1, 2, 3}},
                        {"/process/acquisition/scan_type", "fly"},
                        {"/entry/sample/name", "shepp"}};
  plan.extra["attrs"] = {{"/exchange/data@description", "ImageData"},
                         {"/exchange/data_dark@description", "DarkData"},
                         {"/exchange/data_white@axes", "theta:y:x"},
                         {"/process/acquisition/rotation/rotation_start@units", "degrees"},
                         {"/process/acquisition/rotation/rotation_start@operator", "ada"},
                         {"/process/acquisition@closed_at", "2026-01-15T10:05:00"},
                         {"/process/acquisition/rotation@range", {0.0, 180.0}},
                         {"/process/acquisition/rotation@version", 3},
                         {"/process/acquisition/image_theta@units", "degrees"}};
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("dxchange=read") != std::string::npos);
  CHECK(r.output.find("nxtomo=read") != std::string::npos);
}

TEST_CASE("Writer: the checker fails on a wrong expectation (the tests can fail)") {
  TempDir dir("dx_writer_selfcheck");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  dx::Writer w(options_for(path, plan));
  push_scan(w, plan);
  (void)w.finish(dx::Ending::completed());
  plan.frames[3]["angle"] = 1.5;  // a wrong theta
  plan.frames[7]["to"] = dark;    // a frame in the wrong dataset
  const auto r = test::check_file(path, plan);
  CHECK(r.status != 0);
  CHECK(r.output.find("FAIL: /exchange/theta_white") != std::string::npos);
  CHECK(r.output.find("FAIL: /exchange/data_dark shape") != std::string::npos);
}

TEST_CASE("Writer: refuses an existing file without overwrite and leaves it untouched") {
  TempDir dir("dx_writer_exists");
  const fs::path path = dir.path / "scan.h5";
  std::ofstream(path) << "precious";
  Plan plan;
  CHECK_THROWS_AS(dx::Writer(options_for(path, plan)), h5::Error);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "precious");

  auto o = options_for(path, plan);
  o.overwrite = true;
  dx::Writer w(o);
  CHECK(w.push(plan.frame(0, nullptr, data, 1.0)));
  CHECK(w.finish(dx::Ending::completed()).frames_written == 1);
  CHECK(test::check_file(path, plan).status == 0);
}

TEST_CASE("Writer: a SWMR reader in another process sees the frames grow while the file is open") {
  TempDir dir("dx_writer_swmr");
  const fs::path path = dir.path / "scan.h5";
  const fs::path go = dir.path / "go";
  Plan plan;
  dx::Writer w(options_for(path, plan));
  const auto wait_written = [&](std::uint64_t n) {
    for (int i = 0; i < 6000 && w.stats().written < n; ++i) std::this_thread::sleep_for(10ms);
  };
  for (int k = 0; k < 5; ++k) CHECK(w.push(plan.frame(k, nullptr, data, k * 1.0)));
  wait_written(5);
  // The reader polls (guard: 60 s) until a flush has made n frames visible.
  const std::string script =
      "import h5py,os,sys,time\n"
      "f=h5py.File(sys.argv[1],'r',swmr=True)\nd=f['/exchange/data']\nt=f['/exchange/theta']\n"
      "e=f['/process/acquisition/pandafly_end/frames_written']\n"
      "def wait(n):\n"
      "  for _ in range(6000):\n"
      "    d.refresh(); t.refresh(); e.refresh()\n"
      "    if d.shape[0] >= n and t.shape[0] >= n and int(e[()]) >= n: return\n"
      "    time.sleep(0.01)\n"
      "wait(5)\n"
      "print('first', d.shape[0], t.shape[0], int(d[4,1,1]), flush=True)\n"
      "while not os.path.exists(sys.argv[2]): time.sleep(0.01)\n"
      "wait(10)\n"
      "print('then', d.shape[0], t.shape[0], int(d[8,1,1]), float(t[8]), int(e[()]), flush=True)\n";
  const fs::path py = dir.path / "reader.py";
  std::ofstream(py) << script;
  const std::string cmd =
      "/usr/bin/python3 '" + py.string() + "' '" + path.string() + "' '" + go.string() + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char line[512] = {};
  REQUIRE(std::fgets(line, sizeof line, pipe) != nullptr);
  const auto pixel = [&](std::int64_t k) {
    return (*test::pattern<std::uint16_t>(k, 6, 8))[8 + 1];
  };
  CHECK(std::string(line) == "first 5 5 " + std::to_string(pixel(4)) + "\n");
  for (int k = 5; k < 10; ++k) CHECK(w.push(plan.frame(k, nullptr, data, k * 1.0)));
  wait_written(10);
  std::ofstream(go) << "";
  REQUIRE(std::fgets(line, sizeof line, pipe) != nullptr);
  CHECK(std::string(line) == "then 10 10 " + std::to_string(pixel(8)) + " 8.0 10\n");
  CHECK(::pclose(pipe) == 0);
  CHECK(w.finish(dx::Ending::completed()).frames_written == 10);
}

TEST_CASE(
    "Writer: finish() from another thread while frames are queued writes them, records the "
    "interruption") {
  TempDir dir("dx_writer_interrupt");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  auto o = options_for(path, plan);
  o.queue_capacity = 4;
  o.frames_expected = {{data, 1000000}};
  dx::Writer w(o);
  std::vector<dx::FrameRecord> frames;
  for (int k = 0; k < 2000; ++k) frames.push_back(plan.frame(k, nullptr, data, k * 0.1));
  std::atomic<std::uint64_t> accepted{0};
  std::thread producer([&] {  // pushes until refused: push() must not block forever
    for (auto& f : frames) {
      if (!w.push(std::move(f))) return;
      ++accepted;
    }
  });
  while (accepted < 20) std::this_thread::sleep_for(1ms);
  const auto end = w.finish(dx::Ending::interrupted_by("interrupted by SIGINT"));
  producer.join();
  CHECK_FALSE(end.complete);
  CHECK(end.reason == "interrupted by SIGINT");
  CHECK(end.frames_received == accepted.load());
  CHECK(end.frames_written == accepted.load());  // the queued frames were written
  CHECK(end.frames_lost == 0);
  CHECK_FALSE(w.push(plan.frame(0, nullptr, data, 0.0)));
  CHECK(w.finish(dx::Ending::completed()).reason == "interrupted by SIGINT");  // same state

  plan.frames.erase(plan.frames.begin() + static_cast<std::ptrdiff_t>(accepted.load()),
                    plan.frames.end());
  plan.extra["end"] = {{"complete", 0},
                       {"reason", "interrupted by SIGINT"},
                       {"frames_written", accepted.load()},
                       {"frames_lost", 0}};
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE("Writer: a frame of the wrong size is counted lost, and the scan is not complete") {
  TempDir dir("dx_writer_badsize");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  auto o = options_for(path, plan);
  o.frames_expected = {{data, 2}};
  dx::Writer w(o);
  CHECK(w.push(plan.frame(0, nullptr, data, 0.0)));
  auto bad = dx::FrameRecord::owning(test::pattern<std::uint16_t>(1, 5, 8));
  CHECK(w.push(std::move(bad)));
  plan.frames.push_back(
      {{"to", nullptr}, {"angle", nullptr}, {"uid", 0}, {"ts", 0}, {"attrs", {}}});
  CHECK(w.push(plan.frame(2, nullptr, data, 2.0)));
  const auto end = w.finish(dx::Ending::completed());
  CHECK(end.frames_received == 3);
  CHECK(end.frames_written == 2);
  CHECK(end.frames_lost == 1);
  CHECK_FALSE(end.complete);
  CHECK(std::count(end.warnings.begin(), end.warnings.end(), "1 frames had not 96 bytes (lost)") ==
        1);
  plan.extra["end"] = {{"complete", 0}, {"frames_lost", 1}, {"frames_received", 3}};
  CHECK(test::check_file(path, plan).status == 0);
}

TEST_CASE("Writer: no frame at all still closes a readable file with empty datasets") {
  TempDir dir("dx_writer_empty");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  auto o = options_for(path, plan);
  o.frames_expected = {{data, 3}};
  dx::Writer w(o);
  const auto end = w.finish(dx::Ending::interrupted_by("aborted"));
  CHECK(end.close_error == "");
  CHECK_FALSE(end.complete);
  plan.extra["end"] = {{"complete", 0}, {"reason", "aborted"}, {"frames_written", 0}};
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
  // DateTimeEnd was not given: left out and said so.
  CHECK(std::find(
            end.warnings.begin(), end.warnings.end(),
            "/process/acquisition/end_date: NDAttribute DateTimeEnd has no value at file close") !=
        end.warnings.end());
}

TEST_CASE(
    "Writer: without det_default, unrouted frames go to the first detector path in alphabetical "
    "order") {
  TempDir dir("dx_writer_default");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  auto o = options_for(path, plan);
  auto b = test::group("b");
  b.datasets = {test::detector_dataset("data", false, "B")};
  auto a = test::group("a");
  a.datasets = {test::detector_dataset("data", false, "A")};
  o.layout = dx::Layout{};
  o.layout.root.groups = {b, a};
  o.nxtomo = false;
  dx::Writer w(o);
  CHECK(w.push(plan.frame(0, nullptr, "/a/data", 1.0)));
  CHECK(w.push(plan.frame(1, "/b/data", "/b/data", 2.0)));
  CHECK(w.push(plan.frame(2, "/c/data", "/a/data", 3.0)));
  const auto end = w.finish(dx::Ending::completed());
  CHECK_FALSE(end.nxtomo);
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE("Writer: a layout without detector dataset is refused and no file is left") {
  TempDir dir("dx_writer_nodetector");
  Plan plan;
  auto o = options_for(dir.path / "scan.h5", plan);
  o.layout = dx::Layout{};
  o.layout.root.groups = {test::group("exchange")};
  CHECK_THROWS_AS(dx::Writer{o}, std::invalid_argument);
  CHECK_FALSE(fs::exists(dir.path / "scan.h5"));
}
