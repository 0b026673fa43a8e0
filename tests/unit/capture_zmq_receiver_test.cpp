// ZmqReceiver over real libzmq on 127.0.0.1: a PUSH or PUB sender written
// here with cppzmq sends two-frame messages with headers as NDPluginZMQ ≥ 1.4
// builds them (file-formats.md §3.3). Ports: every bind is to port 0 / '*' and
// the peer reads the port back from ZMQ_LAST_ENDPOINT, so tests never collide.
// Waits are deadlines against hangs (kDeadline), never speed assertions.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <zmq.hpp>

#include "pandafly/capture/zmq_receiver.hpp"

namespace pandafly::capture {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 30s;  // a guard for a loaded machine, not a latency goal

std::string adzmq_header(std::uint64_t frame, std::size_t rows, std::size_t cols,
                         double timestamp = 1136214245.5) {
  return fmt::format(R"({{"htype":"array-1.0", "type":"uint16", "shape":[{},{}], "frame":{}, )"
                     R"("timeStamp":{:.17g}, "encoding":"", "ndattr":{{"ColorMode":0}}}})",
                     rows, cols, frame, timestamp);
}

std::vector<std::uint16_t> pixels(std::uint64_t frame, std::size_t n) {
  std::vector<std::uint16_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint16_t>(frame * 100 + i);
  return v;
}

/// The plugin's side: one PUSH or PUB socket.
struct Sender {
  zmq::context_t context{1};
  zmq::socket_t socket;
  Sender(zmq::socket_type type, const std::string& address, bool bind) : socket(context, type) {
    socket.set(zmq::sockopt::linger, 0);
    if (bind)
      socket.bind(address);
    else
      socket.connect(address);
  }
  std::string endpoint() { return socket.get(zmq::sockopt::last_endpoint); }
  void send_parts(const std::vector<std::string>& parts) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto more = i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      REQUIRE(socket.send(zmq::buffer(parts[i]), more));
    }
  }
  void send_frame(std::uint64_t frame, std::size_t rows = 4, std::size_t cols = 6,
                  double timestamp = 1136214245.5) {
    const auto data = pixels(frame, rows * cols);
    std::string bytes(data.size() * sizeof(std::uint16_t), '\0');
    std::memcpy(bytes.data(), data.data(), bytes.size());
    send_parts({adzmq_header(frame, rows, cols, timestamp), bytes});
  }
};

std::string port_of(const std::string& endpoint) {
  return endpoint.substr(endpoint.rfind(':'));
}

ReceivedFrame pop_one(ZmqReceiver& rx) {
  auto f = rx.pop(std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline));
  REQUIRE_MESSAGE(f.has_value(),
                  "no frame within the deadline; last error: ", rx.stats().last_error);
  return std::move(*f);
}

void check_frame(const ReceivedFrame& f, std::uint64_t number, std::size_t rows = 4,
                 std::size_t cols = 6) {
  const auto& fr = f.frame();
  CHECK(fr.header.frame == number);
  CHECK(fr.header.type == DataType::uint16);
  CHECK(fr.header.shape == std::vector<std::size_t>{rows, cols});
  const auto want = pixels(number, rows * cols);
  REQUIRE(fr.data.size() == want.size() * sizeof(std::uint16_t));
  CHECK(std::memcmp(fr.data.data(), want.data(), fr.data.size()) == 0);
}

template <class Pred>
void wait_for_stats(ZmqReceiver& rx, Pred pred) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!pred(rx.stats())) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "stats never got there");
    std::this_thread::sleep_for(5ms);
  }
}

/// PUB/SUB loses everything sent before the subscription reaches the
/// publisher (slow joiner, §3.5): send frame 0 every 20 ms until one arrives,
/// rather than sleeping and hoping. Copies sent meanwhile may still follow.
void settle(Sender& pub, ZmqReceiver& rx) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    pub.send_frame(0);
    if (rx.pop(20ms)) return;
  }
  FAIL("the subscription never settled");
}

