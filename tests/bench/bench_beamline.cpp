// The beamline simulator's camera (issue 16): can it feed the fly-scan
// benchmark (>= 500 frames/s at 512 x 512 uint16; goal >= 1000/s on one core)?
//   BM_beamline_publish_512/noise:{0,1}: frames rendered AND published per
//     second. The real camera Publisher (its one render thread renders every
//     frame; PUSH connect) sends 512 x 512 uint16 frames of the Shepp-Logan 3D
//     phantom over ZMQ on 127.0.0.1 to a PULL socket bound by the benchmark,
//     which counts the frames it receives; a window of 6 frames in flight.
//     Every frame has its own angle and its own noise seed, so none is reused
//     (counter `reused` = frames sent without rendering: must be 0).
//     One item = one frame received.
//   BM_render_512/noise:{0,1}: FrameSource alone at 512 x 512 (the render
//     thread's share of the above).
//   BM_projector_2048/noise:{0,1}: Projector::project of the fitted phantom at
//     2048 x 2048 uint16, a new angle (and seed) each frame.
//   BM_memcpy/<bytes>: the reference of BENCHMARKS.md in the same run: the
//     bytes of one 512 x 512 and one 2048 x 2048 uint16 frame copied between
//     pre-touched buffers.
// Run e.g.: build/release/tests/bench/bench_beamline --benchmark_min_time=2
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <zmq.hpp>

#include "sim/camera/frame_source.hpp"
#include "sim/camera/publisher.hpp"
#include "sim/physics/projector.hpp"

namespace {

namespace camera = pandafly::sim::camera;
namespace physics = pandafly::sim::physics;
using namespace std::chrono_literals;

const camera::FrameFormat k512{512, 512, pandafly::capture::DataType::uint16};
const camera::FrameFormat k2048{2048, 2048, pandafly::capture::DataType::uint16};
constexpr int kWindow = 6;
// A fly scan's angular step: 1500 frames over 180 degrees.
constexpr double kStepDeg = 0.12;

// Receives one two-part ADZMQ message (header, pixels); throws after 10 s.
void receive_frame(zmq::socket_t& rx, zmq::message_t& head, zmq::message_t& data) {
  if (!rx.recv(head) || !head.more() || !rx.recv(data))
    throw std::runtime_error("bench_beamline: no frame within 10 s");
  if (data.size() != k512.bytes()) throw std::runtime_error("bench_beamline: wrong frame size");
  benchmark::DoNotOptimize(data.data());
}

void BM_beamline_publish_512(benchmark::State& state) {
  zmq::context_t ctx(1);
  zmq::socket_t rx(ctx, zmq::socket_type::pull);
  rx.set(zmq::sockopt::rcvtimeo, 10000);
  rx.set(zmq::sockopt::linger, 0);
  rx.bind("tcp://127.0.0.1:0");
  const std::string endpoint = rx.get(zmq::sockopt::last_endpoint);

  camera::PublisherOptions o;
  o.server_host = endpoint;  // "tcp://127.0.0.1:<port>": a PUSH that connects
  o.format = k512;
  o.source.noise = state.range(0) != 0;
  o.linger = 0ms;
  camera::Publisher pub(o);

  std::uint64_t id = 0;
  double angle = 0;
  auto submit = [&] {
    camera::FrameJob j;
    j.angle_deg = angle;
    j.format = k512;
    j.unique_id = ++id;  // the noise seed too: a new field each frame
    angle += kStepDeg;
    if (!pub.submit(j)) throw std::runtime_error("bench_beamline: publisher queue full");
  };
  zmq::message_t head, data;
  std::uint64_t total = 0;        // frames received, warm-up included
  for (int k = 0; k < 16; ++k) {  // warm-up: connection up, every buffer used once
    submit();
    receive_frame(rx, head, data);
    ++total;
  }
  for (int k = 0; k < kWindow; ++k) submit();
  std::uint64_t received = 0;
  for (auto _ : state) {
    receive_frame(rx, head, data);
    ++received;
    submit();
  }
  for (int k = 0; k < kWindow; ++k) receive_frame(rx, head, data);
  total += received + kWindow;
  // Every frame received was rendered before it was sent, so rendered counts
  // all of them unless some were re-sent from a buffer.
  const auto s = pub.stats();
  state.counters["lost"] = static_cast<double>(s.dropped + s.no_buffer + s.overruns + s.failed);
  state.counters["reused"] = static_cast<double>(total - std::min(total, s.rendered));
  state.counters["received"] = static_cast<double>(received);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k512.bytes()));
}
BENCHMARK(BM_beamline_publish_512)
    ->ArgName("noise")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_render_512(benchmark::State& state) {
  camera::FrameSourceOptions o;
  o.noise = state.range(0) != 0;
  camera::FrameSource src(k512, o);
  double angle = 0;
  std::uint64_t seed = 0;
  (void)src.render(camera::FrameKind::projection, angle, seed);  // warm-up
  for (auto _ : state) {
    angle += kStepDeg;
    const auto px = src.render(camera::FrameKind::projection, angle, ++seed);
    benchmark::DoNotOptimize(px.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k512.bytes()));
}
BENCHMARK(BM_render_512)->ArgName("noise")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_projector_2048(benchmark::State& state) {
  camera::FrameSourceOptions o;
  o.noise = state.range(0) != 0;
  const camera::FrameSource src(k2048, o);  // the fitted phantom and the projector
  std::vector<std::uint16_t> frame(k2048.pixels(), 1);
  double angle = 0;
  std::uint64_t seed = 0;
  src.projector().project(src.phantom(), angle, frame, seed);  // warm-up
  for (auto _ : state) {
    angle += kStepDeg;
    src.projector().project(src.phantom(), angle, frame, ++seed);
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(k2048.bytes()));
}
BENCHMARK(BM_projector_2048)->ArgName("noise")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_memcpy(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> from(bytes, std::byte{1});
  std::vector<std::byte> to(bytes, std::byte{2});
  for (auto _ : state) {
    std::memcpy(to.data(), from.data(), to.size());
    benchmark::DoNotOptimize(to.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_memcpy)
    ->Arg(static_cast<std::int64_t>(k512.bytes()))
    ->Arg(static_cast<std::int64_t>(k2048.bytes()))
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
