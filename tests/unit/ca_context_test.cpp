// Context, Channel and Monitor against real libca with no server: every
// search goes to a 127.0.0.1 port nobody serves (ca_test_util.hpp).
#include <cerrno>
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "ca/libca.hpp"
#include "ca_test_util.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/monitor.hpp"

namespace ca = pandafly::ca;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using ca_test::error_of;
using ca_test::seconds_since;

}  // namespace

TEST_CASE("Context: create, destroy, create again; current on the creating thread") {
  ca_test::loopback_environment();
  for (int i = 0; i < 3; ++i) {
    ca::Context ctx;
    CHECK(ctx.valid());
    CHECK(ca::libca::ca_current_context() != nullptr);
    CHECK(ca::libca::ca_preemtive_callback_is_enabled() == 1);
    CHECK(ctx.channel_count() == 0);
  }
  CHECK(ca::libca::ca_current_context() == nullptr);  // destroy leaves the thread without one
}

TEST_CASE("Context: another thread attaches, a moved Context keeps working") {
  ca_test::loopback_environment();
  ca::Context ctx;
  auto* mine = ca::libca::ca_current_context();
  auto other = std::async(std::launch::async, [&] {
    const bool none_before = ca::libca::ca_current_context() == nullptr;
    ctx.attach();
    const bool same = ca::libca::ca_current_context() == mine;
    ca::Context::detach();
    return none_before && same && ca::libca::ca_current_context() == nullptr;
  });
  CHECK(other.get());
  ca::Context moved(std::move(ctx));
  CHECK_FALSE(ctx.valid());  // NOLINT(bugprone-use-after-move): documented state
  CHECK(moved.valid());
  moved.flush();
  CHECK_THROWS_AS(ctx.attach(), ca::Error);
}

TEST_CASE("two Contexts on one thread: each call switches to its own") {
  ca_test::loopback_environment();
  ca::Context a;
  auto* pa = ca::libca::ca_current_context();
  ca::Context b;
  auto* pb = ca::libca::ca_current_context();
  CHECK(pa != pb);
  ca::Channel ca_(a, "pandafly:test:a");
  CHECK(ca::libca::ca_current_context() == pa);
  ca::Channel cb(b, "pandafly:test:b");
  CHECK(ca::libca::ca_current_context() == pb);
  CHECK(a.channel_count() == 1);
  CHECK(b.channel_count() == 1);
}

TEST_CASE("connect to a PV nobody serves: a timeout that names the PV") {
  ca_test::LogRecorder log;
  ca_test::loopback_environment();
  ca::Context ctx(log.logger());
  const auto t0 = Clock::now();
  const auto e = error_of([&] { (void)ca::Channel::connect(ctx, "micos:m1.VAL", 0.5s); });
  const double took = seconds_since(t0);
  CHECK(std::string(e.what()) == "micos:m1.VAL: not found within 0.5 s");
  CHECK(e.code() == ca::Errc::timeout);
  CHECK(e.code() == std::errc::timed_out);
  CHECK(e.pv() == "micos:m1.VAL");
  CHECK(took >= 0.45);
  CHECK(took < 10.0);               // a guard against waiting for ever, not a latency goal
  CHECK(ctx.channel_count() == 0);  // the failed connect cleared its channel
  const auto e2 = error_of([&] { (void)ca::Channel::connect(ctx, "micos:m1.VAL", 2s); });
  CHECK(std::string(e2.what()) == "micos:m1.VAL: not found within 2 s");
  for (const auto& m : log.messages()) MESSAGE("libca logged: " << m.text);
}

