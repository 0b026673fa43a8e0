// The step scan's cost per point (issue "pandafly step and cont", benchmark):
// `scan::ScanRunner` kind step (what `pandafly step` runs) in this process
// against `pandafly-sim beamline` in its own process in real time (--speed 1),
// the beamline of the acceptance tests (tests/integration/fly_beamline.toml:
// 256 x 256 uint16, 2 ms readout, the rotation at 30 deg/s with ACCL 0.2 s),
// 100 points 1 deg apart, 4 ms exposure, no darks/flats/return, the file on
// /dev/shm (PANDAFLY_BENCH_DIR overrides).
//   BM_step_scan: one iteration = one scan. Counters:
//     overhead_ms_median / _p95 / _max  per point: from its move's completion
//                  (put-callback) to the next point's move, less exposure and
//                  readout: the software trigger, the frame's way through the
//                  simulated camera, ZMQ and the writer, the scan's loop
//                  (ScanResult::point_overhead_s; goal <= 5 ms). The seed
//                  script's two 0.1 s polling loops cost > 200 ms a point.
//     scan_s       the whole scan, wall time
//     points        points stored (100)
// Run: build/release/tests/bench/bench_step_scan
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "pandafly/scan/scan_config.hpp"
#include "pandafly/scan/scan_runner.hpp"
#include "scan_bench.hpp"
#include "sim_process.hpp"

namespace {

namespace fs = std::filesystem;
namespace scan = pandafly::scan;
using pandafly::bench::Simulator;

constexpr std::uint64_t kPoints = 100;

void BM_step_scan(benchmark::State& state) {
  const char* dir_env = std::getenv("PANDAFLY_BENCH_DIR");
  const fs::path dir =
      fs::path(dir_env ? dir_env : "/dev/shm") / fmt::format("bench_step_{}", ::getpid());
  fs::create_directories(dir);
  for (auto _ : state) {
    Simulator sim({"beamline", "--config",
                   PANDAFLY_SOURCE_DIR "/tests/integration/fly_beamline.toml", "--speed", "1"},
                  dir / "sim.log", "export EPICS_CA");
    sim.export_ca();
    const auto text = fmt::format(
                          R"([camera]
zmq = "{} PUB"
readout_time = 0.002
readout_margin = 0.001
[scan]
start = 0.0
end = {}
projections = {}
exposure = 0.004
return_to_start = false
)",
                          sim.after("camera ZMQ PUB bind "), kPoints - 1, kPoints) +
                      pandafly::bench::scan_file_tail(dir / "step.h5");
    auto config = scan::parse_scan_config(text, (dir / "scan.toml").string(), scan::ScanKind::step);
    scan::ScanRunOptions options;
    options.kind = scan::ScanKind::step;
    options.layout_path = PANDAFLY_SOURCE_DIR "/layouts/dxfile_step.xml";
    scan::ScanRunner runner(config, options);
    const auto prep = runner.prepare(false);
    if (!prep.plan.plan) {
      state.SkipWithError(("plan refused: " + scan::describe_refusal(prep.plan)).c_str());
      return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = runner.run();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    auto o = r.point_overhead_s;
    if (o.empty() || !r.end.complete) {
      state.SkipWithError(("the scan did not complete: " + r.end.reason).c_str());
      return;
    }
    std::sort(o.begin(), o.end());
    const auto at = [&](double q) {
      return 1e3 * o[static_cast<std::size_t>(q * static_cast<double>(o.size() - 1))];
    };
    state.counters["points"] = static_cast<double>(r.projections_complete);
    state.counters["scan_s"] = r.seconds;
    state.counters["overhead_ms_median"] = at(0.5);
    state.counters["overhead_ms_p95"] = at(0.95);
    state.counters["overhead_ms_max"] = 1e3 * o.back();
  }
  if (!std::getenv("PANDAFLY_BENCH_KEEP")) fs::remove_all(dir);
}
BENCHMARK(BM_step_scan)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

}  // namespace

int main(int argc, char** argv) {
  return pandafly::bench::scan_bench_main(argc, argv);
}
