// PULSE, CLOCK and COUNTER behaviours of the simulated FPGA: every edge at the
// tick the conventions in timing_blocks.cpp give, worked out in the comments.
// Inputs come from real blocks: a write between ticks t-1 and t to BITS.A is
// on BITS.OUTA at t, and a block listening to it sees that edge at t.
#include <string>
#include <tuple>
#include <vector>

#include <doctest/doctest.h>

#include "sim_fpga_test_util.hpp"

using namespace pandafly::sim;
using fpga::Tick;
using test::logic_and_timing_blocks;
using test::write_at;
using Ticks = std::vector<Tick>;

namespace {

// BITS.OUTA high from `rise` to `fall`.
void pulse_a(test::Fpga& f, Tick rise, Tick fall) {
  write_at(f, rise, "BITS.A", "1");
  write_at(f, fall, "BITS.A", "0");
}

void raw(test::Fpga& f, const std::string& time_field, Tick ticks) {
  f.write(time_field + ".RAW", std::to_string(ticks));
}

// PULSE1 triggered by BITS.OUTA, enabled.
void pulse_setup(test::Fpga& f, Tick delay, Tick width, int pulses, Tick step) {
  f.write("PULSE1.TRIG", "BITS.OUTA");
  raw(f, "PULSE1.DELAY", delay);
  raw(f, "PULSE1.WIDTH", width);
  f.write("PULSE1.PULSES", std::to_string(pulses));
  raw(f, "PULSE1.STEP", step);
  f.write("PULSE1.ENABLE", "ONE");
}

}  // namespace

TEST_CASE("fpga PULSE: DELAY, WIDTH, PULSES and STEP place every edge") {
  test::Fpga f(logic_and_timing_blocks());
  pulse_setup(f, 10, 5, 3, 20);
  pulse_a(f, 100, 102);  // rising TRIG seen at 100
  f.engine.run_until(105);
  CHECK(f.read("PULSE1.QUEUED") == "1");
  f.engine.run_until(300);
  // First rise at 100 + DELAY = 110, then every STEP; each WIDTH = 5 wide.
  CHECK(f.edges_of("PULSE1.OUT", true) == Ticks{110, 130, 150});
  CHECK(f.edges_of("PULSE1.OUT", false) == Ticks{115, 135, 155});
  CHECK(f.read("PULSE1.QUEUED") == "0");
  CHECK(f.read("PULSE1.DROPPED") == "0");
}

TEST_CASE("fpga PULSE: DELAY 0 costs the register tick, PULSES 0 is one, falling TRIG_EDGE") {
  test::Fpga f(logic_and_timing_blocks());
  pulse_setup(f, 0, 5, 0, 0);
  pulse_a(f, 100, 102);  // rise at 100 + max(1, 0) = 101, fall 5 later
  write_at(f, 150, "PULSE1.TRIG_EDGE", "Falling");
  pulse_a(f, 200, 203);  // the falling edge at 203 fires: 204..209
  f.engine.run_until(300);
  CHECK(f.edges_of("PULSE1.OUT", true) == Ticks{101, 204});
  CHECK(f.edges_of("PULSE1.OUT", false) == Ticks{106, 209});
}

TEST_CASE("fpga PULSE: WIDTH 0 is a delay line that keeps the input widths") {
  test::Fpga f(logic_and_timing_blocks());
  pulse_setup(f, 10, 0, 1, 0);
  pulse_a(f, 100, 103);
  f.engine.run_until(105);
  CHECK(f.read("PULSE1.QUEUED") == "2");  // both edges of the first input pulse wait
  pulse_a(f, 110, 111);                   // a one-tick pulse survives the delay
  f.engine.run_until(200);
  CHECK(f.edges_of("PULSE1.OUT", true) == Ticks{110, 120});
  CHECK(f.edges_of("PULSE1.OUT", false) == Ticks{113, 121});
  CHECK(f.read("PULSE1.QUEUED") == "0");
}

