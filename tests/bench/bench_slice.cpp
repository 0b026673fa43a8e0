// bench_slice: the quick slice of `pandafly-dx slice` — a 2048-pixel row from
// 1800 projections over 180° (goal ≤ 1 s on one core, issue 20), by gridding
// on 1 thread and on all cores, and the direct back-projection at a quarter
// of the angles (its time scales with the angle count) for comparison.
// Reference in the same run (BENCHMARKS.md): BM_memcpy of the sinogram's
// bytes 100 times (so a figure can be quoted as a ratio on a noisy machine).
// items = projections back-projected; bytes = sinogram bytes consumed.
// Run: build/release/tests/bench/bench_slice --benchmark_min_time=2
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include <benchmark/benchmark.h>

#include "pandafly/dx/slice.hpp"
#include "pandafly/util/parallel.hpp"

namespace dx = pandafly::dx;
namespace util = pandafly::util;

namespace {

constexpr std::size_t kWidth = 2048;
constexpr std::size_t kAngles = 1800;

// A two-disc phantom's sinogram (line integrals), axis at 1023.5.
struct Scan {
  std::vector<double> theta;
  std::vector<float> sino;
  explicit Scan(std::size_t n) : theta(n), sino(n * kWidth) {
    for (std::size_t i = 0; i < n; ++i) {
      theta[i] = 180.0 * static_cast<double>(i) / static_cast<double>(n);
      const double th = theta[i] * std::numbers::pi / 180;
      for (std::size_t x = 0; x < kWidth; ++x) {
        const double t = static_cast<double>(x) - 1023.5;
        const double t2 = t - 300 * std::cos(th);
        const double a = 800 * 800 - t * t, b = 100 * 100 - t2 * t2;
        sino[i * kWidth + x] = static_cast<float>((a > 0 ? 0.002 * std::sqrt(a) : 0) +
                                                  (b > 0 ? 0.01 * std::sqrt(b) : 0));
      }
    }
  }
};

const Scan& scan(std::size_t n) {
  static const Scan full(kAngles), quarter(kAngles / 4);
  return n == kAngles ? full : quarter;
}

dx::SliceOptions options(dx::SliceMethod method, std::size_t threads) {
  dx::SliceOptions o{.method = method, .threads = threads};
  if (threads > 1) o.parallel = util::parallel_on(threads);
  return o;
}

void run(benchmark::State& state, dx::SliceMethod method, std::size_t angles, std::size_t threads) {
  const Scan& s = scan(angles);
  dx::SliceReconstructor r(kWidth, options(method, threads));
  benchmark::DoNotOptimize(r.reconstruct(s.sino, s.theta, 1023.5));  // warm-up: touch every buffer
  for (auto _ : state) {
    auto img = r.reconstruct(s.sino, s.theta, 1023.5);
    benchmark::DoNotOptimize(img.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(angles));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s.sino.size() * 4));
  state.counters["threads"] = static_cast<double>(threads);
}

void BM_slice_gridrec_1thread(benchmark::State& state) {
  run(state, dx::SliceMethod::gridrec, kAngles, 1);
}
void BM_slice_gridrec_all_threads(benchmark::State& state) {
  run(state, dx::SliceMethod::gridrec, kAngles, util::default_threads());
}
void BM_slice_direct_450_angles_all_threads(benchmark::State& state) {
  run(state, dx::SliceMethod::direct, kAngles / 4, util::default_threads());
}
void BM_centre_estimate(benchmark::State& state) {
  const Scan& s = scan(kAngles);
  for (auto _ : state)
    benchmark::DoNotOptimize(dx::estimate_centre(s.sino, kWidth, s.theta).centre);
  state.SetItemsProcessed(state.iterations());
}
void BM_memcpy(benchmark::State& state) {
  const std::size_t bytes = kAngles * kWidth * 4;
  std::vector<char> a(bytes, 1), b(bytes, 2);
  for (auto _ : state) {
    for (int k = 0; k < 100; ++k) {
      std::memcpy(b.data(), a.data(), bytes);
      benchmark::ClobberMemory();
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes) * 100);
}

}  // namespace

BENCHMARK(BM_slice_gridrec_1thread)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_slice_gridrec_all_threads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_slice_direct_450_angles_all_threads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_centre_estimate)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_memcpy)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
