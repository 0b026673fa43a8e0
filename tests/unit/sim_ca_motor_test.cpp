// The simulated motor record without sockets: puts through Pv::put with a
// completion, advance() in simulation ticks, every posted change logged with
// the tick of its time stamp. Expected ticks are worked out by hand in the
// comments (a = (VELO - VBAS) / ACCL; ramp distance v^2 / 2a).
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/motor_record.hpp"
#include "sim_ca_device_test_util.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::ca;
using namespace pandafly::sim::ca::test;

namespace {

MotorConfig base_config() {
  MotorConfig c;
  c.prefix = "m";
  c.velo = 10;
  c.accl = 0.5;  // a = 20 EGU/s^2, ramps of 2.5 EGU
  c.vmax = 30;
  return c;
}

// A motor, its PVs and a log of every value change.
struct Rig : PostLog {
  explicit Rig(MotorConfig config = base_config()) : motor(std::move(config)) {
    motor.publish(db);
    for (const auto& name : db.names()) {
      db.find(name)->observe(
          [this, field = name.substr(name.find('.') + 1)](const Pv& p, unsigned mask) {
            if (mask & kDbeValue) log.push_back({field, number(p.value()), tick_of(p.stamp())});
          });
    }
    motor.advance(0, wall_of(0));
  }

  [[nodiscard]] double get(const std::string& field) const {
    return number(motor.field(field)->value());
  }
  // A put-callback (CA_PROTO_WRITE_NOTIFY) that records when it completed, or,
  // without `done`, a plain write (CA_PROTO_WRITE: &plain_write_done, as the server passes).
  std::uint32_t put(const std::string& field, Elements value, Done* done = nullptr) {
    Pv::Completion completion = &plain_write_done;
    if (done != nullptr) {
      completion = [this, done](std::uint32_t eca) {
        ++done->calls;
        done->eca = eca;
        done->tick = now;
      };
    }
    return motor.field(field)->put(std::move(value), std::move(completion));
  }
  std::uint32_t put(const std::string& field, double v, Done* done = nullptr) {
    return put(field, Doubles{v}, done);
  }
  // Advances event by event, as the server's timer and request batches do.
  void run_to(Tick t) {
    for (Tick next = motor.next_wake(); next <= t; next = motor.next_wake()) step(next);
    step(t);
  }
  void run_all() {
    while (motor.next_wake() != kNever) step(motor.next_wake());
  }
  void step(Tick t) {
    now = t;
    motor.advance(t, wall_of(t));
  }

  [[nodiscard]] std::vector<std::string> fields_at(Tick t) const {
    std::vector<std::string> out;
    for (const auto& p : log)
      if (p.tick == t) out.push_back(p.field);
    return out;
  }

  MotorRecord motor;
  PvDatabase db;
  Tick now = 0;
};

std::size_t index_of(const std::vector<std::string>& v, const std::string& s) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == s) return i;
  return v.size();
}

}  // namespace

TEST_CASE("motor: the fields and their CA types") {
  Rig rig;
  CHECK(rig.db.find("m.VAL")->native_type() == DbrType::double_);
  CHECK(rig.db.find("m")->name() == "m.VAL");
  CHECK(rig.db.find("m.MSTA")->native_type() == DbrType::double_);
  for (auto f : {"DMOV", "MOVN", "STOP", "HOMF", "HOMR", "HLS", "LLS", "TDIR", "ATHM", "PREC",
                 "TWF", "TWR", "LVIO"})
    CHECK(rig.db.find(std::string("m.") + f)->native_type() == DbrType::short_);
  CHECK(rig.db.find("m.EGU")->native_type() == DbrType::string);
  CHECK(rig.db.find("m.DESC")->native_type() == DbrType::string);
  CHECK(rig.db.find("m.SPMG")->metadata().enum_strings == Strings{"Stop", "Pause", "Move", "Go"});
  CHECK(rig.db.find("m.DIR")->metadata().enum_strings == Strings{"Pos", "Neg"});
  CHECK(rig.db.find("m.SET")->metadata().enum_strings == Strings{"Use", "Set"});
  CHECK(!rig.db.find("m.RBV")->writable());
  CHECK(rig.put("RBV", 3.0) == kEcaNoWriteAccess);
  CHECK(rig.get("DMOV") == 1);
  CHECK(rig.get("SPMG") == 3);
  CHECK(rig.get("ACCS") == 20.0);  // (VELO - VBAS) / ACCL
  CHECK(rig.get("MSTA") == 130);   // DONE | HOME: idle on the home position
  CHECK(rig.db.find("m.VAL")->metadata().units == "deg");
  CHECK(rig.db.find("m.VELO")->metadata().units == "deg/sec");  // the record's get_units
}

