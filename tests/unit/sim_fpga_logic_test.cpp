// BITS, LUT, SRGATE, DIV, CALC and TTLOUT behaviours of the simulated FPGA:
// edges at the ticks the conventions in logic_blocks.cpp give (an input change
// at t shows on the output at t+1; a register write between t-1 and t lands at
// t), worked out in the comments. Inputs come from BITS (a write to BITS.A
// between t-1 and t is on BITS.OUTA at t) and COUNTER outputs.
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

// BITS.OUT<bit> high from `rise` to `fall`.
void pulse(test::Fpga& f, std::string_view bit, Tick rise, Tick fall) {
  const std::string name = "BITS." + std::string(bit);
  write_at(f, rise, name, "1");
  write_at(f, fall, name, "0");
}

// Overlapping: BITS.OUTA high 10..30, BITS.OUTB high 20..40.
void a_then_b(test::Fpga& f) {
  write_at(f, 10, "BITS.A", "1");
  write_at(f, 20, "BITS.B", "1");
  write_at(f, 30, "BITS.A", "0");
  write_at(f, 40, "BITS.B", "0");
}

}  // namespace

TEST_CASE("fpga BITS: OUTA..OUTD follow A..D from the tick after the write") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("BITS.A", "1");
  f.write("BITS.D", "1");
  CHECK_FALSE(f.bit("BITS.OUTA"));
  f.run(1);
  CHECK(f.bit("BITS.OUTA"));
  CHECK_FALSE(f.bit("BITS.OUTB"));
  CHECK(f.read("BITS.OUTD") == "1");
  write_at(f, 6, "BITS.A", "0");
  f.run(5);
  CHECK(f.edges_of("BITS.OUTA", true) == Ticks{1});
  CHECK(f.edges_of("BITS.OUTA", false) == Ticks{6});
}

TEST_CASE("fpga TTLOUT: on_ttl_out sees every edge of VAL at its bus tick") {
  test::Fpga f(logic_and_timing_blocks());
  std::vector<std::tuple<std::size_t, bool, Tick>> ttl;
  f.engine.on_ttl_out = [&](std::size_t n, bool v, Tick t) { ttl.emplace_back(n, v, t); };
  f.write("CLOCK1.PERIOD.RAW", "10");
  f.write("CLOCK1.WIDTH.RAW", "3");
  f.write("CLOCK1.ENABLE", "ONE");  // seen at 1: rises 2, 12, 22; falls 5, 15
  f.write("TTLOUT3.VAL", "CLOCK1.OUT");
  f.engine.run_until(19);
  f.write("TTLOUT10.VAL", "ONE");  // the rewiring is an edge seen at 20
  f.engine.run_until(24);
  using E = std::tuple<std::size_t, bool, Tick>;
  const std::vector<E> want{{3, true, 2},   {3, false, 5},  {3, true, 12},
                            {3, false, 15}, {10, true, 20}, {3, true, 22}};
  CHECK(ttl == want);
}

TEST_CASE("fpga LUT: FUNC expressions over A..E, A the most significant input") {
  test::Fpga f(logic_and_timing_blocks());
  const std::vector<std::pair<std::string, std::string>> luts{
      {"LUT1", "A&B"}, {"LUT2", "A|B"}, {"LUT3", "~A"}, {"LUT4", "A&~B|E"}};
  for (const auto& [lut, func] : luts) {
    f.write(lut + ".INPA", "BITS.OUTA");
    f.write(lut + ".INPB", "BITS.OUTB");
    f.write(lut + ".INPE", "ONE");
    f.write(lut + ".FUNC", func);
  }
  f.write("LUT4.INPE", "BITS.OUTC");
  CHECK(f.read("LUT1.FUNC") == "A&B");
  a_then_b(f);            // A high 10..30, B high 20..40
  pulse(f, "C", 50, 60);  // E of LUT4 high 50..60
  f.engine.run_until(100);
  CHECK(f.edges_of("LUT1.OUT", true) == Ticks{21});  // A&B: 20..30
  CHECK(f.edges_of("LUT1.OUT", false) == Ticks{31});
  CHECK(f.edges_of("LUT2.OUT", true) == Ticks{11});  // A|B: 10..40
  CHECK(f.edges_of("LUT2.OUT", false) == Ticks{41});
  CHECK(f.edges_of("LUT3.OUT", true) == Ticks{1, 31});  // ~A: FUNC written at 0
  CHECK(f.edges_of("LUT3.OUT", false) == Ticks{11});
  CHECK(f.edges_of("LUT4.OUT", true) == Ticks{11, 51});  // A&~B: 10..20, E: 50..60
  CHECK(f.edges_of("LUT4.OUT", false) == Ticks{21, 61});
}

