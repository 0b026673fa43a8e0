// SEQ on the simulated FPGA: tables written through the model, edges checked
// at exact ticks worked out by hand. Conventions: ENABLE (or a BITx mux) written
// at tick w is seen at w + 1 (the engine's poke), so the first outputs and
// ACTIVE change at w + 2; a phase of TIME·PRESCALE ticks then runs exactly that
// long, and the next phase, repeat or row starts in the tick the last one ends.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim_fpga_test_util.hpp"

using namespace pandafly::sim;
using fpga::Tick;
using test::Ticks;
namespace {

fpga::BehaviourRegistry registry() {
  fpga::BehaviourRegistry r;
  fpga::add_seq_behaviours(r);
  return test::with_ramp_encoder(std::move(r));
}

constexpr std::uint32_t kA = 1, kB = 2;  // OUTA, OUTB bits of a phase
enum Trigger : std::uint32_t { kImmediate = 0, kBitA1 = 2, kPosAGe = 7 };

struct Row {
  std::uint32_t repeats, trigger;
  std::int32_t position;
  std::uint32_t time1, out1, time2, out2;
};

// Table words per reference §1.7 (4 words a row).
std::vector<std::uint32_t> words(std::initializer_list<Row> rows) {
  std::vector<std::uint32_t> w;
  for (const Row& r : rows) {
    w.push_back(r.repeats | r.trigger << 16 | r.out1 << 20 | r.out2 << 26);
    w.push_back(static_cast<std::uint32_t>(r.position));
    w.push_back(r.time1);
    w.push_back(r.time2);
  }
  return w;
}

void write_table(test::Fpga& f, const std::vector<std::uint32_t>& w) {
  std::vector<std::string> lines;
  for (std::uint32_t x : w) lines.push_back(std::to_string(x));
  TableWrite t;
  t.lines = &lines;
  const Reply r = f.model.write_table("SEQ1.TABLE", t, *f.session);
  REQUIRE(r.shape() == Reply::Shape::ok);
}

// SEQ1 with PRESCALE = 10 ticks (0.08 µs), the table run once.
struct Rig {
  Rig() {
    f.write("SEQ1.PRESCALE.UNITS", "us");
    f.write("SEQ1.PRESCALE", "0.08");
    f.write("SEQ1.REPEATS", "1");
  }
  Ticks a(bool v) const { return Ticks(f.edges_of("SEQ1.OUTA", v)); }
  Ticks b(bool v) const { return Ticks(f.edges_of("SEQ1.OUTB", v)); }
  Ticks active(bool v) const { return Ticks(f.edges_of("SEQ1.ACTIVE", v)); }
  std::string read(const std::string& field) { return f.read("SEQ1." + field); }

  test::Fpga f{registry()};
};

Ticks every(Tick first, Tick step, Tick n) {
  Ticks t;
  for (Tick i = 0; i < n; ++i) t.push_back(first + i * step);
  return t;
}

}  // namespace

TEST_CASE("seq: the test's row encoding matches the reference's worked example") {
  CHECK(words({{10, kPosAGe, -2000, 50, kA, 50, 0}}) ==
        std::vector<std::uint32_t>{1507338, 4294965296, 50, 50});
}

