// The simulated FLIR camera without sockets: puts through Pv::put with a
// completion, advance() in simulation ticks, every posted change logged with
// the tick of its time stamp. A small 8 x 4 sensor keeps ArrayData cheap.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/camera.hpp"
#include "sim_ca_device_test_util.hpp"

using namespace pandafly::sim;
using namespace pandafly::sim::ca;
using namespace pandafly::sim::ca::test;

namespace {

CameraConfig small_camera() {
  CameraConfig c;
  c.size_x = 8;
  c.size_y = 4;
  c.acquire_time = 0.01;
  c.acquire_period = 0.02;
  return c;
}

// A camera, its PVs (named without "FLIR5:") and a log of every value change.
struct Rig : PostLog {
  explicit Rig(CameraConfig config = small_camera()) : camera(std::move(config)) {
    camera.publish(db);
    for (const auto& name : db.names()) {
      db.find(name)->observe([this, field = name.substr(6)](const Pv& p, unsigned mask) {
        if (mask & kDbeValue) log.push_back({field, number(p.value()), tick_of(p.stamp())});
      });
    }
    frames_sub = camera.subscribe_frames([this](const FrameInfo& f) { frames.push_back(f); });
    camera.advance(0, wall_of(0));
  }

  [[nodiscard]] double get(const std::string& pv) const { return number(camera.pv(pv)->value()); }
  std::uint32_t put(const std::string& pv, Elements value, Done* done = nullptr) {
    return camera.pv(pv)->put(std::move(value), [this, done](std::uint32_t) {
      if (done == nullptr) return;
      ++done->calls;
      done->tick = now;
    });
  }
  std::uint32_t put_enum(const std::string& pv, std::uint16_t v, Done* done = nullptr) {
    return put(pv, Enums{v}, done);
  }
  void run_to(Tick t) {
    for (Tick next = camera.next_wake(); next <= t; next = camera.next_wake()) step(next);
    step(t);
  }
  void step(Tick t) {
    now = t;
    camera.advance(t, wall_of(t));
  }
  [[nodiscard]] std::vector<Tick> ticks_of(const std::string& field) const {
    std::vector<Tick> out;
    for (const auto& p : of(field)) out.push_back(p.tick);
    return out;
  }

  Camera camera;
  PvDatabase db;
  std::vector<FrameInfo> frames;
  Subscription frames_sub;
  Tick now = 0;
};

std::vector<Tick> tick_list(std::initializer_list<double> seconds) {
  std::vector<Tick> out;
  for (double s : seconds) out.push_back(ticks(s));
  return out;
}

}  // namespace

TEST_CASE("camera: PVs, types and defaults") {
  Rig rig;
  CHECK(rig.db.size() == 60);  // with FLIR5:FrameType and image1:DataType_RBV
  CHECK(rig.db.find("FLIR5:cam5:Acquire")->native_type() == DbrType::enum_);
  CHECK(rig.db.find("FLIR5:cam5:ImageMode")->metadata().enum_strings ==
        Strings{"Single", "Multiple", "Continuous"});
  CHECK(rig.db.find("FLIR5:cam5:TriggerMode")->metadata().enum_strings == Strings{"Off", "On"});
  CHECK(rig.db.find("FLIR5:cam5:TriggerSource")->metadata().enum_strings ==
        Strings{"Software", "Line0", "Line1", "Line2", "Line3"});
  CHECK(rig.db.find("FLIR5:cam5:DetectorState_RBV")->metadata().enum_strings.size() == 10);
  CHECK(rig.db.find("FLIR5:cam5:DataType")->metadata().enum_strings.size() == 8);
  CHECK(rig.get("cam5:ImageMode") == 2);
  CHECK(rig.get("cam5:DataType") == 3);  // UInt16
  CHECK(rig.get("cam5:ArraySizeX_RBV") == 8);
  CHECK(rig.get("cam5:ArraySizeY_RBV") == 4);
  CHECK(rig.get("cam5:ArraySize_RBV") == 64);  // 8 * 4 * 2 bytes
  CHECK(rig.get("cam5:GC_AcqResFrameRate_RBV") == doctest::Approx(50.0));
  CHECK(rig.get("image1:EnableCallbacks") == 0);
  const auto data = rig.db.find("FLIR5:image1:ArrayData");
  CHECK(data->native_type() == DbrType::long_);  // UInt16 is served as LONG
  CHECK(data->max_count() == 32);
  CHECK(data->count() == 0);
  CHECK(!data->writable());
  CHECK(rig.camera.next_wake() == kNever);
}

TEST_CASE("camera: ArrayData's CA type follows the data type") {
  const std::pair<CameraDataType, DbrType> cases[] = {
      {CameraDataType::int8, DbrType::char_},     {CameraDataType::uint8, DbrType::char_},
      {CameraDataType::int16, DbrType::short_},   {CameraDataType::uint16, DbrType::long_},
      {CameraDataType::int32, DbrType::long_},    {CameraDataType::uint32, DbrType::double_},
      {CameraDataType::float32, DbrType::float_}, {CameraDataType::float64, DbrType::double_}};
  for (auto [type, dbr] : cases) {
    CameraConfig c = small_camera();
    c.data_type = type;
    Camera camera(c);
    CHECK(camera.pv("image1:ArrayData")->native_type() == dbr);
    CHECK(number(camera.pv("cam5:ArraySize_RBV")->value()) ==
          static_cast<double>(32 * bytes_of(type)));
  }
}

