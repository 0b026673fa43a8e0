// CircuitConnection without sockets: channels, reads, writes, deferred
// put completions, monitors with masks, flow control, clearing, protocol
// errors, and what happens to late completions after a close.
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/circuit.hpp"
#include "sim/ca/dbr_codec.hpp"
#include "sim_ca_test_util.hpp"

namespace {

using namespace pandafly::sim::ca;
using namespace sim_ca_test;

constexpr std::uint16_t kDbrString = 0, kDbrDouble = 6, kDbrTimeDouble = 20;

Bytes f64(double v) {
  Bytes b(8);
  put_f64(b.data(), v);
  return b;
}

Bytes event_mask(unsigned mask) {
  Bytes b(16);
  put_u16(b.data() + 12, static_cast<std::uint16_t>(mask));
  return b;
}

struct Fixture {
  Fixture() {
    Metadata modes;
    modes.enum_strings = {"Off", "On"};
    db->add(x);
    db->add(std::make_shared<Pv>("test:ro", Doubles{1.0}, Metadata{}, false));
    db->add(std::make_shared<Pv>("test:mode", Enums{0}, modes));
    db->add(wave);
    db->add(slow);
    db->add(std::make_shared<Pv>("m1.VAL", Doubles{0}));
    db->add(std::make_shared<Pv>("big", Shorts{}, Metadata{}, true, 100000));
    slow->on_put([this](Pv& pv, Elements v, Pv::Completion done) {
      pv.set(std::move(v), {});
      pending.push_back(std::move(done));
      return kEcaNormal;
    });
    circuit->on_output([this] { ++wakeups; });
    Bytes version;
    circuit->take_output(version);
  }

  // Feeds bytes, returns the messages queued by them.
  std::vector<Parsed> send(const Bytes& bytes) {
    circuit->receive(bytes);
    return drain();
  }
  std::vector<Parsed> drain() {
    Bytes out;
    circuit->take_output(out);
    return split(out);
  }
  // CREATE_CHAN with `cid`; returns the sid.
  std::uint32_t open(const std::string& name, std::uint32_t cid) {
    auto r = send(msg(Command::create_chan, 0, 0, cid, 13, padded(name)));
    REQUIRE(r.size() == 2);
    REQUIRE(r[1].command() == Command::create_chan);
    return r[1].header.p2;
  }

