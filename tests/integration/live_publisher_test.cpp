// capture::LivePublisher over real libzmq on 127.0.0.1, read by our
// ZmqReceiver, by a raw cppzmq SUB that stops reading (the HWM), and by pyzmq
// decoding by the reference's rules (live_subscriber.py, file-formats.md §3.3).
// PUB/SUB loses what is sent before a subscription arrives (slow joiner), so
// each test first publishes probe projections (ProjectionIndex 999999) until
// the subscriber has one — an event, not a sleep. Waits are failure guards.
#include "pandafly/capture/live_publisher.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "pandafly/capture/zmq_receiver.hpp"

namespace pandafly::capture {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kProbe = 999999;

// A camera frame as the receiver decoded it: 4 x 6 uint16 (or rows x cols).
struct TestFrame {
  FrameHeader header;
  std::vector<std::uint16_t> pixels;
  [[nodiscard]] std::span<const std::byte> bytes() const {
    return std::as_bytes(std::span(pixels));
  }
};

std::uint16_t pixel(std::uint64_t k, std::size_t i) {
  return static_cast<std::uint16_t>((k * 7 + i) % 65536);
}

std::shared_ptr<TestFrame> camera_frame(std::uint64_t k, std::size_t rows = 4,
                                        std::size_t cols = 6) {
  auto f = std::make_shared<TestFrame>();
  f->header.frame = 100 + k;
  f->header.timestamp = 1.1e9 + static_cast<double>(k) / 3.0;
  f->header.type = DataType::uint16;
  f->header.shape = {rows, cols};
  f->header.attributes = {{"ColorMode", std::int64_t{0}},
                          {"HDF5FrameLocation", std::string("/exchange/data")},
                          {"PandaTheta", 1234.5},  // a stale one: replaced by the measured angle
                          {"Note", std::string("a \"quoted\" \\ note")}};
  f->pixels.resize(rows * cols);
  for (std::size_t i = 0; i < f->pixels.size(); ++i) f->pixels[i] = pixel(k, i);
  return f;
}

// The angle the test gives projection k (not round in binary: checks 17 digits).
double angle_of(std::uint64_t k) {
  return 0.5 * static_cast<double>(k) + 1.0 / 3.0;
}
constexpr std::uint64_t kNoAngle = 7;  // this projection's PandA row was "lost"

LiveProjection projection(std::uint64_t k, const std::shared_ptr<TestFrame>& f, bool zero_copy) {
  LiveProjection p;
  p.slot = k;
  p.frame = &f->header;
  p.data = f->bytes();
  if (k != kNoAngle) p.angle = angle_of(k);
  if (k != kNoAngle) p.angle_start = angle_of(k) - 0.125;
  if (zero_copy) p.owner = f;
  return p;
}

// Publishes probes every 10 ms on another thread until `received()` returns true.
template <class F>
void probe_until(LivePublisher& pub, F received) {
  auto probe = camera_frame(kProbe);
  std::atomic<bool> done{false};
  auto sender = std::async(std::launch::async, [&] {
    while (!done.load()) {
      (void)pub.publish(projection(kProbe, probe, false));
      std::this_thread::sleep_for(10ms);  // pacing of the probes, not a wait for a result
    }
  });
  const bool ok = received();
  done = true;
  sender.get();
  REQUIRE_MESSAGE(ok, "the subscriber never got a probe");
}

LivePublisherOptions options(int send_hwm) {
  LivePublisherOptions o;
  o.send_hwm = send_hwm;
  return o;
}

const NDAttribute* only(const FrameHeader& h, std::string_view name) {
  int n = 0;
  for (const auto& a : h.attributes) n += a.name == name ? 1 : 0;
  REQUIRE_MESSAGE(n == 1, name);
  return h.attribute(name);
}

}  // namespace