TEST_CASE("camera: Single with internal timing") {
  Rig rig;
  rig.run_to(ticks(1));
  rig.log.clear();
  REQUIRE(rig.put_enum("cam5:ImageMode", 0) == kEcaNormal);
  Done done;
  REQUIRE(rig.put_enum("cam5:Acquire", 1, &done) == kEcaNormal);
  CHECK(rig.get("cam5:AcquireBusy") == 1);
  CHECK(rig.get("cam5:Acquire_RBV") == 1);
  CHECK(rig.camera.next_wake() == ticks(1.01));
  rig.run_to(ticks(2));
  CHECK(done.calls == 1);
  CHECK(done.tick == ticks(1.01));
  CHECK(rig.values("cam5:ArrayCounter_RBV") == std::vector<double>{1});
  CHECK(rig.values("cam5:DetectorState_RBV") == std::vector<double>{1, 2, 0});
  CHECK(rig.values("cam5:Acquire") == std::vector<double>{1, 0});
  CHECK(rig.values("cam5:AcquireBusy") == std::vector<double>{1, 0});
  CHECK(rig.ticks_of("cam5:AcquireBusy") == tick_list({1, 1.01}));
  CHECK(rig.frames.empty());  // ZMQ1 callbacks are disabled
}

TEST_CASE("camera: Multiple(5) at AcquireTime 0.01, AcquirePeriod 0.02") {
  // Exposures start at 0, 0.02, ..., 0.08 s and end (frame delivered) 0.01 s later.
  Rig rig;
  (void)rig.put_enum("cam5:ImageMode", 1);
  REQUIRE(rig.put("cam5:NumImages", Longs{5}) == kEcaNormal);
  CHECK(rig.get("cam5:NumImages_RBV") == 5);
  (void)rig.put_enum("ZMQ1:EnableCallbacks", 1);
  rig.log.clear();
  Done done;
  (void)rig.put_enum("cam5:Acquire", 1, &done);
  rig.run_to(ticks(1));
  const auto frames = tick_list({0.01, 0.03, 0.05, 0.07, 0.09});
  CHECK(rig.ticks_of("cam5:ArrayCounter_RBV") == frames);
  CHECK(rig.values("cam5:ArrayCounter_RBV") == std::vector<double>{1, 2, 3, 4, 5});
  CHECK(rig.values("cam5:NumImagesCounter_RBV") == std::vector<double>{1, 2, 3, 4, 5});
  CHECK(rig.values("cam5:DetectorState_RBV") ==
        std::vector<double>{1, 2, 7, 1, 2, 7, 1, 2, 7, 1, 2, 7, 1, 2, 0});
  CHECK(done.tick == ticks(0.09));
  CHECK(rig.get("cam5:Acquire") == 0);
  REQUIRE(rig.frames.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(rig.frames[i].unique_id == static_cast<std::int32_t>(i + 1));
    CHECK(rig.frames[i].array_counter == static_cast<std::int32_t>(i + 1));
    CHECK(rig.frames[i].tick == frames[i]);
    CHECK(rig.frames[i].exposure_start == frames[i] - ticks(0.01));
    CHECK(rig.frames[i].width == 8);
    CHECK(rig.frames[i].height == 4);
    CHECK(rig.frames[i].data_type == CameraDataType::uint16);
  }
  // Again: NumImagesCounter restarts, ArrayCounter goes on.
  rig.log.clear();
  (void)rig.put_enum("cam5:Acquire", 1);
  rig.run_to(ticks(2));
  CHECK(rig.values("cam5:NumImagesCounter_RBV") == std::vector<double>{0, 1, 2, 3, 4, 5});
  CHECK(rig.values("cam5:ArrayCounter_RBV") == std::vector<double>{6, 7, 8, 9, 10});
  // A client resets ArrayCounter.
  (void)rig.put("cam5:ArrayCounter", Longs{0});
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 0);
}

TEST_CASE("camera: Continuous until Acquire = 0; the put-callback completes then") {
  CameraConfig c = small_camera();
  c.acquire_period = 0.01;  // back to back: no Waiting between frames
  Rig rig(c);
  Done done, second;
  (void)rig.put_enum("cam5:Acquire", 1, &done);
  rig.run_to(ticks(0.1));
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 10);
  CHECK(done.calls == 0);
  (void)rig.put_enum("cam5:Acquire", 1, &second);  // waits for the end too
  rig.run_to(ticks(0.105));
  Done stop;
  (void)rig.put_enum("cam5:Acquire", 0, &stop);
  CHECK(stop.calls == 1);
  CHECK(done.tick == ticks(0.105));
  CHECK(second.tick == ticks(0.105));
  CHECK(rig.get("cam5:DetectorState_RBV") == 0);
  CHECK(rig.get("cam5:AcquireBusy") == 0);
  const auto states = rig.values("cam5:DetectorState_RBV");
  CHECK(std::count(states.begin(), states.end(), 7.0) == 0);
  rig.run_to(ticks(1));
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 10);  // the exposure under way was dropped
}