TEST_CASE("motor: the further fields a real motor record serves, their types, units and limits") {
  MotorConfig c = base_config();
  c.dhlm = 100;
  c.dllm = -50;
  c.mres = 0.001;
  Rig rig(c);
  const auto type = [&](const char* f) {
    return rig.db.find(std::string("m.") + f)->native_type();
  };
  for (auto f : {"JVEL", "JAR", "BDST", "BVEL", "BACC", "HOPR", "LOPR", "DIFF", "ERES", "RRES",
                 "UREV", "MRES"})
    CHECK(type(f) == DbrType::double_);
  for (auto f : {"JOGF", "JOGR", "MISS"}) CHECK(type(f) == DbrType::short_);
  for (auto f : {"RVAL", "RRBV", "SREV"}) CHECK(type(f) == DbrType::long_);
  for (auto f : {"CNEN", "UEIP", "URIP", "STAT", "SEVR"}) CHECK(type(f) == DbrType::enum_);
  CHECK(type("FRAC") == DbrType::float_);
  CHECK(rig.db.find("m.NAME")->value() == Elements{Strings{"m"}});
  CHECK(rig.db.find("m.RTYP")->value() == Elements{Strings{"motor"}});
  CHECK(rig.db.find("m.STAT")->metadata().enum_strings.size() == 16);
  CHECK(rig.db.find("m.SEVR")->metadata().enum_strings ==
        Strings{"NO_ALARM", "MINOR", "MAJOR", "INVALID"});
  CHECK(rig.get("STAT") == 0);
  CHECK(rig.get("SEVR") == 0);
  CHECK(rig.put("STAT", Enums{1}) == kEcaNoWriteAccess);
  CHECK(rig.get("SREV") == 200);
  CHECK(rig.get("UREV") == doctest::Approx(0.2));  // MRES * SREV
  CHECK(rig.get("ERES") == 0.001);
  CHECK(rig.get("JVEL") == 10);  // VELO
  CHECK(rig.get("JAR") == 20);   // VELO / ACCL
  CHECK(rig.get("BACC") == 0.5);
  // Units as the record's get_units writes them; control limits as it posts them.
  const auto meta = [&](const char* f) { return rig.db.find(std::string("m.") + f)->metadata(); };
  CHECK(meta("VELO").units == "deg/sec");
  CHECK(meta("JVEL").units == "deg/sec");
  CHECK(meta("ACCL").units == "sec");
  CHECK(meta("BACC").units == "sec");
  CHECK(meta("JAR").units == "deg/s/s");
  CHECK(meta("SREV").units == "steps/r");  // "steps/rev" cut to CA's 7 characters
  CHECK(meta("VELO").lower_ctrl == 0);     // VBAS
  CHECK(meta("VELO").upper_ctrl == 30);    // VMAX
  CHECK(meta("HLM").upper_ctrl == 1e300);  // recGbl's range of a DOUBLE
  CHECK(meta("HLM").lower_ctrl == -1e300);
  CHECK(meta("LLM").upper_ctrl == 1e300);
  CHECK(meta("VAL").upper_ctrl == 100);
  CHECK(meta("RVAL").upper_ctrl == doctest::Approx(100000));
  CHECK(meta("RVAL").lower_ctrl == doctest::Approx(-50000));
  CHECK(meta("RRBV").precision == 0);
  (void)rig.put("VBAS", 2.0);
  CHECK(meta("VELO").lower_ctrl == 2);
  // RVAL, RRBV and DIFF follow a move; RVAL is a raw target.
  (void)rig.put("VAL", 1.5);
  CHECK(rig.get("RVAL") == 1500);
  rig.run_to(ticks(0.1));
  CHECK(rig.get("DIFF") == doctest::Approx(1.5 - rig.get("DRBV")));
  rig.run_all();
  CHECK(rig.get("RRBV") == 1500);
  CHECK(rig.get("DIFF") == 0);
  Done raw;
  REQUIRE(rig.put("RVAL", Longs{-2000}, &raw) == kEcaNormal);
  CHECK(rig.get("VAL") == -2.0);
  rig.run_all();
  CHECK(raw.calls == 1);
  CHECK(rig.get("RRBV") == -2000);
  // UREV and SREV set MRES; the rest is kept as written.
  (void)rig.put("SREV", Longs{400});
  CHECK(rig.get("UREV") == doctest::Approx(0.4));
  (void)rig.put("UREV", 2.0);
  CHECK(rig.get("MRES") == doctest::Approx(0.005));
  (void)rig.put("FRAC", Floats{0.5F});
  (void)rig.put("CNEN", Enums{1});
  (void)rig.put("BDST", 0.1);
  CHECK(rig.get("FRAC") == 0.5);
  CHECK(rig.get("CNEN") == 1);
  CHECK(rig.get("BDST") == 0.1);
  // JVEL is kept in [VBAS, VMAX]; JAR <= 0 becomes JVEL / 0.1 s.
  (void)rig.put("JVEL", 50.0);
  CHECK(rig.get("JVEL") == 30);
  (void)rig.put("JAR", 0.0);
  CHECK(rig.get("JAR") == 300);
}

TEST_CASE("motor: out-of-range enum indexes are taken as the record takes them") {
  Rig rig;
  CHECK(rig.put("SPMG", Enums{4}) == kEcaNormal);
  CHECK(rig.get("SPMG") == 4);
  Done done;
  (void)rig.put("VAL", 1.0, &done);  // 4 is neither Stop nor Pause: it moves
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(rig.get("RBV") == 1.0);
  CHECK(rig.put("DIR", Enums{7}) == kEcaNormal);
  CHECK(rig.get("RBV") == -1.0);  // any index but Pos is Neg
}

TEST_CASE("motor: JOGF runs at JVEL with JAR while 1; 0 decelerates, VAL <- RBV") {
  // JVEL 5, JAR 10: ramp 0.5 s over 1.25 deg; at 2 s at 1.25 + 1.5 * 5 = 8.75;
  // JOGF 0: 0.5 s and 1.25 deg more, at rest on 10 at 2.5 s.
  Rig rig;
  (void)rig.put("JVEL", 5.0);
  (void)rig.put("JAR", 10.0);
  REQUIRE(rig.put("JOGF", Shorts{1}) == kEcaNormal);
  CHECK(rig.get("DMOV") == 0);
  rig.run_to(ticks(2));
  CHECK(rig.get("RBV") == doctest::Approx(8.75).epsilon(1e-9));
  (void)rig.put("JOGF", Shorts{0});
  rig.run_all();
  CHECK(rig.get("RBV") == doctest::Approx(10.0).epsilon(1e-9));
  CHECK(rig.get("VAL") == rig.get("RBV"));
  CHECK(rig.get("DMOV") == 1);
  CHECK(rig.of("DMOV").back().tick == ticks(2.5));
}

TEST_CASE("motor: 0 -> 5 at VELO 10, ACCL 0.5 completes when DMOV returns to 1") {
  // a = 10 / 0.5 = 20 deg/s^2; each ramp covers 0.5 * 10 * 0.5 = 2.5 deg, so
  // the two ramps cover the 5 deg without cruising: T = L/v + ACCL = 0.5 +
  // 0.5 = 1.0 s = 125 000 000 ticks (a triangle that just touches 10 deg/s).
  Rig rig;
  rig.log.clear();
  Done done;
  REQUIRE(rig.put("VAL", 5.0, &done) == kEcaNormal);
  CHECK(done.calls == 0);
  CHECK(rig.values("DMOV") == std::vector<double>{0});
  CHECK(rig.values("MOVN") == std::vector<double>{1});
  CHECK(rig.get("MSTA") == 128);  // DONE cleared; HOME, no MOVING before the first poll
  rig.run_all();
  const Tick end = kSecond;
  CHECK(done.calls == 1);
  CHECK(done.eca == kEcaNormal);
  CHECK(done.tick == end);
  const auto dmov = rig.of("DMOV");
  REQUIRE(dmov.size() == 2);
  CHECK(dmov[0].tick == 0);
  CHECK(dmov[1].value == 1);
  CHECK(dmov[1].tick == end);
  // The driver poll: RBV every 0.1 s of the move, x = 10 t^2 then 5 - 10 (1 - t)^2.
  const auto rbv = rig.of("RBV");
  const std::vector<double> expected{0.1, 0.4, 0.9, 1.6, 2.5, 3.4, 4.1, 4.6, 4.9, 5.0};
  REQUIRE(rbv.size() == expected.size());
  for (std::size_t i = 0; i < rbv.size(); ++i) {
    CHECK(rbv[i].tick == ticks(0.1 * static_cast<double>(i + 1)));
    CHECK(rbv[i].value == doctest::Approx(expected[i]).epsilon(1e-9));
  }
  CHECK(rig.get("RBV") == 5.0);
  CHECK(rig.get("DRBV") == 5.0);
  // One pass at the end: final RBV, MSTA, MOVN 0, DMOV 1.
  const auto at_end = rig.fields_at(end);
  CHECK(index_of(at_end, "RBV") < index_of(at_end, "MSTA"));
  CHECK(index_of(at_end, "MSTA") < index_of(at_end, "MOVN"));
  CHECK(index_of(at_end, "MOVN") < index_of(at_end, "DMOV"));
  CHECK(rig.values("MOVN") == std::vector<double>{1, 0});
  CHECK(rig.get("MSTA") == 2);  // DONE; DIRECTION cleared at rest
  CHECK(rig.get("TDIR") == 0);
}

