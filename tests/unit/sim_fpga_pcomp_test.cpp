// PCOMP on the simulated FPGA: pulse trains gated by a scripted encoder ramp,
// edges checked at exact ticks worked out by hand (INP changes at tick t → OUT
// at t + 1, the register latency; ENABLE written at tick w → seen at w + 1 via
// the engine's poke → ACTIVE at w + 2).
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "sim_fpga_test_util.hpp"

using namespace pandafly::sim;
using fpga::Tick;
using test::Ticks;
namespace {

fpga::BehaviourRegistry registry() {
  fpga::BehaviourRegistry r;
  fpga::add_pcomp_behaviours(r);
  return test::with_ramp_encoder(std::move(r));
}

// PCOMP1 with INP = INENC1.VAL (the ramp).
struct Rig {
  Rig() : ramp(*dynamic_cast<test::Ramp*>(f.engine.behaviour("INENC1"))) {
    f.write("PCOMP1.INP", "INENC1.VAL");
  }
  void set(const std::vector<std::pair<std::string, std::string>>& params) {
    for (const auto& [k, v] : params) f.write("PCOMP1." + k, v);
  }
  Ticks out(bool v) const { return Ticks(f.edges_of("PCOMP1.OUT", v)); }
  Ticks active(bool v) const { return Ticks(f.edges_of("PCOMP1.ACTIVE", v)); }
  std::string read(const std::string& field) { return f.read("PCOMP1." + field); }

  test::Fpga f{registry()};
  test::Ramp& ramp;
};

// first, first + step, … (n ticks).
Ticks every(Tick first, Tick step, Tick n) {
  Ticks t;
  for (Tick i = 0; i < n; ++i) t.push_back(first + i * step);
  return t;
}

}  // namespace

TEST_CASE("pcomp: START 1000, STEP 250, WIDTH 100, PULSES 10 on a +1 per 100 ticks ramp") {
  Rig r;
  r.set({{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}, {"PULSES", "10"}});
  r.ramp.play(r.f.engine, {{1000, 0, 1, 100, 4000}});  // INP = k at tick 1000 + 100k
  r.f.write("PCOMP1.ENABLE", "ONE");                   // tick 0: seen at 1, ACTIVE at 2
  r.f.run(1);
  CHECK(r.read("STATE") == "WAIT_PRE_START");  // one transition per tick
  r.f.run(1);
  CHECK(r.read("STATE") == "WAIT_RISING");  // INP 0 < START − PRE_START
  r.f.run(200000 - 2);                      // INP = 1990: pulses at 1000 … 1750 done
  CHECK(r.read("PRODUCED") == "4");
  CHECK(r.read("STATE") == "WAIT_RISING");
  r.f.run(5000);  // INP = 2040: inside the pulse from 2000
  CHECK(r.read("PRODUCED") == "5");
  CHECK(r.read("STATE") == "WAIT_FALLING");
  r.f.run(200000);
  // INP = 1000 + 250j at tick 1000 + 100·(1000 + 250j) = 101000 + 25000j, +1.
  CHECK(r.out(true) == every(101001, 25000, 10));
  // INP = 1100 + 250j → 111000 + 25000j, +1; the last at INP 3350.
  CHECK(r.out(false) == every(111001, 25000, 10));
  CHECK(r.active(true) == Ticks{2});
  CHECK(r.active(false) == Ticks{336001});  // with the last fall
  CHECK(r.read("PRODUCED") == "10");
  CHECK(r.read("STATE") == "WAIT_ENABLE");
  CHECK(r.read("HEALTH") == "OK");
}

TEST_CASE("pcomp: negative direction waits for INP above START, then fires going down") {
  Rig r;
  r.set(
      {{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}, {"PULSES", "3"}, {"DIR", "Negative"}});
  r.ramp.play(r.f.engine, {{1000, 2000, -1, 100, 2000}});  // INP = 2000 − k at 1000 + 100k
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(500);
  CHECK(r.read("STATE") == "WAIT_PRE_START");  // INP 0 is on the wrong side of START
  r.f.run(300000);
  // INP ≤ 1000, 750, 500 at k = 1000, 1250, 1500 → ticks 101000, 126000, 151000.
  CHECK(r.out(true) == Ticks{101001, 126001, 151001});
  // INP ≤ 900, 650, 400 (WIDTH stays positive) at k = 1100, 1350, 1600.
  CHECK(r.out(false) == Ticks{111001, 136001, 161001});
  CHECK(r.active(false) == Ticks{161001});
  CHECK(r.read("PRODUCED") == "3");
}