TEST_CASE("camera: software trigger, one frame per TriggerSoftware = 1") {
  Rig rig;
  (void)rig.put_enum("cam5:TriggerMode", 1);
  (void)rig.put_enum("cam5:TriggerSource", 0);
  (void)rig.put_enum("cam5:ImageMode", 1);
  (void)rig.put("cam5:NumImages", Longs{2});
  Done done;
  (void)rig.put_enum("cam5:Acquire", 1, &done);
  CHECK(rig.get("cam5:DetectorState_RBV") == 7);  // Waiting
  rig.run_to(ticks(0.5));
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 0);
  rig.log.clear();
  (void)rig.put_enum("cam5:TriggerSoftware", 1);
  CHECK(rig.values("cam5:TriggerSoftware") == std::vector<double>{1, 0});
  CHECK(rig.get("cam5:DetectorState_RBV") == 1);
  rig.run_to(ticks(0.505));
  (void)rig.put_enum("cam5:TriggerSoftware", 1);  // during the exposure: missed
  CHECK(rig.camera.missed_triggers() == 1);
  CHECK(rig.camera.dropped_triggers() == 0);
  rig.run_to(ticks(0.7));
  CHECK(rig.ticks_of("cam5:ArrayCounter_RBV") == tick_list({0.51}));
  (void)rig.put_enum("cam5:TriggerSoftware", 1);
  rig.run_to(ticks(1));
  CHECK(rig.ticks_of("cam5:ArrayCounter_RBV") == tick_list({0.51, 0.71}));
  CHECK(done.tick == ticks(0.71));
  CHECK(rig.get("cam5:Acquire") == 0);
  (void)rig.put_enum("cam5:TriggerSoftware", 1);  // idle: dropped
  CHECK(rig.camera.dropped_triggers() == 1);
  CHECK(rig.camera.triggers_received() == 4);
}

TEST_CASE("camera: external triggers from the PandA, queued ahead of the camera's time") {
  Rig rig;
  (void)rig.put_enum("cam5:TriggerMode", 1);
  (void)rig.put_enum("cam5:TriggerSource", 3);  // Line2
  (void)rig.put_enum("cam5:ImageMode", 1);
  (void)rig.put("cam5:NumImages", Longs{3});
  (void)rig.put_enum("ZMQ1:EnableCallbacks", 1);
  rig.camera.external_trigger(ticks(0.05));  // queued: ahead of the camera's time
  CHECK(rig.camera.dropped_triggers() == 0);
  rig.run_to(ticks(0.06));
  CHECK(rig.camera.dropped_triggers() == 1);  // reached while idle: dropped
  Done done;
  (void)rig.put_enum("cam5:Acquire", 1, &done);
  for (double s : {0.1, 0.105, 0.2, 0.3, 0.4}) rig.camera.external_trigger(ticks(s));
  CHECK(rig.camera.next_wake() == ticks(0.1));
  rig.run_to(ticks(1));
  REQUIRE(rig.frames.size() == 3);
  CHECK(rig.frames[0].exposure_start == ticks(0.1));
  CHECK(rig.frames[1].exposure_start == ticks(0.2));
  CHECK(rig.frames[2].exposure_start == ticks(0.3));
  CHECK(rig.frames[2].tick == ticks(0.31));
  CHECK(done.tick == ticks(0.31));
  CHECK(rig.camera.dropped_triggers() == 2);  // 0.05 idle, 0.4 done
  CHECK(rig.camera.missed_triggers() == 1);   // 0.105 exposing
  // A software trigger does nothing with Source Line2.
  (void)rig.put_enum("cam5:Acquire", 1);
  (void)rig.put_enum("cam5:TriggerSoftware", 1);
  CHECK(rig.camera.dropped_triggers() == 3);
  // A trigger right at the end of an exposure starts the next one.
  rig.camera.external_trigger(rig.now + ticks(0.1));
  rig.camera.external_trigger(rig.now + ticks(0.11));
  rig.run_to(rig.now + ticks(0.2));
  CHECK(rig.get("cam5:NumImagesCounter_RBV") == 2);
}

TEST_CASE("camera: image1 gets the array only with its callbacks enabled") {
  Rig rig;
  (void)rig.put_enum("cam5:ImageMode", 0);
  (void)rig.put_enum("cam5:Acquire", 1);
  rig.run_to(ticks(0.1));
  CHECK(rig.camera.pv("image1:ArrayData")->count() == 0);
  CHECK(rig.get("image1:ArrayCounter_RBV") == 0);
  (void)rig.put_enum("image1:EnableCallbacks", 1);
  rig.log.clear();
  (void)rig.put_enum("cam5:Acquire", 1);
  rig.run_to(ticks(0.2));
  const auto data = std::get<Longs>(rig.camera.pv("image1:ArrayData")->value());
  REQUIRE(data.size() == 32);
  CHECK(data[0] == 2);       // the frame's UniqueId
  CHECK(data[9] == 2);       // x 1 + y 1
  CHECK(data[31] == 7 + 3);  // x 7 + y 3
  CHECK(rig.get("image1:UniqueId_RBV") == 2);
  CHECK(rig.get("image1:ArrayCounter_RBV") == 1);
  CHECK(rig.get("image1:DataType_RBV") == 3);  // UInt16: the array's NDDataType
  // The plugin posts the array before its own counter a client waits on.
  std::size_t data_at = rig.log.size(), counter_at = rig.log.size();
  for (std::size_t i = 0; i < rig.log.size(); ++i) {
    if (rig.log[i].field == "image1:ArrayData") data_at = std::min(data_at, i);
    if (rig.log[i].field == "image1:ArrayCounter_RBV") counter_at = std::min(counter_at, i);
  }
  CHECK(data_at < counter_at);
  // ArrayCallbacks off: counters move, the array does not.
  (void)rig.put_enum("image1:ArrayCallbacks", 0);
  (void)rig.put_enum("cam5:Acquire", 1);
  rig.run_to(ticks(0.3));
  CHECK(std::get<Longs>(rig.camera.pv("image1:ArrayData")->value())[0] == 2);
  CHECK(rig.get("image1:UniqueId_RBV") == 3);
}

