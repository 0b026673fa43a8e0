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
//   BM_fpga_flyscan/slice_us:{250,1000}: the joined simulator's hot path, in
//     process and without sockets: a PandaModel with panda/flyscan.sav loaded
//     (PCOMP1 every 10 000 counts, 181 pulses, PULSE1 -> TTLOUT1, PCAP
//     capturing INENC1.VAL, TS_TRIG, GATE_DURATION on PULSE1.OUT) and its
//     fpga::Engine, INENC1 following a ca::MotorMotion (EncoderMotion,
//     10 000 counts/deg) that moves -2 -> 182 deg at 20 deg/s (100 deg/s^2),
//     the acceptance scan of sim_beamline.sh. The engine is advanced in
//     slices of simulated time as PandaFpga does (its min_step 250 us, its
//     period 1 ms), PCAP's rows taken after each. One iteration = the whole
//     scan; it must give 181 rows (else the benchmark fails). Items = encoder
//     count changes (each one an engine event); counter `sim_s_per_wall_s` =
//     simulated seconds per wall second (10 = the scan at --speed 10 without
//     the FPGA lagging), `engine_events` = events the engine processed.
//   BM_beamline_scan/speed:{10,100,1000,1000000}/camera:{1,0}: the whole joined simulator in
//     process: a BeamlineSimulator (tests/integration/beamline_test.toml, its
//     camera at 512 x 512, every port 0, --speed N) on an io_context thread,
//     panda/flyscan.sav with 181 PCOMP pulses 10 000 counts apart enabled from
//     the start (PCOMP1.ENABLE=ONE; PCAP not armed: no data client), the
//     camera acquiring 181 externally triggered frames (TriggerMode On,
//     Line0), the rotation motor put straight to its record's VAL (as a CA
//     put-callback would): run-up to -2 deg, then the timed move to 182 deg
//     (9.4 s simulated). Counter `wall_clock_ratio` = the move's simulated
//     duration (its motion's first tick to its end) over the wall time from
//     the put to its put-callback (the speed when nothing lags; less when the
//     FPGA or the renderer holds it back: the CA devices wait for the FPGA),
//     `log_lines` = lines the simulator logged (late motion changes, overruns),
//     `triggers`/`missed`/`frames` = the
//     camera's triggers received, missed while busy, and frames its ZMQ1
//     plugin counted (181, 0, 181 when nothing is lost). camera:0 leaves the
//     camera idle (no frames rendered; its triggers are dropped, triggers = 0):
//     the PandA and CA side alone.
//     speed 1000000 stands for "unlimited": what the simulator can do flat out
//     (a run whose camera did not get all 181 triggers is reported as an
//     error, not as a ratio: at such speeds the FPGA may already be past the
//     tick a move is planned from, and its encoder then jumps).
// Run e.g.: build/release/tests/bench/bench_beamline --benchmark_min_time=2
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <unistd.h>
#include <zmq.hpp>

#include "sim/beamline_simulator.hpp"
#include "sim/ca/config.hpp"
#include "sim/ca/motor_motion.hpp"
#include "sim/camera/frame_source.hpp"
#include "sim/camera/publisher.hpp"
#include "sim/panda/design_file.hpp"
#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/model.hpp"
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

// ------------------------------------------------------------ FPGA hot path

namespace fpga = pandafly::sim::fpga;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("bench_beamline: cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_field(pandafly::sim::PandaModel& model, pandafly::sim::Session& session,
                 std::string_view name, std::string_view value) {
  const auto reply = model.write(name, value, session);
  if (reply.shape() != pandafly::sim::Reply::Shape::ok)
    throw std::runtime_error("bench_beamline: " + std::string(name) + "=" + std::string(value) +
                             ": " + reply.wire());
}