TEST_CASE("fpga LUT: pulse TYPEs make an input 1 for exactly the tick of its edge") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("LUT1.TYPEA", "Pulse-On-Rising-Edge");
  f.write("LUT2.TYPEA", "Pulse-On-Either-Edge");
  f.write("LUT3.TYPEA", "Pulse-On-Falling-Edge");
  for (const char* lut : {"LUT1", "LUT2", "LUT3"}) {
    f.write(std::string(lut) + ".INPA", "BITS.OUTA");
    f.write(std::string(lut) + ".FUNC", "A");
  }
  // LUT4 = B & falling(A): B high 20..40 covers A's fall at 30 only.
  f.write("LUT4.INPA", "BITS.OUTA");
  f.write("LUT4.TYPEA", "Pulse-On-Falling-Edge");
  f.write("LUT4.INPB", "BITS.OUTB");
  f.write("LUT4.FUNC", "A&B");
  a_then_b(f);
  f.engine.run_until(100);
  CHECK(f.edges_of("LUT1.OUT", true) == Ticks{11});
  CHECK(f.edges_of("LUT1.OUT", false) == Ticks{12});
  CHECK(f.edges_of("LUT2.OUT", true) == Ticks{11, 31});
  CHECK(f.edges_of("LUT2.OUT", false) == Ticks{12, 32});
  CHECK(f.edges_of("LUT3.OUT", true) == Ticks{31});
  CHECK(f.edges_of("LUT3.OUT", false) == Ticks{32});
  CHECK(f.edges_of("LUT4.OUT", true) == Ticks{31});
  CHECK(f.edges_of("LUT4.OUT", false) == Ticks{32});
}

TEST_CASE("fpga SRGATE: SET and RST edges, reset wins when they coincide") {
  test::Fpga f(logic_and_timing_blocks());
  for (const char* g : {"SRGATE1", "SRGATE2"}) {
    f.write(std::string(g) + ".ENABLE", "ONE");
    f.write(std::string(g) + ".SET", "BITS.OUTA");
    f.write(std::string(g) + ".RST", "BITS.OUTB");
  }
  f.write("SRGATE2.SET_EDGE", "Falling");
  f.write("SRGATE2.RST_EDGE", "Either");
  pulse(f, "A", 10, 12);
  pulse(f, "B", 20, 22);
  pulse(f, "A", 40, 42);
  write_at(f, 50, "BITS.A", "1");  // A and B rise together at 50
  f.write("BITS.B", "1");
  write_at(f, 55, "BITS.A", "0");
  write_at(f, 56, "BITS.B", "0");
  f.engine.run_until(100);
  // SRGATE1 (rising/rising): set 10, reset 20, set 40, both at 50 → reset.
  CHECK(f.edges_of("SRGATE1.OUT", true) == Ticks{11, 41});
  CHECK(f.edges_of("SRGATE1.OUT", false) == Ticks{21, 51});
  // SRGATE2 (set falling, reset either): set 12, reset 20 (and 22), set 42,
  // reset 50 (B rises; A's rise is no set edge), set 55, reset 56.
  CHECK(f.edges_of("SRGATE2.OUT", true) == Ticks{13, 43, 56});
  CHECK(f.edges_of("SRGATE2.OUT", false) == Ticks{21, 51, 57});
}

TEST_CASE("fpga SRGATE: WHEN_DISABLED, and FORCE_SET/FORCE_RST while enabled") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("SRGATE1.ENABLE", "BITS.OUTC");
  f.write("SRGATE1.SET", "BITS.OUTA");
  f.write("SRGATE1.WHEN_DISABLED", "Set output high");  // disabled: high at 1
  write_at(f, 10, "BITS.C", "1");                       // enabled: stays high
  write_at(f, 15, "SRGATE1.FORCE_RST", "");             // low at 15
  write_at(f, 20, "SRGATE1.FORCE_SET", "");             // high at 20
  write_at(f, 30, "BITS.C", "0");                       // disabled: high
  write_at(f, 35, "SRGATE1.WHEN_DISABLED", "Keep current output");
  write_at(f, 40, "SRGATE1.FORCE_RST", "");                    // ignored while disabled (firmware)
  write_at(f, 45, "SRGATE1.WHEN_DISABLED", "Set output low");  // low at 45
  write_at(f, 50, "BITS.C", "1");
  pulse(f, "A", 60, 62);             // set: high at 61
  write_at(f, 70, "BITS.C", "0");    // disabled, low: low at 71
  pulse(f, "A", 80, 82);             // ignored while disabled
  f.write("SRGATE1.ENABLE", "ONE");  // at 81, and FORCE_SET with no time between:
  f.write("SRGATE1.FORCE_SET", "");  // high at 82
  f.engine.run_until(100);
  CHECK(f.edges_of("SRGATE1.OUT", true) == Ticks{1, 20, 61, 82});
  CHECK(f.edges_of("SRGATE1.OUT", false) == Ticks{15, 45, 71});
}