TEST_CASE("camera: times, sizes and refused values") {
  Rig rig;
  REQUIRE(rig.put("cam5:AcquireTime", Doubles{0.05}) == kEcaNormal);
  CHECK(rig.get("cam5:AcquireTime_RBV") == 0.05);
  CHECK(rig.get("cam5:GC_AcqResFrameRate_RBV") == doctest::Approx(20.0));  // max(0.05, 0.02)
  (void)rig.put("cam5:AcquirePeriod", Doubles{0.25});
  CHECK(rig.get("cam5:AcquirePeriod_RBV") == 0.25);
  CHECK(rig.get("cam5:GC_AcqResFrameRate_RBV") == doctest::Approx(4.0));
  CHECK(rig.put("cam5:AcquireTime", Doubles{0.0}) == kEcaPutFail);
  CHECK(rig.put("cam5:AcquirePeriod", Doubles{-1.0}) == kEcaPutFail);
  CHECK(rig.put("cam5:AcquireTime", Doubles{std::nan("")}) == kEcaPutFail);
  CHECK(rig.put("cam5:NumImages", Longs{0}) == kEcaPutFail);
  CHECK(rig.put_enum("cam5:ImageMode", 3) == kEcaPutFail);
  CHECK(rig.put_enum("cam5:TriggerSource", 5) == kEcaPutFail);
  CHECK(rig.put("cam5:ArraySize_RBV", Longs{1}) == kEcaNoWriteAccess);
  REQUIRE(rig.put_enum("cam5:DataType", 7) == kEcaNormal);  // Float64
  CHECK(rig.get("cam5:ArraySize_RBV") == 256);
  CHECK(rig.camera.pv("image1:ArrayData")->native_type() == DbrType::long_);  // FTVL stays
  CHECK(to_string(CameraDataType::float32) == "Float32");
}

namespace {

// Where in the log `field` was first posted (log.size() if never).
std::size_t first_post(const PostLog& log, const std::string& field) {
  for (std::size_t i = 0; i < log.log.size(); ++i)
    if (log.log[i].field == field) return i;
  return log.log.size();
}

}  // namespace

TEST_CASE("camera: cam5 counters and the Acquire put-callback come before image1 has the frame") {
  // A real ADSpinnaker IOC: the driver posts its counters and ends the
  // acquisition (the put-callback completes); the plugins (own threads)
  // process the array afterwards. Here: plugin_delay after the driver.
  for (const double delay : {0.002, 0.005, 0.0}) {
    CAPTURE(delay);
    CameraConfig c = small_camera();
    c.plugin_delay = delay;
    Rig rig(c);
    (void)rig.put_enum("cam5:ImageMode", 0);
    (void)rig.put_enum("image1:EnableCallbacks", 1);
    (void)rig.put_enum("ZMQ1:EnableCallbacks", 1);
    rig.log.clear();
    std::size_t done_at = 0;
    Tick done_tick = -1;
    REQUIRE(rig.camera.pv("cam5:Acquire")->put(Enums{1}, [&](std::uint32_t eca) {
      CHECK(eca == kEcaNormal);
      done_at = rig.log.size();
      done_tick = rig.now;
    }) == kEcaNormal);
    std::size_t frames_at_done = 99;
    rig.run_to(ticks(0.01));
    CHECK(done_tick == ticks(0.01));
    frames_at_done = rig.frames.size();
    rig.run_to(ticks(0.1));
    // Time stamps: the driver at the end of the exposure, the plugins `delay` later.
    CHECK(rig.ticks_of("cam5:ArrayCounter_RBV") == tick_list({0.01}));
    CHECK(rig.ticks_of("cam5:NumImagesCounter_RBV") == tick_list({0.01}));
    for (const char* f : {"image1:ArrayCounter_RBV", "image1:UniqueId_RBV", "image1:ArrayData",
                          "ZMQ1:ArrayCounter_RBV", "ZMQ1:UniqueId_RBV"}) {
      CAPTURE(f);
      CHECK(rig.ticks_of(f) == tick_list({0.01 + delay}));
    }
    // Sequence: cam5 counters, the callback, then image1 (array, then its counters).
    const std::size_t cam_counter = first_post(rig, "cam5:ArrayCounter_RBV");
    const std::size_t cam_images = first_post(rig, "cam5:NumImagesCounter_RBV");
    const std::size_t data = first_post(rig, "image1:ArrayData");
    const std::size_t unique_id = first_post(rig, "image1:UniqueId_RBV");
    const std::size_t image_counter = first_post(rig, "image1:ArrayCounter_RBV");
    CHECK(cam_counter < done_at);
    CHECK(cam_images < done_at);
    CHECK(first_post(rig, "cam5:Acquire") < done_at);
    CHECK(done_at <= data);
    CHECK(data < unique_id);
    CHECK(unique_id < image_counter);
    CHECK(image_counter < rig.log.size());
    CHECK(frames_at_done == (delay == 0.0 ? 1u : 0u));  // ZMQ1 too only after the driver
    REQUIRE(rig.frames.size() == 1);
    CHECK(rig.frames[0].tick == ticks(0.01));  // the frame's time stamp stays the driver's
    // The queue in between: one array in flight, then none.
    CHECK(rig.values("cam5:NumQueuedArrays") == std::vector<double>{1, 0});
    CHECK(rig.ticks_of("cam5:NumQueuedArrays") == tick_list({0.01, 0.01 + delay}));
    CHECK(rig.values("image1:QueueFree") == std::vector<double>{1, 2});
    CHECK(rig.values("ZMQ1:QueueFree") == std::vector<double>{1, 2});
  }
}

