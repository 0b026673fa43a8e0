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

  // ACTIVE from the arm (tick 10, so 11) to a tick after the end, before and
  // regardless of ENABLE (PandABlocks-FPGA pcap.timing.ini "Arming and hard
  // disarm": ARM -> ACTIVE=1 two ticks before ENABLE=1; pcap_core.vhd drives
  // ACTIVE from pcap_armed); the model shows the completion.
  CHECK(c.f.edges_of("PCAP.ACTIVE", true) == std::vector<Tick>{11});
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

namespace {

// Arms a capture of `captures` (INENC1.VAL captures, plus TS_TRIG when `ts`),
// ENABLE high from tick 100 to `enable_off`, TRIG (TTLIN3) pulses as given, and
// returns the TS_TRIG values (or INENC1.VAL values) of the samples that came, with
// the END reason.
struct Outcome {
  std::vector<std::int64_t> ticks;  // sample trigger ticks (TS_TRIG + start) or values
  std::string reason;
};

Outcome run_end_case(const char* trig_edge, bool ts, Tick enable_off,
                     const std::vector<std::pair<Tick, bool>>& trig) {
  Capture c;
  c.f.write("PCAP.TRIG_EDGE", trig_edge);
  c.f.write("INENC1.VAL.CAPTURE", "Value");
  if (ts) c.f.write("PCAP.TS_TRIG.CAPTURE", "Value");
  REQUIRE(c.pcap.arm(c.f.engine).ok());
  c.f.play("TTLIN1", {{100, true}, {enable_off, false}});
  c.f.play("TTLIN3", trig);
  c.f.run(enable_off + 100);
  Outcome out;
  std::shared_ptr<const CaptureLayout> layout;
  for (const auto& e : c.pcap.take_events()) {
    if (e.kind == fpga::CaptureEvent::Kind::start) layout = e.layout;
    if (e.kind == fpga::CaptureEvent::Kind::end) out.reason = e.reason;
    if (e.kind != fpga::CaptureEvent::Kind::samples) continue;
    for (std::size_t k = 0; k < e.samples.size() / layout->raw_sample_bytes(); ++k)
      out.ticks.push_back(ts ? raw<std::int64_t>(*layout, e.samples, k, "PCAP.TS_TRIG", "Value") +
                                   100
                             : raw<std::int32_t>(*layout, e.samples, k, "INENC1.VAL", "Value"));
  }
  CHECK(c.pcap.samples() == out.ticks.size());
  return out;
}

}  // namespace

// PandABlocks-FPGA pcap_core.vhd/pcap_arming.vhd/pcap_frame.vhd/pcap_buffer.vhd:
// a trigger's sample passes 3 register stages in pcap_frame and one in
// pcap_buffer before pcap_dat_valid rises 5 ticks after the trigger; ENABLE's
// fall ends the acquisition at once unless pcap_dat_valid is already high
// (WAIT_ONGOING_WRITE), and the pipeline is reset with "armed". So a trigger at
// t is written when ENABLE falls at t+5 or later, lost before; a one-word sample
// (no "ongoing" phase) is out when ENABLE falls at t+4 (the timing diagrams
// "Capture pos bus entry 3 Sum", "test disable min": one word, ENABLE 4 ticks
// after the last trigger, the value out).
TEST_CASE("PCAP: a trigger too close before ENABLE falls is lost in the capture pipeline") {
  // Triggers (rising) at 500 and 1000; two-word+one-word samples (3 words).
  const std::vector<std::pair<Tick, bool>> trig{
      {500, true}, {520, false}, {1000, true}, {1020, false}};
  auto kept = run_end_case("Rising", true, 1005, trig);
  CHECK(kept.ticks == std::vector<std::int64_t>{500, 1000});
  CHECK(kept.reason == "Ok");
  auto lost = run_end_case("Rising", true, 1004, trig);
  CHECK(lost.ticks == std::vector<std::int64_t>{500});
  CHECK(lost.reason == "Ok");
  // One word (INENC1.VAL Value = t/100): out with ENABLE falling 4 ticks later, not 3.
  CHECK(run_end_case("Rising", false, 1004, trig).ticks == std::vector<std::int64_t>{5, 10});
  CHECK(run_end_case("Rising", false, 1003, trig).ticks == std::vector<std::int64_t>{5});
  // The same when the trigger is ENABLE's own fall: TRIG is masked by ENABLE
  // (trig_en = TRIG and ENABLE), so ENABLE falling while TRIG is high is a
  // falling edge at the very tick the acquisition ends — never a sample.
  auto masked = run_end_case("Falling", true, 1010, {{500, true}, {520, false}, {1000, true}});
  CHECK(masked.ticks == std::vector<std::int64_t>{520});
  CHECK(masked.reason == "Ok");
}

TEST_CASE("PCAP: ENABLE rising while TRIG is high is a rising trigger edge (TRIG and ENABLE)") {
  Capture c;
  c.f.write("PCAP.TS_TRIG.CAPTURE", "Value");
  REQUIRE(c.pcap.arm(c.f.engine).ok());
  c.f.play("TTLIN3", {{50, true}});  // TRIG high before the acquisition starts
  c.f.play("TTLIN1", {{100, true}, {300, false}});
  c.f.run(400);
  const auto events = c.pcap.take_events();
  REQUIRE(events.size() == 3);
  REQUIRE(events[1].kind == fpga::CaptureEvent::Kind::samples);
  REQUIRE(events[1].samples.size() == events[0].layout->raw_sample_bytes());
  CHECK(raw<std::int64_t>(*events[0].layout, events[1].samples, 0, "PCAP.TS_TRIG", "Value") == 0);
}