TEST_CASE("fpga PULSE: a pulse that would not start after the previous one ends is DROPPED") {
  test::Fpga f(logic_and_timing_blocks());
  pulse_setup(f, 10, 5, 1, 0);
  // Rising TRIG at 100, 103, 105, 107 → outputs would rise at 110, 113, 115, 117.
  // 110..115 is queued; 113 overlaps it; 115 would merge with its fall at 115;
  // 117 starts after it: queued.
  pulse_a(f, 100, 101);
  pulse_a(f, 103, 104);
  pulse_a(f, 105, 106);
  pulse_a(f, 107, 108);
  f.engine.run_until(200);
  CHECK(f.edges_of("PULSE1.OUT", true) == Ticks{110, 117});
  CHECK(f.edges_of("PULSE1.OUT", false) == Ticks{115, 122});
  CHECK(f.read("PULSE1.DROPPED") == "2");
  write_at(f, 210, "PULSE1.ENABLE", "ZERO");
  CHECK(f.read("PULSE1.DROPPED") == "2");  // kept while disabled
  write_at(f, 220, "PULSE1.ENABLE", "ONE");
  f.engine.run_until(220);
  CHECK(f.read("PULSE1.DROPPED") == "0");  // zeroed by the rising ENABLE
}

TEST_CASE("fpga PULSE: the queue holds 1023 triggers, the rest are DROPPED") {
  test::Fpga f(logic_and_timing_blocks());
  // CLOCK1 rises at 2 + 4k (enable written at 0, seen at 1); each rise queues a
  // pulse 1'000'000 ticks later. Stopped after the rise at 4118: 1030 triggers.
  raw(f, "CLOCK1.PERIOD", 4);
  raw(f, "CLOCK1.WIDTH", 2);
  f.write("CLOCK1.ENABLE", "ONE");
  f.write("PULSE1.TRIG", "CLOCK1.OUT");
  raw(f, "PULSE1.DELAY", 1'000'000);
  raw(f, "PULSE1.WIDTH", 1);
  f.write("PULSE1.ENABLE", "ONE");
  write_at(f, 4120, "CLOCK1.ENABLE", "ZERO");
  f.engine.run_until(10'000);
  CHECK(f.edges_of("CLOCK1.OUT", true).size() == 1030);
  CHECK(f.read("PULSE1.QUEUED") == "1023");
  CHECK(f.read("PULSE1.DROPPED") == "7");
  f.engine.run_until(2'000'000);
  const Ticks rises = f.edges_of("PULSE1.OUT", true);
  REQUIRE(rises.size() == 1023);
  CHECK(rises.front() == 1'000'002);
  CHECK(rises.back() == 2 + 4 * 1022 + 1'000'000);
  CHECK(f.read("PULSE1.QUEUED") == "0");
  CHECK(f.read("PULSE1.DROPPED") == "7");
}

TEST_CASE("fpga PULSE: ENABLE low stops a train, a parameter change clears the queue") {
  test::Fpga f(logic_and_timing_blocks());
  pulse_setup(f, 10, 5, 5, 20);  // a trigger at t gives rises t+10, t+30, …, t+90
  pulse_a(f, 100, 102);
  write_at(f, 152, "PULSE1.ENABLE", "ZERO");  // mid-pulse (150..155): low at 153
  pulse_a(f, 200, 202);                       // disabled: ignored
  write_at(f, 300, "PULSE1.ENABLE", "ONE");
  pulse_a(f, 400, 402);                        // rises 410, 430, …
  write_at(f, 433, "PULSE1.DELAY.RAW", "11");  // written at 432 (high): low at 433
  f.engine.run_until(1000);
  CHECK(f.edges_of("PULSE1.OUT", true) == Ticks{110, 130, 150, 410, 430});
  CHECK(f.edges_of("PULSE1.OUT", false) == Ticks{115, 135, 153, 415, 433});
  CHECK(f.read("PULSE1.QUEUED") == "0");
}

TEST_CASE("fpga CLOCK: rising edges every PERIOD from enable + 1, WIDTH high, WIDTH 0 half") {
  test::Fpga f(logic_and_timing_blocks());
  raw(f, "CLOCK1.PERIOD", 10);
  raw(f, "CLOCK1.WIDTH", 3);
  f.write("CLOCK1.ENABLE", "ONE");  // seen at 1: first rise at 2
  raw(f, "CLOCK2.PERIOD", 9);       // WIDTH 0: high 9/2 = 4 ticks
  f.write("CLOCK2.ENABLE", "ONE");
  f.engine.run_until(50);
  CHECK(f.edges_of("CLOCK1.OUT", true) == Ticks{2, 12, 22, 32, 42});
  CHECK(f.edges_of("CLOCK1.OUT", false) == Ticks{5, 15, 25, 35, 45});
  CHECK(f.edges_of("CLOCK2.OUT", true) == Ticks{2, 11, 20, 29, 38, 47});
  CHECK(f.edges_of("CLOCK2.OUT", false) == Ticks{6, 15, 24, 33, 42});
}

TEST_CASE("fpga CLOCK: ENABLE low stops it, enable and PERIOD writes restart the phase") {
  test::Fpga f(logic_and_timing_blocks());
  raw(f, "CLOCK1.PERIOD", 10);
  raw(f, "CLOCK1.WIDTH", 5);
  f.write("CLOCK1.ENABLE", "BITS.OUTA");
  write_at(f, 1, "BITS.A", "1");   // rises 2, 12, 22; falls 7, 17
  write_at(f, 24, "BITS.A", "0");  // mid-pulse: low at 25
  write_at(f, 40, "BITS.A", "1");  // rises 41, 51; fall 46
  f.engine.run_until(53);
  raw(f, "CLOCK1.PERIOD", 20);  // at 53, while high: origin 54, falls 59, rises 74
  f.engine.run_until(80);
  CHECK(f.edges_of("CLOCK1.OUT", true) == Ticks{2, 12, 22, 41, 51, 74});
  CHECK(f.edges_of("CLOCK1.OUT", false) == Ticks{7, 17, 25, 46, 59, 79});
}

TEST_CASE("fpga CLOCK: PERIOD and WIDTH 0 stop it; PERIOD <= WIDTH becomes WIDTH + 1") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("CLOCK1.ENABLE", "ONE");
  f.engine.run_until(100);
  CHECK(f.edges_of("CLOCK1.OUT", true).empty());
  raw(f, "CLOCK1.WIDTH", 3);  // PERIOD 0 → 4 (firmware); starts at 101
  f.engine.run_until(112);
  CHECK(f.edges_of("CLOCK1.OUT", true) == Ticks{101, 105, 109});
  CHECK(f.edges_of("CLOCK1.OUT", false) == Ticks{104, 108, 112});
  f.write("CLOCK1.PERIOD.UNITS", "us");  // the ticks are unchanged: no restart
  f.write("CLOCK1.PERIOD", "1");         // 125 ticks from 113
  f.engine.run_until(400);
  CHECK(f.edges_of("CLOCK1.OUT", true) == Ticks{101, 105, 109, 113, 238, 363});
}