TEST_CASE("camera: Acquire = 0 does not take back an array already handed to the plugins") {
  Rig rig;
  (void)rig.put_enum("image1:EnableCallbacks", 1);
  Done done;
  (void)rig.put_enum("cam5:Acquire", 1, &done);  // Continuous
  rig.run_to(ticks(0.011));                      // frame 1 at 0.01, plugins at 0.012
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 1);
  CHECK(rig.get("image1:ArrayCounter_RBV") == 0);
  (void)rig.put_enum("cam5:Acquire", 0);
  CHECK(done.tick == ticks(0.011));
  rig.run_to(ticks(0.1));
  CHECK(rig.get("image1:ArrayCounter_RBV") == 1);
  CHECK(rig.ticks_of("image1:ArrayCounter_RBV") == tick_list({0.012}));
  CHECK(rig.camera.next_wake() == kNever);
}

TEST_CASE("camera: WaitForPlugins Yes keeps AcquireBusy until the plugins are done") {
  for (const std::uint16_t wait : {std::uint16_t{0}, std::uint16_t{1}}) {
    CAPTURE(wait);
    Rig rig;
    (void)rig.put_enum("cam5:ImageMode", 1);
    (void)rig.put("cam5:NumImages", Longs{2});
    (void)rig.put_enum("image1:EnableCallbacks", 1);
    REQUIRE(rig.put_enum("cam5:WaitForPlugins", wait) == kEcaNormal);
    Done done;
    (void)rig.put_enum("cam5:Acquire", 1, &done);
    rig.run_to(ticks(0.1));
    CHECK(done.tick == ticks(0.03));  // the Acquire callback never waits for plugins
    CHECK(rig.ticks_of("cam5:Acquire") == tick_list({0, 0.03}));
    CHECK(rig.ticks_of("cam5:AcquireBusy") == tick_list({0, wait == 1 ? 0.032 : 0.03}));
    CHECK(rig.ticks_of("image1:ArrayCounter_RBV") == tick_list({0.012, 0.032}));
  }
}

