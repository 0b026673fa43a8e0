// pandafly::ca against the CA simulator on 127.0.0.1 (ca_sim_fixture.hpp):
// real libca, real sockets, the simulated motor record for put-with-completion.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "ca_sim_fixture.hpp"
#include "ca_test_helpers.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/monitor.hpp"

namespace ca = pandafly::ca;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using ca_test::error_of;
using ca_test::seconds_since;
using Recorder = ca_test::LogRecorder;

ca::Channel open(const ca::Context& ctx, const std::string& name) {
  return ca::Channel::connect(ctx, "itest:" + name, 5s);
}

// Waits until `pred` holds (polling), at most `limit`.
template <class P>
bool eventually(P pred, ca::Timeout limit = 10s) {
  const auto t0 = Clock::now();
  while (!pred()) {
    if (seconds_since(t0) > limit.count()) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

void wait_motor_idle(const ca::Context& ctx) {
  auto dmov = open(ctx, "m1.DMOV");
  CHECK(eventually([&] { return dmov.get<std::int16_t>() == 1; }));
}

}  // namespace

TEST_CASE("connect: native type, element count, host, access rights") {
  auto& sim = ca_itest::CaSim::instance();
  Recorder log;
  ca::Context ctx(log.logger());
  struct Expect {
    const char* name;
    ca::FieldType type;
    std::size_t count;
  };
  for (const auto& e :
       {Expect{"double", ca::FieldType::float64, 1}, Expect{"float", ca::FieldType::float32, 1},
        Expect{"long", ca::FieldType::int32, 1}, Expect{"short", ca::FieldType::int16, 1},
        Expect{"char", ca::FieldType::uint8, 1}, Expect{"string", ca::FieldType::string, 1},
        Expect{"enum", ca::FieldType::enumeration, 1}, Expect{"waveform", ca::FieldType::uint8, 64},
        Expect{"image", ca::FieldType::int16, 307200}}) {
    CAPTURE(e.name);
    auto ch = open(ctx, e.name);
    CHECK(ch.native_type() == e.type);
    CHECK(ch.element_count() == e.count);
    const auto info = ch.info();
    CHECK(info.state == ca::ConnectionState::connected);
    // libca names the server by its resolved host name: "localhost:<port>".
    CHECK(info.host.ends_with(":" + std::to_string(sim.port())));
    CHECK(info.read_access);
    CHECK(info.write_access);
  }
  CHECK_FALSE(open(ctx, "readonly").info().write_access);
  CHECK(log.messages().empty());
}

TEST_CASE("typed gets, with server-side conversion") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  CHECK(open(ctx, "double").get<double>() == 3.5);
  CHECK(open(ctx, "double").get<std::string>() == "3.500");  // formatted with PREC
  CHECK(open(ctx, "float").get<float>() == 2.5f);
  CHECK(open(ctx, "long").get<std::int32_t>() == 42);
  CHECK(open(ctx, "long").get<double>() == 42.0);
  CHECK(open(ctx, "short").get<std::int16_t>() == -7);
  CHECK(open(ctx, "char").get<std::uint8_t>() == 200);
  CHECK(open(ctx, "string").get<std::string>() == "hello");
  auto e = open(ctx, "enum");
  CHECK(e.get<std::string>() == "On");
  CHECK(e.get<std::uint16_t>() == 1);
  const auto t = open(ctx, "double").get_time<double>();
  CHECK(t.value == 3.5);
  CHECK(t.alarm == ca::Alarm{});
  // A PV no device processes keeps the simulator's initial stamp; the motor's
  // readback is stamped by the device on every poll.
  MESSAGE("stamp of an unprocessed PV: " << t.stamp.seconds << " s (Unix)");
  const auto rbv = open(ctx, "m1.RBV").get_time<double>();
  const auto now = std::chrono::system_clock::now();
  CHECK(rbv.stamp.time_point() <= now + 1s);
  CHECK(rbv.stamp.time_point() > now - 24h);
}

