// The simulated beamline shutter without sockets: puts through Pv::put,
// advance() in simulation ticks, the status PV's posts with their ticks, and
// open_throughout() — what the camera asks about an exposure.
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/shutter.hpp"
#include "sim_ca_device_test_util.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::ca;
using namespace pandafly::sim::ca::test;

namespace {

struct ShutterRig : PostLog {
  explicit ShutterRig(ShutterConfig config) : shutter(std::move(config)) {
    shutter.publish(db);
    for (const auto& name : db.names()) {
      db.find(name)->observe([this, name](const Pv& p, unsigned mask) {
        if (mask & kDbeValue) log.push_back({name, number(p.value()), tick_of(p.stamp())});
      });
    }
    shutter.advance(0, wall_of(0));
  }
  std::uint32_t command(std::uint16_t v, Done* done = nullptr) {
    return shutter.command_pv()->put(Enums{v}, [this, done](std::uint32_t eca) {
      if (done == nullptr) return;
      ++done->calls;
      done->eca = eca;
      done->tick = now;
    });
  }
  void run_to(Tick t) {
    for (Tick next = shutter.next_wake(); next <= t; next = shutter.next_wake()) step(next);
    step(t);
  }
  void step(Tick t) {
    now = t;
    shutter.advance(t, wall_of(t));
  }

  Shutter shutter;
  PvDatabase db;
  Tick now = 0;
};

ShutterConfig timed() {
  ShutterConfig c;
  c.open_time = 0.3;
  c.close_time = 0.2;
  c.open = false;
  return c;
}

}  // namespace

TEST_CASE("shutter: open by default") {
  CHECK(ShutterConfig{}.open);
  ShutterRig rig(ShutterConfig{});
  CHECK(number(rig.shutter.status_pv()->value()) == 1);
  CHECK(rig.shutter.open_throughout(0, ticks(100)));
}

TEST_CASE("shutter: PVs, open and close with their travel times and put-callbacks") {
  ShutterRig rig(timed());
  const auto status = rig.db.find("BEATS:shutter:Status");
  REQUIRE(status != nullptr);
  REQUIRE(rig.db.find("BEATS:shutter:Cmd") != nullptr);
  CHECK(status->metadata().enum_strings == Strings{"Closed", "Open", "Moving"});
  CHECK(rig.shutter.command_pv()->metadata().enum_strings == Strings{"Close", "Open"});
  CHECK_FALSE(status->writable());
  CHECK(number(status->value()) == 0);
  rig.run_to(ticks(1));
  Done opened;
  REQUIRE(rig.command(1, &opened) == kEcaNormal);
  CHECK(number(status->value()) == 2);  // Moving at once
  CHECK(opened.calls == 0);
  CHECK(rig.shutter.next_wake() == ticks(1.3));
  rig.run_to(ticks(2));
  CHECK(opened.calls == 1);
  CHECK(opened.tick == ticks(1.3));
  Done again;
  (void)rig.command(1, &again);  // already open: completes at once
  CHECK(again.calls == 1);
  CHECK(again.tick == ticks(2));
  Done closed;
  (void)rig.command(0, &closed);
  rig.run_to(ticks(3));
  CHECK(closed.tick == ticks(2.2));
  const auto posts = rig.of("BEATS:shutter:Status");
  REQUIRE(posts.size() == 4);
  CHECK(posts[0].value == 2);
  CHECK(posts[0].tick == ticks(1));
  CHECK(posts[1].value == 1);
  CHECK(posts[1].tick == ticks(1.3));
  CHECK(posts[2].value == 2);
  CHECK(posts[3].value == 0);
  CHECK(posts[3].tick == ticks(2.2));
  CHECK(rig.shutter.command_pv()->put(Enums{2}, [](std::uint32_t) {}) == kEcaPutFail);
}

TEST_CASE("shutter: open_throughout is exact about the past, reversals included") {
  ShutterRig rig(timed());
  CHECK_FALSE(rig.shutter.open_throughout(0, ticks(0.1)));
  rig.run_to(ticks(1));
  (void)rig.command(1);  // fully open at 1.3
  rig.run_to(ticks(2));
  (void)rig.command(0);  // not fully open from 2
  rig.run_to(ticks(3));
  (void)rig.command(1);  // would be open at 3.3 ...
  rig.run_to(ticks(3.1));
  Done reversed;
  (void)rig.command(0, &reversed);  // ... but closes again at 3.1
  CHECK(reversed.calls == 0);
  rig.run_to(ticks(5));
  CHECK(reversed.tick == ticks(3.3));
  CHECK_FALSE(rig.shutter.open_throughout(ticks(1.2), ticks(1.4)));  // still opening at 1.2
  CHECK(rig.shutter.open_throughout(ticks(1.3), ticks(1.99)));
  CHECK_FALSE(rig.shutter.open_throughout(ticks(1.9), ticks(2.0)));  // closing from 2.0
  CHECK_FALSE(rig.shutter.open_throughout(ticks(3.0), ticks(3.5)));
  CHECK_FALSE(rig.shutter.open_throughout(ticks(3.35), ticks(3.4)));  // the reversed opening
  ShutterConfig open = timed();
  open.open = true;
  ShutterRig initially_open(open);
  CHECK(initially_open.shutter.open_throughout(0, ticks(10)));
}
