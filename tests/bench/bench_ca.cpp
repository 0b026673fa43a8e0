// Channel Access through Debian's libca against the CA simulator on 127.0.0.1
// (pandafly::ca client, sim/ca server, one process, two threads of each side):
//   BM_ca_connect_100      connect 100 PVs on a fresh context (time per batch)
//   BM_ca_get_roundtrip    sequential get<double> round trips on one channel
//   BM_ca_put_roundtrip    sequential put-with-completion round trips
//   BM_ca_monitor_updates  the server posts 10 000 value changes as fast as it
//                          can; the client's Monitor takes updates until the
//                          last value arrives (updates/s delivered; libca's
//                          flow control (EVENTS_OFF) makes the server send only
//                          the latest value while the client is behind: counted
//                          as `coalesced`, the Monitor's own drops as `dropped`)
// Loopback only: the figures are the software's costs, not a network's.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>

#include "ca_loopback.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/monitor.hpp"
#include "sim/ca/pv.hpp"

namespace {

namespace ca = pandafly::ca;
namespace simca = pandafly::sim::ca;
using namespace std::chrono_literals;

pandafly::test::CaLoopback& server() {
  static pandafly::test::CaLoopback loopback = [] {
    auto db = std::make_shared<simca::PvDatabase>();
    for (int i = 0; i < 100; ++i)
      db->add(std::make_shared<simca::Pv>("bench:pv" + std::to_string(i), simca::Doubles{1.0 * i}));
    db->add(std::make_shared<simca::Pv>("bench:monitored", simca::Doubles{0.0}));
    return pandafly::test::CaLoopback(db, {});
  }();
  return loopback;
}

void BM_ca_connect_100(benchmark::State& state) {
  server();
  for (auto _ : state) {
    ca::Context ctx;
    std::vector<ca::Channel> channels;
    channels.reserve(100);
    for (int i = 0; i < 100; ++i) channels.emplace_back(ctx, "bench:pv" + std::to_string(i));
    for (auto& c : channels) c.wait_connected(10s);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 100);
}

void BM_ca_get_roundtrip(benchmark::State& state) {
  server();
  ca::Context ctx;
  auto c = ca::Channel::connect(ctx, "bench:pv7", 5s);
  for (auto _ : state) benchmark::DoNotOptimize(c.get<double>());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_ca_put_roundtrip(benchmark::State& state) {
  server();
  ca::Context ctx;
  auto c = ca::Channel::connect(ctx, "bench:pv8", 5s);
  double v = 0;
  for (auto _ : state) c.put_wait(v += 1, 5s);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_ca_monitor_updates(benchmark::State& state) {
  auto& srv = server();
  ca::Context ctx;
  auto c = ca::Channel::connect(ctx, "bench:monitored", 5s);
  ca::MonitorOptions options;
  options.capacity = 1u << 16;
  ca::Monitor m(c, options);
  (void)m.pop(5s);  // the initial value
  constexpr int kUpdates = 10000;
  double next = 0;
  std::int64_t received = 0, posted = 0;
  for (auto _ : state) {
    srv.on_server([&] {
      auto pv = srv.db().find("bench:monitored");
      for (int i = 0; i < kUpdates; ++i) pv->set(simca::Doubles{++next}, {});
      return 0;
    });
    posted += kUpdates;
    for (;;) {
      auto u = m.pop(5s);
      if (!u) {
        state.SkipWithError("the last update did not arrive within 5 s");
        return;
      }
      ++received;
      if (std::get<std::vector<double>>(u->value).at(0) == next) break;
    }
  }
  state.SetItemsProcessed(received);
  state.counters["coalesced"] = static_cast<double>(posted - received);
  state.counters["dropped"] = static_cast<double>(m.dropped());
}

}  // namespace

BENCHMARK(BM_ca_connect_100)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ca_get_roundtrip)->UseRealTime();
BENCHMARK(BM_ca_put_roundtrip)->UseRealTime();
BENCHMARK(BM_ca_monitor_updates)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