TEST_CASE("zmq receiver: serverHost → receiver socket (file-formats.md §3.2)") {
  auto r = receiver_socket_for("tcp://*:1234", "ioc");
  CHECK(r.pattern == Pattern::pub_sub);
  CHECK_FALSE(r.bind);
  CHECK(r.address == "tcp://ioc:1234");
  r = receiver_socket_for("tcp://127.0.0.1:1234 PUB");
  CHECK((r.pattern == Pattern::pub_sub && !r.bind && r.address == "tcp://127.0.0.1:1234"));
  r = receiver_socket_for("tcp://127.0.0.1:1234 PUB CONNECT");
  CHECK((r.pattern == Pattern::pub_sub && r.bind && r.address == "tcp://127.0.0.1:1234"));
  r = receiver_socket_for("tcp://127.0.0.1:1234");
  CHECK((r.pattern == Pattern::push_pull && r.bind));
  r = receiver_socket_for("tcp://127.0.0.1:1234 PUSH BIND");
  CHECK((r.pattern == Pattern::push_pull && !r.bind));
  r = receiver_socket_for("tcp://0.0.0.0:99 PULL", "10.0.0.2");
  CHECK((r.pattern == Pattern::push_pull && !r.bind && r.address == "tcp://10.0.0.2:99"));
  r = receiver_socket_for("tcp://*:1234", "ioc", Pattern::push_pull);
  CHECK((r.pattern == Pattern::push_pull && !r.bind));
  CHECK_THROWS_AS((void)receiver_socket_for("  "), std::invalid_argument);
  CHECK_THROWS_AS((void)receiver_socket_for("tcp://*:1 PUBLISH"), std::invalid_argument);
}

TEST_CASE("zmq receiver: PUSH (plugin connects) → PULL bind, N frames in order") {
  ZmqReceiver rx("tcp://127.0.0.1:0");
  CHECK(rx.socket().pattern == Pattern::push_pull);
  CHECK(rx.socket().bind);
  Sender push(zmq::socket_type::push, rx.endpoint(), false);
  constexpr std::uint64_t n = 50;
  for (std::uint64_t i = 1; i <= n; ++i) push.send_frame(i);
  push.send_frame(n + 1, 1, 1);  // 2 bytes: kept inside zmq_msg_t itself
  std::vector<ReceivedFrame> got;
  for (std::uint64_t i = 1; i <= n + 1; ++i) got.push_back(pop_one(rx));  // moves them around
  const auto s = rx.stats();
  CHECK(s.received == n + 1);
  CHECK(s.bad == 0);
  CHECK(s.missing == 0);
  CHECK(s.duplicates == 0);
  CHECK(s.overruns == 0);
  CHECK(s.last_frame == n + 1);
  rx.stop();
  CHECK(rx.stopped());
  CHECK_FALSE(rx.pop(1ms).has_value());
  // The frames own their messages: still valid after the receiver has stopped.
  for (std::uint64_t i = 1; i <= n; ++i) check_frame(got[i - 1], i);
  check_frame(got[n], n + 1, 1, 1);
}

TEST_CASE("zmq receiver: PUSH BIND → PULL connect") {
  Sender push(zmq::socket_type::push, "tcp://127.0.0.1:*", true);
  ZmqReceiver rx(push.endpoint() + " PUSH BIND");
  CHECK_FALSE(rx.socket().bind);
  for (std::uint64_t i = 7; i < 17; ++i) push.send_frame(i);
  for (std::uint64_t i = 7; i < 17; ++i) check_frame(pop_one(rx), i);
  CHECK(rx.stats().missing == 0);
}

