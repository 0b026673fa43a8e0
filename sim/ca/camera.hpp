#pragma once
// A simulated FLIR camera under areaDetector/ADSpinnaker (reference
// channel-access.md §4.2, §4.3): the PVs the beamline uses under
// `<prefix><cam>` (FLIR5:cam5:), the standard-arrays plugin `<prefix><image>`
// (FLIR5:image1:) and the ZMQ plugin's switches `<prefix><zmq>` (FLIR5:ZMQ1:).
//
// Semantics (the reference's, plus the choices it leaves open):
//   * Acquire = 1 starts: NumImagesCounter_RBV <- 0, Acquire/_RBV and
//     AcquireBusy 1. It ends after 1 frame (Single), NumImages frames
//     (Multiple), or on Acquire = 0 (any mode; a frame being exposed or read
//     out is dropped): DetectorState Idle, Acquire/_RBV 0, AcquireBusy 0 (see
//     WaitForPlugins), then the put-callbacks of Acquire = 1 complete.
//     Acquire = 1 while acquiring only waits for the end.
//   * Frames: an exposure of AcquireTime seconds, then the sensor's readout;
//     the frame is delivered at exposure end + readout time (FrameInfo::tick).
//     Readout time (ADSpinnaker has no readout PV, so tomoscan keeps a table
//     per camera model and pixel format; so does the config): among the
//     `readout` entries of the current DataType, the one with the smallest
//     size_y >= SizeY (a sensor reads rows; a smaller ROI reads no slower
//     than the next larger measured one); none fits: `readout_time`.
//     TriggerMode Off (free run): exposures start at the acquisition start
//     and every max(AcquirePeriod, AcquireTime + readout) after it (also
//     GC_AcqResFrameRate_RBV = 1 / that period).
//     TriggerMode On: each trigger starts one exposure — TriggerSoftware = 1
//     (Source Software; the PV reads Done again at once) or external_trigger()
//     (Source Line0..3). A trigger of the selected source that arrives while
//     the camera exposes or reads out is missed (missed_triggers()), as a
//     real camera misses it; triggers while idle or from the other source are
//     dropped (dropped_triggers()). A trigger at the very tick a readout ends
//     is taken (the delivery comes first).
//   * Faults (CameraFaults, set_faults()): each logs one line through the
//     log hook when it fires. "frame k" = UniqueId k, "trigger k" = the k-th
//     trigger received (external edges and TriggerSoftware = 1 alike).
//     drop: ZMQ1 never publishes frame k (ZMQ1 DroppedArrays_RBV counts it);
//     duplicate: ZMQ1 publishes it twice; swap: ZMQ1 holds frame k and
//     publishes it right after the next array (k+1), or when the acquisition
//     has ended and nothing else is queued; stall: frame k's readout takes
//     `seconds` longer (it is delivered that late; every trigger meanwhile is
//     missed); miss trigger k: the camera ignores it (counted as missed).
//     image1 and the cam counters never see drop/duplicate/swap.
//   * FrameType (tomoscan's record: 0 DarkField, 1 FlatField, 2 Projection;
//     here it starts at Projection) is served at `frame_type_pv` (a full
//     name; empty: <prefix>FrameType) for the scan to write; the ZMQ feed
//     turns it into HDF5FrameLocation.
//   * DetectorState_RBV: Acquire while exposing, Readout while reading out
//     (and at a delivery), then Waiting until the next exposure (skipped when
//     it starts at once), Idle at the end.
//   * Per frame, in the order of a real ADSpinnaker IOC (the driver posts its
//     counters and ends the acquisition before any plugin has the array):
//     at the end of the readout the driver notifies its readout subscribers (the moment
//     it gets the frame's attributes), posts cam ArrayCounter(+_RBV),
//     NumImagesCounter_RBV, DetectorState Readout and, after the last frame,
//     ends the acquisition (Acquire 0, its put-callbacks complete). With cam
//     ArrayCallbacks Enable it hands the array to each plugin whose
//     EnableCallbacks is Enable (checked then): cam NumQueuedArrays and the
//     plugin's QueueFree count it. `plugin_delay` seconds later each plugin
//     processes it: image1 posts ArrayData (if its ArrayCallbacks is Enable;
//     then .NORD and .STAT/.SEVR NO_ALARM), ArraySize0/1_RBV, DataType_RBV, UniqueId_RBV,
//     ArrayCounter_RBV; ZMQ1 notifies its frame subscribers, then posts UniqueId_RBV
//     and ArrayCounter_RBV. So a client must wait on image1 (or ZMQ1), not on
//     cam5, for the array. UniqueId = ArrayCounter after the increment
//     (UniqueIdMode Driver); ArrayCounter is never reset by the camera.
//   * AcquireBusy goes 0 with Acquire, or, with WaitForPlugins Yes, when the
//     plugins have processed the last frame (NumQueuedArrays 0).
//   * Plugins never drop arrays here (the queue never fills: DroppedArrays_RBV
//     stays 0 and resets on a write of DroppedArrays), except ZMQ1 under a
//     drop fault (it counts those).
//   * SizeX/SizeY (1..the sensor size) set the frame size from the next frame
//     on: ArraySizeX/Y_RBV, ArraySize_RBV at once; image1 ArraySize0/1_RBV
//     and ArrayData.NORD with the frame. ArrayData.STAT/.SEVR are UDF/INVALID
//     until the first array (a waveform record never processed).
//   * Every written enum (ImageMode, TriggerMode, TriggerSource, DataType, …)
//     posts its _RBV. StatusMessage_RBV (CHAR[256]) says what the driver does.
//   * ArrayData: native type from the configured DataType (Int8/UInt8 CHAR,
//     Int16 SHORT, UInt16/Int32 LONG, UInt32/Float64 DOUBLE, Float32 FLOAT),
//     NELM = the sensor's size_x * size_y, NORD = SizeX * SizeY of the last
//     array, empty until the first frame. Content: without an array
//     provider a fixed gradient ((x + y) mod 256) with element 0 = UniqueId
//     (mod the element range) — cheap (one copy per frame) and enough to tell
//     frames apart. With one (set_array_provider: the beamline's renderer),
//     the frame's own pixels, see "Array provider".
//     Writing DataType later changes ArraySize_RBV, not ArrayData's type (its
//     FTVL is fixed when the IOC loads, as on the real one).
//   * Non-finite or negative times, AcquireTime 0, NumImages < 1, an enum
//     index out of range: ECA_PUTFAIL. New times apply from the next exposure.
//   * Array provider (set_array_provider): a plugin processes an array when
//     it has it. At image1's processing tick (above) the camera asks the
//     provider for frame k's pixels (only when image1 ArrayCallbacks is
//     Enable then) and image1 processes frame k — ArrayData, then its
//     counters, as above — once array_ready(k, pixels) has answered, at the
//     camera's time then (not before the processing tick), each array at its
//     own tick (distinct time stamps). Arrays are processed in order: frame
//     k + 1 waits for frame k (image1's queue: QueueFree, NumQueuedArrays and
//     WaitForPlugins count it). array_ready(k, nullopt) (the pixels could
//     not be made): image1 drops frame k — DroppedArrays_RBV + 1, nothing
//     else posted, a log line. ZMQ1 never waits for image1.
//
// Threading: one thread calls everything (the CA server's io_context);
// external_trigger() too (the PandA simulator's TTLOUT callback runs there).
//
// Example:
//   Camera cam(CameraConfig{});                       // FLIR5:cam5:, 2048 x 1536 UInt16
//   auto sub = cam.subscribe_frames([](const FrameInfo& f) { zmq.publish(f); });
//   cam.publish(db);
//   // ... a client writes TriggerMode On, TriggerSource Line2, Acquire 1
//   auto trig = fpga.subscribe_ttl_out([&](std::size_t, bool level, Tick t) {
//     if (level) cam.external_trigger(t);
//   });
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ca/device.hpp"
#include "sim/subscribers.hpp"

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
/// ArrayData's value for `pixels` (little-endian, `pixel_type`) on a waveform
/// of `array_type`'s native type (see Semantics: the configured DataType):
/// every pixel converted with static_cast (floats clamped to an integer
/// type's range), as NDPluginStdArrays converts to the waveform's FTVL.
/// Throws std::invalid_argument when the byte count is not a whole number
/// of pixels.
[[nodiscard]] Elements array_elements(CameraDataType array_type, CameraDataType pixel_type,
                                      std::span<const std::byte> pixels);