TEST_CASE("LivePublisher -> ZmqReceiver: pixels, camera frame numbers and measured angles") {
  LivePublisher pub("tcp://127.0.0.1:0", options(1000));
  INFO("endpoint ", pub.endpoint());
  ZmqReceiverOptions ro;
  ro.queue_capacity = 1000;
  ZmqReceiver rx(pub.endpoint() + " PUB", ro);  // PUB binds → we connect
  probe_until(pub, [&] { return rx.pop(30s).has_value(); });

  constexpr std::uint64_t n = 50;
  for (std::uint64_t k = 0; k < n; ++k) {
    auto f = camera_frame(k);
    CHECK(pub.publish(projection(k, f, k % 2 == 0)));  // zero copy and copied alike
  }
  std::uint64_t k = 0;
  const auto deadline = Clock::now() + 60s;
  while (k < n && Clock::now() < deadline) {
    auto got = rx.pop(1s);
    if (!got) continue;
    const auto& h = got->frame().header;
    if (std::get<std::int64_t>(h.attribute("ProjectionIndex")->value) ==
        static_cast<std::int64_t>(kProbe))
      continue;  // a probe still in flight
    INFO("projection ", k);
    CHECK(std::get<std::int64_t>(only(h, "ProjectionIndex")->value) ==
          static_cast<std::int64_t>(k));
    CHECK(h.frame == 100 + k);
    CHECK(h.timestamp == 1.1e9 + static_cast<double>(k) / 3.0);
    CHECK(h.shape == std::vector<std::size_t>{4, 6});
    CHECK(h.type == DataType::uint16);
    REQUIRE(got->frame().data.size() == 48);
    std::vector<std::uint16_t> px(24);
    std::memcpy(px.data(), got->frame().data.data(), 48);
    for (std::size_t i = 0; i < px.size(); ++i) CHECK(px[i] == pixel(k, i));
    CHECK(std::get<std::string>(only(h, "HDF5FrameLocation")->value) == "/exchange/data");
    CHECK(std::get<std::int64_t>(only(h, "ColorMode")->value) == 0);
    CHECK(std::get<std::string>(only(h, "Note")->value) == "a _quoted_ _ note");
    CHECK(h.attribute_warning.empty());
    if (k == kNoAngle) {
      CHECK(std::get<std::string>(only(h, "PandaTheta")->value) == "Undefined");
      CHECK(h.attribute("PandaThetaStart") == nullptr);
    } else {
      CHECK(std::get<double>(only(h, "PandaTheta")->value) == angle_of(k));  // exact
      CHECK(std::get<double>(only(h, "PandaThetaStart")->value) == angle_of(k) - 0.125);
    }
    ++k;
  }
  CHECK(k == n);
  const auto s = pub.stats();
  CHECK(s.dropped == 0);
  CHECK(s.failed == 0);
  CHECK(s.published >= n + 1);
  CHECK(rx.stats().missing == 0);
  CHECK(rx.stats().bad == 0);
}

TEST_CASE("LivePublisher never blocks on a subscriber that stops reading: drops and counts") {
  LivePublisher pub("tcp://127.0.0.1:0", options(2));
  zmq::context_t ctx{1};
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::rcvhwm, 2);
  sub.set(zmq::sockopt::rcvtimeo, 30000);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect(pub.endpoint());
  probe_until(pub, [&] {
    std::vector<zmq::message_t> parts;
    return zmq::recv_multipart(sub, std::back_inserter(parts)).has_value();
  });
  const auto before = pub.stats();

  // 300 projections of 1 MiB to a subscriber that reads nothing meanwhile:
  // TCP buffers and both HWMs fill after a few; the rest must be refused.
  constexpr std::uint64_t n = 300;
  auto big = camera_frame(0, 512, 1024);
  auto flood = std::async(std::launch::async, [&] {
    double slowest = 0;
    std::uint64_t accepted = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      const auto t0 = Clock::now();
      if (pub.publish(projection(k, big, true))) ++accepted;
      slowest = std::max(slowest, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    return std::pair{accepted, slowest};
  });
  REQUIRE_MESSAGE(flood.wait_for(60s) == std::future_status::ready, "publish() blocked");
  const auto [accepted, slowest] = flood.get();
  const auto s = pub.stats();
  MESSAGE("accepted " << accepted << " of " << n << ", dropped " << s.dropped - before.dropped
                      << ", slowest publish() " << slowest * 1e3 << " ms");
  CHECK(s.dropped - before.dropped > 0);
  CHECK(s.published - before.published == accepted);
  CHECK(accepted + (s.dropped - before.dropped) == n);
  CHECK(s.failed == 0);
  CHECK(slowest < 1.0);  // guard: microseconds expected

  // Every accepted projection arrives, whole and in order; the gaps in
  // ProjectionIndex are exactly the dropped ones.
  std::uint64_t received = 0;
  std::int64_t last = -1;
  while (received < accepted) {
    std::vector<zmq::message_t> parts;
    REQUIRE(zmq::recv_multipart(sub, std::back_inserter(parts)).has_value());
    REQUIRE(parts.size() == 2);
    auto r = decode_adzmq(std::as_bytes(std::span(parts[0].data<char>(), parts[0].size())),
                          std::as_bytes(std::span(parts[1].data<char>(), parts[1].size())));
    REQUIRE(std::holds_alternative<Frame>(r));
    const auto index =
        std::get<std::int64_t>(std::get<Frame>(r).header.attribute("ProjectionIndex")->value);
    if (index == static_cast<std::int64_t>(kProbe)) continue;
    CHECK(index > last);
    last = index;
    ++received;
  }
  CHECK(received == accepted);
}

