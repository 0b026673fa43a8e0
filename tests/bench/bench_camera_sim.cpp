// The camera simulator (issue 7): how fast it publishes and renders.
//   BM_camera_publish_push_pull: 2048 x 2048 uint16 frames (8 MiB, pre-rendered:
//     noise off and the same angle, so the publisher re-sends its buffers
//     without rendering) from Publisher (PUSH connect) to the project's
//     ZmqReceiver (PULL bind) over 127.0.0.1, a window of 4 frames in flight;
//     one item = one frame received and decoded.
//   BM_memcpy: the same 8 MiB copied between two pre-touched buffers (the
//     reference of BENCHMARKS.md, same run).
//   BM_camera_render_projection/noise:{0,1}: FrameSource projections of the
//     Shepp-Logan 3D phantom, 2048 x 2048 uint16, a new angle each time.
// Run e.g.: build/release/tests/bench/bench_camera_sim --benchmark_min_time=2
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <benchmark/benchmark.h>

#include "pandafly/capture/zmq_receiver.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/camera/publisher.hpp"

namespace {

namespace camera = pandafly::sim::camera;
namespace capture = pandafly::capture;
using namespace std::chrono_literals;

const camera::FrameFormat kFormat{2048, 2048, capture::DataType::uint16};
constexpr int kWindow = 4;

camera::FrameJob frame_job() {
  camera::FrameJob j;
  j.angle_deg = 30;
  j.format = kFormat;
  return j;
}

void pop_one(capture::ZmqReceiver& rx) {
  auto f = rx.pop(10s);
  if (!f) throw std::runtime_error("bench_camera_sim: no frame within 10 s");
  benchmark::DoNotOptimize(f->frame().data.data());
}

void BM_camera_publish_push_pull(benchmark::State& state) {
  capture::ZmqReceiver rx("tcp://127.0.0.1:0");
  camera::PublisherOptions o;
  o.server_host = rx.endpoint();
  o.format = kFormat;
  o.source.noise = false;
  o.linger = 0ms;
  camera::Publisher pub(o);
  for (int k = 0; k < 16; ++k) {  // warm-up: every buffer rendered and sent once
    pub.submit(frame_job());
    pop_one(rx);
  }
  for (int k = 0; k < kWindow; ++k) pub.submit(frame_job());
  for (auto _ : state) {
    pop_one(rx);
    pub.submit(frame_job());
  }
  for (int k = 0; k < kWindow; ++k) pop_one(rx);
  const auto s = pub.stats();
  state.counters["dropped"] = static_cast<double>(s.dropped + s.no_buffer + s.overruns);
  state.counters["rendered"] = static_cast<double>(s.rendered);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kFormat.bytes()));
}
BENCHMARK(BM_camera_publish_push_pull)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_memcpy(benchmark::State& state) {
  std::vector<std::byte> from(kFormat.bytes(), std::byte{1});
  std::vector<std::byte> to(kFormat.bytes(), std::byte{2});
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), to.size());
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kFormat.bytes()));
}
BENCHMARK(BM_memcpy)->Unit(benchmark::kMillisecond);

void BM_camera_render_projection(benchmark::State& state) {
  camera::FrameSourceOptions o;
  o.noise = state.range(0) != 0;
  camera::FrameSource src(kFormat, o);
  double angle = 0;
  std::uint64_t seed = 0;
  (void)src.render(camera::FrameKind::projection, angle, seed);  // warm-up
  for (auto _ : state) {
    angle += 0.1;
    const auto px = src.render(camera::FrameKind::projection, angle, ++seed);
    benchmark::DoNotOptimize(px.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kFormat.bytes()));
}
BENCHMARK(BM_camera_render_projection)
    ->ArgName("noise")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