/// One measured readout time (see the Semantics above).
struct ReadoutEntry {
  CameraDataType data_type = CameraDataType::uint16;
  std::int32_t size_y = 0;  // rows read
  double seconds = 0;
  friend bool operator==(const ReadoutEntry&, const ReadoutEntry&) = default;
};

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
  double readout_time = 0.0;          // s, when no `readout` entry fits
  std::vector<ReadoutEntry> readout;  // per DataType and rows
  std::string frame_type_pv;          // full name; empty: <prefix>FrameType
  // The beamline state the ZMQ feed reads (names of [[motor]] / [[shutter]]):
  std::string shutter;                // empty: the beam is always on
  std::string sample_motor;           // empty: the sample is always in
  double sample_in = 0.0;             // the sample motor's user position with the sample in
  double sample_out_threshold = 1.0;  // |position - sample_in| above it: out (a flat)
  friend bool operator==(const CameraConfig&, const CameraConfig&) = default;
};

/// What a fault does to a frame on its way to ZMQ1.
enum class FrameFault : std::uint8_t { none, dropped, duplicated, swapped, stalled };
/// "none", "dropped", "duplicated", "swapped", "stalled".
[[nodiscard]] std::string_view to_string(FrameFault fault);

/// Camera faults (see the Semantics above); frame numbers are UniqueIds,
/// trigger numbers count every trigger received, both 1-based.
struct CameraFaults {
  struct Stall {
    std::int32_t frame = 0;
    double seconds = 0;
    friend bool operator==(const Stall&, const Stall&) = default;
  };
  std::vector<std::int32_t> drop_frames{};
  std::vector<std::int32_t> duplicate_frames{};
  std::vector<std::int32_t> swap_frames{};  // k: k and k + 1 swapped
  std::vector<Stall> stalls{};
  std::vector<std::uint64_t> miss_triggers{};
  friend bool operator==(const CameraFaults&, const CameraFaults&) = default;
};