TEST_CASE("motor: at the put DMOV 0, VAL, MSTA, MOVN; MOVING from the first poll; at rest TDIR 0") {
  // As a real motorSim IOC posts them: the put's pass DMOV 0, VAL, MSTA (DONE
  // cleared only), MOVN 1; the first poll (0.1 s) MSTA DIRECTION | MOVING;
  // RBV every 0.1 s in order; at rest MSTA DONE without DIRECTION, TDIR 0.
  MotorConfig c = base_config();
  c.position = 1;  // off home: MSTA 2 at rest
  Rig rig(c);
  rig.log.clear();
  (void)rig.put("VAL", 6.0);
  const auto at_put = rig.fields_at(0);
  REQUIRE(!at_put.empty());
  CHECK(at_put.front() == "DMOV");
  CHECK(index_of(at_put, "DMOV") < index_of(at_put, "VAL"));
  CHECK(index_of(at_put, "VAL") < index_of(at_put, "MSTA"));
  CHECK(index_of(at_put, "MSTA") < index_of(at_put, "MOVN"));
  CHECK(index_of(at_put, "MOVN") < at_put.size());
  CHECK(rig.values("MSTA") == std::vector<double>{0});  // neither DONE nor MOVING yet
  CHECK(rig.of("TDIR").empty());                        // the driver tells it at the poll
  rig.run_to(ticks(0.1));
  CHECK(rig.values("MSTA") == std::vector<double>{0, 1025});  // DIRECTION | MOVING
  CHECK(rig.values("TDIR") == std::vector<double>{1});
  rig.run_all();
  const auto rbv = rig.of("RBV");
  REQUIRE(rbv.size() == 10);
  for (std::size_t i = 0; i < rbv.size(); ++i)
    CHECK(rbv[i].tick == ticks(0.1 * static_cast<double>(i + 1)));
  CHECK(rig.values("MSTA") == std::vector<double>{0, 1025, 2});
  CHECK(rig.values("TDIR") == std::vector<double>{1, 0});
  CHECK(rig.of("TDIR").back().tick == kSecond);
  // A move down: TDIR 0 at the put, DIRECTION stays clear while moving.
  rig.log.clear();
  (void)rig.put("VAL", 1.0);
  rig.run_to(ticks(1.5));
  CHECK(rig.get("MSTA") == 1024);
  CHECK(rig.get("TDIR") == 0);
}

TEST_CASE("motor: MSTA while moving, at home and idle") {
  Rig rig;
  CHECK(rig.get("MSTA") == 130);
  Done done;
  (void)rig.put("VAL", 5.0, &done);
  rig.run_to(ticks(0.5));
  CHECK(rig.get("MSTA") == 1025);  // DIRECTION | MOVING
  rig.run_all();
  (void)rig.put("VAL", -3.0);
  rig.run_all();
  CHECK(rig.get("MSTA") == 2);  // DONE; last direction -
  (void)rig.put("VAL", 0.0);
  rig.run_all();
  CHECK(rig.get("MSTA") == 130);  // DONE | HOME (DIRECTION cleared at rest)
  CHECK(rig.get("ATHM") == 1);
}

TEST_CASE("motor: advancing in one jump posts the same changes at the same ticks") {
  Rig a, b;
  (void)a.put("VAL", 5.0);
  (void)b.put("VAL", 5.0);
  a.run_all();
  b.step(ticks(3));
  REQUIRE(a.log.size() == b.log.size());
  for (std::size_t i = 0; i < a.log.size(); ++i) {
    CHECK(a.log[i].field == b.log[i].field);
    CHECK(a.log[i].tick == b.log[i].tick);
    CHECK(a.log[i].value == b.log[i].value);
  }
}

TEST_CASE("motor: a move of length 0 still pulses DMOV and completes at once") {
  Rig rig;
  rig.run_to(ticks(1));
  rig.log.clear();
  Done done;
  REQUIRE(rig.put("VAL", 0.0, &done) == kEcaNormal);
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(1));
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  CHECK(rig.of("MOVN").empty());
  CHECK(rig.motor.next_wake() == kNever);
}

TEST_CASE("motor: soft limits refuse a move, restore VAL, set LVIO, pulse DMOV") {
  MotorConfig c = base_config();
  c.dhlm = 100;
  c.dllm = -100;
  Rig rig(c);
  CHECK(rig.db.find("m.VAL")->metadata().upper_ctrl == 100);
  CHECK(rig.db.find("m.VAL")->metadata().lower_ctrl == -100);
  rig.log.clear();
  Done done;
  REQUIRE(rig.put("VAL", 150.0, &done) == kEcaNormal);
  CHECK(done.calls == 1);
  CHECK(done.eca == kEcaNormal);
  CHECK(rig.get("VAL") == 0.0);
  CHECK(rig.values("VAL") == std::vector<double>{0.0});  // posted back
  CHECK(rig.get("LVIO") == 1);
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  CHECK(rig.motor.next_wake() == kNever);
  // A valid move clears LVIO.
  (void)rig.put("VAL", 50.0);
  CHECK(rig.get("LVIO") == 0);
  rig.run_all();
  CHECK(rig.get("RBV") == 50.0);
  // User limits follow OFF; HLM writes move the dial limit.
  (void)rig.put("OFF", 10.0);
  CHECK(rig.get("HLM") == 110.0);
  CHECK(rig.get("RBV") == 60.0);
  (void)rig.put("HLM", 70.0);
  CHECK(rig.get("DHLM") == 60.0);
}

