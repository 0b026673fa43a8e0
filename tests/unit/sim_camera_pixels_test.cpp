// Publisher::FrameJob::on_pixels (publisher.hpp "Pixels for someone else"):
// the simulated camera hands a frame's pixels to image1 — exactly the bytes
// FrameSource renders for that kind, angle and seed, once per job, with or
// without sending, and even when every buffer is in flight.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <zmq.hpp>

#include "sim/camera/frame_source.hpp"
#include "sim/camera/publisher.hpp"

using namespace pandafly::sim::camera;
using namespace std::chrono_literals;

namespace {

constexpr FrameFormat kFormat{64, 32, pandafly::capture::DataType::uint16};

struct Taken {
  std::mutex mutex;
  std::vector<std::vector<std::byte>> pixels;
  std::function<void(std::span<const std::byte>)> sink() {
    return [this](std::span<const std::byte> p) {
      std::scoped_lock lock(mutex);
      pixels.emplace_back(p.begin(), p.end());
    };
  }
};

std::vector<std::byte> reference(FrameKind kind, double angle, std::uint64_t seed) {
  FrameSource source(kFormat);
  const auto px = source.render(kind, angle, seed);
  return {px.begin(), px.end()};
}

// host:port on 127.0.0.1 where nobody listens (taken, then let go).
std::string unused_endpoint() {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::pull);
  s.bind("tcp://127.0.0.1:*");
  std::string e = s.get(zmq::sockopt::last_endpoint);
  return e.substr(std::string("tcp://").size());
}

FrameJob job(FrameKind kind, double angle, std::uint64_t id) {
  return {.kind = kind, .angle_deg = angle, .format = kFormat, .unique_id = id};
}

}  // namespace

TEST_CASE("publisher on_pixels: the rendered bytes, sent or not") {
  Publisher pub({.server_host = "tcp://127.0.0.1:0 PUB", .format = kFormat});
  Taken taken;
  FrameJob sent = job(FrameKind::projection, 30.0, 7);
  sent.on_pixels = taken.sink();
  FrameJob only = job(FrameKind::dark, 0.0, 8);
  only.send = false;
  only.on_pixels = taken.sink();
  REQUIRE(pub.submit(std::move(sent)));
  REQUIRE(pub.submit(std::move(only)));
  REQUIRE(pub.wait_idle(30s));
  const auto st = pub.stats();
  CHECK(st.submitted == 1);
  CHECK(st.render_only == 1);
  CHECK(st.sent == 1);
  CHECK(st.last_frame == 7u);  // a render-only job is not a sent frame
  REQUIRE(taken.pixels.size() == 2);
  CHECK(taken.pixels[0] == reference(FrameKind::projection, 30.0, 7));
  CHECK(taken.pixels[1] == reference(FrameKind::dark, 0.0, 8));
  CHECK(taken.pixels[0].size() == kFormat.bytes());
}

TEST_CASE("publisher on_pixels: every buffer in flight — rendered anyway, the send counted") {
  // A connecting PUSH whose peer never comes queues its messages (and
  // holds their buffers): the second frame finds the one buffer in flight.
  Publisher pub({.server_host = fmt::format("tcp://{} PUSH CONNECT", unused_endpoint()),
                 .format = kFormat,
                 .buffers = 1,
                 .wait_for_buffer = false,
                 .linger = 0ms});
  Taken taken;
  FrameJob first = job(FrameKind::projection, 10.0, 1);
  REQUIRE(pub.submit(std::move(first)));
  REQUIRE(pub.wait_idle(30s));
  FrameJob second = job(FrameKind::flat, 0.0, 2);
  second.on_pixels = taken.sink();
  REQUIRE(pub.submit(std::move(second)));
  REQUIRE(pub.wait_idle(30s));
  const auto st = pub.stats();
  CHECK(st.sent == 1);
  CHECK(st.no_buffer == 1);
  REQUIRE(taken.pixels.size() == 1);
  CHECK(taken.pixels[0] == reference(FrameKind::flat, 0.0, 2));
}