TEST_CASE("fpga COUNTER: START on enable, STEP per rising TRIG, DIR high counts down") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("COUNTER1.ENABLE", "BITS.OUTB");
  f.write("COUNTER1.TRIG", "BITS.OUTA");
  f.write("COUNTER1.DIR", "BITS.OUTC");
  f.write("COUNTER1.START", "5");
  f.write("COUNTER1.STEP", "2");
  write_at(f, 10, "BITS.B", "1");
  CHECK(f.pos("COUNTER1.OUT") == 0);
  f.engine.run_until(11);
  CHECK(f.pos("COUNTER1.OUT") == 5);
  pulse_a(f, 20, 22);
  CHECK(f.pos("COUNTER1.OUT") == 7);  // changed at 21
  pulse_a(f, 30, 32);
  write_at(f, 35, "BITS.C", "1");
  pulse_a(f, 40, 42);
  CHECK(f.pos("COUNTER1.OUT") == 7);  // 9, then 9 - 2
  write_at(f, 50, "BITS.B", "0");
  pulse_a(f, 60, 62);  // disabled: not counted
  CHECK(f.pos("COUNTER1.OUT") == 7);
  write_at(f, 70, "BITS.B", "1");
  f.engine.run_until(71);
  CHECK(f.pos("COUNTER1.OUT") == 5);
  CHECK(f.read("COUNTER1.OUT") == "5");
}

TEST_CASE("fpga COUNTER: leaving MIN..MAX wraps and raises CARRY until TRIG is low") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("COUNTER1.START", "8");  // firmware example: 8 + 4 > 10 → 12 - 21 = -9
  f.write("COUNTER1.STEP", "4");
  f.write("COUNTER1.MAX", "10");
  f.write("COUNTER1.MIN", "-10");
  f.write("COUNTER2.START", "2147483647");  // MAX = MIN = 0: the int32 range
  f.write("COUNTER3.START", "2147483647");
  f.write("COUNTER3.TRIG_EDGE", "Falling");
  for (const char* c : {"COUNTER1", "COUNTER2", "COUNTER3"}) {
    f.write(std::string(c) + ".TRIG", "BITS.OUTA");
    f.write(std::string(c) + ".ENABLE", "ONE");
  }
  pulse_a(f, 20, 25);
  f.engine.run_until(22);
  CHECK(f.pos("COUNTER1.OUT") == -9);
  CHECK(f.pos("COUNTER2.OUT") == -2147483647 - 1);
  CHECK(f.pos("COUNTER3.OUT") == 2147483647);
  pulse_a(f, 30, 31);
  f.engine.run_until(40);
  CHECK(f.pos("COUNTER1.OUT") == -5);
  CHECK(f.pos("COUNTER3.OUT") == -2147483647);  // wrapped at 25, +1 at 31
  // Rising-edge counters: CARRY from the wrapping edge until TRIG falls (25).
  CHECK(f.edges_of("COUNTER1.CARRY", true) == Ticks{21});
  CHECK(f.edges_of("COUNTER1.CARRY", false) == Ticks{26});
  CHECK(f.edges_of("COUNTER2.CARRY", true) == Ticks{21});
  CHECK(f.edges_of("COUNTER2.CARRY", false) == Ticks{26});
  // Falling-edge counter: wrapped at 25, TRIG already low: a one-tick CARRY.
  CHECK(f.edges_of("COUNTER3.CARRY", true) == Ticks{26});
  CHECK(f.edges_of("COUNTER3.CARRY", false) == Ticks{27});
}