TEST_CASE("motor: a hard limit switch: DMOV 1 and the callback at the trip, the axis coasts on") {
  // From 390 towards 450 at 10 deg/s (a = 20): 2.5 deg of ramp to 392.5 at
  // 0.5 s, 7.5 deg at 10 deg/s reach the switch at 400 at 1.25 s, then the
  // stop ramp: 0.5 s and 2.5 deg, at rest on 402.5 at 1.75 s. The record sees
  // the switch at the 1.3 s poll (400.475): VAL <- 400.475, DMOV 1, callback
  // done — while MOVN stays 1 until the axis rests (a real motorSim IOC: the
  // put-callback returns at the trip and VAL differs from the final RBV).
  MotorConfig c = base_config();
  c.position = 390;
  c.high_switch = 400;
  Rig rig(c);
  rig.log.clear();
  Done done;
  (void)rig.put("VAL", 450.0, &done);
  rig.run_to(ticks(1.2));
  CHECK(rig.get("HLS") == 0);
  CHECK(done.calls == 0);
  rig.run_to(ticks(1.3));  // first poll past the switch: 400.475, still moving
  CHECK(rig.get("HLS") == 1);
  CHECK(rig.get("RBV") == doctest::Approx(400.475).epsilon(1e-9));
  CHECK(rig.get("MSTA") == 1029);  // DIRECTION | PLUS_LS | MOVING
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(1.3));
  CHECK(rig.get("DMOV") == 1);
  CHECK(rig.get("MOVN") == 0);  // an active limit switch: MOVN 0 while it decelerates
  CHECK(rig.get("VAL") == doctest::Approx(400.475).epsilon(1e-9));
  // At the trip: RBV, MSTA (polled), MOVN 0, then VAL <- RBV, DMOV 1.
  const auto at_trip = rig.fields_at(ticks(1.3));
  CHECK(index_of(at_trip, "RBV") < index_of(at_trip, "MOVN"));
  CHECK(index_of(at_trip, "MOVN") < index_of(at_trip, "VAL"));
  CHECK(index_of(at_trip, "VAL") < index_of(at_trip, "DMOV"));
  CHECK(index_of(at_trip, "DMOV") < at_trip.size());
  const auto rbv_before_end = rig.of("RBV").size();
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  CHECK(rig.values("MOVN") == std::vector<double>{1, 0});
  CHECK(rig.of("RBV").size() == rbv_before_end + 5);  // 1.4 .. 1.7 s polls and the rest
  CHECK(rig.of("RBV").back().tick == ticks(1.75));
  CHECK(rig.get("RBV") == doctest::Approx(402.5).epsilon(1e-9));
  CHECK(rig.get("VAL") == doctest::Approx(400.475).epsilon(1e-9));  // not the final RBV
  CHECK(rig.get("MSTA") == 6);  // DONE | PLUS_LS (DIRECTION cleared at rest)
  // Further + is refused by the switch (no motion), - moves off it.
  Done again;
  (void)rig.put("VAL", 410.0, &again);
  CHECK(again.calls == 1);
  CHECK(rig.get("RBV") == doctest::Approx(402.5).epsilon(1e-9));
  (void)rig.put("VAL", 395.0);
  rig.run_all();
  CHECK(rig.get("HLS") == 0);
  CHECK(rig.get("RBV") == 395.0);
}

TEST_CASE("motor: STOP mid-move decelerates, resets STOP, VAL <- RBV, completes the put") {
  // 0 -> 100: at 2 s the axis cruises at 10 deg/s at 2.5 + 1.5 * 10 = 17.5;
  // STOP ramps down in 0.5 s over 2.5 deg: at rest on 20 at 2.5 s.
  Rig rig;
  Done done;
  (void)rig.put("VAL", 100.0, &done);
  rig.run_to(ticks(2));
  rig.log.clear();
  Done stop;
  REQUIRE(rig.put("STOP", Shorts{1}, &stop) == kEcaNormal);
  CHECK(stop.calls == 1);
  CHECK(rig.values("STOP") == std::vector<double>{1, 0});
  CHECK(done.calls == 0);
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(2.5));
  CHECK(rig.get("RBV") == doctest::Approx(20.0).epsilon(1e-9));
  CHECK(rig.get("VAL") == rig.get("RBV"));
  CHECK(rig.get("DVAL") == rig.get("DRBV"));
  CHECK(rig.get("DMOV") == 1);
}

TEST_CASE("motor: a plain VAL put while moving stops (overshoot), then moves at the next poll") {
  // 0 -> 100 with a put-callback; at 2.05 s (18.0, +10 deg/s) a plain put of
  // VAL = 10: the stop ramps down in 0.5 s over 2.5 deg to rest on 20.5 at
  // 2.55 s; the 2.6 s poll sees it at rest and starts 20.5 -> 10 (10.5 deg at
  // 10 deg/s with 2.5 deg ramps: 1.55 s): done at 4.15 s, the pending callback
  // completes then; DMOV stays 0 throughout.
  Rig rig;
  rig.log.clear();
  Done first;
  (void)rig.put("VAL", 100.0, &first);
  rig.run_to(ticks(2.05));
  REQUIRE(rig.put("VAL", 10.0) == kEcaNormal);
  CHECK(rig.get("VAL") == 10.0);
  const auto motion = rig.motor.motion();
  CHECK(motion->position(ticks(2.55)) == doctest::Approx(20.5).epsilon(1e-9));
  CHECK(motion->velocity(ticks(2.57)) == 0);  // at rest until the poll
  CHECK(motion->position(ticks(2.6)) == doctest::Approx(20.5).epsilon(1e-9));
  CHECK(motion->velocity(ticks(2.61)) < 0);
  rig.run_all();
  CHECK(first.calls == 1);
  CHECK(first.tick == ticks(4.15));
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  CHECK(rig.of("DMOV").back().tick == ticks(4.15));
  double highest = 0;
  for (const auto& p : rig.of("RBV")) highest = std::max(highest, p.value);
  CHECK(highest == doctest::Approx(20.5).epsilon(1e-9));  // the overshoot was read back
  CHECK(rig.get("RBV") == 10.0);
  CHECK(rig.get("TDIR") == 0);
  // A target ahead but inside the stopping distance is overshot and come back to.
  rig.log.clear();
  (void)rig.put("VAL", 100.0);
  rig.run_to(ticks(6.05));  // 4.15 s + 0.5 s ramp, then 10 deg/s: at 26.5
  (void)rig.put("VAL", 27.0);
  rig.run_all();
  highest = 0;
  for (const auto& p : rig.of("RBV")) highest = std::max(highest, p.value);
  CHECK(highest == doctest::Approx(29.0).epsilon(1e-9));
  CHECK(rig.get("RBV") == 27.0);
}