  std::shared_ptr<PvDatabase> db = std::make_shared<PvDatabase>();
  std::shared_ptr<Pv> x = std::make_shared<Pv>("test:x", Doubles{1.5});
  std::shared_ptr<Pv> wave = std::make_shared<Pv>("test:wave", Longs{1, 2, 3}, Metadata{}, true, 8);
  std::shared_ptr<Pv> slow = std::make_shared<Pv>("test:slow", Doubles{0});
  std::vector<Pv::Completion> pending;
  std::vector<std::string> log;
  std::unique_ptr<CircuitConnection> circuit = std::make_unique<CircuitConnection>(
      db, "peer", [this](std::string_view line) { log.emplace_back(line); });
  int wakeups = 0;
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "create channel: rights, native type and count; unknown names fail") {
  auto r = send(msg(Command::create_chan, 0, 0, 5, 13, padded("test:ro")));
  REQUIRE(r.size() == 2);
  CHECK(r[0].command() == Command::access_rights);
  CHECK(r[0].header.p1 == 5);
  CHECK(r[0].header.p2 == kAccessRead);
  CHECK(r[1].header.data_type == kDbrDouble);
  CHECK(r[1].header.count == 1);
  r = send(msg(Command::create_chan, 0, 0, 6, 13, padded("test:wave")));
  CHECK(r[0].header.p2 == (kAccessRead | kAccessWrite));
  CHECK(r[1].header.data_type == 5);
  CHECK(r[1].header.count == 8);  // NELM, not NORD
  CHECK(r[1].header.p2 != r[0].header.p2);
  r = send(msg(Command::create_chan, 0, 0, 7, 13, padded("m1")));  // rec → rec.VAL
  CHECK(r.size() == 2);
  r = send(msg(Command::create_chan, 0, 0, 8, 13, padded("big")));
  CHECK(r[1].header.count == 100000);  // parsed back from an extended header
  r = send(msg(Command::create_chan, 0, 0, 9, 13, padded("test:nobody")));
  REQUIRE(r.size() == 1);
  CHECK(r[0].command() == Command::create_ch_fail);
  CHECK(r[0].header.p1 == 9);
  CHECK(circuit->channel_count() == 4);
}

TEST_CASE_FIXTURE(Fixture, "read: any type and count, failures as replies, type > 38 closes") {
  const auto sid = open("test:wave", 1);
  auto r = send(msg(Command::read_notify, kDbrTimeDouble, 0, sid, 42));
  REQUIRE(r.size() == 1);
  CHECK(r[0].header.p1 == kEcaNormal);
  CHECK(r[0].header.p2 == 42);
  CHECK(r[0].header.count == 3);
  CHECK(get_f64(r[0].payload.data() + 16 + 16) == 3.0);
  r = send(msg(Command::read_notify, kDbrDouble, 9, sid, 43));
  CHECK(r[0].header.p1 == kEcaBadCount);
  r = send(msg(Command::read_notify, 37, 1, sid, 44));
  CHECK(r[0].header.p1 == kEcaBadType);
  r = send(msg(Command::read_notify, 39, 1, sid, 45));
  CHECK(r.empty());
  CHECK(circuit->closed());
  CHECK(circuit->close_reason().find("data type 39") != std::string::npos);
  REQUIRE(log.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "write: silent on success, ERROR quoting the request on failure") {
  const auto sid = open("test:x", 11);
  CHECK(send(msg(Command::write, kDbrDouble, 1, sid, 11, f64(4.25))).empty());
  CHECK(x->value() == Elements{Doubles{4.25}});

  const auto ro = open("test:ro", 12);
  const Bytes request = msg(Command::write, kDbrDouble, 1, ro, 12, f64(2));
  auto r = send(request);
  REQUIRE(r.size() == 1);
  CHECK(r[0].command() == Command::error);
  CHECK(r[0].header.p1 == 12);  // the channel's cid
  CHECK(r[0].header.p2 == kEcaNoWriteAccess);
  CHECK(Bytes(r[0].payload.begin(), r[0].payload.begin() + 16) ==
        Bytes(request.begin(), request.begin() + 16));
  CHECK(std::string(payload_string(std::span(r[0].payload).subspan(16))) ==
        "write to test:ro failed");
  CHECK(r[0].payload.size() % 8 == 0);

  const auto mode = open("test:mode", 13);
  r = send(msg(Command::write, kDbrString, 1, mode, 13, padded("NoSuchChoice")));
  CHECK(r[0].header.p2 == kEcaPutFail);
  CHECK(send(msg(Command::write, kDbrString, 1, mode, 13, padded("On"))).empty());
  auto value = send(msg(Command::read_notify, kDbrString, 1, mode, 1));
  CHECK(std::string(payload_string(value[0].payload)) == "On");
  CHECK(!circuit->closed());
}

TEST_CASE_FIXTURE(Fixture, "write-notify: the reply waits for the PV's completion") {
  const auto sid = open("test:slow", 21);
  CHECK(send(msg(Command::write_notify, kDbrDouble, 1, sid, 77, f64(3))).empty());
  REQUIRE(pending.size() == 1);
  CHECK(wakeups == 0);
  pending[0](kEcaNormal);  // the device finishes, outside receive()
  CHECK(wakeups == 1);
  auto r = drain();
  REQUIRE(r.size() == 1);
  CHECK(r[0].command() == Command::write_notify);
  CHECK(r[0].header == Header{19, 0, kDbrDouble, 1, kEcaNormal, 77});

  // Immediate completion (default handler): reply within the same receive().
  const auto xs = open("test:x", 22);
  r = send(msg(Command::write_notify, kDbrDouble, 1, xs, 78, f64(9)));
  REQUIRE(r.size() == 1);
  CHECK(r[0].header.p1 == kEcaNormal);

  // Refused at once: the status in p1.
  const auto ro = open("test:ro", 23);
  r = send(msg(Command::write_notify, kDbrDouble, 1, ro, 79, f64(9)));
  CHECK(r[0].header.p1 == kEcaNoWriteAccess);
  CHECK(r[0].header.p2 == 79);

  // A failing completion reports its status.
  (void)send(msg(Command::write_notify, kDbrDouble, 1, sid, 80, f64(4)));
  pending[1](kEcaPutFail);
  CHECK(drain()[0].header.p1 == kEcaPutFail);
}

TEST_CASE_FIXTURE(Fixture, "late completions after clear, close or destruction are harmless") {
  const auto sid = open("test:slow", 31);
  (void)send(msg(Command::write_notify, kDbrDouble, 1, sid, 1, f64(1)));
  (void)send(msg(Command::clear_channel, 0, 0, sid, 31));
  pending[0](kEcaNormal);
  CHECK(drain().empty());

  const auto sid2 = open("test:slow", 32);
  (void)send(msg(Command::write_notify, kDbrDouble, 1, sid2, 2, f64(2)));
  circuit->close("socket gone");
  pending[1](kEcaNormal);
  CHECK(drain().empty());
  CHECK(wakeups == 0);

  circuit = std::make_unique<CircuitConnection>(db, "again");
  (void)drain();  // its VERSION
  const auto sid3 = open("test:slow", 33);
  (void)send(msg(Command::write_notify, kDbrDouble, 1, sid3, 3, f64(3)));
  circuit.reset();
  pending[2](kEcaNormal);  // nothing to reach, nothing crashes
  slow->set(Doubles{5}, {});
}

TEST_CASE_FIXTURE(Fixture, "monitors: an update at once, then only events matching the mask") {
  const auto sid = open("test:x", 41);
  auto r = send(msg(Command::event_add, kDbrDouble, 1, sid, 500, event_mask(kDbeValue)));
  REQUIRE(r.size() == 1);
  CHECK(r[0].header == Header{1, 8, kDbrDouble, 1, kEcaNormal, 500});
  CHECK(get_f64(r[0].payload.data()) == 1.5);
  r = send(msg(Command::event_add, 13, 1, sid, 501, event_mask(kDbeAlarm)));  // DBR_STS_DOUBLE
  REQUIRE(r.size() == 1);

  x->set(Doubles{2.5}, {});
  CHECK(wakeups == 1);
  r = drain();
  REQUIRE(r.size() == 1);
  CHECK(r[0].header.p2 == 500);
  CHECK(get_f64(r[0].payload.data()) == 2.5);

  x->set_alarm({3, 2});
  r = drain();
  REQUIRE(r.size() == 1);
  CHECK(r[0].header.p2 == 501);
  CHECK(get_u16(r[0].payload.data() + 2) == 2);

  Metadata units;
  units.units = "mm";
  x->set_metadata(units);  // DBE_PROPERTY: nobody asked
  CHECK(drain().empty());

  r = send(msg(Command::event_add, kDbrDouble, 1, sid, 502, event_mask(0)));
  REQUIRE(r.size() == 1);
  CHECK(r[0].command() == Command::error);
  CHECK(r[0].header.p2 == 330);  // ECA_BADMASK
  CHECK(circuit->subscription_count() == 2);
}

TEST_CASE_FIXTURE(Fixture,
                  "monitors of count 0 follow NORD; updates caused by a request follow its reply") {
  const auto sid = open("test:wave", 51);
  auto r = send(msg(Command::event_add, 5, 0, sid, 600, event_mask(kDbeValue)));
  CHECK(r[0].header.count == 3);
  wave->set(Longs{1, 2, 3, 4, 5}, {});
  r = drain();
  CHECK(r[0].header.count == 5);
  wave->set(Longs{}, {});
  r = drain();
  CHECK(r[0].header.count == 0);
  CHECK(r[0].payload.size() == 8);

  // A put whose handler pulses a value (as DMOV 1→0→1): both updates, in
  // order, after the WRITE_NOTIFY reply.
  x->on_put([](Pv& pv, Elements, Pv::Completion done) {
    pv.set(Doubles{0}, {}, true);
    pv.set(Doubles{1}, {}, true);
    done(kEcaNormal);
    return kEcaNormal;
  });
  const auto xs = open("test:x", 52);
  (void)send(msg(Command::event_add, kDbrDouble, 1, xs, 601, event_mask(kDbeValue)));
  r = send(msg(Command::write_notify, kDbrDouble, 1, xs, 9, f64(7)));
  REQUIRE(r.size() == 3);
  CHECK(r[0].command() == Command::write_notify);
  CHECK(get_f64(r[1].payload.data()) == 0.0);
  CHECK(get_f64(r[2].payload.data()) == 1.0);
}

TEST_CASE_FIXTURE(Fixture, "flow control: EVENTS_OFF holds the latest state per subscription") {
  const auto sid = open("test:x", 61);
  (void)send(msg(Command::event_add, kDbrDouble, 1, sid, 700, event_mask(kDbeValue)));
  (void)send(msg(Command::event_add, kDbrString, 1, sid, 701, event_mask(kDbeValue)));
  CHECK(send(msg(Command::events_off, 0, 0, 0, 0)).empty());
  for (double v : {2.0, 3.0, 4.0}) x->set(Doubles{v}, {});
  CHECK(drain().empty());
  CHECK(wakeups == 0);
  auto r = send(msg(Command::events_on, 0, 0, 0, 0));
  REQUIRE(r.size() == 2);
  CHECK(r[0].header.p2 == 700);
  CHECK(get_f64(r[0].payload.data()) == 4.0);
  CHECK(std::string(payload_string(r[1].payload)) == "4");
  x->set(Doubles{5.0}, {});
  CHECK(drain().size() == 2);
}

TEST_CASE_FIXTURE(Fixture, "cancel and clear: confirmations, and no more updates") {
  const auto sid = open("test:x", 71);
  (void)send(msg(Command::event_add, kDbrDouble, 1, sid, 800, event_mask(kDbeValue)));
  (void)send(msg(Command::event_add, kDbrDouble, 1, sid, 801, event_mask(kDbeValue)));
  auto r = send(msg(Command::event_cancel, kDbrDouble, 1, sid, 800));
  REQUIRE(r.size() == 1);
  CHECK(r[0].header == Header{1, 0, kDbrDouble, 1, sid, 800});
  CHECK(send(msg(Command::event_cancel, kDbrDouble, 1, sid, 800)).empty());  // already gone
  x->set(Doubles{8}, {});
  CHECK(drain().size() == 1);
  r = send(msg(Command::clear_channel, 0, 0, sid, 71));
  REQUIRE(r.size() == 1);
  CHECK(r[0].header == Header{12, 0, 0, 0, sid, 71});
  CHECK(circuit->subscription_count() == 0);
  x->set(Doubles{9}, {});
  CHECK(drain().empty());
}

TEST_CASE_FIXTURE(Fixture, "echo and read-sync are echoed; client names noted") {
  auto r = send(cat({msg(Command::echo, 0, 0, 0, 0), msg(Command::read_sync, 0, 0, 0, 0),
                     msg(Command::version, 10, 13, 0, 0)}));
  REQUIRE(r.size() == 2);
  CHECK(r[0].command() == Command::echo);
  CHECK(r[1].command() == Command::read_sync);
  CHECK(circuit->priority() == 10);
  CHECK(circuit->client_minor_version() == 13);
}

TEST_CASE_FIXTURE(Fixture, "protocol errors close the circuit with a logged reason") {
  const auto sid = open("test:x", 81);
  (void)send(msg(Command::event_add, kDbrDouble, 1, sid, 900, event_mask(kDbeValue)));
  SUBCASE("unknown sid") {
    (void)send(msg(Command::read_notify, kDbrDouble, 1, sid + 100, 1));
    CHECK(circuit->close_reason().find("unknown sid") != std::string::npos);
  }
  SUBCASE("unaligned payload") {
    (void)send(hex("0004 0005 0006 0001 00000001 00000001 0000000000"));
    CHECK(circuit->close_reason().find("multiple of 8") != std::string::npos);
  }
  SUBCASE("priority above 99") {
    (void)send(msg(Command::version, 100, 13, 0, 0));
    CHECK(circuit->close_reason().find("priority") != std::string::npos);
  }
  SUBCASE("unsupported command") {
    (void)send(msg(Command::search, 5, 13, 1, 1, padded("test:x")));
    CHECK(circuit->close_reason().find("unsupported command 6") != std::string::npos);
  }
  SUBCASE("oversized payload") {
    circuit = std::make_unique<CircuitConnection>(db, "small", nullptr, CircuitOptions{64});
    (void)drain();
    (void)send(msg(Command::write, 4, 72, 1, 1, Bytes(72)));
    CHECK(circuit->close_reason().find("larger") != std::string::npos);
  }
  CHECK(circuit->closed());
  CHECK(circuit->subscription_count() == 0);
  x->set(Doubles{3}, {});
  CHECK(drain().empty());
  CHECK(send(msg(Command::echo, 0, 0, 0, 0)).empty());  // input ignored once closed
}

TEST_CASE_FIXTURE(Fixture, "a whole session arrives in one slice and in single bytes alike") {
  const Bytes session = cat({msg(Command::version, 0, 13, 0, 0),
                             msg(Command::create_chan, 0, 0, 1, 13, padded("test:x")),
                             msg(Command::read_notify, kDbrDouble, 1, 1, 2),
                             msg(Command::write, kDbrDouble, 1, 1, 1, f64(6)),
                             msg(Command::read_notify, kDbrDouble, 1, 1, 3)});
  auto whole = send(session);
  circuit = std::make_unique<CircuitConnection>(db, "bytewise");
  (void)drain();
  x->set(Doubles{1.5}, {});
  Bytes all;
  for (std::byte b : session) {
    circuit->receive(std::span(&b, 1));
    Bytes out;
    circuit->take_output(out);
    all.insert(all.end(), out.begin(), out.end());
  }
  const auto bytewise = split(all);
  REQUIRE(whole.size() == 4);
  REQUIRE(bytewise.size() == 4);
  CHECK(get_f64(bytewise[2].payload.data()) == 1.5);
  CHECK(get_f64(bytewise[3].payload.data()) == 6.0);
  for (std::size_t i = 0; i < 4; ++i) CHECK(whole[i].header == bytewise[i].header);
}

TEST_CASE_FIXTURE(Fixture, "random well-framed requests never crash; replies stay well-framed") {
  // A fixed-seed stand-in for the fuzz invariant: any input is served or
  // closes the circuit, and the output always splits into whole messages.
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  const auto next = [&](std::uint64_t bound) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return static_cast<std::uint32_t>(state % bound);
  };
  const std::vector<std::string> names = {"test:x",  "test:wave", "test:mode", "test:slow",
                                          "test:ro", "big",       "nobody"};
  for (int round = 0; round < 200; ++round) {
    circuit = std::make_unique<CircuitConnection>(db, "random");
    for (std::uint32_t cid = 1; cid <= names.size(); ++cid)
      circuit->receive(msg(Command::create_chan, 0, 0, cid, 13, padded(names[cid - 1])));
    for (int i = 0; i < 40 && !circuit->closed(); ++i) {
      const std::uint32_t commands[] = {1, 2, 4, 8, 9, 10, 12, 15, 19, 23, 0, 20, 31};
      const auto command = static_cast<Command>(commands[next(std::size(commands))]);
      Bytes payload(8 * next(6));
      for (auto& b : payload) b = static_cast<std::byte>(next(256));
      const auto type = static_cast<std::uint16_t>(next(10) == 0 ? next(45) : next(35));
      const std::uint32_t count = next(8) == 0 ? next(200000) : next(4);
      circuit->receive(msg(command, type, count, 1 + next(7), next(5), payload));
    }
    pending.clear();
    Bytes out;
    circuit->take_output(out);
    (void)split(out);
    for (double v : {1.0, 2.0}) x->set(Doubles{v}, {});
    wave->set(Longs{7}, {});
  }
}
