// capture::Merger: the cost of merging one fly scan — 3600 projections at
// 500 frames/s (rows and frames alternating, one frame in 100 dropped and
// one trigger in 100 missed, ± 0.05 period jitter) — per iteration. items/s
// counts projections; the fly scan needs 500/s, so the figure is the
// headroom. BM_merger_rows_lag feeds the frames `lag` ahead of their rows
// (the PandA sends rows in blocks): the cost of frames that wait.
#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "pandafly/capture/merger.hpp"

namespace {

using namespace pandafly::capture;

constexpr std::uint64_t projections = 3600;
constexpr double period = 0.002;

struct Scan {
  std::vector<PandaRow> rows;
  std::vector<MergerFrame> frames;
};

Scan make_scan() {
  Scan s;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> jitter(-0.05 * period, 0.05 * period);
  std::uint64_t number = 1;
  for (std::uint64_t k = 0; k < projections; ++k) {
    const double t = static_cast<double>(k) * period;
    s.rows.push_back({k, 0.05 * static_cast<double>(k), 0, 0, t, t + 0.0015, t + 0.0015});
    if (k % 100 == 37) continue;  // missed trigger: no frame, no number
    const MergerFrame f{number++, 1.1e9 + 0.003 + t + jitter(rng), k};
    if (k % 100 == 71) continue;  // dropped in transit
    s.frames.push_back(f);
  }
  return s;
}

MergerOptions options() {
  MergerOptions o;
  o.projections = projections;
  o.frame_time_s = period;
  o.expected_offset_s = 0.003;
  o.first_frame_number = 1;
  return o;
}

void run(benchmark::State& state, std::size_t lag) {
  const auto scan = make_scan();
  std::uint64_t paired = 0;
  for (auto _ : state) {
    Merger m(options());
    m.set_start_time(1.1e9);
    std::size_t f = 0;
    for (std::size_t r = 0; r < scan.rows.size(); ++r) {
      while (f < scan.frames.size() && scan.frames[f].handle < r + lag)
        m.add_frame(scan.frames[f++]);
      m.add_row(scan.rows[r]);
      benchmark::DoNotOptimize(m.take());
    }
    while (f < scan.frames.size()) m.add_frame(scan.frames[f++]);
    m.finish(scan.frames.back().number);
    benchmark::DoNotOptimize(m.take());
    paired = m.stats().paired;
  }
  state.counters["paired"] = static_cast<double>(paired);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(projections));
}

void BM_merger_scan(benchmark::State& state) {
  run(state, 1);
}
BENCHMARK(BM_merger_scan)->Unit(benchmark::kMillisecond);

void BM_merger_rows_lag(benchmark::State& state) {
  run(state, static_cast<std::size_t>(state.range(0)));
}
BENCHMARK(BM_merger_rows_lag)->Arg(32)->Arg(200)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