TEST_CASE("motor: a second VAL put-callback while one is pending is queued until the first ends") {
  // 0 -> 100 (10 / 10 + 0.5 = 10.5 s) with a callback; at 2 s a second
  // put-callback VAL = 10 waits: VAL stays 100, the move is not re-planned.
  // At 10.5 s the first completes (DMOV 1), then VAL = 10 is processed:
  // 100 -> 10 = 9.5 s, done at 20 s (a real motorSim IOC queues the
  // put-notify the same way).
  Rig rig;
  rig.log.clear();
  Done first, second;
  (void)rig.put("VAL", 100.0, &first);
  rig.run_to(ticks(2));
  const Tick end_before = rig.motor.motion()->end_tick();
  REQUIRE(rig.put("VAL", 10.0, &second) == kEcaNormal);
  CHECK(rig.get("VAL") == 100.0);
  CHECK(rig.motor.motion()->end_tick() == end_before);
  rig.run_all();
  CHECK(first.calls == 1);
  CHECK(first.tick == ticks(10.5));
  CHECK(second.calls == 1);
  CHECK(second.tick == ticks(20));
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1, 0, 1});
  const auto dmov = rig.of("DMOV");
  CHECK(dmov[1].tick == ticks(10.5));
  CHECK(dmov[2].tick == ticks(10.5));
  CHECK(rig.values("VAL") == std::vector<double>{100, 10});
  CHECK(rig.of("VAL").back().tick == ticks(10.5));
  CHECK(rig.get("RBV") == 10.0);
}

TEST_CASE("motor: SPMG Pause: DMOV stays 0, the callback stays pending, Go completes on arrival") {
  // 0 -> 100 with a callback; Pause at 2 s (17.5, +10 deg/s): at rest on 20 at
  // 2.5 s (MOVN 0) but DMOV stays 0 and the callback pending. Go at 3 s:
  // 20 -> 100 = 80 / 10 + 0.5 = 8.5 s, arrival and completion at 11.5 s.
  Rig rig;
  rig.log.clear();
  Done done;
  (void)rig.put("VAL", 100.0, &done);
  rig.run_to(ticks(2));
  REQUIRE(rig.put("SPMG", Enums{1}) == kEcaNormal);
  rig.run_to(ticks(3));
  CHECK(done.calls == 0);
  CHECK(rig.values("DMOV") == std::vector<double>{0});
  CHECK(rig.values("MOVN") == std::vector<double>{1, 0});
  CHECK(rig.of("MOVN").back().tick == ticks(2.5));
  CHECK(rig.get("RBV") == doctest::Approx(20.0).epsilon(1e-9));
  CHECK(rig.get("VAL") == 100.0);  // the target is kept
  CHECK(rig.motor.next_wake() == kNever);
  (void)rig.put("SPMG", Enums{3});
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(11.5));
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  CHECK(rig.of("DMOV").back().tick == ticks(11.5));
  CHECK(rig.get("RBV") == 100.0);
  // Move: a target written while paused waits (DMOV 0), runs once, then SPMG <- Pause.
  (void)rig.put("SPMG", Enums{1});
  Done moved;
  (void)rig.put("VAL", 95.0, &moved);
  CHECK(rig.get("DMOV") == 0);
  CHECK(moved.calls == 0);
  (void)rig.put("SPMG", Enums{2});
  rig.run_all();
  CHECK(moved.calls == 1);
  CHECK(rig.get("RBV") == 95.0);
  CHECK(rig.get("SPMG") == 1);
}

TEST_CASE("motor: VAL written while SPMG Stop is kept; DMOV 0 until Go and the move") {
  // SPMG Stop at rest; at 1 s a put-callback VAL = 50: VAL 50 posted, DMOV
  // 0, no motion. Go at 2 s: 0 -> 50 = 5 + 0.5 s, completes at 7.5 s.
  Rig rig;
  (void)rig.put("SPMG", Enums{0});
  rig.run_to(ticks(1));
  rig.log.clear();
  Done done;
  REQUIRE(rig.put("VAL", 50.0, &done) == kEcaNormal);
  CHECK(rig.get("VAL") == 50.0);
  CHECK(rig.values("VAL") == std::vector<double>{50});
  CHECK(rig.values("DMOV") == std::vector<double>{0});
  CHECK(rig.motor.next_wake() == kNever);
  rig.run_to(ticks(2));
  CHECK(done.calls == 0);
  CHECK(rig.of("MOVN").empty());
  (void)rig.put("SPMG", Enums{3});
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(7.5));
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  CHECK(rig.get("RBV") == 50.0);
  // STOP while a target waits forgets it: VAL <- RBV, DMOV 1, callback done.
  (void)rig.put("SPMG", Enums{0});
  Done forgotten;
  (void)rig.put("VAL", 30.0, &forgotten);
  CHECK(rig.get("DMOV") == 0);
  (void)rig.put("STOP", Shorts{1});
  CHECK(forgotten.calls == 1);
  CHECK(rig.get("VAL") == 50.0);
  CHECK(rig.get("DMOV") == 1);
}

TEST_CASE("motor: homing runs at HVEL to the home switch and stops there") {
  // HOMR from 5 to home 0 at HVEL 2 (a = 2 / 0.5 = 4): ramps of 0.5 s and
  // 0.5 deg, 4 deg cruise in 2 s: 3 s.
  MotorConfig c = base_config();
  c.position = 5;
  Rig rig(c);
  CHECK(rig.get("ATHM") == 0);
  CHECK(rig.put("HOMR", Shorts{0}) == kEcaPutFail);
  Done done;
  REQUIRE(rig.put("HOMR", Shorts{1}, &done) == kEcaNormal);
  CHECK(rig.get("HOMR") == 1);
  rig.run_all();
  CHECK(done.tick == ticks(3));
  CHECK(rig.get("HOMR") == 0);
  CHECK(rig.get("ATHM") == 1);
  CHECK(rig.get("RBV") == 0.0);
  CHECK(rig.get("VAL") == 0.0);
  CHECK(rig.get("MSTA") == 16384 + 128 + 2);  // HOMED | HOME | DONE
}

TEST_CASE("motor: HOMF with home behind runs to the limit switch, reverses, stops at home") {
  MotorConfig c = base_config();
  c.position = 5;
  c.high_switch = 10;
  Rig rig(c);
  Done done;
  (void)rig.put("HOMF", Shorts{1}, &done);
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(rig.get("RBV") == 0.0);
  CHECK(rig.get("ATHM") == 1);
  CHECK(rig.get("HOMF") == 0);
  double highest = 0;
  for (const auto& p : rig.of("RBV")) highest = std::max(highest, p.value);
  CHECK(highest > 10.0);  // went past the switch before reversing
  CHECK(rig.values("HLS") == std::vector<double>{1, 0});
}

