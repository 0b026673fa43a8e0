// ca::Channel waits ended by a util::StopToken (util/stop.hpp) against the CA
// simulator (ca_sim_fixture.hpp): a put-callback on a long motor move, a get
// the server does not answer, a search that finds nothing — each cancelled
// from another thread returns at once with operation_canceled, not after its
// timeout. Timing bounds are failure guards far above the expected wake-up
// (a few ms) and far below the timeouts (60 s), so a loaded machine passes.
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "ca_sim_fixture.hpp"
#include "ca_test_helpers.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/monitor.hpp"
#include "pandafly/util/stop.hpp"

namespace ca = pandafly::ca;
namespace util = pandafly::util;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ca_test::error_of;
using ca_test::seconds_since;

namespace {

ca::Channel open(const ca::Context& ctx, const std::string& name) {
  return ca::Channel::connect(ctx, "itest:" + name, 5s);
}

// Blocks until the motor's DMOV reads `value` (a monitor: no polling), at most 60 s.
bool wait_dmov(const ca::Context& ctx, std::int16_t value) {
  ca::Monitor dmov(open(ctx, "m1.DMOV"));
  const auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline) {
    auto u = dmov.pop(1s);
    if (u && std::get<std::vector<std::int16_t>>(u->value).at(0) == value) return true;
  }
  return false;
}

// Runs `f` on another thread; the time from request_stop() to `f` throwing.
struct Cancelled {
  ca::Error error;
  double after_stop_s;
};
template <class F>
Cancelled cancel_while_waiting(util::StopSource& stop, F&& f,
                               const std::function<void()>& wait_started) {
  auto call = std::async(std::launch::async, [&] { return error_of(f); });
  wait_started();
  REQUIRE(call.wait_for(0s) == std::future_status::timeout);  // it is still waiting
  const auto t0 = Clock::now();
  stop.request_stop();
  REQUIRE(call.wait_for(60s) == std::future_status::ready);  // guard: no hang
  auto err = call.get();
  return {err, seconds_since(t0)};
}

}  // namespace

TEST_CASE("put_wait on a long motor move is cancelled from another thread at once") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  REQUIRE(wait_dmov(ctx, 1));
  auto val = open(ctx, "m1.VAL");
  auto rbv = open(ctx, "m1.RBV");
  const double start = rbv.get<double>();
  util::StopSource stop;
  // 300 deg at 10 deg/s: a 30 s move, with a 60 s timeout.
  const auto t_put = Clock::now();
  const auto c = cancel_while_waiting(
      stop, [&] { val.put_wait(start + 300.0, 60s, stop.get_token()); },
      [&] { REQUIRE(wait_dmov(ctx, 0)); });  // the move is on
  const double total = seconds_since(t_put);
  MESSAGE("put_wait cancelled " << c.after_stop_s * 1e3
                                << " ms after request_stop(): " << std::string(c.error.what()));
  CHECK(util::is_cancelled(c.error.code()));
  CHECK(c.error.code() != std::errc::timed_out);
  CHECK(std::string(c.error.what()) == "itest:m1.VAL: put-callback: cancelled");
  CHECK(c.after_stop_s < 1.0);  // expected: milliseconds
  CHECK(total < 25.0);          // well before the 30 s move or the 60 s timeout ended it
  // Documented: cancelling the wait does not stop the motor; its STOP does.
  CHECK(open(ctx, "m1.DMOV").get<std::int16_t>() == 0);
  open(ctx, "m1.STOP").put(std::int16_t{1});
  REQUIRE(wait_dmov(ctx, 1));
  CHECK(rbv.get<double>() < start + 300.0);
  val.put_wait(start, 60s);  // back where it was (no token: unchanged behaviour)
  CHECK(rbv.get<double>() == doctest::Approx(start));
}

TEST_CASE("a stop requested before put_wait writes nothing") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  REQUIRE(wait_dmov(ctx, 1));
  auto val = open(ctx, "m1.VAL");
  const double before = val.get<double>();
  util::StopSource stop;
  stop.request_stop();
  const auto t0 = Clock::now();
  const auto err = error_of([&] { val.put_wait(before + 50.0, 60s, stop.get_token()); });
  CHECK(util::is_cancelled(err.code()));
  CHECK(seconds_since(t0) < 1.0);
  CHECK(val.get<double>() == before);  // never sent
  CHECK(open(ctx, "m1.DMOV").get<std::int16_t>() == 1);
  // A get with the stopped token is refused the same way; without it, it reads.
  CHECK(util::is_cancelled(error_of([&] { (void)val.get<double>(5s, stop.get_token()); }).code()));
  CHECK(val.get<double>(5s) == before);
}

TEST_CASE("a get the server does not answer is cancelled at once") {
  auto& sim = ca_itest::CaSim::instance();
  ca::Context ctx;
  auto ch = open(ctx, "double");
  REQUIRE(ch.get<double>() == 3.5);
  // Hold the server's only thread: requests are queued but not answered.
  std::promise<void> release;
  std::promise<void> held;
  auto holder = std::async(std::launch::async, [&] {
    sim.on_server([&] {
      held.set_value();
      release.get_future().wait();
      return 0;
    });
  });
  held.get_future().wait();
  util::StopSource stop;
  const auto c = cancel_while_waiting(
      stop, [&] { (void)ch.get<double>(60s, stop.get_token()); },
      [&] { std::this_thread::sleep_for(200ms); });  // let the request go out (not a guard)
  release.set_value();
  holder.get();
  MESSAGE("get cancelled " << c.after_stop_s * 1e3 << " ms after request_stop()");
  CHECK(util::is_cancelled(c.error.code()));
  CHECK(std::string(c.error.what()) == "itest:double: get: cancelled");
  CHECK(c.after_stop_s < 1.0);
  CHECK(ch.get<double>(10s) == 3.5);  // the channel is still usable; the late reply is dropped
}

TEST_CASE("wait_connected for a PV nobody serves is cancelled at once") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  ca::Channel nobody(ctx, "itest:no-such-pv");
  util::StopSource stop;
  const auto c = cancel_while_waiting(
      stop, [&] { nobody.wait_connected(60s, stop.get_token()); },
      [&] { std::this_thread::sleep_for(100ms); });
  CHECK(util::is_cancelled(c.error.code()));
  CHECK(std::string(c.error.what()) == "itest:no-such-pv: connect: cancelled");
  CHECK(c.after_stop_s < 1.0);
}
