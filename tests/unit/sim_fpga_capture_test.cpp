// INENC and PCAP of the simulated FPGA against values worked out by hand.
#include <cmath>
#include <cstring>

#include <doctest/doctest.h>

#include "sim/panda/fpga/capture.hpp"
#include "sim_fpga_test_util.hpp"

using namespace pandafly::sim;
using fpga::Tick;

namespace {

// Position = t / 100 counts: one count every 100 ticks, count k during [100k, 100k + 100).
class Ramp final : public fpga::MotionSource {
 public:
  [[nodiscard]] double position(Tick t) const override { return static_cast<double>(t) / 100.0; }
  [[nodiscard]] Tick next_change(Tick t) const override { return (t / 100 + 1) * 100; }
};

struct Capture {
  test::Fpga f{test::with_bit_scripts(fpga::default_behaviours())};
  fpga::Pcap& pcap = dynamic_cast<fpga::Pcap&>(*f.engine.behaviour("PCAP"));

  Capture() {
    dynamic_cast<fpga::Inenc&>(*f.engine.behaviour("INENC1"))
        .set_motion(std::make_shared<Ramp>(), f.engine);
    f.write("PCAP.ENABLE", "TTLIN1.VAL");
    f.write("PCAP.GATE", "TTLIN2.VAL");
    f.write("PCAP.TRIG", "TTLIN3.VAL");
  }
};

// The RAW value of field `name` + `capture` in sample `k` of `bytes`.
template <class T>
T raw(const CaptureLayout& layout, const std::vector<std::byte>& bytes, std::size_t k,
      std::string_view name, std::string_view capture) {
  for (const auto& field : layout.raw_header().fields) {
    if (field.name != name || field.capture != capture) continue;
    T v{};
    std::memcpy(&v, bytes.data() + k * layout.raw_sample_bytes() + field.byte_offset, sizeof v);
    return v;
  }
  FAIL("no field ", name, " ", capture);
  return T{};
}

}  // namespace

TEST_CASE("INENC follows its motion source count by count, and SETP moves it") {
  Capture c;
  c.f.run(1050);
  CHECK(c.f.pos("INENC1.VAL") == 10);
  c.f.write("INENC1.SETP", "1000");  // now 1000, then +1 per 100 ticks
  c.f.run(100);                      // t = 1150
  CHECK(c.f.pos("INENC1.VAL") == 1001);
  CHECK(c.f.read("INENC1.VAL") == "1001");
}