TEST_CASE("motor: tweak forward and reverse by TWV") {
  Rig rig;
  (void)rig.put("TWV", 2.0);
  Done done;
  REQUIRE(rig.put("TWF", Shorts{1}, &done) == kEcaNormal);
  CHECK(rig.get("TWF") == 0);
  CHECK(rig.get("VAL") == 2.0);
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(rig.get("RBV") == 2.0);
  (void)rig.put("TWR", Shorts{1});
  (void)rig.put("TWR", Shorts{1});
  CHECK(rig.get("VAL") == -2.0);  // the second tweak is relative to the new VAL
  rig.run_all();
  CHECK(rig.get("RBV") == -2.0);
}

TEST_CASE("motor: VELO clamped into [VBAS, VMAX]; ACCL and ACCS kept consistent") {
  Rig rig;
  (void)rig.put("VELO", 50.0);
  CHECK(rig.get("VELO") == 30.0);
  CHECK(rig.get("ACCS") == 60.0);  // 30 / 0.5
  (void)rig.put("VBAS", 5.0);
  (void)rig.put("VELO", 1.0);
  CHECK(rig.get("VELO") == 5.0);
  CHECK(rig.get("ACCS") == 0.0);
  (void)rig.put("VELO", 10.0);
  CHECK(rig.get("ACCS") == 10.0);  // (10 - 5) / 0.5
  (void)rig.put("ACCL", 0.25);
  CHECK(rig.get("ACCS") == 20.0);
  (void)rig.put("ACCS", 10.0);
  CHECK(rig.get("ACCL") == 0.5);
  (void)rig.put("VMAX", 0.0);  // no upper bound
  (void)rig.put("VELO", 100.0);
  CHECK(rig.get("VELO") == 100.0);
  CHECK(rig.put("VELO", 0.0) == kEcaPutFail);
  CHECK(rig.put("ACCL", -1.0) == kEcaPutFail);
  CHECK(rig.put("VAL", std::nan("")) == kEcaPutFail);
}

TEST_CASE("motor: VBAS > 0 ramps from rest at (VELO - VBAS) / ACCL") {
  // VELO 10, VBAS 5, ACCL 0.5: a = 10; 0 -> 20: ramps of 1 s and 5 deg, 10
  // deg cruise in 1 s: 3 s (the record would take 2.5 s starting at VBAS).
  MotorConfig c = base_config();
  c.vbas = 5;
  Rig rig(c);
  Done done;
  (void)rig.put("VAL", 20.0, &done);
  rig.run_all();
  CHECK(done.tick == ticks(3));
}

TEST_CASE("motor: SET = Set redefines the offset without motion") {
  Rig rig;
  rig.log.clear();
  (void)rig.put("SET", Enums{1});
  Done done;
  (void)rig.put("VAL", 90.0, &done);
  CHECK(done.calls == 1);
  CHECK(rig.get("OFF") == 90.0);
  CHECK(rig.get("RBV") == 90.0);
  CHECK(rig.get("DRBV") == 0.0);
  CHECK(rig.of("DMOV").empty());
  CHECK(rig.motor.next_wake() == kNever);
  CHECK(rig.put("DVAL", 1.0) == kEcaPutFail);
  (void)rig.put("SET", Enums{0});
  (void)rig.put("VAL", 95.0);
  rig.run_all();
  CHECK(rig.get("DRBV") == 5.0);
  CHECK(rig.get("RBV") == 95.0);
}

TEST_CASE("motor: FOFF Variable/Frozen; SET mode keeps the dial position and dial limits") {
  MotorConfig c = base_config();
  c.dhlm = 100;
  c.dllm = -100;
  Rig rig(c);
  CHECK(rig.get("FOFF") == 0);  // Variable, the record's default
  (void)rig.put("SET", Enums{1});
  (void)rig.put("VAL", 30.0);
  CHECK(rig.get("OFF") == 30.0);
  CHECK(rig.get("DRBV") == 0.0);
  CHECK(rig.get("DHLM") == 100.0);  // dial limits stay; the user ones follow OFF
  CHECK(rig.get("HLM") == 130.0);
  // Frozen: the record would redefine the controller's position (not simulated).
  (void)rig.put("FOFF", Enums{1});
  CHECK(rig.put("VAL", 40.0) == kEcaPutFail);
  CHECK(rig.get("OFF") == 30.0);
  (void)rig.put("FOFF", Enums{0});
  (void)rig.put("SET", Enums{0});
  CHECK(rig.get("RBV") == 30.0);
}

TEST_CASE("motor: with DIR = Neg, HLS is the switch at the user high end (the low dial one)") {
  // motorRecord: hls = ((DIR == Pos) == (MRES >= 0)) ? RHLS : RLLS; MSTA has the raw ones.
  MotorConfig c = base_config();
  c.dir_negative = true;
  c.low_switch = -5.0;  // dial
  c.high_switch = 5.0;
  Rig rig(c);
  Done done;
  (void)rig.put("VAL", 20.0, &done);  // user +20 = dial -20: runs into the dial -5 switch
  rig.run_all();
  CHECK(done.calls == 1);
  CHECK(rig.get("HLS") == 1);
  CHECK(rig.get("LLS") == 0);
  const auto msta = static_cast<unsigned>(rig.get("MSTA"));
  CHECK((msta & (1U << 13)) != 0);  // MINUS_LS: the raw low switch
  CHECK((msta & (1U << 2)) == 0);
  CHECK(rig.get("DRBV") <= -5.0);
}

TEST_CASE("motor: DIR = Neg and OFF convert user to dial") {
  Rig rig;
  (void)rig.put("DIR", Enums{1});
  (void)rig.put("OFF", 10.0);
  CHECK(rig.get("RBV") == 10.0);
  (void)rig.put("VAL", 7.0);  // dial = (7 - 10) * -1 = 3
  CHECK(rig.get("DVAL") == 3.0);
  rig.run_to(ticks(0.1));
  CHECK(rig.get("TDIR") == 1);  // dial direction, from the first poll
  rig.run_all();
  CHECK(rig.get("DRBV") == 3.0);
  CHECK(rig.get("RBV") == 7.0);
  CHECK(rig.get("TDIR") == 0);  // at rest
  (void)rig.put("DVAL", 4.0);
  CHECK(rig.get("VAL") == 6.0);
}