TEST_CASE("LivePublisher refuses bad input without throwing, and names it") {
  LivePublisher pub("tcp://127.0.0.1:0");
  auto f = camera_frame(3);
  auto p = projection(3, f, false);
  p.data = p.data.first(47);
  CHECK_FALSE(pub.publish(p));
  CHECK(pub.stats().failed == 1);
  CHECK(pub.stats().last_error == "projection 3 (frame 103): data is 47 bytes, the shape needs 48");
  p.frame = nullptr;
  CHECK_FALSE(pub.publish(p));
  CHECK(pub.stats().failed == 2);
  CHECK(pub.stats().published == 0);
  // An endpoint already bound (by `pub`): the error names it.
  CHECK_THROWS_WITH_AS(LivePublisher(pub.endpoint()), doctest::Contains(pub.endpoint().c_str()),
                       std::runtime_error);
}

TEST_CASE("LivePublisher header: the plugin's key order, the angle appended, no stale angle") {
  auto f = camera_frame(2);
  const auto text = live_header(projection(2, f, false), {});
  CHECK(text == R"({"htype":"array-1.0", "type":"uint16", "shape":[4,6], "frame":102, )"
                R"("timeStamp":1100000000.6666667, "encoding":"", "ndattr":{"ColorMode":0,)"
                R"("HDF5FrameLocation":"/exchange/data","Note":"a _quoted_ _ note",)"
                R"("PandaTheta":1.3333333333333333,"PandaThetaStart":1.2083333333333333,)"
                R"("ProjectionIndex":2}})");
}

TEST_CASE("LivePublisher -> pyzmq decoding by the reference's rules") {
  LivePublisher pub("tcp://127.0.0.1:0", options(1000));
  constexpr std::uint64_t n = 20;
  const std::string cmd = "/usr/bin/python3 " PANDAFLY_TEST_SCRIPTS "/live_subscriber.py '" +
                          pub.endpoint() + "' " + std::to_string(n);
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char line[512];
  probe_until(pub, [&] {
    return std::fgets(line, sizeof line, pipe) != nullptr && std::string(line) == "ready\n";
  });
  std::vector<std::shared_ptr<TestFrame>> frames;
  for (std::uint64_t k = 0; k < n; ++k) {
    frames.push_back(camera_frame(k));
    REQUIRE(pub.publish(projection(k, frames.back(), k % 2 == 1)));
  }
  std::uint64_t k = 0;
  while (k < n && std::fgets(line, sizeof line, pipe) != nullptr) {
    INFO("projection ", k, ": ", line);
    std::istringstream in(line);
    std::uint64_t index = 0;
    std::uint64_t frame = 0;
    std::string stamp, angle, start, shape, location;
    std::int64_t sum = 0, first = 0, last = 0;
    in >> index >> frame >> stamp >> angle >> start >> shape >> sum >> first >> last >> location;
    REQUIRE_FALSE(in.fail());
    CHECK(index == k);
    CHECK(frame == 100 + k);
    CHECK(std::stod(stamp) == 1.1e9 + static_cast<double>(k) / 3.0);
    if (k == kNoAngle) {
      CHECK(angle == "Undefined");
      CHECK(start == "-");
    } else {
      CHECK(std::stod(angle) == angle_of(k));  // Python's repr round-trips exactly
      CHECK(std::stod(start) == angle_of(k) - 0.125);
    }
    CHECK(shape == "4x6");
    std::int64_t want = 0;
    for (std::size_t i = 0; i < 24; ++i) want += pixel(k, i);
    CHECK(sum == want);
    CHECK(first == pixel(k, 0));
    CHECK(last == pixel(k, 23));
    CHECK(location == "/exchange/data");
    ++k;
  }
  CHECK(k == n);
  CHECK(::pclose(pipe) == 0);
}

}  // namespace pandafly::capture