TEST_CASE("pcomp: RELATIVE counts from INP latched at enable") {
  Rig r;
  r.set({{"START", "100"},
         {"STEP", "50"},
         {"WIDTH", "10"},
         {"PULSES", "3"},
         {"RELATIVE", "Relative"}});
  // INP = 5000 from tick 10; then 5001 + k at 1000 + 10k.
  r.ramp.play(r.f.engine, {{10, 5000, 0, 1, 1}, {1000, 5001, 1, 10, 1000}});
  r.f.run(100);
  r.f.write("PCOMP1.ENABLE", "ONE");  // latched 5000 at tick 101
  r.f.run(5000);
  // INP − 5000 = 100, 150, 200 at k = 99, 149, 199 → ticks 1990, 2490, 2990.
  CHECK(r.out(true) == Ticks{1991, 2491, 2991});
  CHECK(r.out(false) == Ticks{2091, 2591, 3091});  // at 110, 160, 210
  CHECK(r.active(true) == Ticks{102});
  CHECK(r.active(false) == Ticks{3091});
}

TEST_CASE("pcomp: RELATIVE with START 0 and PRE_START 0 starts the first pulse at enable") {
  Rig r;
  r.set({{"STEP", "50"}, {"WIDTH", "10"}, {"PULSES", "2"}, {"RELATIVE", "Relative"}});
  r.ramp.play(r.f.engine, {{10, 5000, 0, 1, 1}, {1000, 5001, 1, 10, 1000}});
  r.f.run(100);
  r.f.write("PCOMP1.ENABLE", "ONE");  // seen at 101: OUT and ACTIVE at 102
  r.f.run(5000);
  // Falls at +10 (k = 9, tick 1090); next pulse +50 … +60 (k = 49, 59).
  CHECK(r.out(true) == Ticks{102, 1491});
  CHECK(r.out(false) == Ticks{1091, 1591});
  CHECK(r.active(true) == Ticks{102});
  CHECK(r.active(false) == Ticks{1591});
}

TEST_CASE("pcomp: PRE_START holds off while INP starts inside the window") {
  Rig r;
  r.set({{"START", "1000"},
         {"PRE_START", "100"},
         {"STEP", "250"},
         {"WIDTH", "100"},
         {"PULSES", "1"}});
  r.ramp.play(r.f.engine, {
                              {10, 950, 0, 1, 1},         // enabled at INP 950
                              {1000, 951, 1, 10, 200},    // up through START to 1150
                              {3000, 1149, -1, 10, 300},  // back down to 850
                              {6000, 851, 1, 10, 300},    // and up again to 1150
                          });
  r.f.run(100);
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(3000 - 100);
  CHECK(r.out(true).empty());  // passed START without first being below 900
  CHECK(r.read("STATE") == "WAIT_PRE_START");
  r.f.run(2500);  // INP 899 (< START − PRE_START) at k = 250, tick 5500
  CHECK(r.read("STATE") == "WAIT_RISING");
  r.f.run(5000);
  CHECK(r.out(true) == Ticks{7491});   // INP 1000 at k = 149 → 7490
  CHECK(r.out(false) == Ticks{8491});  // INP 1100 at k = 249 → 8490
  CHECK(r.active(false) == Ticks{8491});
}

TEST_CASE("pcomp: DIR Either guesses from which side of START INP is, one step per tick") {
  Rig r;
  r.set({{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}, {"PULSES", "2"}, {"DIR", "Either"}});
  r.ramp.play(r.f.engine, {{10, 2000, 0, 1, 1}, {1000, 1999, -1, 10, 1500}});
  r.f.run(100);
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(1);  // tick 101
  CHECK(r.read("STATE") == "WAIT_DIR");
  r.f.run(1);  // INP 2000 > START: negative
  CHECK(r.read("STATE") == "WAIT_PRE_START");
  r.f.run(1);
  CHECK(r.read("STATE") == "WAIT_RISING");
  r.f.run(20000);
  // INP = 1999 − k at 1000 + 10k: ≤ 1000, 750 at k = 999, 1249; ≤ 900, 650 at 1099, 1349.
  CHECK(r.out(true) == Ticks{10991, 13491});
  CHECK(r.out(false) == Ticks{11991, 14491});
  CHECK(r.active(false) == Ticks{14491});
}

TEST_CASE("pcomp: DIR Either with RELATIVE guesses from the first move past START") {
  Rig r;
  r.set({{"START", "100"},
         {"STEP", "50"},
         {"WIDTH", "10"},
         {"PULSES", "2"},
         {"DIR", "Either"},
         {"RELATIVE", "Relative"}});
  r.ramp.play(r.f.engine, {{10, 5000, 0, 1, 1}, {1000, 4999, -1, 10, 1000}});
  r.f.run(100);
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(5000);
  // |INP − 5000| ≥ 100 at k = 99 (tick 1990): fires there, negative from then on:
  // falls at −110 (k 109), rises at −150 (k 149), falls at −160 (k 159).
  CHECK(r.out(true) == Ticks{1991, 2491});
  CHECK(r.out(false) == Ticks{2091, 2591});
  CHECK(r.active(false) == Ticks{2591});
  CHECK(r.read("HEALTH") == "OK");
}

