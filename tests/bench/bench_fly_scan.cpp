// The fly scan at full rate (issue "the fly scan", benchmark): 3600
// projections of 512 x 512 uint16 at 500 frames/s, `scan::ScanRunner` (what
// `pandafly fly` runs) in this process against `pandafly-sim beamline` in its
// own process at --speed 1 (the real-time rate, but simulated time waits for
// the camera's renderer instead of losing frames when it falls behind at the
// start: the simulator's losses would otherwise count as drops), the file on
// /dev/shm (tmpfs: the disk of this VM is not what is measured;
// PANDAFLY_BENCH_DIR overrides; PANDAFLY_BENCH_KEEP keeps the files).
//   BM_fly_scan: one iteration = one whole scan. Counters:
//     drops        projections without their frame or row (goal 0)
//     misassigned  stored projections whose theta is not the stage's true
//                  mid-exposure angle of the very frame stored there within one
//                  encoder count (the simulator's --truth-log; goal 0)
//     cpu_share    this process's CPU time (user + system, every thread:
//                  pandafly's) over the wall time of the scan, as a share of
//                  one core (goal <= 0.30)
//     overhead_to_first_trigger_s  wall time before the first trigger not
//                  spent moving the stage: from run() to the run-up move, and
//                  from its end to the scan move (camera and PandA set-up,
//                  arming, speed)
//     last_frame_to_closed_s       from the last frame received to the file
//                  closed (goal <= 1 s)
//     projections  projections stored with frame and angle (3600)
//     complete     1 when the file is complete
//     cpu_ms_per_frame  cpu_share's CPU time per projection
//     cpu_vs_reference  cpu_ms_per_frame over BM_recv_write_reference's
//   BM_recv_write_reference (runs first, same frames): the least any program
//     must do with this stream: `pandafly-sim camera` (its own process) sends
//     3600 ADZMQ frames of 512 x 512 uint16 over a PUSH socket; this process
//     receives them (libzmq PULL) and write()s each frame's pixels to one file
//     in the same directory. No HDF5, no PandA, no merge. Counters:
//     cpu_ms_per_frame and cpu_share (this process's CPU over the wall time
//     from the first frame to the last).
// Should the simulator still lose frames (SIMULATOR OVERRUN in its log), it
// is reported on stderr: those drops are the simulator's, not pandafly's.
// The scan: 0 .. 179.95 deg in 0.05 deg steps (500 counts at 10 000
// counts/deg), 1 ms exposure + 0.9 ms readout + 0.1 ms margin = 2 ms a frame,
// 25 deg/s; no darks, flats or return (the timings above are the
// projections'); the camera's readout in tests/bench/fly_bench_beamline.toml.
// Run: build/release/tests/bench/bench_fly_scan
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.hpp>

#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_runner.hpp"
#include "scan_bench.hpp"
#include "sim_process.hpp"

namespace {

namespace fs = std::filesystem;
namespace scan = pandafly::scan;
using Clock = std::chrono::steady_clock;
using pandafly::bench::read_all;
using pandafly::bench::Simulator;

constexpr std::uint64_t kProjections = 3600;

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

struct Check {
  std::uint64_t misassigned = 0;
  std::uint64_t checked = 0;
};

/// Every stored projection's theta against the truth of the frame stored in its slot.
Check check_angles(const fs::path& file, const fs::path& truth_log) {
  std::map<std::int64_t, double> mid;
  std::ifstream in(truth_log);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["kind"] == "projection") mid[j["unique_id"].get<std::int64_t>()] = j["angle_mid_deg"];
  }
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("cannot open " + file.string());
  auto read = [&](const char* path, hid_t type, void* out) {
    const hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0 || H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
      throw std::runtime_error(std::string("cannot read ") + path);
    H5Dclose(d);
  };
  std::vector<double> theta(kProjections);
  std::vector<std::uint8_t> status(kProjections);
  read("/exchange/theta", H5T_NATIVE_DOUBLE, theta.data());
  read("/process/acquisition/projection_status", H5T_NATIVE_UINT8, status.data());
  const hid_t sd = H5Dopen2(f, "/process/acquisition/projection_status", H5P_DEFAULT);
  const hid_t a = H5Aopen(sd, "ndattribute_row_first", H5P_DEFAULT);
  std::int64_t first = 0;
  H5Aread(a, H5T_NATIVE_INT64, &first);
  H5Aclose(a);
  H5Dclose(sd);
  const hid_t ud = H5Dopen2(f, "/defaults/NDArrayUniqueId", H5P_DEFAULT);
  const hid_t space = H5Dget_space(ud);
  std::vector<std::int64_t> uid(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Dread(ud, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, uid.data());
  H5Sclose(space);
  H5Dclose(ud);
  H5Fclose(f);
  Check c;
  for (std::size_t k = 0; k < kProjections; ++k) {
    if (status[k] != 1) continue;
    ++c.checked;
    const auto it = mid.find(uid.at(static_cast<std::size_t>(first) + k));
    if (it == mid.end() || std::abs(theta[k] - it->second) > 1e-4 + 1e-9) ++c.misassigned;
  }
  return c;
}

/// BM_recv_write_reference's CPU ms per frame, for BM_fly_scan's ratio (0: not run).
double g_reference_cpu_ms_per_frame = 0;

fs::path bench_dir() {
  const char* dir_env = std::getenv("PANDAFLY_BENCH_DIR");
  return fs::path(dir_env ? dir_env : "/dev/shm") / fmt::format("bench_fly_{}", ::getpid());
}