TEST_CASE("seq: two rows with REPEATS, TIME1/TIME2 × PRESCALE, table REPEATS 2") {
  Rig r;
  CHECK(r.read("STATE") == "UNREADY");  // no table yet
  // Row 1: twice A for 30 ticks then B for 20. Row 2: no phase 1, A+B for 40.
  write_table(r.f, words({{2, kImmediate, 0, 3, kA, 2, kB}, {1, kImmediate, 0, 0, 0, 4, kA | kB}}));
  r.f.write("SEQ1.REPEATS", "2");
  CHECK(r.read("STATE") == "WAIT_ENABLE");
  r.f.write("SEQ1.ENABLE", "ONE");  // tick 0 → starts at 2
  // Table pass 1: row1 [2,32) A, [32,52) B, [52,82) A, [82,102) B; row2 [102,142) AB;
  // pass 2: [142,172) A, [172,192) B, [192,222) A, [222,242) B; [242,282) AB; end 282.
  r.f.run(60);
  CHECK(r.read("STATE") == "PHASE1");
  CHECK(r.read("TABLE_LINE") == "1");
  CHECK(r.read("LINE_REPEAT") == "2");
  CHECK(r.read("TABLE_REPEAT") == "1");
  r.f.run(50);  // tick 110
  CHECK(r.read("STATE") == "PHASE2");
  CHECK(r.read("TABLE_LINE") == "2");
  CHECK(r.read("LINE_REPEAT") == "1");
  r.f.run(40);  // tick 150
  CHECK(r.read("TABLE_REPEAT") == "2");
  CHECK(r.read("TABLE_LINE") == "1");
  r.f.run(1000);
  CHECK(r.a(true) == Ticks{2, 52, 102, 192, 242});  // A held from row 2 into pass 2
  CHECK(r.a(false) == Ticks{32, 82, 172, 222, 282});
  CHECK(r.b(true) == Ticks{32, 82, 172, 222});  // B held from row 1 into row 2
  CHECK(r.b(false) == Ticks{52, 142, 192, 282});
  CHECK(r.active(true) == Ticks{2});
  CHECK(r.active(false) == Ticks{282});
  CHECK(r.read("STATE") == "WAIT_ENABLE");
  CHECK(r.read("TABLE_REPEAT") == "2");
  CHECK(r.read("TABLE_LINE") == "2");
}

TEST_CASE("seq: POSA>=POSITION triggers on an encoder ramp, checked at each repeat") {
  Rig r;
  auto* ramp = dynamic_cast<test::Ramp*>(r.f.engine.behaviour("INENC1"));
  REQUIRE(ramp != nullptr);
  r.f.write("SEQ1.POSA", "INENC1.VAL");
  write_table(r.f, words({{1, kPosAGe, 500, 5, kA, 5, 0}, {2, kPosAGe, 600, 1, kA, 1, 0}}));
  ramp->play(r.f.engine, {{1000, 0, 1, 10, 2000}});  // POSA = k at 1000 + 10k
  r.f.write("SEQ1.ENABLE", "ONE");
  r.f.run(3000);
  CHECK(r.read("STATE") == "WAIT_TRIGGER");
  CHECK(r.f.bit("SEQ1.ACTIVE"));
  r.f.run(10000);
  // POSA 500 at 6000 → A [6001, 6051), phase 2 to 6101; row 2 waits (POSA 510) until
  // POSA 600 at 7000 → A [7001, 7011), phase 2 to 7021; repeat 2: POSA 602 ≥ 600
  // already → A [7021, 7031), ends 7041.
  CHECK(r.a(true) == Ticks{6001, 7001, 7021});
  CHECK(r.a(false) == Ticks{6051, 7011, 7031});
  CHECK(r.active(false) == Ticks{7041});
}

TEST_CASE("seq: BITA=1 trigger; the trigger is not watched during the phases") {
  Rig r;
  write_table(r.f, words({{3, kBitA1, 0, 1, kA, 1, 0}}));
  r.f.write("SEQ1.ENABLE", "ONE");
  r.f.run(100);
  CHECK(r.read("STATE") == "WAIT_TRIGGER");
  r.f.write("SEQ1.BITA", "ONE");  // tick 100: seen at 101, A at 102
  r.f.run(25);
  r.f.write("SEQ1.BITA", "ZERO");  // tick 125, in repeat 2's phase 1: it runs on
  r.f.run(75);                     // repeat 3 at 142 waits
  CHECK(r.read("STATE") == "WAIT_TRIGGER");
  CHECK(r.read("LINE_REPEAT") == "3");
  r.f.write("SEQ1.BITA", "ONE");  // tick 200 → A at 202
  r.f.run(100);
  CHECK(r.a(true) == Ticks{102, 122, 202});
  CHECK(r.a(false) == Ticks{112, 132, 212});
  CHECK(r.active(false) == Ticks{222});
}