TEST_CASE("camera: the PVs an ADSpinnaker client reads") {
  Rig rig;
  const auto enum_of = [&](const std::string& name) { return rig.db.find("FLIR5:" + name); };
  // Readbacks of the enums follow the writes.
  for (const auto& [pv, v] :
       std::vector<std::pair<std::string, std::uint16_t>>{{"cam5:ImageMode", 1},
                                                          {"cam5:TriggerMode", 1},
                                                          {"cam5:TriggerSource", 3},
                                                          {"cam5:DataType", 1}}) {
    CAPTURE(pv);
    CHECK(enum_of(pv + "_RBV")->native_type() == DbrType::enum_);
    CHECK(enum_of(pv + "_RBV")->metadata().enum_strings == enum_of(pv)->metadata().enum_strings);
    CHECK(!enum_of(pv + "_RBV")->writable());
    REQUIRE(rig.put_enum(pv, v) == kEcaNormal);
    CHECK(rig.get(pv + "_RBV") == v);
  }
  CHECK(rig.get("cam5:ArraySize_RBV") == 32);  // UInt8 now
  CHECK(enum_of("cam5:WaitForPlugins")->metadata().enum_strings == Strings{"No", "Yes"});
  CHECK(rig.get("cam5:WaitForPlugins") == 0);
  // Sizes.
  CHECK(rig.get("cam5:SizeX") == 8);
  CHECK(rig.get("cam5:SizeY_RBV") == 4);
  CHECK(rig.get("cam5:MaxSizeX_RBV") == 8);
  CHECK(rig.put("cam5:SizeX", Longs{9}) == kEcaPutFail);
  CHECK(rig.put("cam5:SizeY", Longs{0}) == kEcaPutFail);
  REQUIRE(rig.put("cam5:SizeX", Longs{6}) == kEcaNormal);
  REQUIRE(rig.put("cam5:SizeY", Longs{3}) == kEcaNormal);
  CHECK(rig.get("cam5:SizeX_RBV") == 6);
  CHECK(rig.get("cam5:ArraySizeX_RBV") == 6);
  CHECK(rig.get("cam5:ArraySizeY_RBV") == 3);
  CHECK(rig.get("cam5:ArraySize_RBV") == 18);  // 6 * 3 * 1 byte
  // ArrayData: UDF/INVALID and NORD 0 until the first array, then the frame's.
  const auto data = rig.camera.pv("image1:ArrayData");
  CHECK(rig.get("image1:ArrayData.NORD") == 0);
  CHECK(rig.get("image1:ArrayData.STAT") == 17);
  CHECK(rig.get("image1:ArrayData.SEVR") == 3);
  CHECK(enum_of("image1:ArrayData.SEVR")->metadata().enum_strings ==
        Strings{"NO_ALARM", "MINOR", "MAJOR", "INVALID"});
  CHECK(data->alarm() == Alarm{17, 3});
  (void)rig.put_enum("image1:EnableCallbacks", 1);
  (void)rig.put_enum("ZMQ1:EnableCallbacks", 1);
  (void)rig.put_enum("cam5:TriggerMode", 0);
  (void)rig.put_enum("cam5:ImageMode", 0);
  CHECK(rig.get("cam5:StatusMessage_RBV") == 0);  // empty
  (void)rig.put_enum("cam5:Acquire", 1);
  rig.run_to(ticks(0.1));
  CHECK(rig.get("image1:ArrayData.NORD") == 18);
  CHECK(data->count() == 18);
  CHECK(rig.get("image1:ArrayData.STAT") == 0);
  CHECK(rig.get("image1:ArrayData.SEVR") == 0);
  CHECK(data->alarm() == Alarm{});
  CHECK(rig.get("image1:ArraySize0_RBV") == 6);
  CHECK(rig.get("image1:ArraySize1_RBV") == 3);
  CHECK(std::get<Longs>(data->value()).at(7) == 2);  // x 1 + y 1 at width 6
  REQUIRE(rig.frames.size() == 1);
  CHECK(rig.frames[0].width == 6);
  CHECK(rig.frames[0].height == 3);
  CHECK(rig.frames[0].data_type == CameraDataType::uint8);
  const auto status = std::get<Chars>(rig.camera.pv("cam5:StatusMessage_RBV")->value());
  CHECK(std::string(status.begin(), status.end()) == "Acquisition complete");
  CHECK(rig.camera.pv("cam5:StatusMessage_RBV")->max_count() == 256);
  // Plugin counters and queues.
  for (const std::string p : {"image1:", "ZMQ1:"}) {
    CAPTURE(p);
    CHECK(rig.get(p + "ArrayCounter_RBV") == 1);
    CHECK(rig.get(p + "UniqueId_RBV") == 1);
    CHECK(rig.get(p + "DroppedArrays_RBV") == 0);
    CHECK(rig.get(p + "QueueSize") == 2);
    CHECK(rig.get(p + "QueueFree") == 2);
    CHECK(rig.put(p + "DroppedArrays", Longs{0}) == kEcaNormal);  // a reset
    CHECK(rig.put(p + "DroppedArrays", Longs{5}) == kEcaPutFail);
    CHECK(rig.put(p + "QueueFree", Longs{1}) == kEcaNoWriteAccess);
  }
  CHECK(rig.get("cam5:NumQueuedArrays") == 0);
}

// ---------------------------------------------------------------- issue 16: a real camera

namespace {

// The small camera with a readout table (rows 4 and 2 of UInt16/UInt8).
CameraConfig reading_camera() {
  CameraConfig c = small_camera();
  c.readout_time = 0.02;
  c.readout = {{CameraDataType::uint16, 4, 0.005},
               {CameraDataType::uint16, 2, 0.003},
               {CameraDataType::uint8, 4, 0.004}};
  return c;
}

// External triggers on Line1, Continuous, ZMQ1 on.
void arm_external(Rig& rig) {
  (void)rig.put_enum("cam5:TriggerMode", 1);
  (void)rig.put_enum("cam5:TriggerSource", 2);  // Line1
  (void)rig.put_enum("ZMQ1:EnableCallbacks", 1);
  (void)rig.put_enum("cam5:Acquire", 1);
}

std::vector<std::int32_t> ids_of(const std::vector<FrameInfo>& frames) {
  std::vector<std::int32_t> out;
  for (const auto& f : frames) out.push_back(f.unique_id);
  return out;
}

}  // namespace