/// One delivered frame, as the ZMQ publisher needs it.
struct FrameInfo {
  std::int32_t unique_id = 0;
  std::int32_t array_counter = 0;
  Tick tick = 0;            // delivery: the end of the readout
  Tick exposure_start = 0;  // the trigger (or internal start) tick
  Tick exposure_end = 0;    // exposure_start + AcquireTime
  bool to_zmq = false;      // handed to ZMQ1 (its callbacks enabled)
  FrameFault fault = FrameFault::none;
  std::int32_t width = 0;
  std::int32_t height = 0;
  CameraDataType data_type = CameraDataType::uint16;
  bool to_image = false;  // handed to image1 (its callbacks enabled)
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
  /// `fn` is called for every frame the ZMQ plugin publishes (twice for a
  /// duplicate, never for a dropped one) until the Subscription ends.
  [[nodiscard]] Subscription subscribe_frames(std::function<void(const FrameInfo&)> fn) {
    return frames_.subscribe(std::move(fn));
  }
  /// `fn` is called for every frame at its delivery by the driver (before the
  /// cam counters are posted), whatever the plugins will do with it.
  [[nodiscard]] Subscription subscribe_readouts(std::function<void(const FrameInfo&)> fn) {
    return readouts_.subscribe(std::move(fn));
  }
  /// image1's arrays from `request` (see "Array provider"; empty: the
  /// gradient): it is called on the camera's thread at image1's processing
  /// tick of each frame whose ArrayData image1 will post, and must lead to
  /// exactly one array_ready() for that frame, on the camera's thread, later
  /// or from within the call. The CA server must then be told to re-plan
  /// (CaServer::devices_changed) when the answer comes from outside it.
  void set_array_provider(std::function<void(const FrameInfo&)> request) {
    array_provider_ = std::move(request);
  }
  /// The answer to a request: frame `unique_id`'s pixels as ArrayData's value
  /// (array_elements), or nullopt (image1 drops the frame). An id not
  /// awaited is ignored.
  void array_ready(std::int32_t unique_id, std::optional<Elements> pixels);
  void set_faults(CameraFaults faults) { faults_ = std::move(faults); }
  /// Where fired faults are logged (one line each); empty: stderr.
  void on_log(std::function<void(std::string_view)> fn) { log_ = std::move(fn); }

  [[nodiscard]] const CameraConfig& config() const { return config_; }
  /// A PV by its name without the device prefix ("cam5:Acquire", "image1:ArrayData").
  [[nodiscard]] std::shared_ptr<Pv> pv(std::string_view suffix) const;
  /// Triggers while idle or from the other source (started no exposure).
  [[nodiscard]] std::uint64_t dropped_triggers() const { return dropped_triggers_; }
  /// Triggers of the selected source missed while exposing or reading out
  /// (and those a miss-trigger fault ate).
  [[nodiscard]] std::uint64_t missed_triggers() const { return missed_triggers_; }
  /// Every trigger received (the fault numbering).
  [[nodiscard]] std::uint64_t triggers_received() const { return triggers_received_; }
  /// The readout time for the current DataType and SizeY, s (see Semantics).
  [[nodiscard]] double readout_seconds() const;
  /// The FrameType PV's full name.
  [[nodiscard]] std::string frame_type_pv_name() const;