TEST_CASE("arrays: autosize, explicit counts, empty, large") {
  auto& sim = ca_itest::CaSim::instance();
  Recorder log;
  ca::Context ctx(log.logger());
  auto shorts = open(ctx, "shorts");
  CHECK(shorts.get<std::vector<std::int16_t>>() == std::vector<std::int16_t>{1, 2, 3});
  const auto five = shorts.get_array<std::int16_t>(5);
  CHECK(five == std::vector<std::int16_t>{1, 2, 3, 0, 0});  // zero-filled tail
  CHECK(shorts.get_array<double>(2) == std::vector<double>{1.0, 2.0});
  CHECK(error_of([&] { (void)shorts.get_array<std::int16_t>(101); }).code() == ca::Errc::bad_count);
  auto empty = open(ctx, "empty");
  CHECK(empty.get<std::vector<double>>().empty());
  CHECK(empty.get_time<std::vector<double>>().value.empty());
  auto wf = open(ctx, "waveform");
  const auto bytes = wf.get<std::vector<std::uint8_t>>();
  CHECK(std::string(bytes.begin(), bytes.end()) == "hello waveform");
  const auto t0 = Clock::now();
  const auto image = open(ctx, "image").get<std::vector<std::int16_t>>();
  MESSAGE("307200-element SHORT get: " << seconds_since(t0) << " s");
  REQUIRE(image.size() == 307200);
  CHECK(image[999] == 999);
  CHECK(image[307199] == 307199 % 1000);
  for (const auto& m : log.messages()) MESSAGE("libca: " << m.channel << " " << m.text);
  for (const auto& l : sim.log()) MESSAGE("server: " << l);
}

TEST_CASE("metadata: units, precision, limits, enum states") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  const auto c = open(ctx, "double").get_control();
  CHECK(c.native == ca::FieldType::float64);
  CHECK(c.units == "mm");
  CHECK(c.precision == 3);
  CHECK(c.display_limits == ca::Limits{-100, 100});
  CHECK(c.control_limits == ca::Limits{-10, 10});
  CHECK(c.alarm_limits == ca::Limits{-90, 90});
  CHECK(c.warning_limits == ca::Limits{-80, 80});
  CHECK(std::get<std::vector<double>>(c.value)[0] == 3.5);
  const auto e = open(ctx, "enum").get_control();
  CHECK(e.enum_strings == std::vector<std::string>{"Off", "On", "Auto"});
  const auto s = open(ctx, "string").get_control();
  CHECK(std::get<std::vector<std::string>>(s.value)[0] == "hello");
}

TEST_CASE("puts: plain, enums by name and index, refusals") {
  ca_itest::CaSim::instance();
  Recorder log;
  ca::Context ctx(log.logger());
  auto d = open(ctx, "double");
  d.put(7.25);
  CHECK(d.get<double>() == 7.25);  // same circuit: the write is processed first
  d.put_wait(3.5, 5s);
  CHECK(d.get<double>() == 3.5);
  auto e = open(ctx, "enum");
  e.put("Auto");
  CHECK(e.get<std::string>() == "Auto");
  e.put(std::uint16_t{0});
  CHECK(e.get<std::string>() == "Off");
  e.put_wait(std::string("On"), 5s);
  CHECK(e.get<std::uint16_t>() == 1);
  auto s = open(ctx, "string");
  s.put_wait("world", 5s);
  CHECK(s.get<std::string>() == "world");
  s.put("hello");
  auto shorts = open(ctx, "shorts");
  shorts.put(std::vector<std::int16_t>{4, 5, 6, 7});
  CHECK(shorts.get<std::vector<std::int16_t>>() == std::vector<std::int16_t>{4, 5, 6, 7});
  shorts.put(std::vector<std::int16_t>{1, 2, 3});

  SUBCASE("a bad enum name: put-callback reports the server's status") {
    const auto err = error_of([&] { e.put_wait("Bogus", 5s); });
    MESSAGE("put_wait(\"Bogus\"): " << std::string(err.what()));
    CHECK(err.code() == ca::Errc::put_fail);
    CHECK(e.get<std::string>() == "On");
  }
  SUBCASE("a bad enum name, plain put: the refusal arrives asynchronously") {
    e.put("Bogus");
    CHECK(e.get<std::string>() == "On");  // the read-back follows the refused write
    const auto refused = e.take_async_error();
    REQUIRE(refused.has_value());
    MESSAGE("plain put(\"Bogus\"): " << std::string(refused->what()));
    CHECK(refused->pv() == "itest:enum");
    CHECK_FALSE(e.take_async_error().has_value());
    REQUIRE_FALSE(log.messages().empty());
    CHECK(log.messages().back().kind == ca::LogMessage::Kind::exception);
    CHECK(log.messages().back().channel == "itest:enum");
  }
  SUBCASE("a read-only PV") {
    auto ro = open(ctx, "readonly");
    CHECK(error_of([&] { ro.put(2.0); }).code() == ca::Errc::no_write_access);
    CHECK(error_of([&] { ro.put_wait(2.0, 5s); }).code() == ca::Errc::no_write_access);
    CHECK(ro.get<double>() == 1.0);
  }
}