// One acceptance scan in simulated time; returns the PandA rows captured (and
// the RAW bytes taken from PCAP in `bytes`).
std::uint64_t run_flyscan(const std::string& design, fpga::Tick slice, std::uint64_t& counts,
                          std::uint64_t& events, fpga::Tick& end, std::uint64_t& bytes) {
  constexpr double kCountsPerDeg = 10000.0;
  pandafly::sim::PandaModel model;
  if (const auto s = pandafly::sim::load_design(model, design); !s.ok())
    throw std::runtime_error("bench_beamline: flyscan.sav: " + s.error());
  fpga::Engine engine(model);
  auto session = model.open_session("config", "bench", "");
  write_field(model, *session, "PCOMP1.STEP", "10000");
  write_field(model, *session, "PCOMP1.PULSES", "181");
  write_field(model, *session, "PCOMP1.WIDTH", "5000");
  auto motion = std::make_shared<pandafly::sim::ca::MotorMotion>(-2.0);
  auto& inenc = dynamic_cast<fpga::Inenc&>(*engine.behaviour("INENC1"));
  inenc.set_motion(std::make_shared<pandafly::sim::ca::EncoderMotion>(motion, kCountsPerDeg, 0.0),
                   engine);
  auto& pcap = dynamic_cast<fpga::Pcap&>(*engine.behaviour("PCAP"));
  if (!pcap.arm(engine).ok()) throw std::runtime_error("bench_beamline: PCAP did not arm");
  write_field(model, *session, "BITS.A", "1");
  const fpga::Tick start = engine.now() + 1;
  end = motion->move_to(start, 182.0, 20.0, 100.0);
  inenc.motion_changed(start, engine);
  bytes = 0;
  events = 0;
  for (fpga::Tick t = engine.now(); t < end + slice; t += slice) {
    events += engine.run_until(t);
    for (auto& e : pcap.take_events())
      if (e.kind == fpga::CaptureEvent::Kind::samples) bytes += e.samples.size();
  }
  counts = static_cast<std::uint64_t>(184.0 * kCountsPerDeg);
  end -= start;
  return pcap.samples();
}

void BM_fpga_flyscan(benchmark::State& state) {
  const std::string design = read_text(PANDAFLY_SOURCE_DIR "/panda/flyscan.sav");
  const fpga::Tick slice = state.range(0) * fpga::kTicksPerSecond / 1'000'000;
  std::uint64_t counts = 0, events = 0, total_counts = 0, total_events = 0;
  double simulated = 0;
  for (auto _ : state) {
    fpga::Tick span = 0;
    std::uint64_t bytes = 0;
    const std::uint64_t rows = run_flyscan(design, slice, counts, events, span, bytes);
    if (rows != 181 || bytes % 181 != 0 || bytes == 0) {
      state.SkipWithError("the scan did not capture 181 rows");
      return;
    }
    total_counts += counts;
    total_events += events;
    simulated += static_cast<double>(span) * fpga::kSecondsPerTick;
  }
  state.counters["sim_s_per_wall_s"] = benchmark::Counter(simulated, benchmark::Counter::kIsRate);
  state.counters["engine_events"] =
      benchmark::Counter(static_cast<double>(total_events), benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<std::int64_t>(total_counts));
}
BENCHMARK(BM_fpga_flyscan)
    ->ArgName("slice_us")
    ->Arg(250)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ------------------------------------------------------------ joined simulator

namespace ca = pandafly::sim::ca;

// Runs `fn` on the io_context's thread and waits for it.
template <class Fn>
void on_io(boost::asio::io_context& io, Fn fn) {
  std::promise<void> done;
  boost::asio::post(io, [&] {
    fn();
    done.set_value();
  });
  done.get_future().get();
}

// Puts `value` to a PV on the io thread; returns a future of the put-callback's ECA status.
std::future<std::uint32_t> put_pv(boost::asio::io_context& io, const std::shared_ptr<ca::Pv>& pv,
                                  ca::Elements value) {
  auto done = std::make_shared<std::promise<std::uint32_t>>();
  auto result = done->get_future();
  boost::asio::post(io, [pv, value = std::move(value), done] {
    (void)pv->put(value, [done](std::uint32_t eca) { done->set_value(eca); });
  });
  return result;
}

void put_now(boost::asio::io_context& io, const std::shared_ptr<ca::Pv>& pv, ca::Elements value) {
  auto f = put_pv(io, pv, std::move(value));
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    throw std::runtime_error("bench_beamline: a camera put did not complete");
  (void)f.get();
}

