// The CA camera's ZMQ feed in simulated time: what each frame really saw
// (FrameTruth, from the hooks) — the true angle at mid-exposure, darks from
// the shutter, flats from the sample translation — and the truth log's JSON
// line; and the Publisher's on_backlog hook (a simulated clock's hold). The
// Publisher binds a PUB on 127.0.0.1 with no subscriber: what goes over real
// ZMQ is checked in tests/integration/sim_camera_test.cpp.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/camera.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim/ca/shutter.hpp"
#include "sim/camera/ca_camera_feed.hpp"
#include "sim_ca_device_test_util.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::camera;
using namespace pandafly::sim::ca::test;
namespace ca = pandafly::sim::ca;

namespace {

void put(const std::shared_ptr<ca::Pv>& pv, ca::Elements v) {
  REQUIRE(pv != nullptr);
  REQUIRE(pv->put(std::move(v), [](std::uint32_t) {}) == ca::kEcaNormal);
}

// A camera triggered on Line1, the rotation stage, a sample translation and a
// shutter, advanced together in 1 ms steps.
struct Beam {
  Beam() {
    ca::CameraConfig cc;
    cc.size_x = 16;
    cc.size_y = 12;
    cc.acquire_time = 0.02;
    cc.readout_time = 0.005;
    cc.sample_motor = "sample_x";
    cc.sample_in = 0.0;
    cc.sample_out_threshold = 1.0;
    cc.shutter = "shutter";
    camera = std::make_shared<ca::Camera>(cc);
    rotation = std::make_shared<ca::MotorRecord>(ca::MotorConfig{});
    ca::MotorConfig sx;
    sx.name = "sample_x";
    sx.prefix = "m2";
    sx.egu = "mm";
    sample = std::make_shared<ca::MotorRecord>(sx);
    ca::ShutterConfig sc;
    sc.open_time = 0.1;
    sc.close_time = 0.1;
    sc.open = false;
    shutter = std::make_shared<ca::Shutter>(sc);
    for (const auto& d : devices()) d->publish(db);
    step(0);
    beamline.cameras = {camera};
    beamline.motors = {rotation, sample};
    beamline.shutters = {shutter};
    CaCameraFeed::Options o;
    o.publisher.server_host = "tcp://127.0.0.1:0 PUB";
    o.publisher.format = FrameFormat{16, 12, pandafly::capture::DataType::uint16};
    o.publisher.queue_capacity = 64;
    o.epics_seconds = [](Tick t) { return 1e9 + static_cast<double>(t) * kSecondsPerTick; };
    o.on_truth = [this](const FrameTruth& t) { truths.push_back(t); };
    wire_beamline(o, beamline, *camera);
    feed = std::make_unique<CaCameraFeed>(camera, rotation, std::move(o));
    put(camera->pv("cam5:TriggerMode"), ca::Enums{1});
    put(camera->pv("cam5:TriggerSource"), ca::Enums{2});
    put(camera->pv("ZMQ1:EnableCallbacks"), ca::Enums{1});
    put(camera->pv("cam5:Acquire"), ca::Enums{1});
  }
  [[nodiscard]] std::vector<std::shared_ptr<ca::Device>> devices() const {
    return {rotation, sample, shutter, camera};
  }
  void step(Tick t) {
    now = t;
    for (const auto& d : devices()) d->advance(t, wall_of(t));
  }
  void run_to(Tick t) {
    for (Tick u = now + ticks(0.001); u <= t; u += ticks(0.001)) step(u);
  }

  std::shared_ptr<ca::Camera> camera;
  std::shared_ptr<ca::MotorRecord> rotation, sample;
  std::shared_ptr<ca::Shutter> shutter;
  ca::PvDatabase db;
  ca::Beamline beamline;
  std::vector<FrameTruth> truths;
  std::unique_ptr<CaCameraFeed> feed;
  Tick now = 0;
};

}  // namespace

TEST_CASE(
    "camera feed: the true angle at mid-exposure, darks from the shutter, flats from the "
    "sample motor") {
  Beam b;
  put(b.rotation->field("VAL"), ca::Doubles{90.0});  // turning from 0
  b.camera->external_trigger(ticks(0.05));           // shutter closed: dark
  b.run_to(ticks(0.1));
  put(b.shutter->command_pv(), ca::Enums{1});  // fully open at 0.2
  b.camera->external_trigger(ticks(0.15));     // exposure 0.15-0.17 while opening: dark
  b.camera->external_trigger(ticks(0.19));     // 0.19-0.21 overlaps the opening: dark
  b.camera->external_trigger(ticks(0.25));     // open, sample in: projection
  b.run_to(ticks(0.3));
  put(b.sample->field("VAL"), ca::Doubles{5.0});  // out of the beam
  b.run_to(ticks(2.0));
  b.camera->external_trigger(ticks(2.5));  // sample out: flat
  b.run_to(ticks(2.6));
  REQUIRE(b.truths.size() == 5);
  std::vector<FrameKind> kinds;
  for (const auto& t : b.truths) kinds.push_back(t.kind);
  CHECK(kinds == std::vector<FrameKind>{FrameKind::dark, FrameKind::dark, FrameKind::dark,
                                        FrameKind::projection, FrameKind::flat});
  const auto& p = b.truths[3];
  CHECK(p.unique_id == 4);
  CHECK(p.exposure_start == ticks(0.25));
  CHECK(p.exposure_end == ticks(0.27));
  CHECK(p.delivered == ticks(0.275));
  const auto& motion = *b.rotation->motion();
  CHECK(p.angle_start_deg == motion.position(ticks(0.25)));
  CHECK(p.angle_mid_deg == motion.position(ticks(0.26)));
  CHECK(p.angle_end_deg == motion.position(ticks(0.27)));
  CHECK(p.angle_start_deg < p.angle_mid_deg);  // accelerating: the middle is not the start
  CHECK(p.angle_mid_deg < p.angle_end_deg);
  CHECK(p.published);
  CHECK(p.fault == ca::FrameFault::none);
  REQUIRE(b.feed->publisher().wait_idle(std::chrono::seconds(30)));
  CHECK(b.feed->publisher().stats().submitted == 5);
}