TEST_CASE("seq: REPEATS 0 runs for ever until ENABLE falls; a rising ENABLE starts again") {
  Rig r;
  write_table(r.f, words({{1, kImmediate, 0, 1, kA, 1, 0}}));
  r.f.write("SEQ1.REPEATS", "0");
  r.f.write("SEQ1.ENABLE", "ONE");
  r.f.run(1005);  // pulses at 2 + 20k; the 51st is high at 1005
  CHECK(r.read("TABLE_REPEAT") == "51");
  r.f.write("SEQ1.ENABLE", "ZERO");  // seen at 1006 → all low at 1007
  r.f.run(995);
  CHECK(r.a(true) == every(2, 20, 51));
  Ticks falls = every(12, 20, 50);
  falls.push_back(1007);
  CHECK(r.a(false) == falls);
  CHECK(r.active(false) == Ticks{1007});
  CHECK(r.read("STATE") == "WAIT_ENABLE");
  r.f.write("SEQ1.ENABLE", "ONE");  // tick 2000
  r.f.run(10);
  CHECK(r.read("TABLE_REPEAT") == "1");
  CHECK(r.a(true).back() == 2002);
  CHECK(r.active(true) == Ticks{2, 2002});
}

TEST_CASE("seq: a table written while running → UNREADY until ENABLE falls") {
  Rig r;
  write_table(r.f, words({{0, kImmediate, 0, 1, kA, 1, 0}}));
  r.f.write("SEQ1.ENABLE", "ONE");
  r.f.run(505);                                                // A high [502, 512)
  write_table(r.f, words({{1, kImmediate, 0, 1, kB, 1, 0}}));  // tick 505 → low at 506
  r.f.run(100);
  CHECK(r.read("STATE") == "UNREADY");
  CHECK(r.read("HEALTH") == "Table overwritten while in used");
  CHECK(r.read("TABLE_LINE") == "0");
  CHECK(r.a(false).back() == 506);
  CHECK(r.active(false) == Ticks{506});
  r.f.write("SEQ1.ENABLE", "ONE");  // no edge (still high): nothing happens
  r.f.run(10);
  CHECK(r.read("STATE") == "UNREADY");
  r.f.write("SEQ1.ENABLE", "ZERO");
  r.f.run(10);
  CHECK(r.read("STATE") == "WAIT_ENABLE");
  r.f.write("SEQ1.ENABLE", "ONE");  // tick 625: the new table, B [627, 637)
  r.f.run(100);
  CHECK(r.b(true) == Ticks{627});
  CHECK(r.b(false) == Ticks{637});
  CHECK(r.active(false) == Ticks{506, 647});
  CHECK(r.read("HEALTH") == "OK");
}

TEST_CASE("seq: ophyd-async style — one Immediate row, REPEATS n, TIME1 live, TIME2 dead") {
  test::Fpga f(registry());
  f.write("SEQ1.PRESCALE.UNITS", "us");
  f.write("SEQ1.ENABLE", "ZERO");
  f.write("SEQ1.PRESCALE", "1");  // 125 ticks
  f.write("SEQ1.REPEATS", "1");
  write_table(f, words({{5, kImmediate, 0, 8, kA, 2, 0}}));  // 8 µs live, 2 µs dead
  f.write("SEQ1.ENABLE", "ONE");
  f.run(1);
  CHECK_FALSE(f.bit("SEQ1.ACTIVE"));
  f.run(1);
  CHECK(f.bit("SEQ1.ACTIVE"));  // kickoff sees ACTIVE
  f.run(10000);
  // Pulses of 1000 ticks every 1250 from tick 2.
  CHECK(Ticks(f.edges_of("SEQ1.OUTA", true)) == every(2, 1250, 5));
  CHECK(Ticks(f.edges_of("SEQ1.OUTA", false)) == every(1002, 1250, 5));
  CHECK(Ticks(f.edges_of("SEQ1.ACTIVE", false)) == Ticks{6252});  // complete
  CHECK(f.read("SEQ1.LINE_REPEAT") == "5");
}