TEST_CASE("camera: a frame comes at exposure end + readout; triggers meanwhile are missed") {
  Rig rig(reading_camera());  // AcquireTime 0.01, readout 0.005 (UInt16, 4 rows)
  CHECK(rig.camera.readout_seconds() == 0.005);
  arm_external(rig);
  std::vector<FrameInfo> read;
  const auto sub = rig.camera.subscribe_readouts([&](const FrameInfo& f) { read.push_back(f); });
  rig.log.clear();
  // 0.1: exposes to 0.11, reads out to 0.115. 0.105 (exposing) and 0.112
  // (reading out) are missed; 0.115 (the readout's end) is taken; 0.2 too.
  for (double s : {0.1, 0.105, 0.112, 0.115, 0.2}) rig.camera.external_trigger(ticks(s));
  rig.run_to(ticks(1));
  REQUIRE(rig.frames.size() == 3);
  CHECK(rig.frames[0].exposure_start == ticks(0.1));
  CHECK(rig.frames[0].exposure_end == ticks(0.11));
  CHECK(rig.frames[0].tick == ticks(0.115));
  CHECK(rig.frames[1].exposure_start == ticks(0.115));
  CHECK(rig.frames[1].tick == ticks(0.13));
  CHECK(rig.frames[2].exposure_start == ticks(0.2));
  CHECK(rig.camera.missed_triggers() == 2);
  CHECK(rig.camera.dropped_triggers() == 0);
  CHECK(rig.camera.triggers_received() == 5);
  CHECK(rig.ticks_of("cam5:ArrayCounter_RBV") == tick_list({0.115, 0.13, 0.215}));
  // DetectorState: Acquire, Readout at the exposure's end, Waiting at the delivery.
  const auto states = rig.of("cam5:DetectorState_RBV");
  REQUIRE(states.size() >= 3);
  CHECK(states[0].value == 1);
  CHECK(states[0].tick == ticks(0.1));
  CHECK(states[1].value == 2);
  CHECK(states[1].tick == ticks(0.11));
  CHECK(states[2].value == 7);
  CHECK(states[2].tick == ticks(0.115));
  // The driver's hook comes at the delivery, with the frame's fate.
  REQUIRE(read.size() == 3);
  CHECK(read[0].tick == ticks(0.115));
  CHECK(read[0].to_zmq);
  CHECK(read[0].fault == FrameFault::none);
}

TEST_CASE("camera: the readout table's lookup (DataType, smallest size_y >= SizeY, else default)") {
  Rig rig(reading_camera());
  CHECK(rig.camera.readout_seconds() == 0.005);  // UInt16, 4 rows
  (void)rig.put("cam5:SizeY", Longs{2});
  CHECK(rig.camera.readout_seconds() == 0.003);  // the 2-row entry
  (void)rig.put("cam5:SizeY", Longs{3});
  CHECK(rig.camera.readout_seconds() == 0.005);  // 3 rows: the next larger measured (4)
  (void)rig.put_enum("cam5:DataType", 1);        // UInt8
  CHECK(rig.camera.readout_seconds() == 0.004);
  (void)rig.put_enum("cam5:DataType", 2);  // Int16: no entry
  CHECK(rig.camera.readout_seconds() == 0.02);
  // GC_AcqResFrameRate_RBV follows: max(0.02 period, 0.01 + 0.02) = 0.03 s.
  CHECK(rig.get("cam5:GC_AcqResFrameRate_RBV") == doctest::Approx(1 / 0.03));
  CameraConfig none = small_camera();
  none.readout_time = 0.007;
  Rig plain(none);
  CHECK(plain.camera.readout_seconds() == 0.007);
}

TEST_CASE("camera: free run at max(AcquirePeriod, AcquireTime + readout)") {
  Rig rig(reading_camera());  // AcquireTime 0.01, AcquirePeriod 0.02, readout 0.005
  (void)rig.put("cam5:AcquirePeriod", Doubles{0.012});
  CHECK(rig.get("cam5:GC_AcqResFrameRate_RBV") == doctest::Approx(1 / 0.015));
  (void)rig.put_enum("cam5:ImageMode", 1);
  (void)rig.put("cam5:NumImages", Longs{3});
  (void)rig.put_enum("ZMQ1:EnableCallbacks", 1);
  rig.log.clear();
  (void)rig.put_enum("cam5:Acquire", 1);
  rig.run_to(ticks(1));
  REQUIRE(rig.frames.size() == 3);
  CHECK(rig.frames[0].exposure_start == 0);
  CHECK(rig.frames[1].exposure_start == ticks(0.015));
  CHECK(rig.frames[2].exposure_start == ticks(0.03));
  CHECK(rig.ticks_of("cam5:ArrayCounter_RBV") == tick_list({0.015, 0.03, 0.045}));
  (void)rig.put("cam5:AcquirePeriod", Doubles{0.05});  // the period wins again
  CHECK(rig.get("cam5:GC_AcqResFrameRate_RBV") == doctest::Approx(20.0));
}

TEST_CASE("camera faults: drop, duplicate and swap at ZMQ1 — the published ids") {
  Rig rig(reading_camera());
  std::vector<std::string> lines;
  rig.camera.on_log([&](std::string_view l) { lines.emplace_back(l); });
  CameraFaults faults;
  faults.drop_frames = {2};
  faults.duplicate_frames = {3};
  faults.swap_frames = {5};
  rig.camera.set_faults(faults);
  std::vector<FrameInfo> read;
  const auto sub = rig.camera.subscribe_readouts([&](const FrameInfo& f) { read.push_back(f); });
  arm_external(rig);
  for (int k = 0; k < 7; ++k) rig.camera.external_trigger(ticks(0.1 * (k + 1)));
  rig.run_to(ticks(1));
  CHECK(ids_of(rig.frames) == std::vector<std::int32_t>{1, 3, 3, 4, 6, 5, 7});
  CHECK(rig.get("ZMQ1:DroppedArrays_RBV") == 1);
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 7);  // the driver saw every frame
  CHECK(rig.get("ZMQ1:ArrayCounter_RBV") == 7);  // 6 arrays, one twice
  REQUIRE(read.size() == 7);
  CHECK(read[1].fault == FrameFault::dropped);
  CHECK(read[2].fault == FrameFault::duplicated);
  CHECK(read[4].fault == FrameFault::swapped);
  // Frame 2 reaches ZMQ1 at 0.2 + 0.01 + 0.005 + 0.002 (plugin_delay).
  CHECK(lines == std::vector<std::string>{"fault: dropped frame 2 (t=0.217000 s)",
                                          "fault: sent frame 3 twice (t=0.317000 s)",
                                          "fault: swapped frames 5 and 6 (t=0.617000 s)"});
}