TEST_CASE("fpga DIV: DIVISOR 3 with FIRST_PULSE OutN and OutD") {
  test::Fpga f(logic_and_timing_blocks());
  for (const char* d : {"DIV1", "DIV2"}) {
    f.write(std::string(d) + ".ENABLE", "ONE");
    f.write(std::string(d) + ".INP", "BITS.OUTA");
    f.write(std::string(d) + ".DIVISOR", "3");
  }
  f.write("DIV2.FIRST_PULSE", "OutD");
  CHECK(f.read("DIV1.COUNT") == "0");
  CHECK(f.read("DIV2.COUNT") == "2");
  for (Tick t = 10; t <= 60; t += 10) pulse(f, "A", t, t + 2);
  f.engine.run_until(100);
  // OutN: N N D N N D. OutD: D N N D N N. Each output pulse is the input's, +1.
  CHECK(f.edges_of("DIV1.OUTN", true) == Ticks{11, 21, 41, 51});
  CHECK(f.edges_of("DIV1.OUTN", false) == Ticks{13, 23, 43, 53});
  CHECK(f.edges_of("DIV1.OUTD", true) == Ticks{31, 61});
  CHECK(f.edges_of("DIV1.OUTD", false) == Ticks{33, 63});
  CHECK(f.edges_of("DIV2.OUTD", true) == Ticks{11, 41});
  CHECK(f.edges_of("DIV2.OUTN", true) == Ticks{21, 31, 51, 61});
  CHECK(f.read("DIV1.COUNT") == "0");
  CHECK(f.read("DIV2.COUNT") == "2");
}

TEST_CASE("fpga DIV: ENABLE falling resets COUNT and ends the output pulse") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("DIV1.ENABLE", "BITS.OUTB");
  f.write("DIV1.INP", "BITS.OUTA");
  f.write("DIV1.DIVISOR", "3");
  write_at(f, 5, "BITS.B", "1");
  pulse(f, "A", 10, 12);
  pulse(f, "A", 20, 22);
  CHECK(f.read("DIV1.COUNT") == "2");
  write_at(f, 25, "BITS.B", "0");  // disabled 25..28: COUNT back to 0
  write_at(f, 28, "BITS.B", "1");
  CHECK(f.read("DIV1.COUNT") == "0");
  pulse(f, "A", 30, 32);  // COUNT 1: OUTN, not OUTD
  write_at(f, 40, "BITS.A", "1");
  write_at(f, 42, "BITS.B", "0");  // mid-pulse: OUTN low at 43
  write_at(f, 45, "BITS.A", "0");
  f.engine.run_until(100);
  CHECK(f.edges_of("DIV1.OUTN", true) == Ticks{11, 21, 31, 41});
  CHECK(f.edges_of("DIV1.OUTN", false) == Ticks{13, 23, 33, 43});
  CHECK(f.edges_of("DIV1.OUTD", true).empty());
  CHECK(f.read("DIV1.COUNT") == "0");
}

TEST_CASE("fpga CALC: signed sum of the inputs shifted right, one tick after a change") {
  test::Fpga f(logic_and_timing_blocks());
  f.write("COUNTER1.START", "100");
  f.write("COUNTER2.START", "7");
  f.write("COUNTER1.ENABLE", "ONE");  // seen at 1: OUT = START at 2
  f.write("COUNTER2.ENABLE", "ONE");
  for (const char* c : {"CALC1", "CALC2"}) {
    f.write(std::string(c) + ".INPA", "COUNTER1.OUT");
    f.write(std::string(c) + ".INPB", "COUNTER2.OUT");
  }
  f.write("CALC1.TYPEB", "-Value");
  f.write("CALC1.SHIFT", "1");
  f.write("CALC2.TYPEA", "-Value");
  f.write("CALC2.SHIFT", "2");
  f.engine.run_until(2);
  CHECK(f.pos("CALC1.OUT") == 0);
  f.engine.run_until(3);
  CHECK(f.pos("CALC1.OUT") == 46);   // (100 - 7) >> 1
  CHECK(f.pos("CALC2.OUT") == -24);  // (-100 + 7) >> 2, arithmetic: floor(-23.25)
  f.write("COUNTER1.SET", "120");    // at 3: COUNTER1.OUT = 120 at 4, CALC at 5
  f.engine.run_until(4);
  CHECK(f.pos("CALC1.OUT") == 46);
  f.engine.run_until(5);
  CHECK(f.pos("CALC1.OUT") == 56);   // 113 >> 1
  CHECK(f.pos("CALC2.OUT") == -29);  // -113 >> 2
  f.write("CALC1.SHIFT", "0");
  f.engine.run_until(6);
  CHECK(f.read("CALC1.OUT") == "113");
}