TEST_CASE("put_wait on a motor returns when the move is done") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  wait_motor_idle(ctx);
  auto val = open(ctx, "m1.VAL");
  auto rbv = open(ctx, "m1.RBV");
  auto dmov = open(ctx, "m1.DMOV");
  const double start = rbv.get<double>();
  const auto t0 = Clock::now();
  val.put_wait(start + 2.0, 10s);  // 2 deg at 10 deg/s, ACCL 0.1 s: about 0.3 s
  const double took = seconds_since(t0);
  MESSAGE("move of 2 deg completed after " << took << " s");
  CHECK(took > 0.25);
  CHECK(dmov.get<std::int16_t>() == 1);
  CHECK(rbv.get<double>() == doctest::Approx(start + 2.0).epsilon(1e-6));

  SUBCASE("a timeout leaves the move running") {
    const auto err = error_of([&] { val.put_wait(start + 12.0, 0.2s); });
    CHECK(err.code() == std::errc::timed_out);
    CHECK(std::string(err.what()) == "itest:m1.VAL: put-callback: no reply within 0.2 s");
    CHECK(dmov.get<std::int16_t>() == 0);
    CHECK(eventually([&] { return dmov.get<std::int16_t>() == 1; }));
  }
  SUBCASE("STOP completes a pending put-callback early") {
    auto move = std::async(std::launch::async, [&] { val.put_wait(start + 30.0, 10s); });
    REQUIRE(eventually([&] { return dmov.get<std::int16_t>() == 0; }, 60s));  // it moves
    open(ctx, "m1.STOP").put(std::int16_t{1});
    // Guard only: RBV below the target shows the STOP ended it, not the 3 s move.
    CHECK(move.wait_for(60s) == std::future_status::ready);
    move.get();
    CHECK(rbv.get<double>() < start + 30.0);
  }
  val.put_wait(start, 10s);
}

TEST_CASE("Monitor: first value at once, updates while moving, drops the oldest when full") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  wait_motor_idle(ctx);
  auto rbv = open(ctx, "m1.RBV");
  auto val = open(ctx, "m1.VAL");
  const double start = rbv.get<double>();
  ca::Monitor all(rbv);
  ca::Monitor tiny(rbv, {.capacity = 2});
  auto first = all.pop(2s);
  REQUIRE(first.has_value());
  CHECK(std::get<std::vector<double>>(first->value)[0] == start);
  val.put_wait(start + 5.0, 10s);  // 0.6 s: RBV posted every 0.1 s
  std::vector<double> seen;
  while (auto u = all.pop(300ms)) seen.push_back(std::get<std::vector<double>>(u->value)[0]);
  MESSAGE("RBV updates during a 5 deg move: " << seen.size());
  REQUIRE(seen.size() >= 4);
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(seen.back() == doctest::Approx(start + 5.0));
  CHECK(all.dropped() == 0);
  CHECK(tiny.received() == all.received());
  CHECK(tiny.dropped() == tiny.received() - 2);
  std::optional<ca::Update> last;
  while (auto u = tiny.try_pop()) last = std::move(u);
  REQUIRE(last.has_value());
  CHECK(std::get<std::vector<double>>(last->value)[0] == doctest::Approx(start + 5.0));

  ca::Monitor names(open(ctx, "enum"), {.type = ca::FieldType::string});
  auto u = names.pop(2s);
  REQUIRE(u.has_value());
  CHECK(std::get<std::vector<std::string>>(u->value)[0] == "On");
  val.put_wait(start, 10s);
}