TEST_CASE("fpga COUNTER: SET loads OUT at once; On-Disable shows the count when ENABLE falls") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("COUNTER1.SET", "42");
  f.engine.run_until(1);
  CHECK(f.pos("COUNTER1.OUT") == 42);
  f.write("COUNTER2.OUT_MODE", "On-Disable");
  f.write("COUNTER2.START", "6");
  f.write("COUNTER2.STEP", "4");
  f.write("COUNTER2.ENABLE", "BITS.OUTB");
  f.write("COUNTER2.TRIG", "BITS.OUTA");
  write_at(f, 10, "BITS.B", "1");
  pulse_a(f, 20, 21);
  pulse_a(f, 30, 31);
  pulse_a(f, 40, 41);
  CHECK(f.pos("COUNTER2.OUT") == 0);  // 6 + 3 * 4 = 18 inside, not shown yet
  write_at(f, 50, "BITS.B", "0");
  f.engine.run_until(50);
  CHECK(f.pos("COUNTER2.OUT") == 0);
  f.engine.run_until(51);
  CHECK(f.pos("COUNTER2.OUT") == 18);
}

TEST_CASE("fpga chain: CLOCK → PULSE → TTLOUT with the one-tick register latencies") {
  test::Fpga f(logic_and_timing_blocks());
  std::vector<std::tuple<std::size_t, bool, Tick>> ttl;
  f.engine.on_ttl_out = [&](std::size_t n, bool v, Tick t) { ttl.emplace_back(n, v, t); };
  raw(f, "CLOCK1.PERIOD", 100);
  raw(f, "CLOCK1.WIDTH", 10);
  f.write("PULSE1.TRIG", "CLOCK1.OUT");
  raw(f, "PULSE1.DELAY", 5);
  raw(f, "PULSE1.WIDTH", 20);
  f.write("PULSE2.TRIG", "CLOCK1.OUT");
  raw(f, "PULSE2.WIDTH", 3);
  f.write("TTLOUT1.VAL", "PULSE1.OUT");
  f.write("TTLOUT2.VAL", "PULSE2.OUT");
  f.write("PULSE1.ENABLE", "ONE");
  f.write("PULSE2.ENABLE", "ONE");
  f.write("CLOCK1.ENABLE", "ONE");  // all seen at 1
  f.engine.run_until(250);
  // CLOCK1 rises at 2, 102, 202. PULSE1 (DELAY 5): 7..27, 107..127, 207..227.
  // PULSE2 (DELAY 0 → the register tick): 3..6, 103..106, 203..206. TTLOUT
  // reports the bus ticks.
  CHECK(f.edges_of("CLOCK1.OUT", true) == Ticks{2, 102, 202});
  using E = std::tuple<std::size_t, bool, Tick>;
  const std::vector<E> want{{2, true, 3},   {2, false, 6},   {1, true, 7},   {1, false, 27},
                            {2, true, 103}, {2, false, 106}, {1, true, 107}, {1, false, 127},
                            {2, true, 203}, {2, false, 206}, {1, true, 207}, {1, false, 227}};
  CHECK(ttl == want);
}

TEST_CASE("fpga registry: default_behaviours() has the timing and logic blocks") {
  const fpga::BehaviourRegistry r = fpga::default_behaviours();
  for (const char* kind :
       {"PULSE", "CLOCK", "COUNTER", "BITS", "LUT", "SRGATE", "DIV", "CALC", "TTLOUT"}) {
    CHECK_MESSAGE(r.count(kind) == 1, kind);
  }
}
