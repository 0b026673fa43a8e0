#pragma once
// A simulated FLIR camera under areaDetector/ADSpinnaker (reference
// channel-access.md §4.2, §4.3): the PVs the beamline uses under
// `<prefix><cam>` (FLIR5:cam5:), the standard-arrays plugin `<prefix><image>`
// (FLIR5:image1:) and the ZMQ plugin's switches `<prefix><zmq>` (FLIR5:ZMQ1:).
//
// Semantics (the reference's, plus the choices it leaves open):
//   * Acquire = 1 starts: NumImagesCounter_RBV <- 0, Acquire/_RBV and
//     AcquireBusy 1. It ends after 1 frame (Single), NumImages frames
//     (Multiple), or on Acquire = 0 (any mode; a frame being exposed is
//     dropped): DetectorState Idle, Acquire/_RBV 0, AcquireBusy 0 (see
//     WaitForPlugins), then the put-callbacks of Acquire = 1 complete. Acquire = 1 while acquiring
//     only waits for the end.
//   * Frames: an exposure of AcquireTime seconds; the frame is delivered at
//     its end (FrameInfo::tick). TriggerMode Off: exposures start at the
//     acquisition start and every max(AcquireTime, AcquirePeriod) after it.
//     TriggerMode On: each trigger starts one exposure — TriggerSoftware = 1
//     (Source Software; the PV reads Done again at once) or external_trigger()
//     (Source Line0..3). Triggers during an exposure, while idle or from the
//     other source are dropped (counted by dropped_triggers()).
//   * DetectorState_RBV: Acquire while exposing, Readout at a delivery, then
//     Waiting until the next exposure (skipped when it starts at once), Idle
//     at the end.
//   * Per frame, in the order of a real ADSpinnaker IOC (the driver posts its
//     counters and ends the acquisition before any plugin has the array):
//     at the end of the exposure the driver posts cam ArrayCounter(+_RBV),
//     NumImagesCounter_RBV, DetectorState Readout and, after the last frame,
//     ends the acquisition (Acquire 0, its put-callbacks complete). With cam
//     ArrayCallbacks Enable it hands the array to each plugin whose
//     EnableCallbacks is Enable (checked then): cam NumQueuedArrays and the
//     plugin's QueueFree count it. `plugin_delay` seconds later each plugin
//     processes it: image1 posts ArrayData (if its ArrayCallbacks is Enable;
//     then .NORD and .STAT/.SEVR NO_ALARM), ArraySize0/1_RBV, UniqueId_RBV,
//     ArrayCounter_RBV; ZMQ1 calls the on_frame hook, then posts UniqueId_RBV
//     and ArrayCounter_RBV. So a client must wait on image1 (or ZMQ1), not on
//     cam5, for the array. UniqueId = ArrayCounter after the increment
//     (UniqueIdMode Driver); ArrayCounter is never reset by the camera.
//   * AcquireBusy goes 0 with Acquire, or, with WaitForPlugins Yes, when the
//     plugins have processed the last frame (NumQueuedArrays 0).
//   * Plugins never drop arrays here (the queue never fills: DroppedArrays_RBV
//     stays 0 and resets on a write of DroppedArrays).
//   * SizeX/SizeY (1..the sensor size) set the frame size from the next frame
//     on: ArraySizeX/Y_RBV, ArraySize_RBV at once; image1 ArraySize0/1_RBV
//     and ArrayData.NORD with the frame. ArrayData.STAT/.SEVR are UDF/INVALID
//     until the first array (a waveform record never processed).
//   * Every written enum (ImageMode, TriggerMode, TriggerSource, DataType, …)
//     posts its _RBV. StatusMessage_RBV (CHAR[256]) says what the driver does.
//   * ArrayData: native type from the configured DataType (Int8/UInt8 CHAR,
//     Int16 SHORT, UInt16/Int32 LONG, UInt32/Float64 DOUBLE, Float32 FLOAT),
//     NELM = the sensor's size_x * size_y, NORD = SizeX * SizeY of the last
//     array, empty until the first frame. Content: a fixed
//     gradient ((x + y) mod 256) with element 0 = UniqueId (mod the element
//     range) — cheap (one copy per frame) and enough to tell frames apart.
//     Writing DataType later changes ArraySize_RBV, not ArrayData's type (its
//     FTVL is fixed when the IOC loads, as on the real one).
//   * Non-finite or negative times, AcquireTime 0, NumImages < 1, an enum
//     index out of range: ECA_PUTFAIL. New times apply from the next exposure.
//
// Threading: one thread calls everything (the CA server's io_context);
// external_trigger() too (the PandA simulator's TTLOUT callback runs there).
//
// Example:
//   Camera cam(CameraConfig{});                       // FLIR5:cam5:, 2048 x 1536 UInt16
//   cam.on_frame([](const FrameInfo& f) { zmq.publish(f); });
//   cam.publish(db);
//   // ... a client writes TriggerMode On, TriggerSource Line2, Acquire 1
//   fpga.on_ttl_out([&](std::size_t, bool level, Tick t) { if (level) cam.external_trigger(t); });
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ca/device.hpp"