TEST_CASE("a channel that never connected: state, info and fast failures") {
  ca_test::loopback_environment();
  ca::Context ctx;
  std::atomic<int> callbacks{0};
  ca::Channel ch(ctx, "pandafly:test:nobody", [&](ca::ConnectionState) { ++callbacks; });
  CHECK(ch.name() == "pandafly:test:nobody");
  CHECK(ch.state() == ca::ConnectionState::never_connected);
  CHECK_FALSE(ch.connected());
  const auto info = ch.info();
  CHECK(info.state == ca::ConnectionState::never_connected);
  CHECK_FALSE(info.native_type.has_value());
  CHECK_FALSE(info.read_access);
  CHECK_FALSE(info.write_access);
  MESSAGE("host of an unconnected channel: '" << info.host << "'");

  const auto t0 = Clock::now();
  auto e = error_of([&] { (void)ch.get<double>(5s); });
  CHECK(e.code() == ca::Errc::disconnected);
  CHECK(std::string(e.what()) == "pandafly:test:nobody: get: not connected (never connected)");
  CHECK(error_of([&] { ch.put(1.0); }).code() == ca::Errc::disconnected);
  CHECK(error_of([&] { ch.put_wait(1.0, 5s); }).code() == ca::Errc::disconnected);
  CHECK(error_of([&] { (void)ch.get_time_value(ca::FieldType::float64, 0, 5s); }).code() ==
        ca::Errc::disconnected);
  CHECK(error_of([&] { (void)ch.native_type(); }).code() == ca::Errc::disconnected);
  CHECK(error_of([&] { (void)ch.get_control(); }).code() == ca::Errc::disconnected);
  CHECK(seconds_since(t0) < 4.0);  // nothing waited (each call has a 5 s timeout)
  CHECK(error_of([&] { ch.put(std::string(40, 'x')); }).code() == ca::Errc::string_too_big);
  CHECK_FALSE(ch.take_async_error().has_value());
  CHECK(callbacks == 0);
}

TEST_CASE("an empty PV name is refused by libca") {
  ca_test::loopback_environment();
  ca::Context ctx;
  const auto e = error_of([&] { ca::Channel ch(ctx, ""); });
  MESSAGE("empty name: " << std::string(e.what()) << " (" << ca::eca_name(e.code().value()) << ")");
  CHECK_FALSE(ca::is_success(e.code().value()));
  CHECK(ctx.channel_count() == 0);
}

TEST_CASE("Channel objects: empty, moved, destroyed before or after the Context") {
  ca_test::loopback_environment();
  ca::Channel empty;
  CHECK(empty.state() == ca::ConnectionState::closed);
  CHECK(error_of([&] { (void)empty.get<double>(); }).code() == ca::Errc::bad_chid);

  auto ctx = std::make_unique<ca::Context>();
  ca::Channel a(*ctx, "pandafly:test:a");
  ca::Channel b(std::move(a));
  CHECK(b.name() == "pandafly:test:a");
  CHECK(ctx->channel_count() == 1);
  ca::Channel c(*ctx, "pandafly:test:c");
  c = std::move(b);  // clears "c"
  CHECK(ctx->channel_count() == 1);
  CHECK(c.name() == "pandafly:test:a");

  ca::Monitor m(c, {.type = ca::FieldType::float64});
  CHECK_FALSE(m.closed());
  ctx.reset();  // clears the subscription and the channel first, then the context
  CHECK(c.state() == ca::ConnectionState::closed);
  CHECK(m.closed());
  CHECK_FALSE(m.pop(10ms).has_value());
  const auto e = error_of([&] { (void)c.get<double>(); });
  CHECK(e.code() == ca::Errc::channel_destroyed);
  CHECK(error_of([&] { c.wait_connected(1s); }).code() == ca::Errc::channel_destroyed);
}  // c and m are destroyed after their context: nothing left to clear

TEST_CASE("Channel used from a thread that never attached") {
  ca_test::loopback_environment();
  ca::Context ctx;
  ca::Channel ch(ctx, "pandafly:test:threads");
  auto result = std::async(std::launch::async, [&] {
    const bool attached_before = ca::libca::ca_current_context() != nullptr;
    const auto e = error_of([&] { ch.wait_connected(0.2s); });
    const auto info = ch.info();  // a libca call: attaches the context
    return !attached_before && e.code() == ca::Errc::timeout &&
           info.state == ca::ConnectionState::never_connected &&
           ca::libca::ca_current_context() != nullptr;
  });
  CHECK(result.get());
}

TEST_CASE("Monitor: needs a type before the first connection; closes cleanly") {
  ca_test::loopback_environment();
  ca::Context ctx;
  ca::Channel ch(ctx, "pandafly:test:mon");
  CHECK(error_of([&] { ca::Monitor m(ch); }).code() == ca::Errc::disconnected);
  ca::Monitor m(ch, {.type = ca::FieldType::string, .capacity = 4});
  CHECK(m.type() == ca::FieldType::string);
  CHECK_FALSE(m.pop(50ms).has_value());
  CHECK_FALSE(m.closed());
  CHECK(m.received() == 0);
  CHECK(m.dropped() == 0);
  ca::Monitor moved(std::move(m));
  moved.close();
  moved.close();
  CHECK(moved.closed());
  CHECK_FALSE(moved.try_pop().has_value());
}