TEST_CASE("camera feed: FrameTruth for every delivered frame, published or dropped by a fault") {
  Beam b;
  put(b.shutter->command_pv(), ca::Enums{1});
  b.camera->set_faults({.drop_frames = {2}, .duplicate_frames = {3}});
  std::vector<std::string> lines;
  b.camera->on_log([&](std::string_view l) { lines.emplace_back(l); });
  for (double s : {0.2, 0.3, 0.4}) b.camera->external_trigger(ticks(s));
  b.run_to(ticks(0.5));
  REQUIRE(b.truths.size() == 3);
  CHECK(b.truths[0].published);
  CHECK_FALSE(b.truths[1].published);
  CHECK(b.truths[1].fault == ca::FrameFault::dropped);
  CHECK(b.truths[2].published);
  CHECK(b.truths[2].fault == ca::FrameFault::duplicated);
  CHECK(lines.size() == 2);
  REQUIRE(b.feed->publisher().wait_idle(std::chrono::seconds(30)));
  CHECK(b.feed->publisher().stats().submitted == 3);  // 1, 3, 3
}

TEST_CASE("camera feed: truth_json_line, one JSON object per line") {
  FrameTruth t;
  t.unique_id = 7;
  t.exposure_start = 125'000'000;
  t.exposure_end = 126'250'000;
  t.delivered = 127'775'000;
  t.angle_start_deg = 1.5;
  t.angle_mid_deg = 1.625;
  t.angle_end_deg = 1.75;
  t.kind = FrameKind::flat;
  t.published = false;
  t.fault = ca::FrameFault::dropped;
  CHECK(truth_json_line(t) ==
        R"({"unique_id":7,"exposure_start_tick":125000000,"exposure_end_tick":126250000,)"
        R"("delivered_tick":127775000,"exposure_start_s":1,"exposure_end_s":1.01,)"
        R"("angle_start_deg":1.5,"angle_mid_deg":1.625,"angle_end_deg":1.75,"kind":"flat",)"
        R"("published":false,"fault":"dropped"})");
}

TEST_CASE("camera feed: FrameType index → HDF5FrameLocation") {
  CHECK(frame_location_of_frame_type(0) == "/exchange/data_dark");  // tomoscan's DarkField
  CHECK(frame_location_of_frame_type(1) == "/exchange/data_white");
  CHECK(frame_location_of_frame_type(2) == "/exchange/data");
}

namespace {

// The on_backlog calls strictly alternate, start with true and end with false.
void check_alternating(const std::vector<bool>& calls) {
  REQUIRE(!calls.empty());
  CHECK(calls.front());
  CHECK_FALSE(calls.back());
  for (std::size_t i = 1; i < calls.size(); ++i) CHECK(calls[i] != calls[i - 1]);
}

}  // namespace

TEST_CASE("camera publisher: on_backlog says when the renderer is behind and when it caught up") {
  std::mutex m;
  std::vector<bool> calls;
  PublisherOptions o;
  o.server_host = "tcp://127.0.0.1:0 PUB";
  o.format = FrameFormat{16, 12, pandafly::capture::DataType::uint16};
  o.queue_capacity = 64;
  o.backlog_high = 1;  // every first job of a burst: behind
  o.on_backlog = [&](bool behind) {
    std::scoped_lock lock(m);
    calls.push_back(behind);
  };
  {
    Publisher pub(o);
    for (int k = 0; k < 10; ++k) REQUIRE(pub.submit({.angle_deg = k * 1.0, .format = *o.format}));
    REQUIRE(pub.wait_idle(std::chrono::seconds(30)));
    std::scoped_lock lock(m);
    check_alternating(calls);  // wait_idle returns after the false
  }
  calls.clear();
  {
    Publisher pub(o);
    for (int k = 0; k < 10; ++k) (void)pub.submit({.angle_deg = k * 1.0, .format = *o.format});
    pub.stop();  // jobs discarded: the hold must still be released
    std::scoped_lock lock(m);
    check_alternating(calls);
  }
}
