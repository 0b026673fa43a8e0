// A DXfile whose writer was killed (SIGKILL) mid-scan (issue 15 item 4): a
// child process writes with dx::Writer; the parent waits until a SWMR reader
// sees N frames flushed, kills the child, and checks what the README promises:
// the file opens only as an SWMR reader until `h5clear -s` (hdf5-tools), after
// which plain h5py and dxchange read every frame flushed before the kill, with
// the end state "acquisition in progress" and no NXtomo view; dx::repair
// (pandafly-dx validate --repair) does the same and marks the file.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/repair.hpp"
#include "pandafly/dx/writer.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pandafly;
using namespace std::chrono_literals;
using test::Plan;
using test::TempDir;

namespace {

constexpr std::uint64_t kFrames = 10;  // 2 darks, 2 flats, 6 projections

// The child: writes kFrames frames, then waits to be killed. Never returns.
[[noreturn]] void write_and_wait(const fs::path& path, Plan plan) {
  try {
    auto o = test::writer_options(path, plan);
    o.open_attributes = {{"DateTimeStart", std::string("2026-01-15T10:00:00")}};
    o.flush_period = std::chrono::milliseconds(20);
    dx::Writer w(o);
    std::int64_t k = 0;
    for (int i = 0; i < 2; ++i) (void)w.push(plan.frame(k++, test::dark, test::dark, 0.0));
    for (int i = 0; i < 2; ++i) (void)w.push(plan.frame(k++, test::white, test::white, 0.0));
    for (int i = 0; i < 6; ++i) (void)w.push(plan.frame(k++, nullptr, test::data, i * 30.0));
    for (;;) ::pause();
  } catch (...) {
    std::_Exit(3);
  }
}

// Frames a SWMR reader sees flushed (pandafly_end/frames_written), 0 before
// the file is in SWMR mode.
std::uint64_t flushed_frames(const fs::path& path) {
  try {
    auto f = h5::File::open(path, h5::File::Access::swmr_read);
    const auto d = h5::Dataset::open(f.id(), "/process/acquisition/pandafly_end/frames_written");
    return d.read_value<std::uint64_t>();
  } catch (const h5::Error&) {
    return 0;
  }
}

// Writes kFrames frames in a child process, SIGKILLs it once a SWMR reader
// sees them flushed, and fills `plan` with what was pushed.
void killed_writer(const fs::path& path, Plan& plan) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) write_and_wait(path, plan);
  // The event: a SWMR reader sees every frame flushed (a 60 s guard, not a sleep).
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (flushed_frames(path) < kFrames && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  const bool flushed = flushed_frames(path) >= kFrames;
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE_MESSAGE(flushed, "the writer never flushed its frames");
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  std::int64_t k = 0;
  for (int i = 0; i < 2; ++i) (void)plan.frame(k++, test::dark, test::dark, 0.0);
  for (int i = 0; i < 2; ++i) (void)plan.frame(k++, test::white, test::white, 0.0);
  for (int i = 0; i < 6; ++i) (void)plan.frame(k++, nullptr, test::data, i * 30.0);
  plan.extra["dxchange"] = true;
  plan.extra["defaults"] = true;
  plan.extra["placed"] = {"Temperature", "HDF5FrameLocation"};
}

}  // namespace

TEST_CASE(
    "Writer: after SIGKILL, h5clear -s makes every flushed frame readable by h5py and dxchange") {
  TempDir dir("dx_killed");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  killed_writer(path, plan);

  // Killed while SWMR-writing: a plain open is refused (the file's status flags).
  CHECK_THROWS_AS((void)h5::File::open(path, h5::File::Access::read_only), h5::Error);
  const std::string clear = "h5clear -s '" + path.string() + "' 2>&1";
  REQUIRE(std::system(clear.c_str()) == 0);

  // Plain h5py and dxchange now read every frame written before the kill.
  plan.extra["end"] = {
      {"reason", "acquisition in progress"}, {"frames_written", kFrames}, {"complete", 0}};
  const auto r = test::check_file(path, plan);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("dxchange=read") != std::string::npos);
  // What such a file lacks: the closing items and the NXtomo view.
  auto f = h5::File::open(path, h5::File::Access::read_only);
  CHECK_FALSE(h5::path_exists(f.id(), "/entry"));
  CHECK_FALSE(h5::path_exists(f.id(), "/process/acquisition/end_date"));
}

TEST_CASE("repair: a SIGKILLed DXfile becomes readable, marked incomplete, with its NXtomo view") {
  TempDir dir("dx_repair");
  const fs::path path = dir.path / "scan.h5";
  Plan plan;
  killed_writer(path, plan);
  const auto r = dx::repair(path);
  CHECK(r.readable);
  REQUIRE(r.done.size() == 3);
  CHECK(r.done[0].find("cleared the status flags") != std::string::npos);
  CHECK(r.done[1].find("-> incomplete") != std::string::npos);
  CHECK(r.done[2] == "added the NXtomo view /entry over 10 frames");
  plan.extra["end"] = {{"reason_contains", "incomplete: the writer stopped"},
                       {"frames_written", kFrames},
                       {"complete", 0}};
  plan.extra["nxtomo"] = true;
  const auto out = test::check_file(path, plan);
  INFO(out.output);
  CHECK(out.status == 0);
  CHECK(out.output.find("nxtomo=read") != std::string::npos);
  // A second repair has nothing to do.
  CHECK(dx::repair(path).done.empty());
}