namespace pandafly::sim::ca {

/// NDDataType_t, in its order (the DataType PV's indices).
enum class CameraDataType : std::uint16_t {
  int8,
  uint8,
  int16,
  uint16,
  int32,
  uint32,
  float32,
  float64
};

/// "Int8" ... "Float64" (the DataType PV's strings).
[[nodiscard]] std::string_view to_string(CameraDataType type);
/// Bytes per pixel.
[[nodiscard]] std::size_t bytes_of(CameraDataType type);

struct CameraConfig {
  std::string name = "flir5";  // a label (messages, wiring)
  std::string prefix = "FLIR5:";
  std::string cam = "cam5:";
  std::string image = "image1:";
  std::string zmq = "ZMQ1:";
  std::int32_t size_x = 2048;
  std::int32_t size_y = 1536;
  CameraDataType data_type = CameraDataType::uint16;
  double acquire_time = 0.1;    // s
  double acquire_period = 0.1;  // s
  double plugin_delay = 0.002;  // s from the driver's frame to the plugins' (image1, ZMQ1)
  int ttlout =
      0;  // the PandA TTLOUT wired to its trigger input (1-based; 0: none) — for the wiring
  friend bool operator==(const CameraConfig&, const CameraConfig&) = default;
};

/// One delivered frame, as the ZMQ publisher needs it.
struct FrameInfo {
  std::int32_t unique_id = 0;
  std::int32_t array_counter = 0;
  Tick tick = 0;            // delivery: the end of the exposure
  Tick exposure_start = 0;  // the trigger (or internal start) tick
  std::int32_t width = 0;
  std::int32_t height = 0;
  CameraDataType data_type = CameraDataType::uint16;
};

class Camera final : public Device {
 public:
  /// The configuration is not validated here (config.cpp does that).
  explicit Camera(CameraConfig config);
  ~Camera() override;

  void publish(PvDatabase& db) override;
  void advance(Tick now, EpicsTime wall) override;
  [[nodiscard]] Tick next_wake() const override;

  /// A rising edge on the trigger input at `at` (TriggerMode On, Source Line*):
  /// one exposure from `at`. Processed when advance() reaches `at` (at once
  /// when `at` is not later than the camera's time).
  void external_trigger(Tick at);
  /// Called for every frame the ZMQ plugin receives; empty to remove.
  void on_frame(std::function<void(const FrameInfo&)> fn) { on_frame_ = std::move(fn); }

  [[nodiscard]] const CameraConfig& config() const { return config_; }
  /// A PV by its name without the device prefix ("cam5:Acquire", "image1:ArrayData").
  [[nodiscard]] std::shared_ptr<Pv> pv(std::string_view suffix) const;
  /// Triggers that started no exposure.
  [[nodiscard]] std::uint64_t dropped_triggers() const { return dropped_triggers_; }

 private:
  enum class State { idle, waiting, exposing };
  enum class Source { internal, software, external };

  // camera.cpp: PVs and puts
  void make_pvs();
  void make_driver_pvs();
  void make_plugin_pvs(const std::string& plugin);
  void post_rbv(const std::string& suffix, Elements value);
  void post_sizes();
  void add(std::string suffix, Elements initial, bool writable, Metadata metadata = {});
  std::uint32_t on_put(const std::string& suffix, const Elements& value, Pv::Completion& done);
  std::uint32_t put_acquire(std::uint16_t v, Pv::Completion& done);
  void post(std::string_view suffix, Elements value, bool force = false);
  [[nodiscard]] std::int32_t get_long(std::string_view suffix) const;
  [[nodiscard]] std::uint16_t get_enum(std::string_view suffix) const;
  [[nodiscard]] double get_double(std::string_view suffix) const;
  [[nodiscard]] Source source() const;
  [[nodiscard]] Tick exposure_ticks() const;
  [[nodiscard]] Tick period_ticks() const;
  void post_frame_rate();

  // camera_acquisition.cpp: the acquisition state machine
  void start();
  void stop();
  void trigger(Tick at, Source from);
  void run_until(Tick t);
  void begin_exposure(Tick at);
  void deliver(Tick at);
  void fill_array(const FrameInfo& frame);
  void set_state(std::uint16_t detector_state);
  void run_plugins();
  void post_queue();
  void post_status(std::string_view message);
  void end_busy_if_done();
  [[nodiscard]] EpicsTime wall_at(Tick t) const;

  CameraConfig config_;
  std::map<std::string, std::shared_ptr<Pv>, std::less<>> pvs_;
  std::function<void(const FrameInfo&)> on_frame_;
  Tick now_ = 0;
  EpicsTime wall_;
  EpicsTime stamp_;

  State state_ = State::idle;
  Tick acquisition_start_ = 0;
  Tick exposure_start_ = 0, exposure_end_ = kNever, next_start_ = kNever;
  std::deque<Tick> triggers_;  // external triggers not yet reached, in order
  std::int32_t array_counter_ = 0, images_ = 0;
  std::uint64_t dropped_triggers_ = 0;
  std::vector<Pv::Completion> pending_;
  // Arrays handed to the plugins, not yet processed (due ticks ascending).
  struct Queued {
    FrameInfo frame;
    Tick due = 0;
    bool image = false, zmq = false;  // the plugins that get it
  };
  std::deque<Queued> queued_;
  bool busy_ = false;  // AcquireBusy
  Elements pattern_;
  std::int32_t pattern_width_ =
      0;  // ArrayData's content without the frame stamp (built at the first frame)
};

}  // namespace pandafly::sim::ca
