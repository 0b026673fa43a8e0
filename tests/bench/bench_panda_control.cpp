// bench_panda_control: the PandA control path.
//   BM_memcpy/N                      reference: copying the same bytes as the decode benchmark
//   BM_reply_decode                  replies parsed and matched to pipelined Get commands (bytes/s
//   of input) BM_put_encode                    Put commands turned into wire bytes (items/s)
//   BM_configure_design_loopback/50  50 puts pipelined to pandafly-sim over 127.0.0.1 (time per
//   design; goal ≤ 20 ms) BM_put_throughput_loopback/1000  pipelined puts per second over 127.0.0.1
// Quote the decode rate as a ratio to BM_memcpy of the same run; the machine is shared.
#include <cstring>
#include <thread>

#include <benchmark/benchmark.h>

#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/control_connection.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "sim/panda/server.hpp"

namespace {

using namespace pandafly::panda;
using namespace std::chrono_literals;

// A realistic reply mix for 1000 requests: values, OKs and short lists.
std::string reply_stream(std::size_t& replies) {
  std::string s;
  replies = 0;
  for (int i = 0; i < 250; ++i) {
    s += "OK =PULSE1.OUT\n";
    s += "OK\n";
    s += "OK =0.000125\n";
    s += "!Positive\n!Negative\n!Either\n.\n";
    replies += 4;
  }
  return s;
}

void BM_memcpy(benchmark::State& state) {
  std::size_t n = 0;
  const std::string src = reply_stream(n);
  std::string dst(src.size(), '\0');
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * static_cast<std::int64_t>(src.size())));
}
BENCHMARK(BM_memcpy);

void BM_reply_decode(benchmark::State& state) {
  std::size_t n = 0;
  const std::string stream = reply_stream(n);
  for (auto _ : state) {
    ControlConnection c;
    for (std::size_t i = 0; i < n; ++i) (void)c.send(Get{"PCOMP1.DIR"});
    (void)c.take_output();
    if (c.receive(stream)) state.SkipWithError("decode failed");
    for (const auto id : c.take_completed()) c.abandon(id);
    benchmark::DoNotOptimize(c.commands());
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * static_cast<std::int64_t>(stream.size())));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(state.iterations() * static_cast<std::int64_t>(n)));
}
BENCHMARK(BM_reply_decode);

void BM_put_encode(benchmark::State& state) {
  ControlConnection c;
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (int i = 0; i < 100; ++i) (void)c.send(Put{"PULSE1.WIDTH", "0.001"});
    const auto out = c.take_output();
    bytes += out.size();
    c.fail_all(Errc::cancelled, "benchmark");  // forget the 100 in flight
    for (const auto id : c.take_completed()) c.abandon(id);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 100));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_put_encode);

// The simulator on its own thread, ephemeral ports on 127.0.0.1.
class Peer {
 public:
  Peer() : server_(io_, {0, 0, ""}), thread_([this] { io_.run(); }) {}
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() {
    server_.stop();  // posts to the io_context
    io_.stop();
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return server_.control_port(); }

 private:
  boost::asio::io_context io_;
  pandafly::sim::PandaServer server_;
  std::thread thread_;
};

// Puts that a fly-scan design really makes (PCOMP, PULSE, PCAP wiring).
std::vector<Put> design_puts(std::size_t n) {
  const char* names[] = {"PCOMP1.START", "PCOMP1.STEP", "PCOMP1.WIDTH", "PCOMP1.PULSES",
                         "PCOMP1.PRE_START"};
  std::vector<Put> puts;
  for (std::size_t i = 0; i < n; ++i) puts.emplace_back(names[i % 5], std::to_string(100 + i));
  return puts;
}

void run_puts(benchmark::State& state) {
  Peer peer;
  BlockingClient client;
  client.connect("127.0.0.1", peer.port(), 2s);
  const auto n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    const auto results = client.call_all(design_puts(n), 10s);
    for (const auto& r : results) {
      if (!r) state.SkipWithError(r.error().what());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * state.range(0)));
}

void BM_configure_design_loopback(benchmark::State& state) {
  run_puts(state);
}
BENCHMARK(BM_configure_design_loopback)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_put_throughput_loopback(benchmark::State& state) {
  run_puts(state);
}
BENCHMARK(BM_put_throughput_loopback)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