TEST_CASE("zmq receiver: PUB bind on tcp://*:port → SUB connect, subscribed to everything") {
  Sender pub(zmq::socket_type::pub, "tcp://127.0.0.1:*", true);
  ZmqReceiverOptions options;
  options.ioc_host = "127.0.0.1";
  ZmqReceiver rx("tcp://*" + port_of(pub.endpoint()), options);
  CHECK(rx.socket().pattern == Pattern::pub_sub);
  CHECK(rx.socket().address == "tcp://127.0.0.1" + port_of(pub.endpoint()));
  settle(pub, rx);
  constexpr std::uint64_t n = 30;
  for (std::uint64_t i = 1; i <= n; ++i) pub.send_frame(i);
  // Copies of frame 0 sent while settling are duplicates of the one settle()
  // popped (same number and time stamp): dropped, never handed out.
  check_frame(pop_one(rx), 1);
  for (std::uint64_t i = 2; i <= n; ++i) check_frame(pop_one(rx), i);
  const auto s = rx.stats();
  CHECK(s.received == n + 1 + s.duplicates);
  CHECK(s.missing == 0);
  CHECK(s.reorders == 0);
}

TEST_CASE("zmq receiver: gaps, reorders, duplicates and a new acquisition") {
  ZmqReceiver rx("tcp://127.0.0.1:0");
  Sender push(zmq::socket_type::push, rx.endpoint(), false);
  for (std::uint64_t i : std::initializer_list<std::uint64_t>{1, 3, 2}) push.send_frame(i);
  wait_for_stats(rx, [](const ZmqReceiverStats& s) { return s.received == 3; });
  auto s = rx.stats();
  CHECK(s.missing == 0);  // 2 came late: a reorder, not a gap and not a duplicate
  CHECK(s.reorders == 1);
  CHECK(s.duplicates == 0);
  for (std::uint64_t i : std::initializer_list<std::uint64_t>{6, 6, 7, 4})
    push.send_frame(i);  // a gap (4, 5), a duplicate, in order, a late 4
  wait_for_stats(rx, [](const ZmqReceiverStats& x) { return x.received == 7; });
  s = rx.stats();
  CHECK(s.missing == 1);  // 5 never came
  CHECK(s.reorders == 2);
  CHECK(s.duplicates == 1);
  CHECK(s.last_frame == 7);
  for (std::uint64_t i : std::initializer_list<std::uint64_t>{1, 3, 2, 6, 7, 4})
    check_frame(pop_one(rx), i);  // the duplicate 6 is not handed out
  // ArrayCounter reset: numbers start again at 1 with new time stamps — a
  // new acquisition, not four duplicates.
  for (std::uint64_t i = 1; i <= 4; ++i)
    push.send_frame(i, 4, 6, 1136214300.0 + static_cast<double>(i));
  wait_for_stats(rx, [](const ZmqReceiverStats& x) { return x.received == 11; });
  s = rx.stats();
  CHECK(s.restarts == 1);
  CHECK(s.duplicates == 1);
  CHECK(s.missing == 1);  // the first acquisition's loss is kept
  CHECK(s.last_frame == 4);
  for (std::uint64_t i = 1; i <= 4; ++i) check_frame(pop_one(rx), i);
}

TEST_CASE("zmq receiver: a receive thread that dies says why, and pop() stops waiting") {
  ZmqReceiverOptions options;
  std::atomic<bool> fail{false};
  options.fault_injection = [&] {
    if (fail) throw std::runtime_error("injected receive failure");
  };
  ZmqReceiver rx("tcp://127.0.0.1:0", options);
  Sender push(zmq::socket_type::push, rx.endpoint(), false);
  push.send_frame(1);
  check_frame(pop_one(rx), 1);
  fail = true;
  wait_for_stats(rx, [](const ZmqReceiverStats& s) { return !s.failure.empty(); });
  CHECK(rx.stats().failure == "receive thread ended: injected receive failure");
  CHECK(rx.stopped());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(rx.pop(std::chrono::seconds(30)));  // closed: returns at once, not after 30 s
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(25));
}