TEST_CASE("pcomp: DIR Either, RELATIVE, START 0, PRE_START 0 cannot guess") {
  Rig r;
  r.set({{"STEP", "50"}, {"WIDTH", "10"}, {"DIR", "Either"}, {"RELATIVE", "Relative"}});
  r.f.write("PCOMP1.ENABLE", "ONE");  // seen at 1 (WAIT_DIR), fails at 2
  r.f.run(100);
  CHECK(r.active(true) == Ticks{2});
  CHECK(r.active(false) == Ticks{3});
  CHECK(r.out(true).empty());
  CHECK(r.read("HEALTH") == "Can't guess DIR when RELATIVE and PRE_START=0 and START=0");
  CHECK(r.read("STATE") == "WAIT_ENABLE");
}

TEST_CASE("pcomp: PULSES 0 runs until the ramp stops") {
  Rig r;
  r.set({{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}});
  r.ramp.play(r.f.engine, {{1000, 0, 1, 10, 7000}});  // INP = k at 1000 + 10k, up to 6999
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(100000);
  // Rising at 1000 + 250j ≤ 6999: j = 0 … 23 → tick 11000 + 2500j.
  CHECK(r.out(true) == every(11001, 2500, 24));
  CHECK(r.out(false) == every(12001, 2500, 24));
  CHECK(r.read("PRODUCED") == "24");
  CHECK(r.read("STATE") == "WAIT_RISING");
  CHECK(r.f.bit("PCOMP1.ACTIVE"));
}

TEST_CASE("pcomp: STEP 0 is a repeating comparator (on at START from either side)") {
  Rig r;
  r.set({{"START", "1000"}, {"WIDTH", "100"}, {"PULSES", "2"}});
  r.ramp.play(r.f.engine, {
                              {1000, 0, 1, 10, 1151},      // up to 1150 at 12500
                              {13000, 1149, -1, 10, 200},  // down to 950
                              {16000, 951, 1, 10, 200},    // up to 1150
                          });
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(20000);
  // On at 1000 (k 1000 → 11000), off at 1100 (12000); on again at ≤ 1000 going
  // down (k 149 → 14490), off at ≥ 1100 going up (k 149 → 17490).
  CHECK(r.out(true) == Ticks{11001, 14491});
  CHECK(r.out(false) == Ticks{12001, 17491});
  CHECK(r.active(false) == Ticks{17491});
}

TEST_CASE("pcomp: a jump over a whole pulse sets HEALTH and stops; a smaller one fires") {
  Rig r;
  r.set({{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}, {"PULSES", "10"}});
  r.ramp.play(r.f.engine, {
                              {1000, 0, 1, 10, 1201},  // up to 1200 at 13000
                              {15000, 1300, 0, 1, 1},  // jump past 1250 (not past 1350)
                              {20000, 1700, 0, 1, 1},  // OUT high, jump past 1500: error
                          });
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(30000);
  CHECK(r.out(true) == Ticks{11001, 15001});
  CHECK(r.out(false) == Ticks{12001, 20001});
  CHECK(r.active(false) == Ticks{20001});
  CHECK(r.read("HEALTH") == "Position jumped by more than STEP");
  CHECK(r.read("PRODUCED") == "2");
  CHECK(r.read("STATE") == "WAIT_ENABLE");
}

TEST_CASE("pcomp: a jump with OUT low over the next whole pulse stops without firing") {
  Rig r;
  r.set({{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}, {"PULSES", "10"}});
  r.ramp.play(r.f.engine, {{1000, 0, 1, 10, 1201}, {20000, 1600, 0, 1, 1}});
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(30000);
  // Waiting for 1250 after the fall at 1100; 1600 is past its fall at 1350.
  CHECK(r.out(true) == Ticks{11001});
  CHECK(r.out(false) == Ticks{12001});
  CHECK(r.active(false) == Ticks{20001});
  CHECK(r.read("HEALTH") == "Position jumped by more than STEP");
  CHECK(r.read("PRODUCED") == "1");
}

TEST_CASE("pcomp: ENABLE falling mid-pulse stops at once; re-enabling resets PRODUCED") {
  Rig r;
  r.set({{"START", "1000"}, {"STEP", "250"}, {"WIDTH", "100"}, {"PULSES", "10"}});
  r.ramp.play(r.f.engine, {{1000, 0, 1, 100, 4000}});
  r.f.write("PCOMP1.ENABLE", "ONE");
  r.f.run(155000);                     // third pulse: up at 151001, would fall at 161001
  r.f.write("PCOMP1.ENABLE", "ZERO");  // seen at 155001 → low at 155002
  r.f.run(45000);
  CHECK(r.out(true) == Ticks{101001, 126001, 151001});
  CHECK(r.out(false) == Ticks{111001, 136001, 155002});
  CHECK(r.active(false) == Ticks{155002});
  CHECK(r.read("PRODUCED") == "3");
  CHECK(r.read("STATE") == "WAIT_ENABLE");
  r.f.write("PCOMP1.ENABLE", "ONE");  // tick 200000, INP 1990: never before START again
  r.f.run(50000);
  CHECK(r.read("PRODUCED") == "0");
  CHECK(r.read("STATE") == "WAIT_PRE_START");
  CHECK(r.out(true).size() == 3);
  CHECK(r.active(true) == Ticks{2, 200002});
}
