// The PandA simulator's FPGA engine: captured samples per second of wall time
// when it runs flat out (issue goal: >= 1 M samples/s). A 1 MHz CLOCK1 triggers
// PCAP while INENC1 turns at 1 M counts/s (one count per trigger); each sample
// is the 60-byte row of ../shared/BENCHMARKS.md: INENC1.VAL Value/Min/Max/Mean,
// COUNTER1.OUT Value/Sum, INENC2.VAL, PCAP.TS_TRIG, TS_START, BITS0 and
// GATE_DURATION. Events per sample: two clock edges, one encoder count and
// PCAP's reaction to each.
#include <memory>
#include <stdexcept>
#include <string>

#include <benchmark/benchmark.h>

#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/fpga/motion.hpp"
#include "sim/panda/model.hpp"

namespace {

namespace sim = pandafly::sim;
namespace fpga = pandafly::sim::fpga;

void write(sim::PandaModel& model, sim::Session& s, const std::string& name,
           const std::string& value) {
  if (model.write(name, value, s).shape() != sim::Reply::Shape::ok)
    throw std::runtime_error("cannot write " + name + "=" + value);
}

void BM_sim_captured_samples(benchmark::State& state) {
  sim::PandaModel model;
  auto session = model.open_session("config", "bench", "");
  fpga::Engine engine(model);
  auto axis = std::make_shared<fpga::TrapezoidMotion>(0.0);
  axis->move_to(0, 2.0e9, 1.0e6, 1.0e9);  // 1 M counts/s after 1 ms
  dynamic_cast<fpga::Inenc&>(*engine.behaviour("INENC1")).set_motion(axis, engine);
  for (const auto& [name, value] : {std::pair{"INENC1.VAL.CAPTURE", "Value Min Max Mean"},
                                    {"COUNTER1.OUT.CAPTURE", "Value Sum"},
                                    {"INENC2.VAL.CAPTURE", "Value"},
                                    {"PCAP.TS_TRIG.CAPTURE", "Value"},
                                    {"PCAP.TS_START.CAPTURE", "Value"},
                                    {"PCAP.BITS0.CAPTURE", "Value"},
                                    {"PCAP.GATE_DURATION.CAPTURE", "Value"},
                                    {"CLOCK1.PERIOD.RAW", "125"},
                                    {"CLOCK1.ENABLE", "ONE"},
                                    {"PCAP.TRIG", "CLOCK1.OUT"},
                                    {"PCAP.GATE", "ONE"},
                                    {"PCAP.ENABLE", "ONE"}})
    write(model, *session, name, value);
  auto& pcap = dynamic_cast<fpga::Pcap&>(*engine.behaviour("PCAP"));
  if (!pcap.arm(engine).ok()) throw std::runtime_error("arm failed");
  constexpr fpga::Tick slice = 125 * 1000;  // 1 ms: 1000 triggers
  std::size_t samples = 0, bytes = 0;
  for (auto _ : state) {
    engine.run_until(engine.now() + slice);
    for (const auto& e : pcap.take_events()) bytes += e.samples.size();
  }
  samples = pcap.samples();
  state.SetItemsProcessed(static_cast<std::int64_t>(samples));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["sample_bytes"] = static_cast<double>(bytes) / static_cast<double>(samples);
}

}  // namespace

BENCHMARK(BM_sim_captured_samples);
BENCHMARK_MAIN();
