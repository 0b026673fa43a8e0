// The simulated camera's image1 with an array provider (camera.hpp "Array
// provider"): image1 processes frame k once its pixels came, in order,
// ArrayData before its counters; no pixels: image1 drops the frame. Driven
// without sockets, as sim_ca_camera_test.cpp drives the camera.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/camera.hpp"
#include "sim_ca_device_test_util.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::ca;
using namespace pandafly::sim::ca::test;

namespace {

// An 8 x 4 UInt16 camera (ArrayData LONG), 10 ms exposures 20 ms apart, no
// readout, plugins 2 ms after the driver; its PVs logged with their ticks;
// the array provider's requests recorded.
struct Rig : PostLog {
  Rig() : camera(config()) {
    camera.publish(db);
    for (const auto& name : db.names()) {
      db.find(name)->observe([this, field = name.substr(6)](const Pv& p, unsigned mask) {
        if (mask & kDbeValue) log.push_back({field, number(p.value()), tick_of(p.stamp())});
      });
    }
    frames_sub = camera.subscribe_frames([this](const FrameInfo& f) { zmq.push_back(f); });
    camera.set_array_provider([this](const FrameInfo& f) { requests.push_back(f); });
    camera.advance(0, wall_of(0));
    (void)put("image1:EnableCallbacks", Enums{1});
    (void)put("ZMQ1:EnableCallbacks", Enums{1});
  }
  static CameraConfig config() {
    CameraConfig c;
    c.size_x = 8;
    c.size_y = 4;
    c.acquire_time = 0.01;
    c.acquire_period = 0.02;
    return c;
  }
  [[nodiscard]] double get(const std::string& pv) const { return number(camera.pv(pv)->value()); }
  std::uint32_t put(const std::string& pv, Elements value) {
    return camera.pv(pv)->put(std::move(value), [](std::uint32_t) {});
  }
  void acquire(std::int32_t frames) {
    (void)put("cam5:ImageMode", Enums{1});
    (void)put("cam5:NumImages", Longs{frames});
    (void)put("cam5:Acquire", Enums{1});
  }
  void run_to(Tick t) {
    for (Tick next = camera.next_wake(); next <= t; next = camera.next_wake()) step(next);
    step(t);
  }
  void step(Tick t) { camera.advance(t, wall_of(t)); }
  [[nodiscard]] std::vector<Tick> ticks_of(const std::string& field) const {
    std::vector<Tick> out;
    for (const auto& p : of(field)) out.push_back(p.tick);
    return out;
  }
  [[nodiscard]] Longs array() const {
    return std::get<Longs>(camera.pv("image1:ArrayData")->value());
  }
  // Index in the log of the first post of `field` with `value`.
  [[nodiscard]] std::size_t first(const std::string& field, double value) const {
    for (std::size_t i = 0; i < log.size(); ++i)
      if (log[i].field == field && log[i].value == value) return i;
    return log.size();
  }

  Camera camera;
  PvDatabase db;
  std::vector<FrameInfo> zmq, requests;
  Subscription frames_sub;
};

Longs filled(std::int32_t v) {
  return Longs(32, v);
}

}  // namespace

TEST_CASE("camera array provider: image1 processes frame k once its pixels came, in order") {
  Rig rig;
  rig.acquire(2);
  rig.run_to(ticks(0.1));
  // Asked at image1's processing ticks; nothing of image1 posted yet.
  REQUIRE(rig.requests.size() == 2);
  CHECK(rig.requests[0].unique_id == 1);
  CHECK(rig.requests[1].unique_id == 2);
  CHECK(rig.requests[0].to_image);
  CHECK(rig.requests[0].width == 8);
  CHECK(rig.of("image1:UniqueId_RBV").empty());
  CHECK(rig.of("image1:ArrayData").empty());
  CHECK(rig.get("cam5:NumQueuedArrays") == 2);
  CHECK(rig.get("image1:QueueFree") == rig.get("image1:QueueSize") - 2);
  // ZMQ1 never waits for image1.
  REQUIRE(rig.zmq.size() == 2);
  CHECK(rig.ticks_of("ZMQ1:UniqueId_RBV") == std::vector<Tick>{ticks(0.012), ticks(0.032)});
  // Frame 2's pixels first: image1 still waits for frame 1.
  rig.camera.array_ready(2, filled(22));
  rig.run_to(ticks(0.15));
  CHECK(rig.of("image1:UniqueId_RBV").empty());
  rig.camera.array_ready(1, filled(11));
  rig.camera.array_ready(1, filled(99));  // answered already: ignored
  rig.camera.array_ready(7, filled(99));  // never asked: ignored
  rig.run_to(ticks(0.2));
  // Both at the camera's time once answered, each at its own tick.
  CHECK(rig.ticks_of("image1:UniqueId_RBV") == std::vector<Tick>{ticks(0.15), ticks(0.15) + 1});
  CHECK(rig.values("image1:UniqueId_RBV") == std::vector<double>{1, 2});
  CHECK(rig.values("image1:ArrayCounter_RBV") == std::vector<double>{1, 2});
  CHECK(rig.values("image1:ArrayData") == std::vector<double>{11, 22});
  CHECK(rig.array() == filled(22));
  // Each array before its counters.
  CHECK(rig.first("image1:ArrayData", 11) < rig.first("image1:UniqueId_RBV", 1));
  CHECK(rig.first("image1:UniqueId_RBV", 1) < rig.first("image1:ArrayData", 22));
  CHECK(rig.first("image1:ArrayData", 22) < rig.first("image1:UniqueId_RBV", 2));
  CHECK(rig.get("image1:ArrayData.NORD") == 32);
  CHECK(rig.get("image1:ArrayData.SEVR") == 0);
  CHECK(rig.get("cam5:NumQueuedArrays") == 0);
  CHECK(rig.get("image1:QueueFree") == rig.get("image1:QueueSize"));
}