TEST_CASE("motor: DLY holds DMOV at 0 after the motion; MRES rounds the read-back") {
  MotorConfig c = base_config();
  c.dly = 0.2;
  c.mres = 0.1;
  Rig rig(c);
  Done done;
  (void)rig.put("VAL", 5.03, &done);  // moves to 5.0, the nearest step
  rig.run_all();
  CHECK(rig.of("MOVN").back().tick == ticks(1));
  CHECK(done.tick == ticks(1.2));
  CHECK(rig.of("DMOV").back().tick == ticks(1.2));
  CHECK(rig.get("RBV") == 5.0);
  for (const auto& p : rig.of("RBV"))
    CHECK(std::abs(p.value * 10 - std::round(p.value * 10)) < 1e-9);
}

TEST_CASE("motor: the encoder view follows the dial motion count by count") {
  // 0 -> 5 deg at 10 000 counts/deg + 100: counts 100 .. 50 100, each change
  // at the first tick where floor(10000 * dial + 100) differs.
  Rig rig;
  auto enc = rig.motor.encoder_motion(10000.0, 100.0);
  Tick changed_at = -1;
  const auto sub = rig.motor.subscribe_motion_change([&](Tick t) { changed_at = t; });
  rig.run_to(ticks(0.25));
  (void)rig.put("VAL", 5.0);
  CHECK(changed_at == ticks(0.25));
  const auto dial = rig.motor.motion();
  CHECK(enc->count(0) == 100);
  std::int32_t expected = 100;
  Tick t = 0;
  for (Tick u = enc->next_change(t); u != kNever; t = u, u = enc->next_change(u)) {
    REQUIRE(u > t);
    REQUIRE(enc->count(u - 1) == expected);
    ++expected;
    REQUIRE(enc->count(u) == expected);
    REQUIRE(enc->position(u) == dial->position(u) * 10000.0 + 100.0);
  }
  CHECK(expected == 50100);
  CHECK(t <= ticks(1.25));
  // A STOP cuts the future short and the encoder sees the cut at once.
  // 5 -> -10 from 1.25 s cruises through 0 at 2.0 s; STOP rests on -2.5.
  rig.run_all();
  (void)rig.put("VAL", -10.0);
  rig.run_to(ticks(2.0));
  (void)rig.put("STOP", Shorts{1});
  CHECK(changed_at == ticks(2.0));
  rig.run_all();
  const double rest = dial->position(kNever - 1);
  CHECK(rest == doctest::Approx(-2.5).epsilon(1e-9));
  CHECK(enc->count(kNever - 1) == static_cast<std::int32_t>(std::floor(rest * 10000.0 + 100.0)));
  CHECK(enc->next_change(rig.now) == kNever);
}

TEST_CASE("motor: an encoder with a negative scale counts down exactly") {
  Rig rig;
  auto enc = rig.motor.encoder_motion(-1000.0, 0.0);
  (void)rig.put("VAL", 2.0);
  std::int32_t expected = 0;
  for (Tick u = enc->next_change(0); u != kNever; u = enc->next_change(u)) {
    REQUIRE(enc->count(u - 1) == expected);
    REQUIRE(enc->count(u) == --expected);
  }
  CHECK(expected == -2000);
  CHECK_THROWS_AS((void)rig.motor.encoder_motion(0.0, 0.0), std::invalid_argument);
}

TEST_CASE("motor fault: a stall at 6 stops the axis dead; DMOV 0 and the callback wait for STOP") {
  // 0 -> 20 at 10 deg/s (a = 20): ramp to 2.5 at 0.5 s, then 3.5 deg at
  // 10 deg/s reach 6 at 0.85 s, where the jam stops the axis dead.
  Rig rig;
  std::vector<std::string> faults;
  rig.motor.set_faults({.stall_at = {6.0}},
                       [&](std::string_view line) { faults.emplace_back(line); });
  auto enc = rig.motor.encoder_motion(10000.0, 0.0);
  rig.log.clear();
  Done done;
  (void)rig.put("VAL", 20.0, &done);
  rig.run_to(ticks(0.8));
  CHECK(faults.empty());
  CHECK(rig.get("MSTA") == 1025);  // DIRECTION | MOVING
  rig.run_all();                   // nothing after the stall: no poll, no end
  REQUIRE(faults.size() == 1);
  CHECK(faults[0] == "fault: motor rotation stalled at 6 (t=0.850000 s)");
  CHECK(rig.of("RBV").back().tick == ticks(0.85));
  CHECK(rig.get("RBV") == 6.0);
  CHECK(rig.get("MSTA") == 576);  // SLIP_STALL | PROBLEM; not DONE, not MOVING
  CHECK(rig.get("STAT") == 7);    // STATE
  CHECK(rig.get("SEVR") == 2);    // MAJOR
  CHECK(rig.get("MOVN") == 0);
  CHECK(rig.get("DMOV") == 0);
  CHECK(rig.values("DMOV") == std::vector<double>{0});
  CHECK(done.calls == 0);
  CHECK(rig.get("VAL") == 20.0);
  // The encoder stays on the jam, for ever.
  CHECK(enc->count(ticks(0.85)) == 60000);
  CHECK(enc->count(ticks(100)) == 60000);
  CHECK(enc->next_change(ticks(0.85)) == kNever);
  // Go, a new target (kept, as while SPMG Stop): the jammed axis does not move.
  (void)rig.put("SPMG", Enums{3});
  (void)rig.put("VAL", 2.0);
  rig.run_to(ticks(3));
  CHECK(rig.get("RBV") == 6.0);
  CHECK(rig.get("VAL") == 2.0);
  CHECK(rig.get("DMOV") == 0);
  CHECK(done.calls == 0);
  // STOP releases it: VAL <- RBV, DMOV 1, the callbacks complete, alarms clear.
  rig.log.clear();
  (void)rig.put("STOP", Shorts{1});
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(3));
  CHECK(rig.get("VAL") == 6.0);
  CHECK(rig.get("DMOV") == 1);
  CHECK(rig.get("MSTA") == 2);  // DONE
  CHECK(rig.get("STAT") == 0);
  CHECK(rig.get("SEVR") == 0);
  CHECK(index_of(rig.fields_at(ticks(3)), "VAL") < index_of(rig.fields_at(ticks(3)), "DMOV"));
  // The axis moves again; the fault fired once: a later move passes 6.
  Done back;
  (void)rig.put("VAL", 2.0, &back);
  rig.run_all();
  CHECK(back.calls == 1);
  CHECK(rig.get("RBV") == 2.0);
  Done through;
  (void)rig.put("VAL", 10.0, &through);
  rig.run_all();
  CHECK(through.calls == 1);
  CHECK(rig.get("RBV") == 10.0);
  CHECK(faults.size() == 1);
}