TEST_CASE("an IOC restart: fast failures while down, automatic reconnection") {
  auto& sim = ca_itest::CaSim::instance();
  Recorder log;
  ca::Context ctx(log.logger());
  std::mutex m;
  std::vector<ca::ConnectionState> changes;
  auto ch = ca::Channel::connect(ctx, "itest:long", 5s, [&](ca::ConnectionState s) {
    std::scoped_lock lock(m);
    changes.push_back(s);
  });
  ca::Monitor mon(ch);
  REQUIRE(mon.pop(2s).has_value());
  wait_motor_idle(ctx);
  auto val = open(ctx, "m1.VAL");
  const double start = open(ctx, "m1.RBV").get<double>();
  auto move = std::async(std::launch::async, [&] { val.put_wait(start + 10.0, 10s); });
  auto dmov = open(ctx, "m1.DMOV");
  REQUIRE(eventually([&] { return dmov.get<std::int16_t>() == 0; }, 60s));  // the move is on

  const auto t0 = Clock::now();
  sim.server().kill_connections();
  const auto lost = error_of([&] { move.get(); });  // the put-callback ends with the circuit
  const double ended = seconds_since(t0);
  CHECK(lost.code() == ca::Errc::disconnected);
  MESSAGE("pending put-callback: " << std::string(lost.what()));
  MESSAGE("put-callback ended " << ended << " s after the server dropped the circuit");
  CHECK(ended < 2.0);
  CHECK(eventually([&] { return ch.state() != ca::ConnectionState::connected; }, 5s));
  REQUIRE(ch.state() == ca::ConnectionState::disconnected);
  const auto t1 = Clock::now();
  CHECK(error_of([&] { (void)ch.get<std::int32_t>(5s); }).code() == ca::Errc::disconnected);
  CHECK(error_of([&] { ch.put_wait(std::int32_t{1}, 5s); }).code() == ca::Errc::disconnected);
  CHECK(seconds_since(t1) < 4.0);  // failed at once: neither waited out its 5 s timeout
  const auto t2 = Clock::now();
  ch.wait_connected(15s);
  MESSAGE("reconnected " << seconds_since(t2) << " s later");
  CHECK(ch.get<std::int32_t>() == 42);
  CHECK(mon.pop(5s).has_value());  // libca re-installed the subscription
  {
    std::scoped_lock lock(m);
    REQUIRE(changes.size() >= 2);
    CHECK(changes[0] == ca::ConnectionState::connected);
    CHECK(changes[1] == ca::ConnectionState::disconnected);
    CHECK(changes.back() == ca::ConnectionState::connected);
  }
  // libca reports the lost circuit itself, as an exception naming the server.
  const auto messages = log.messages();
  REQUIRE_FALSE(messages.empty());
  CHECK(messages.front().kind == ca::LogMessage::Kind::exception);
  CHECK(messages.front().code == ca::Errc::disconnected);
  MESSAGE("libca logged: " << messages.front().text);
  wait_motor_idle(ctx);
  val.put_wait(start, 10s);
}

TEST_CASE("destroying a Context with live channels and monitors reports no disconnects") {
  ca_itest::CaSim::instance();
  std::atomic<int> ups{0}, downs{0};
  std::vector<ca::Channel> channels;
  std::vector<ca::Monitor> monitors;
  {
    ca::Context ctx;
    for (const char* name : {"double", "long", "enum", "image", "m1.RBV"}) {
      channels.push_back(ca::Channel::connect(
          ctx, std::string("itest:") + name, 5s,
          [&](ca::ConnectionState s) { ++(s == ca::ConnectionState::connected ? ups : downs); }));
      monitors.emplace_back(channels.back());
    }
    for (auto& mon : monitors) CHECK(mon.pop(2s).has_value());
  }
  CHECK(ups == 5);
  CHECK(downs == 0);
  for (auto& ch : channels) CHECK(ch.state() == ca::ConnectionState::closed);
  for (auto& mon : monitors) CHECK(mon.closed());
}

TEST_CASE("one channel used from several threads at once") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  auto d = open(ctx, "double");
  ca::Monitor mon(d);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (d.get<double>() == 3.5 && d.get_time<std::string>().value == "3.500") ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(good == 200);
  CHECK(mon.pop(1s).has_value());
}

TEST_CASE("a 1 M-element array: put and get back, both through libca") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  auto big = open(ctx, "big");
  REQUIRE(big.element_count() == std::size_t{1} << 20);
  std::vector<double> ramp(std::size_t{1} << 20);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = 0.5 * static_cast<double>(i);
  big.put_wait(ramp, 10s);  // 8 MiB in one WRITE_NOTIFY, extended header
  const auto back = big.get<std::vector<double>>(10s);
  REQUIRE(back.size() == ramp.size());
  CHECK(back == ramp);
}