TEST_CASE(
    "PCAP: one sample per trigger with gated sums, extrema, diff and times worked out by hand") {
  Capture c;
  c.f.write("INENC1.VAL.CAPTURE", "Value Diff Sum Min Max Mean StdDev");
  c.f.write("PCAP.GATE_DURATION.CAPTURE", "Value");
  c.f.write("PCAP.TS_START.CAPTURE", "Value");
  c.f.write("PCAP.TS_END.CAPTURE", "Value");
  c.f.write("PCAP.TS_TRIG.CAPTURE", "Value");
  c.f.run(10);
  REQUIRE(c.pcap.arm(c.f.engine).ok());
  CHECK_FALSE(c.pcap.arm(c.f.engine).ok());           // "Data capture already in progress"
  c.f.play("TTLIN1", {{1000, true}, {7000, false}});  // ENABLE
  c.f.play("TTLIN2", {{2000, true}, {3000, false}});  // GATE
  c.f.play("TTLIN3", {{5000, true}, {5500, false}, {6000, true}});  // TRIG
  c.f.run(8000);

  const auto events = c.pcap.take_events();
  REQUIRE(events.size() == 3);
  REQUIRE(events[0].kind == fpga::CaptureEvent::Kind::start);
  CHECK(events[0].arm_tick == 10);
  CHECK(events[0].start_tick == 1000);
  REQUIRE(events[1].kind == fpga::CaptureEvent::Kind::samples);
  REQUIRE(events[2].kind == fpga::CaptureEvent::Kind::end);
  CHECK(events[2].reason == "Ok");
  const CaptureLayout& l = *events[0].layout;
  const auto& bytes = events[1].samples;
  REQUIRE(bytes.size() == 2 * l.raw_sample_bytes());
  CHECK(c.pcap.samples() == 2);

  // Sample 0: gate open over ticks 2000..2999, where the position is 20..29,
  // 100 ticks each. Sum = 100·(20+…+29) = 24500, Σx² = 100·(20²+…+29²) = 608500.
  CHECK(raw<std::int32_t>(l, bytes, 0, "INENC1.VAL", "Value") == 50);  // t = 5000
  CHECK(raw<std::int64_t>(l, bytes, 0, "INENC1.VAL", "Sum") == 24500);
  CHECK(raw<std::int64_t>(l, bytes, 0, "INENC1.VAL", "Mean") == 24500);
  CHECK(raw<std::int32_t>(l, bytes, 0, "INENC1.VAL", "Min") == 20);
  CHECK(raw<std::int32_t>(l, bytes, 0, "INENC1.VAL", "Max") == 29);
  CHECK(raw<std::int32_t>(l, bytes, 0, "INENC1.VAL", "Diff") == 10);  // 20 at open, 30 at close
  CHECK(raw<std::int32_t>(l, bytes, 0, "PCAP.GATE_DURATION", "Value") == 1000);
  CHECK(raw<std::int64_t>(l, bytes, 0, "PCAP.TS_START", "Value") == 1000);
  CHECK(raw<std::int64_t>(l, bytes, 0, "PCAP.TS_END", "Value") == 2000);
  CHECK(raw<std::int64_t>(l, bytes, 0, "PCAP.TS_TRIG", "Value") == 4000);
  // Scaled as the server would: Mean = 24.5, StdDev = √(608500/1000 − 24.5²) = √8.25.
  std::vector<std::byte> scaled;
  l.scale(bytes, scaled);
  const auto header = l.scaled_header();
  auto scaled_value = [&](std::size_t k, std::string_view capture) {
    for (const auto& field : header.fields) {
      if (field.name != "INENC1.VAL" || field.capture != capture) continue;
      double v = 0;
      std::memcpy(&v, scaled.data() + k * header.sample_bytes + field.byte_offset, sizeof v);
      return v;
    }
    FAIL("no scaled ", capture);
    return 0.0;
  };
  CHECK(scaled_value(0, "Mean") == doctest::Approx(24.5));
  CHECK(scaled_value(0, "StdDev") == doctest::Approx(std::sqrt(8.25)));

  // Sample 1 (trigger at 6000): the gate never opened.
  CHECK(raw<std::int32_t>(l, bytes, 1, "INENC1.VAL", "Value") == 60);
  CHECK(raw<std::int64_t>(l, bytes, 1, "INENC1.VAL", "Sum") == 0);
  CHECK(raw<std::int32_t>(l, bytes, 1, "INENC1.VAL", "Min") == 0);
  CHECK(raw<std::int32_t>(l, bytes, 1, "PCAP.GATE_DURATION", "Value") == 0);
  CHECK(raw<std::int64_t>(l, bytes, 1, "PCAP.TS_START", "Value") == -1);
  CHECK(std::isnan(scaled_value(1, "Mean")));

  // ACTIVE a tick after the start and after the end; the model shows the completion.
  CHECK(c.f.edges_of("PCAP.ACTIVE", true) == std::vector<Tick>{1001});
  CHECK(c.f.edges_of("PCAP.ACTIVE", false) == std::vector<Tick>{7001});
  CHECK_FALSE(c.pcap.armed());
  CHECK(c.f.model.pcap().completion == "Ok");
  CHECK(c.f.model.pcap().captured == 2);
}

TEST_CASE("PCAP: triggers closer than the sample's word count end with Framing error") {
  Capture c;
  c.f.write("INENC1.VAL.CAPTURE", "Value");
  c.f.write("PCAP.TS_TRIG.CAPTURE", "Value");  // 3 words: triggers must be >= 3 ticks apart
  REQUIRE(c.pcap.arm(c.f.engine).ok());
  c.f.play("TTLIN1", {{100, true}});
  c.f.write("PCAP.TRIG_EDGE", "Either");
  c.f.play("TTLIN3", {{200, true}, {203, false}, {205, true}});
  c.f.run(1000);
  const auto events = c.pcap.take_events();
  REQUIRE(events.size() == 3);
  CHECK(events[1].samples.size() == 2 * events[0].layout->raw_sample_bytes());
  CHECK(events[2].reason == "Framing error");
  CHECK(c.f.read("PCAP.HEALTH") == "Capture events too close together");
}

TEST_CASE(
    "PCAP: arming with nothing captured fails; a disarm before ENABLE still ends the acquisition") {
  Capture c;
  auto refused = c.pcap.arm(c.f.engine);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error() == "Nothing configured for capture");
  c.f.write("PCAP.TS_TRIG.CAPTURE", "Value");
  REQUIRE(c.pcap.arm(c.f.engine).ok());
  c.f.run(500);
  c.pcap.disarm(c.f.engine);
  c.f.run(10);
  const auto events = c.pcap.take_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == fpga::CaptureEvent::Kind::start);
  CHECK(events[0].start_tick == 500);
  CHECK(events[1].reason == "Disarmed");
  CHECK(c.f.model.pcap().completion == "Disarmed");
}