TEST_CASE("motor fault: SPMG Stop also releases a stalled axis") {
  Rig rig;
  rig.motor.set_faults({.stall_at = {-1.0}}, [](std::string_view) {});
  Done done;
  (void)rig.put("VAL", -5.0, &done);
  rig.run_all();
  CHECK(rig.get("RBV") == -1.0);
  CHECK(rig.get("DMOV") == 0);
  (void)rig.put("SPMG", Enums{1});  // Pause: still stalled
  CHECK(done.calls == 0);
  (void)rig.put("SPMG", Enums{0});  // Stop
  CHECK(done.calls == 1);
  CHECK(rig.get("VAL") == -1.0);
  CHECK(rig.get("DMOV") == 1);
  CHECK(rig.get("MSTA") == 2);
}

TEST_CASE("motor fault: a hard limit placed at 12 acts as a limit switch there") {
  // 0 -> 20: 12 is reached at 0.5 + 9.5 / 10 = 1.45 s; the axis decelerates
  // (0.5 s, 2.5 deg) to rest on 14.5 at 1.95 s. The 1.5 s poll sees the
  // switch at 12 + 0.5 - 0.025 = 12.475: HLS, VAL <- RBV, DMOV 1, callback.
  Rig rig;
  std::vector<std::string> faults;
  rig.motor.set_faults({.hard_limit_at = {12.0}},
                       [&](std::string_view line) { faults.emplace_back(line); });
  rig.log.clear();
  Done done;
  (void)rig.put("VAL", 20.0, &done);
  rig.run_to(ticks(1.4));
  CHECK(rig.get("HLS") == 0);
  CHECK(faults.empty());
  rig.run_to(ticks(1.5));
  CHECK(rig.get("HLS") == 1);
  CHECK(rig.get("RBV") == doctest::Approx(12.475).epsilon(1e-9));
  CHECK(rig.get("MSTA") == 1029);  // DIRECTION | PLUS_LS | MOVING
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(1.5));
  CHECK(rig.get("DMOV") == 1);
  CHECK(rig.get("VAL") == doctest::Approx(12.475).epsilon(1e-9));
  REQUIRE(faults.size() == 1);
  CHECK(faults[0] == "fault: motor rotation hit the hard limit at 12 (t=1.500000 s)");
  rig.run_all();
  CHECK(rig.of("RBV").back().tick == ticks(1.95));
  CHECK(rig.get("RBV") == doctest::Approx(14.5).epsilon(1e-9));
  CHECK(rig.get("MSTA") == 6);  // DONE | PLUS_LS
  CHECK(rig.values("DMOV") == std::vector<double>{0, 1});
  // Further + is refused by the switch, - moves off it.
  Done again;
  (void)rig.put("VAL", 16.0, &again);
  CHECK(again.calls == 1);
  CHECK(rig.get("RBV") == doctest::Approx(14.5).epsilon(1e-9));
  (void)rig.put("VAL", 3.0);
  rig.run_all();
  CHECK(rig.get("HLS") == 0);
  CHECK(rig.get("RBV") == 3.0);
  CHECK(faults.size() == 1);
}

TEST_CASE("motor fault: a hard limit placed during a move cuts it; the encoder sees the cut") {
  // 0 -> 20 from 0 s; at 0.3 s a switch appears at 5 (reached at 0.75 s): the
  // axis decelerates from there to rest on 7.5 at 1.25 s; the 0.8 s poll trips.
  Rig rig;
  Tick changed_at = -1;
  const auto sub = rig.motor.subscribe_motion_change([&](Tick t) { changed_at = t; });
  Done done;
  (void)rig.put("VAL", 20.0, &done);
  rig.run_to(ticks(0.3));
  std::vector<std::string> faults;
  rig.motor.set_faults({.hard_limit_at = {5.0}},
                       [&](std::string_view line) { faults.emplace_back(line); });
  CHECK(changed_at == ticks(0.3));
  CHECK(rig.motor.motion()->end_tick() == ticks(1.25));
  rig.run_to(ticks(0.8));
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(0.8));
  CHECK(rig.get("VAL") == doctest::Approx(5.475).epsilon(1e-9));
  CHECK(faults.size() == 1);
  rig.run_all();
  CHECK(rig.get("RBV") == doctest::Approx(7.5).epsilon(1e-9));
}

TEST_CASE("motor fault: several jams fire one by one, each at the first move reaching it") {
  // Jams at 8 and 4 (given in that order): 0 -> 10 stops at 4 first (0.65 s).
  Rig rig;
  std::vector<std::string> faults;
  rig.motor.set_faults({.stall_at = {8.0, 4.0}},
                       [&](std::string_view line) { faults.emplace_back(line); });
  Done first;
  (void)rig.put("VAL", 10.0, &first);
  rig.run_all();
  CHECK(rig.get("RBV") == 4.0);
  CHECK(rig.of("RBV").back().tick == ticks(0.65));  // 2.5 at 0.5 s, then 1.5 deg at 10 deg/s
  (void)rig.put("STOP", Shorts{1});
  CHECK(first.calls == 1);
  Done second;
  (void)rig.put("VAL", 10.0, &second);  // passes 4 now, stops at 8
  rig.run_all();
  CHECK(rig.get("RBV") == 8.0);
  CHECK(second.calls == 0);
  (void)rig.put("SPMG", Enums{0});
  CHECK(second.calls == 1);
  (void)rig.put("SPMG", Enums{3});
  Done third;
  (void)rig.put("VAL", 10.0, &third);  // no jam left
  rig.run_all();
  CHECK(third.calls == 1);
  CHECK(rig.get("RBV") == 10.0);
  REQUIRE(faults.size() == 2);
  CHECK(faults[0].rfind("fault: motor rotation stalled at 4 (t=0.650000 s)", 0) == 0);
  CHECK(faults[1].rfind("fault: motor rotation stalled at 8 (t=", 0) == 0);
}

TEST_CASE("motor fault: a jam armed during a move stops it there; the encoder sees the cut") {
  Rig rig;
  Tick changed_at = -1;
  const auto sub = rig.motor.subscribe_motion_change([&](Tick t) { changed_at = t; });
  auto enc = rig.motor.encoder_motion(1000.0, 0.0);
  Done done;
  (void)rig.put("VAL", 20.0, &done);
  rig.run_to(ticks(0.6));  // at 3.5 deg, cruising
  rig.motor.set_faults({.stall_at = {6.0}}, [](std::string_view) {});
  CHECK(changed_at == ticks(0.6));
  CHECK(rig.motor.motion()->end_tick() == ticks(0.85));
  CHECK(enc->count(kNever - 1) == 6000);
  rig.run_all();
  CHECK(rig.get("RBV") == 6.0);
  CHECK(rig.get("DMOV") == 0);
  CHECK(done.calls == 0);
}