TEST_CASE("a Monitor keeps its channel open after the Channel object is gone") {
  ca_test::loopback_environment();
  ca::Context ctx;
  ca::Monitor m(ca::Channel(ctx, "pandafly:test:kept"), {.type = ca::FieldType::float64});
  CHECK(ctx.channel_count() == 1);
  CHECK_FALSE(m.closed());
  ca::Monitor second;
  {
    ca::Channel ch(ctx, "pandafly:test:kept2");
    second = ca::Monitor(ch, {.type = ca::FieldType::int16});
    ca::Monitor third(ch, {.type = ca::FieldType::int16});
    CHECK(ctx.channel_count() == 2);
  }
  CHECK(ctx.channel_count() == 2);  // `second` still uses pandafly:test:kept2
  second.close();
  CHECK(ctx.channel_count() == 1);
  m.close();
  CHECK(ctx.channel_count() == 0);
}

TEST_CASE("many channels cleared by the Context's destruction") {
  ca_test::loopback_environment();
  std::vector<ca::Channel> channels;
  std::vector<ca::Monitor> monitors;
  {
    ca::Context ctx;
    for (int i = 0; i < 50; ++i) {
      channels.emplace_back(ctx, "pandafly:test:many" + std::to_string(i));
      monitors.emplace_back(channels.back(), ca::MonitorOptions{.type = ca::FieldType::int32});
    }
    CHECK(ctx.channel_count() == 50);
  }
  for (const auto& c : channels) CHECK(c.state() == ca::ConnectionState::closed);
  for (const auto& m : monitors) CHECK(m.closed());
}

TEST_CASE("the repeater stand-in answers registrations, ignores beacons") {
  auto& env = ca_test::loopback_environment();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{0, 500'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(env.repeater->port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto exchange = [&](const std::vector<unsigned char>& out) {
    ::sendto(fd, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    std::vector<unsigned char> in(64);
    const auto n = ::recv(fd, in.data(), in.size(), 0);
    in.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return in;
  };
  const std::vector<unsigned char> confirm = {0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1};
  CHECK(exchange({}) == confirm);  // libca's empty registration datagram
  std::vector<unsigned char> reg(16, 0);
  reg[1] = 24;  // REPEATER_REGISTER
  CHECK(exchange(reg) == confirm);
  std::vector<unsigned char> beacon(16, 0);
  beacon[1] = 13;  // RSRV_IS_UP
  CHECK(exchange(beacon).empty());
  ::close(fd);
  CHECK(ca::RepeaterStandIn::start_if_free(env.repeater->port()) == nullptr);
}

// Slow (~11 s): libca 7.0.3.1 first registers 10 s after its UDP side starts.
TEST_CASE("libca with the repeater stand-in: no caRepeater spawn, registration accepted") {
  auto& env = ca_test::loopback_environment();
  ca_test::LogRecorder log;
  const auto before = env.repeater->confirmations();
  double confirmed_after = 0;
  std::uint64_t confirmed = 0;
  {
    ca::Context ctx(log.logger());
    // libca creates its UDP side (search socket, repeater check and
    // registration) with the first channel, not with the context.
    ca::Channel ch(ctx, "pandafly:test:repeater");
    const auto t0 = Clock::now();
    while (env.repeater->confirmations() == before && seconds_since(t0) < 20.0) {
      std::this_thread::sleep_for(20ms);
    }
    confirmed_after = seconds_since(t0);
    // Unconfirmed, libca would retry every second: one confirmation is final.
    std::this_thread::sleep_for(1500ms);
    confirmed = env.repeater->confirmations() - before;
  }
  MESSAGE("first registration confirmed after " << confirmed_after << " s");
  CHECK(confirmed == 1);
  // libca forks to exec caRepeater only when it could bind the repeater port.
  int status = 0;
  const pid_t child = ::waitpid(-1, &status, WNOHANG);
  const int err = errno;
  CHECK(child == -1);
  CHECK(err == ECHILD);
  CHECK(log.messages().empty());
  for (const auto& m : log.messages()) MESSAGE("libca logged: " << m.text);
}