void BM_beamline_scan(benchmark::State& state) {
  const double speed = static_cast<double>(state.range(0));
  const bool acquire = state.range(1) != 0;
  const std::filesystem::path design = std::filesystem::temp_directory_path() /
                                       ("bench_beamline_" + std::to_string(::getpid()) + ".sav");
  {
    std::ofstream out(design);
    out << read_text(PANDAFLY_SOURCE_DIR "/panda/flyscan.sav")
        << "PCOMP1.STEP=10000\nPCOMP1.PULSES=181\nPCOMP1.WIDTH=5000\nPCOMP1.ENABLE=ONE\n";
  }
  double simulated = 0, wall = 0;
  std::uint64_t triggers = 0, frames = 0, missed = 0, log_lines = 0;
  for (auto _ : state) {
    ca::BeamlineConfig config =
        ca::load_config(PANDAFLY_SOURCE_DIR "/tests/integration/beamline_test.toml");
    config.simulator.speed = speed;
    config.simulator.panda_design = design.string();
    config.simulator.zmq = "tcp://127.0.0.1:0 PUB";
    config.cameras.at(0).size_x = 512;
    config.cameras.at(0).size_y = 512;
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::atomic<std::uint64_t> lines{0};
    pandafly::sim::BeamlineSimulator sim(io, config, {.log = [&](std::string_view) { ++lines; }});
    std::thread io_thread([&] { io.run(); });
    const auto& motor = sim.devices().motors.at(0);
    const auto& camera = sim.devices().cameras.at(0);
    put_now(io, camera->pv("cam5:TriggerMode"), ca::Enums{1});    // On
    put_now(io, camera->pv("cam5:TriggerSource"), ca::Enums{1});  // Line0
    put_now(io, camera->pv("cam5:ImageMode"), ca::Enums{1});      // Multiple
    put_now(io, camera->pv("cam5:NumImages"), ca::Longs{181});
    put_now(io, camera->pv("ZMQ1:EnableCallbacks"), ca::Enums{1});
    put_now(io, camera->pv("cam5:ArrayCallbacks"), ca::Enums{1});
    if (acquire)  // completes after the frames
      (void)put_pv(io, camera->pv("cam5:Acquire"), ca::Enums{1});
    put_pv(io, motor->field("VAL"), ca::Doubles{-2.0}).wait();  // run-up
    pandafly::sim::Tick rest_end = 0;  // the run-up's end: the timed move starts later
    on_io(io, [&] { rest_end = motor->motion()->end_tick(); });
    const auto w0 = std::chrono::steady_clock::now();
    auto move = put_pv(io, motor->field("VAL"), ca::Doubles{182.0});
    if (move.wait_for(std::chrono::minutes(10)) != std::future_status::ready)
      throw std::runtime_error("bench_beamline: the move did not complete");
    (void)move.get();
    const auto w1 = std::chrono::steady_clock::now();
    pandafly::sim::Tick t0 = 0, t1 = 0;
    std::uint64_t got = 0;  // triggers the camera received in this run
    on_io(io, [&] {
      // The move itself, in simulated time: from its first tick off -2 deg to its end.
      t0 = motor->motion()->reach_tick(rest_end, -2.0 + 1e-9);
      t1 = motor->motion()->end_tick();
      got = camera->triggers_received();
      triggers += got;
      missed += camera->missed_triggers();
      frames += static_cast<std::uint64_t>(std::visit(
          [](const auto& v) {
            if constexpr (std::is_arithmetic_v<typename std::decay_t<decltype(v)>::value_type>) {
              return v.empty() ? 0.0 : static_cast<double>(v[0]);
            } else {
              return 0.0;
            }
          },
          camera->pv("ZMQ1:ArrayCounter_RBV")->value()));
    });
    if (got != 181) {
      // The encoder skipped counts: at extreme speeds the FPGA can run past
      // the tick the motor record plans its move from (a late motion change,
      // logged), and the jump skips PCOMP's positions. No ratio then.
      sim.stop();
      work.reset();
      io_thread.join();
      std::filesystem::remove(design);
      state.SkipWithError("the camera did not get 181 triggers (a late motion change?)");
      return;
    }
    simulated += static_cast<double>(t1 - t0) * pandafly::sim::kSecondsPerTick;
    wall += std::chrono::duration<double>(w1 - w0).count();
    sim.stop();
    work.reset();
    io_thread.join();
    log_lines += lines.load();
  }
  std::filesystem::remove(design);
  const auto n = static_cast<double>(state.iterations());
  state.counters["wall_clock_ratio"] = simulated / wall;
  state.counters["triggers"] = static_cast<double>(triggers) / n;
  state.counters["missed"] = static_cast<double>(missed) / n;
  state.counters["frames"] = static_cast<double>(frames) / n;
  state.counters["log_lines"] = static_cast<double>(log_lines) / n;
}
BENCHMARK(BM_beamline_scan)
    ->ArgNames({"speed", "camera"})
    ->Args({10, 1})
    ->Args({100, 1})
    ->Args({1000, 1})
    ->Args({1'000'000, 1})
    ->Args({10, 0})
    ->Args({1000, 0})
    ->Args({1'000'000, 0})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