TEST_CASE("zmq receiver: bad messages are counted, the stream resynchronises") {
  ZmqReceiver rx("tcp://127.0.0.1:0");
  Sender push(zmq::socket_type::push, rx.endpoint(), false);
  auto expect_bad = [&](std::uint64_t count, const std::string& says) {
    wait_for_stats(rx, [&](const ZmqReceiverStats& s) { return s.bad == count; });
    const auto err = rx.stats().last_error;
    CHECK_MESSAGE(err.find(says) != std::string::npos, err);
  };
  push.send_frame(1);
  push.send_parts({"this is not a header {", "xx"});
  expect_bad(1, "");
  push.send_frame(2);
  push.send_parts({adzmq_header(3, 4, 6), std::string(47, '\0')});  // needs 48 bytes
  expect_bad(2, "frame 3");
  push.send_parts({adzmq_header(4, 4, 6)});
  expect_bad(3, "1 frame, expected 2");
  push.send_parts({adzmq_header(4, 4, 6), std::string(48, '\0'), "trailer"});
  expect_bad(4, "3 frames, expected 2");
  push.send_frame(4);
  for (std::uint64_t i : std::initializer_list<std::uint64_t>{1, 2, 4}) check_frame(pop_one(rx), i);
  const auto s = rx.stats();
  CHECK(s.received == 3);
  CHECK(s.bad == 4);
  CHECK(s.missing == 0);  // frame 3 arrived (bad), it is not missing
}

TEST_CASE("zmq receiver: a full queue drops the newest and counts overruns") {
  ZmqReceiverOptions options;
  options.queue_capacity = 2;
  ZmqReceiver rx("tcp://127.0.0.1:0", options);
  Sender push(zmq::socket_type::push, rx.endpoint(), false);
  constexpr std::uint64_t n = 40;
  for (std::uint64_t i = 1; i <= n; ++i) push.send_frame(i);
  wait_for_stats(rx, [](const ZmqReceiverStats& s) { return s.received == n; });
  const auto s = rx.stats();
  CHECK(s.overruns == n - 2);
  CHECK(s.missing == 0);
  check_frame(pop_one(rx), 1);
  check_frame(pop_one(rx), 2);
  push.send_frame(n + 1);  // room again: the receiver kept reading throughout
  check_frame(pop_one(rx), n + 1);
}

TEST_CASE("zmq receiver: stop() wakes a pop() blocked in another thread") {
  ZmqReceiver rx("tcp://127.0.0.1:0");
  auto popped = std::async(std::launch::async, [&] { return rx.pop(60s).has_value(); });
  CHECK(popped.wait_for(50ms) == std::future_status::timeout);  // it is blocked
  rx.stop();
  REQUIRE(popped.wait_for(kDeadline) == std::future_status::ready);
  CHECK_FALSE(popped.get());
  rx.stop();  // idempotent
}

TEST_CASE("zmq receiver: libzmq's refusal is an exception at construction") {
  ZmqReceiver first("tcp://127.0.0.1:0");
  CHECK_THROWS_AS(ZmqReceiver{first.endpoint()}, std::runtime_error);  // address in use
  CHECK_THROWS_AS(ZmqReceiver{"nonsense://x:1 CONNECT"}, std::runtime_error);
}

TEST_CASE("zmq receiver: hand_out_duplicates passes a duplicate on, still counted") {
  ZmqReceiverOptions options;
  options.hand_out_duplicates = true;
  ZmqReceiver rx("tcp://127.0.0.1:0", options);
  Sender push(zmq::socket_type::push, rx.endpoint(), false);
  for (std::uint64_t i : std::initializer_list<std::uint64_t>{1, 2, 2, 3}) push.send_frame(i);
  for (std::uint64_t i : std::initializer_list<std::uint64_t>{1, 2, 2, 3})
    check_frame(pop_one(rx), i);  // the second 2 (same number and time stamp) too
  const auto s = rx.stats();
  CHECK(s.duplicates == 1);
  CHECK(s.received == 4);
}

}  // namespace
}  // namespace pandafly::capture