TEST_CASE("200 channels on one context: all connect and read their own value") {
  ca_itest::CaSim::instance();
  ca::Context ctx;
  std::vector<ca::Channel> channels;
  channels.reserve(200);
  for (int i = 0; i < 200; ++i) channels.emplace_back(ctx, "itest:many:" + std::to_string(i));
  for (auto& c : channels) c.wait_connected(10s);
  CHECK(ctx.channel_count() == 200);
  for (int i = 0; i < 200; ++i)
    CHECK(channels[static_cast<std::size_t>(i)].get<std::int32_t>() == i);
}

TEST_CASE("camera: cam5's counter and the Acquire put-callback come before image1's array") {
  // A real ADSpinnaker IOC posts the driver's counters and completes the
  // Acquire put-callback before the plugin (image1) has the array: clients
  // must wait on image1. The fixture's camera lags its plugins by 2 s.
  ca_itest::CaSim::instance();
  ca::Context ctx;
  open(ctx, "cam5:ImageMode").put_wait(std::string("Single"), 5s);
  open(ctx, "image1:EnableCallbacks").put_wait(std::string("Enable"), 5s);
  ca::Monitor cam_counter(open(ctx, "cam5:ArrayCounter_RBV"));
  ca::Monitor image_counter(open(ctx, "image1:ArrayCounter_RBV"));
  const auto value_of = [](const ca::Update& u) {
    return std::get<std::vector<std::int32_t>>(u.value).at(0);
  };
  const auto cam0 = cam_counter.pop(5s);
  const auto image0 = image_counter.pop(5s);
  REQUIRE(cam0.has_value());
  REQUIRE(image0.has_value());

  const auto put_at = Clock::now();
  open(ctx, "cam5:Acquire").put_wait(std::string("Acquire"), 10s);
  // The counter's update went out on the same circuit before the completion.
  const auto cam1 = cam_counter.try_pop();
  const auto early = image_counter.try_pop();
  const double elapsed = seconds_since(put_at);
  REQUIRE(cam1.has_value());
  CHECK(value_of(*cam1) == value_of(*cam0) + 1);
  if (elapsed < 1.9) {
    CHECK_MESSAGE(!early.has_value(), "image1 had the frame before the Acquire callback");
  } else {
    MESSAGE("the client took " << elapsed << " s: order shown by the time stamps only");
  }
  const auto image1 = early ? early : image_counter.pop(10s);
  REQUIRE(image1.has_value());
  CHECK(value_of(*image1) == value_of(*image0) + 1);
  CHECK(image1->stamp.unix_seconds() - cam1->stamp.unix_seconds() ==
        doctest::Approx(2.0).epsilon(0.01));

  // What the client reads next: the array, its NORD and alarm, the plugin's sizes.
  const auto unique_id = open(ctx, "image1:UniqueId_RBV").get<std::int32_t>();
  const auto data = open(ctx, "image1:ArrayData").get_time<std::vector<std::int32_t>>();
  REQUIRE(data.value.size() == 32);
  CHECK(data.value[0] == unique_id);
  CHECK(data.alarm.severity == ca::AlarmSeverity::no_alarm);
  CHECK(data.stamp.unix_seconds() == doctest::Approx(image1->stamp.unix_seconds()));
  CHECK(open(ctx, "image1:ArrayData.NORD").get<std::int32_t>() == 32);
  CHECK(open(ctx, "image1:ArrayData.SEVR").get<std::string>() == "NO_ALARM");
  CHECK(open(ctx, "image1:ArraySize0_RBV").get<std::int32_t>() == 8);
  CHECK(open(ctx, "image1:ArraySize1_RBV").get<std::int32_t>() == 4);
  CHECK(open(ctx, "cam5:ImageMode_RBV").get<std::string>() == "Single");
  CHECK(open(ctx, "cam5:NumQueuedArrays").get<std::int32_t>() == 0);
  const auto status = open(ctx, "cam5:StatusMessage_RBV").get<std::vector<std::uint8_t>>();
  CHECK(std::string(status.begin(), status.end()) == "Acquisition complete");
}