TEST_CASE("camera array provider: an answer from within the request is processed at its tick") {
  Rig rig;
  rig.camera.set_array_provider(
      [&rig](const FrameInfo& f) { rig.camera.array_ready(f.unique_id, filled(f.unique_id)); });
  rig.acquire(2);
  rig.run_to(ticks(0.1));
  CHECK(rig.ticks_of("image1:UniqueId_RBV") == std::vector<Tick>{ticks(0.012), ticks(0.032)});
  CHECK(rig.values("image1:ArrayData") == std::vector<double>{1, 2});
}

TEST_CASE("camera array provider: no pixels — image1 drops the frame, the next one goes on") {
  Rig rig;
  std::vector<std::string> lines;
  rig.camera.on_log([&](std::string_view line) { lines.emplace_back(line); });
  rig.acquire(2);
  rig.run_to(ticks(0.1));
  rig.camera.array_ready(1, std::nullopt);
  rig.camera.array_ready(2, filled(2));
  rig.run_to(ticks(0.2));
  CHECK(rig.values("image1:DroppedArrays_RBV") == std::vector<double>{1});
  CHECK(rig.values("image1:UniqueId_RBV") == std::vector<double>{2});
  CHECK(rig.values("image1:ArrayData") == std::vector<double>{2});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("image1 dropped frame 1") != std::string::npos);
}

TEST_CASE("camera array provider: ArrayCallbacks Disable asks for nothing, posts the counters") {
  Rig rig;
  (void)rig.put("image1:ArrayCallbacks", Enums{0});
  rig.acquire(1);
  rig.run_to(ticks(0.1));
  CHECK(rig.requests.empty());
  CHECK(rig.ticks_of("image1:UniqueId_RBV") == std::vector<Tick>{ticks(0.012)});
  CHECK(rig.of("image1:ArrayData").empty());
}

TEST_CASE(
    "camera array provider: WaitForPlugins Yes keeps AcquireBusy until image1 has the array") {
  Rig rig;
  (void)rig.put("cam5:WaitForPlugins", Enums{1});
  rig.acquire(1);
  rig.run_to(ticks(0.1));
  CHECK(rig.get("cam5:AcquireBusy") == 1);
  CHECK(rig.get("cam5:Acquire") == 0);
  rig.camera.array_ready(1, filled(1));
  rig.run_to(ticks(0.2));
  CHECK(rig.ticks_of("cam5:AcquireBusy") == std::vector<Tick>{0, ticks(0.1)});
}

TEST_CASE("array_elements: pixels to ArrayData's native type") {
  static_assert(std::endian::native == std::endian::little);
  const std::vector<std::uint16_t> u16{0, 1, 65535, 40000};
  std::vector<std::byte> bytes(u16.size() * 2);
  std::memcpy(bytes.data(), u16.data(), bytes.size());
  CHECK(std::get<Longs>(array_elements(CameraDataType::uint16, CameraDataType::uint16, bytes)) ==
        Longs{0, 1, 65535, 40000});
  CHECK(std::get<Doubles>(array_elements(CameraDataType::uint32, CameraDataType::uint16, bytes)) ==
        Doubles{0, 1, 65535, 40000});
  const std::vector<float> f32{-5.0f, 3.7f, 300.0f};
  std::vector<std::byte> fb(f32.size() * 4);
  std::memcpy(fb.data(), f32.data(), fb.size());
  // Floats into an integer waveform: clamped to its range, then truncated.
  CHECK(std::get<Chars>(array_elements(CameraDataType::uint8, CameraDataType::float32, fb)) ==
        Chars{0, 3, 255});
  CHECK(
      std::get<Longs>(array_elements(CameraDataType::uint16, CameraDataType::uint16, {})).empty());
  CHECK_THROWS_AS((void)array_elements(CameraDataType::uint16, CameraDataType::uint16,
                                       std::span(bytes.data(), 3)),
                  std::invalid_argument);
}