TEST_CASE("camera faults: a swapped last frame is published when nothing follows") {
  Rig rig(reading_camera());
  std::vector<std::string> lines;
  rig.camera.on_log([&](std::string_view l) { lines.emplace_back(l); });
  rig.camera.set_faults({.swap_frames = {2}});
  (void)rig.put_enum("cam5:ImageMode", 1);
  (void)rig.put("cam5:NumImages", Longs{2});
  arm_external(rig);
  rig.camera.external_trigger(ticks(0.1));
  rig.camera.external_trigger(ticks(0.2));
  rig.run_to(ticks(1));
  CHECK(ids_of(rig.frames) == std::vector<std::int32_t>{1, 2});
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("fault: swapped frame 2 with nothing"));
}

TEST_CASE("camera faults: a stall delays frame k and misses every trigger meanwhile") {
  Rig rig(reading_camera());
  std::vector<std::string> lines;
  rig.camera.on_log([&](std::string_view l) { lines.emplace_back(l); });
  rig.camera.set_faults({.stalls = {{2, 0.5}}});
  arm_external(rig);
  // Frame 2 exposes 0.2-0.21, then stalls: delivered at 0.21 + 0.005 + 0.5.
  for (double s : {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.715, 0.8}) rig.camera.external_trigger(ticks(s));
  rig.run_to(ticks(2));
  CHECK(ids_of(rig.frames) == std::vector<std::int32_t>{1, 2, 3, 4});
  REQUIRE(rig.frames.size() == 4);
  CHECK(rig.frames[1].tick == ticks(0.715));
  CHECK(rig.frames[2].exposure_start == ticks(0.715));  // at the stall's end: taken
  CHECK(rig.frames[3].exposure_start == ticks(0.8));
  CHECK(rig.camera.missed_triggers() == 4);  // 0.3, 0.4, 0.5, 0.6
  CHECK(lines ==
        std::vector<std::string>{"fault: camera stalled 0.500000 s at frame 2 (t=0.210000 s)"});
}

TEST_CASE("camera faults: miss trigger k (counting software triggers too)") {
  Rig rig(reading_camera());
  std::vector<std::string> lines;
  rig.camera.on_log([&](std::string_view l) { lines.emplace_back(l); });
  rig.camera.set_faults({.miss_triggers = {2, 4}});
  arm_external(rig);
  for (double s : {0.1, 0.2, 0.3}) rig.camera.external_trigger(ticks(s));
  rig.run_to(ticks(0.35));
  (void)rig.put_enum("cam5:TriggerSoftware", 1);  // trigger 4: the wrong source, but eaten first
  rig.camera.external_trigger(ticks(0.5));
  rig.run_to(ticks(1));
  REQUIRE(rig.frames.size() == 3);
  CHECK(rig.frames[0].exposure_start == ticks(0.1));
  CHECK(rig.frames[1].exposure_start == ticks(0.3));
  CHECK(rig.frames[2].exposure_start == ticks(0.5));
  CHECK(rig.camera.missed_triggers() == 2);
  CHECK(lines == std::vector<std::string>{"fault: missed trigger 2 (t=0.200000 s)",
                                          "fault: missed trigger 4 (t=0.350000 s)"});
}

TEST_CASE("camera: FrameType, tomoscan's mbbo, served for the scan to write") {
  Rig rig;
  const auto pv = rig.db.find("FLIR5:FrameType");
  REQUIRE(pv != nullptr);
  // tomoscan's FrameType record order; starts at Projection.
  CHECK(pv->metadata().enum_strings == Strings{"DarkField", "FlatField", "Projection"});
  CHECK(rig.get("FrameType") == 2);
  CHECK(rig.put_enum("FrameType", 0) == kEcaNormal);
  CHECK(rig.get("FrameType") == 0);
  CHECK(rig.put_enum("FrameType", 3) == kEcaPutFail);
  CameraConfig c = small_camera();
  c.frame_type_pv = "BEATS:TomoScan:FrameType";
  Rig named(c);
  CHECK(named.db.find("BEATS:TomoScan:FrameType") != nullptr);
  CHECK(named.camera.frame_type_pv_name() == "BEATS:TomoScan:FrameType");
}

TEST_CASE("camera: Acquire = 0 during the readout drops that frame") {
  Rig rig(reading_camera());  // AcquireTime 0.01, readout 0.005
  arm_external(rig);
  rig.camera.external_trigger(ticks(0.1));
  rig.run_to(ticks(0.112));  // reading out until 0.115
  CHECK(rig.get("cam5:DetectorState_RBV") == 2);
  (void)rig.put_enum("cam5:Acquire", 0);
  rig.run_to(ticks(1));
  CHECK(rig.frames.empty());
  CHECK(rig.get("cam5:ArrayCounter_RBV") == 0);
  CHECK(rig.get("cam5:DetectorState_RBV") == 0);
  CHECK(rig.camera.next_wake() == kNever);
}