void BM_recv_write_reference(benchmark::State& state) {
  const fs::path dir = bench_dir();
  fs::create_directories(dir);
  for (auto _ : state) {
    Simulator camera({"camera", "--server-host", "tcp://127.0.0.1:0 PUSH BIND", "--size", "512x512",
                      "--type", "uint16", "--rate", "500", "--frames", std::to_string(kProjections),
                      "--lossless", "--no-noise"},
                     dir / "camera.log", "pandafly-sim camera: PUSH bind ");
    auto endpoint = camera.after("PUSH bind ");
    if (!endpoint.empty() && endpoint.back() == ',') endpoint.pop_back();
    zmq::context_t context(1);
    zmq::socket_t pull(context, zmq::socket_type::pull);
    pull.set(zmq::sockopt::rcvtimeo, 10000);
    pull.connect(endpoint);
    const fs::path out = dir / "reference.raw";
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      state.SkipWithError(("cannot create " + out.string()).c_str());
      return;
    }
    std::uint64_t frames = 0;
    double cpu0 = 0;
    auto t0 = Clock::now();
    std::string error;
    while (frames < kProjections && error.empty()) {
      zmq::message_t header, pixels;
      if (!pull.recv(header)) {
        error = fmt::format("no frame for 10 s after {} frames", frames);
        break;
      }
      if (frames == 0) {
        cpu0 = cpu_seconds();
        t0 = Clock::now();
      }
      if (!header.more() || !pull.recv(pixels)) {
        error = "a message without its pixels";
        break;
      }
      const auto* p = static_cast<const char*>(pixels.data());
      for (std::size_t left = pixels.size(); left > 0;) {
        const auto n = ::write(fd, p, left);
        if (n <= 0) {
          error = "write failed: " + out.string();
          break;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
      }
      ++frames;
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    ::close(fd);
    fs::remove(out);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
    state.SetIterationTime(wall);
    g_reference_cpu_ms_per_frame = 1e3 * cpu / static_cast<double>(frames);
    state.counters["frames"] = static_cast<double>(frames);
    state.counters["fps"] = static_cast<double>(frames) / wall;
    state.counters["cpu_share"] = cpu / wall;
    state.counters["cpu_ms_per_frame"] = g_reference_cpu_ms_per_frame;
    state.SetBytesProcessed(static_cast<std::int64_t>(frames) * 512 * 512 * 2);
  }
  if (!std::getenv("PANDAFLY_BENCH_KEEP")) fs::remove_all(dir);
}
BENCHMARK(BM_recv_write_reference)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

void BM_fly_scan(benchmark::State& state) {
  const fs::path dir = bench_dir();
  fs::create_directories(dir);
  for (auto _ : state) {
    auto sim = Simulator::beamline(PANDAFLY_SOURCE_DIR "/tests/bench/fly_bench_beamline.toml",
                                   dir / "sim.log", dir / "truth.jsonl");
    sim.export_ca();
    const auto text = fmt::format(
                          R"([panda]
host = "127.0.0.1"
control_port = {}
data_port = {}
design = "{}/panda/flyscan.sav"
[camera]
zmq = "{} PUB"
readout_time = 0.0009
readout_margin = 0.0001
[scan]
start = 0.0
end = 179.95
projections = {}
exposure = 0.001
return_to_start = false
)",
                          sim.after("PandA control 127.0.0.1:"), sim.after(" data 127.0.0.1:"),
                          PANDAFLY_SOURCE_DIR, sim.after("camera ZMQ PUB bind "), kProjections) +
                      pandafly::bench::scan_file_tail(dir / "fly.h5");
    auto config = scan::parse_scan_config(text, (dir / "scan.toml").string());
    scan::ScanRunOptions options;
    options.layout_path = PANDAFLY_SOURCE_DIR "/layouts/dxfile_fly.xml";
    scan::ScanRunner runner(config, options);
    const auto prep = runner.prepare(false);
    if (!prep.plan.plan) {
      state.SkipWithError(("plan refused: " + scan::describe_refusal(prep.plan)).c_str());
      return;
    }
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    const auto r = runner.run();
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    const auto check = check_angles(dir / "fly.h5", dir / "truth.jsonl");
    state.SetIterationTime(wall);
    state.counters["projections"] = static_cast<double>(r.projections_complete);
    state.counters["drops"] =
        static_cast<double>(r.frames_missing + r.missed_triggers + r.rows_missing);
    state.counters["misassigned"] = static_cast<double>(check.misassigned);
    state.counters["cpu_share"] = cpu / wall;
    state.counters["scan_wall_s"] = wall;
    if (r.projections_complete > 0) {
      const double per_frame = 1e3 * cpu / static_cast<double>(r.projections_complete);
      state.counters["cpu_ms_per_frame"] = per_frame;
      if (g_reference_cpu_ms_per_frame > 0)
        state.counters["cpu_vs_reference"] = per_frame / g_reference_cpu_ms_per_frame;
    }
    if (r.overhead_before_first_trigger_s)
      state.counters["overhead_to_first_trigger_s"] = *r.overhead_before_first_trigger_s;
    if (r.last_frame_to_closed_s)
      state.counters["last_frame_to_closed_s"] = *r.last_frame_to_closed_s;
    state.counters["complete"] = r.end.complete ? 1 : 0;
    if (!r.end.complete)
      fmt::print(stderr, "bench_fly_scan: the file is incomplete: {}\n", r.end.reason);
    if (const auto log = read_all(dir / "sim.log"); log.find("OVERRUN") != std::string::npos)
      fmt::print(stderr,
                 "bench_fly_scan: the simulator's renderer fell behind (SIMULATOR OVERRUN): "
                 "its lost frames are not pandafly's drops\n");
  }
  if (!std::getenv("PANDAFLY_BENCH_KEEP")) fs::remove_all(dir);
}
BENCHMARK(BM_fly_scan)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  return pandafly::bench::scan_bench_main(argc, argv);
}