 private:
  enum class State { idle, waiting, exposing, reading };
  enum class Source { internal, software, external };

  // camera.cpp: PVs and puts
  void make_pvs();
  void make_driver_pvs();
  void make_plugin_pvs(const std::string& plugin);
  void post_rbv(const std::string& suffix, Elements value);
  void post_sizes();
  void add(std::string suffix, Elements initial, bool writable, Metadata metadata = {},
           std::string full_name = {});
  std::uint32_t on_put(const std::string& suffix, const Elements& value, Pv::Completion& done);
  std::uint32_t put_acquire(std::uint16_t v, Pv::Completion& done);
  void post(std::string_view suffix, Elements value, bool force = false);
  [[nodiscard]] std::int32_t get_long(std::string_view suffix) const;
  [[nodiscard]] std::uint16_t get_enum(std::string_view suffix) const;
  [[nodiscard]] double get_double(std::string_view suffix) const;
  [[nodiscard]] Source source() const;
  [[nodiscard]] Tick exposure_ticks() const;
  [[nodiscard]] Tick readout_ticks() const;
  [[nodiscard]] Tick period_ticks() const;
  void post_frame_rate();

  // camera_acquisition.cpp: the acquisition state machine
  void start();
  void stop();
  void trigger(Tick at, Source from);
  void run_until(Tick t);
  void begin_exposure(Tick at);
  void end_exposure(Tick at);
  void deliver(Tick at);
  void publish_zmq(const FrameInfo& frame);
  [[nodiscard]] bool faulted(const std::vector<std::int32_t>& frames, std::int32_t id) const;
  void log_fault(Tick at, std::string_view what);
  void fill_array(const FrameInfo& frame, std::optional<Elements> pixels);
  void post_array_status(std::size_t n);
  void process_image(const FrameInfo& frame, bool array, std::optional<Elements> pixels);
  void process_ready_image();
  [[nodiscard]] Tick image_wake() const;
  void set_state(std::uint16_t detector_state);
  void run_plugins();
  void post_queue();
  void post_status(std::string_view message);
  void end_busy_if_done();
  [[nodiscard]] EpicsTime wall_at(Tick t) const;

  CameraConfig config_;
  std::map<std::string, std::shared_ptr<Pv>, std::less<>> pvs_;
  Subscribers<const FrameInfo&> frames_;
  Subscribers<const FrameInfo&> readouts_;
  std::function<void(std::string_view)> log_;
  CameraFaults faults_;
  std::optional<FrameInfo> swap_held_;  // a swapped frame waiting for the next one
  Tick now_ = 0;
  EpicsTime wall_;
  EpicsTime stamp_;

  State state_ = State::idle;
  Tick acquisition_start_ = 0;
  Tick exposure_start_ = 0, exposure_end_ = kNever, readout_end_ = kNever, next_start_ = kNever;
  Tick last_exposure_end_ = 0;
  std::deque<Tick> triggers_;  // external triggers not yet reached, in order
  std::int32_t array_counter_ = 0, images_ = 0;
  std::uint64_t dropped_triggers_ = 0, missed_triggers_ = 0, triggers_received_ = 0;
  std::vector<Pv::Completion> pending_;
  // Arrays handed to the plugins, not yet processed (due ticks ascending).
  struct Queued {
    FrameInfo frame;
    Tick due = 0;
    bool image = false, zmq = false;  // the plugins that get it
  };
  std::deque<Queued> queued_;
  // image1's arrays waiting for their pixels (array provider), in order.
  struct ImageWait {
    FrameInfo frame;
    bool array = false;  // ArrayData is posted (ArrayCallbacks Enable at the request)
    bool ready = false;  // answered (or no pixels needed)
    std::optional<Elements> pixels;
  };
  std::deque<ImageWait> image_waiting_;
  std::function<void(const FrameInfo&)> array_provider_;
  Tick last_image_tick_ = -1;  // image1's last processing (one array per tick)
  bool busy_ = false;          // AcquireBusy
  Elements pattern_;
  std::int32_t pattern_width_ =
      0;  // ArrayData's content without the frame stamp (built at the first frame)
};

}  // namespace pandafly::sim::ca
