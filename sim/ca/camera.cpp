// Camera: its PVs and the handling of client writes. The acquisition state
// machine is in camera_acquisition.cpp.
#include "sim/ca/camera.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace pandafly::sim::ca {
namespace {

constexpr std::array<std::string_view, 8> kDataTypes = {"Int8",  "UInt8",  "Int16",   "UInt16",
                                                        "Int32", "UInt32", "Float32", "Float64"};

Metadata states(Strings strings) {
  Metadata m;
  m.enum_strings = std::move(strings);
  return m;
}

Metadata units(std::string units, std::int16_t precision) {
  Metadata m;
  m.units = std::move(units);
  m.precision = precision;
  return m;
}

// The waveform's native type for an NDArray type (FTVL: USHORT is served as
// LONG, ULONG as DOUBLE — reference §4.2), empty.
Elements array_of(CameraDataType type) {
  switch (type) {
    case CameraDataType::int8:
    case CameraDataType::uint8:
      return Chars{};
    case CameraDataType::int16:
      return Shorts{};
    case CameraDataType::uint16:
    case CameraDataType::int32:
      return Longs{};
    case CameraDataType::float32:
      return Floats{};
    case CameraDataType::uint32:
    case CameraDataType::float64:
      return Doubles{};
  }
  return Longs{};
}

const Strings kOffOn{"Off", "On"};
const Strings kDisableEnable{"Disable", "Enable"};
const Strings kImageModes{"Single", "Multiple", "Continuous"};
const Strings kTriggerSources{"Software", "Line0", "Line1", "Line2", "Line3"};
// menuAlarmStat (the 16 strings CA carries) and menuAlarmSevr.
const Strings kAlarmStat{"NO_ALARM", "READ", "WRITE",   "HIHI",    "HIGH", "LOLO", "LOW",  "STATE",
                         "COS",      "COMM", "TIMEOUT", "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT"};
const Strings kAlarmSevr{"NO_ALARM", "MINOR", "MAJOR", "INVALID"};
constexpr std::uint16_t kUdfAlarm = 17, kInvalid = 3;  // a record never processed
constexpr std::size_t kStatusLength = 256;             // StatusMessage_RBV NELM
constexpr std::int32_t kQueueSize = 2;                 // NDPluginBase's default QueueSize
// pvs_'s key for the FrameType PV (served under its own full name).
constexpr std::string_view kFrameType = "FrameType";

}  // namespace

std::string_view to_string(CameraDataType type) {
  return kDataTypes.at(static_cast<std::size_t>(type));
}

std::string_view to_string(FrameFault fault) {
  constexpr std::array<std::string_view, 5> names = {"none", "dropped", "duplicated", "swapped",
                                                     "stalled"};
  return names.at(static_cast<std::size_t>(fault));
}

std::size_t bytes_of(CameraDataType type) {
  constexpr std::array<std::size_t, 8> bytes = {1, 1, 2, 2, 4, 4, 4, 8};
  return bytes.at(static_cast<std::size_t>(type));
}

namespace {

// One pixel S converted to T (floats clamped to an integer T's range).
template <typename T, typename S>
T pixel_as(S s) {
  if constexpr (std::is_floating_point_v<S> && std::is_integral_v<T>) {
    if (!(s >= static_cast<S>(std::numeric_limits<T>::min()))) return std::numeric_limits<T>::min();
    if (s >= static_cast<S>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  }
  return static_cast<T>(s);
}

// Little-endian S pixels into `out`, a chunk at a time through an aligned
// buffer (plain pointer loops: fast even unoptimised, ~3 M pixels a frame).
template <typename T, typename S>
void convert_from(T* out, std::span<const std::byte> pixels) {
  constexpr std::size_t kChunk = 4096;
  std::array<S, kChunk> buffer{};
  const std::size_t n = pixels.size() / sizeof(S);
  for (std::size_t done = 0; done < n; done += kChunk) {
    const std::size_t k = std::min(kChunk, n - done);
    std::memcpy(buffer.data(), pixels.data() + done * sizeof(S), k * sizeof(S));
    const S* in = buffer.data();
    T* to = out + done;
    if constexpr (std::is_floating_point_v<S> && std::is_integral_v<T>) {
      for (std::size_t i = 0; i < k; ++i) to[i] = pixel_as<T, S>(in[i]);
    } else {
      for (std::size_t i = 0; i < k; ++i) to[i] = static_cast<T>(in[i]);
    }
  }
}

template <typename T>
void convert_pixels(std::vector<T>& out, CameraDataType pixel_type,
                    std::span<const std::byte> pixels) {
  out.resize(pixels.size() / bytes_of(pixel_type));
  const auto fill = [&]<typename S>(S) { convert_from<T, S>(out.data(), pixels); };
  switch (pixel_type) {
    case CameraDataType::int8:
      return fill(std::int8_t{});
    case CameraDataType::uint8:
      return fill(std::uint8_t{});
    case CameraDataType::int16:
      return fill(std::int16_t{});
    case CameraDataType::uint16:
      return fill(std::uint16_t{});
    case CameraDataType::int32:
      return fill(std::int32_t{});
    case CameraDataType::uint32:
      return fill(std::uint32_t{});
    case CameraDataType::float32:
      return fill(float{});
    case CameraDataType::float64:
      return fill(double{});
  }
}

}  // namespace

Elements array_elements(CameraDataType array_type, CameraDataType pixel_type,
                        std::span<const std::byte> pixels) {
  static_assert(std::endian::native == std::endian::little, "pixels are little-endian");
  if (pixels.size() % bytes_of(pixel_type) != 0)
    throw std::invalid_argument(fmt::format("array_elements: {} bytes are not whole {} pixels",
                                            pixels.size(), to_string(pixel_type)));
  Elements out = array_of(array_type);
  std::visit(
      [&](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_arithmetic_v<T>) convert_pixels(v, pixel_type, pixels);
      },
      out);
  return out;
}

Camera::Camera(CameraConfig config) : config_(std::move(config)) {
  make_pvs();
}

Camera::~Camera() {
  // The PVs may outlive the camera in a PvDatabase: refuse writes from then on.
  for (auto& [name, pv] : pvs_)
    if (pv->writable()) pv->on_put([](Pv&, Elements, Pv::Completion) { return kEcaPutFail; });
}

void Camera::add(std::string suffix, Elements initial, bool writable, Metadata metadata,
                 std::string full_name) {
  const std::size_t nelm = std::max<std::size_t>(1, size_of(initial));
  if (full_name.empty()) full_name = config_.prefix + suffix;
  auto pv = std::make_shared<Pv>(std::move(full_name), std::move(initial), std::move(metadata),
                                 writable, nelm);
  if (writable) {
    pv->on_put([this, suffix](Pv&, Elements value, Pv::Completion done) {
      stamp_ = wall_;
      const std::uint32_t eca = on_put(suffix, value, done);
      // Handlers that complete later have taken `done`; the others complete now.
      if (eca == kEcaNormal && done) done(kEcaNormal);
      return eca;
    });
  }
  pvs_.emplace(std::move(suffix), std::move(pv));
}

void Camera::make_pvs() {
  make_driver_pvs();
  make_plugin_pvs(config_.image);
  make_plugin_pvs(config_.zmq);
  const std::string& i = config_.image;
  add(i + "ArrayCallbacks", Enums{1}, true, states(kDisableEnable));
  add(i + "ArraySize0_RBV", Longs{0}, false);
  add(i + "ArraySize1_RBV", Longs{0}, false);
  // NDArrayBase.template's DataType_RBV: the type of the plugin's last array
  // (it tells UInt16 from Int16 pixels on a SHORT waveform).
  add(i + "DataType_RBV", Enums{static_cast<std::uint16_t>(config_.data_type)}, false,
      states(Strings(kDataTypes.begin(), kDataTypes.end())));
  auto data = std::make_shared<Pv>(
      config_.prefix + i + "ArrayData", array_of(config_.data_type), Metadata{}, false,
      static_cast<std::size_t>(config_.size_x) * static_cast<std::size_t>(config_.size_y));
  data->set_alarm({kUdfAlarm, kInvalid});
  pvs_.emplace(i + "ArrayData", std::move(data));
  add(i + "ArrayData.NORD", Longs{0}, false);
  add(i + "ArrayData.STAT", Enums{kUdfAlarm}, false, states(kAlarmStat));
  add(i + "ArrayData.SEVR", Enums{kInvalid}, false, states(kAlarmSevr));
  // tomoscan's FrameType mbbo (the scan writes it; the attribute file reads it).
  // tomoscan's record order (0 DarkField, 1 FlatField, 2 Projection); starts at
  // Projection (a real one is restored by autosave), so a scan that never
  // writes it gets /exchange/data.
  add(std::string(kFrameType), Enums{2}, true, states({"DarkField", "FlatField", "Projection"}),
      frame_type_pv_name());
  post_sizes();
  post_frame_rate();
}

std::string Camera::frame_type_pv_name() const {
  return config_.frame_type_pv.empty() ? config_.prefix + "FrameType" : config_.frame_type_pv;
}

void Camera::make_driver_pvs() {
  const std::string& c = config_.cam;
  const auto type = static_cast<std::uint16_t>(config_.data_type);
  add(c + "AcquireTime", Doubles{config_.acquire_time}, true, units("s", 4));
  add(c + "AcquireTime_RBV", Doubles{config_.acquire_time}, false, units("s", 4));
  add(c + "AcquirePeriod", Doubles{config_.acquire_period}, true, units("s", 4));
  add(c + "AcquirePeriod_RBV", Doubles{config_.acquire_period}, false, units("s", 4));
  add(c + "NumImages", Longs{1}, true);
  add(c + "NumImages_RBV", Longs{1}, false);
  add(c + "NumImagesCounter_RBV", Longs{0}, false);
  add(c + "ImageMode", Enums{2}, true, states(kImageModes));
  add(c + "ImageMode_RBV", Enums{2}, false, states(kImageModes));
  add(c + "Acquire", Enums{0}, true, states({"Done", "Acquire"}));
  add(c + "Acquire_RBV", Enums{0}, false, states({"Done", "Acquiring"}));
  add(c + "AcquireBusy", Enums{0}, false, states({"Done", "Acquiring"}));
  add(c + "WaitForPlugins", Enums{0}, true, states({"No", "Yes"}));
  add(c + "ArrayCounter", Longs{0}, true);
  add(c + "ArrayCounter_RBV", Longs{0}, false);
  add(c + "MaxSizeX_RBV", Longs{config_.size_x}, false);
  add(c + "MaxSizeY_RBV", Longs{config_.size_y}, false);
  add(c + "SizeX", Longs{config_.size_x}, true);
  add(c + "SizeX_RBV", Longs{config_.size_x}, false);
  add(c + "SizeY", Longs{config_.size_y}, true);
  add(c + "SizeY_RBV", Longs{config_.size_y}, false);
  add(c + "ArraySizeX_RBV", Longs{config_.size_x}, false);
  add(c + "ArraySizeY_RBV", Longs{config_.size_y}, false);
  add(c + "ArraySize_RBV", Longs{0}, false);
  add(c + "NumQueuedArrays", Longs{0}, false);
  add(c + "TriggerMode", Enums{0}, true, states(kOffOn));
  add(c + "TriggerMode_RBV", Enums{0}, false, states(kOffOn));
  add(c + "TriggerSource", Enums{0}, true, states(kTriggerSources));
  add(c + "TriggerSource_RBV", Enums{0}, false, states(kTriggerSources));
  add(c + "TriggerSoftware", Enums{0}, true, states({"Done", "Trigger"}));
  add(c + "GC_AcqResFrameRate_RBV", Doubles{0.0}, false, units("Hz", 3));
  const Strings types(kDataTypes.begin(), kDataTypes.end());
  add(c + "DataType", Enums{type}, true, states(types));
  add(c + "DataType_RBV", Enums{type}, false, states(types));
  add(c + "DetectorState_RBV", Enums{0}, false,
      states({"Idle", "Acquire", "Readout", "Correct", "Saving", "Aborting", "Error", "Waiting",
              "Disconnected", "Aborted"}));
  add(c + "ArrayCallbacks", Enums{1}, true, states(kDisableEnable));
  auto status = std::make_shared<Pv>(config_.prefix + c + "StatusMessage_RBV", Chars{}, Metadata{},
                                     false, kStatusLength);
  pvs_.emplace(c + "StatusMessage_RBV", std::move(status));
}

// The NDPluginBase PVs both plugins serve (`p`: "image1:" / "ZMQ1:").
void Camera::make_plugin_pvs(const std::string& p) {
  add(p + "EnableCallbacks", Enums{0}, true, states(kDisableEnable));
  add(p + "ArrayCounter_RBV", Longs{0}, false);
  add(p + "UniqueId_RBV", Longs{0}, false);
  add(p + "DroppedArrays", Longs{0}, true);
  add(p + "DroppedArrays_RBV", Longs{0}, false);
  add(p + "QueueSize", Longs{kQueueSize}, false);
  add(p + "QueueFree", Longs{kQueueSize}, false);
  if (p == config_.zmq) add(p + "ArrayCallbacks", Enums{1}, true, states(kDisableEnable));
}

void Camera::publish(PvDatabase& db) {
  for (const auto& [name, pv] : pvs_) db.add(pv);
}

std::shared_ptr<Pv> Camera::pv(std::string_view suffix) const {
  const auto it = pvs_.find(suffix);
  return it == pvs_.end() ? nullptr : it->second;
}

// ------------------------------------------------------------ values

void Camera::post(std::string_view suffix, Elements value, bool force) {
  pvs_.find(suffix)->second->set(std::move(value), stamp_, force);
}

void Camera::post_rbv(const std::string& suffix, Elements value) {
  if (pvs_.contains(suffix + "_RBV")) post(suffix + "_RBV", std::move(value));
}

void Camera::post_sizes() {
  const std::string& c = config_.cam;
  const std::int32_t x = get_long(c + "SizeX"), y = get_long(c + "SizeY");
  const auto bytes =
      static_cast<std::int32_t>(bytes_of(static_cast<CameraDataType>(get_enum(c + "DataType"))));
  post(c + "ArraySizeX_RBV", Longs{x});
  post(c + "ArraySizeY_RBV", Longs{y});
  post(c + "ArraySize_RBV", Longs{x * y * bytes});
}

void Camera::post_status(std::string_view message) {
  post(config_.cam + "StatusMessage_RBV", Chars(message.begin(), message.end()));
}

std::int32_t Camera::get_long(std::string_view suffix) const {
  return std::get<Longs>(pvs_.find(suffix)->second->value()).front();
}

std::uint16_t Camera::get_enum(std::string_view suffix) const {
  return std::get<Enums>(pvs_.find(suffix)->second->value()).front();
}

double Camera::get_double(std::string_view suffix) const {
  return std::get<Doubles>(pvs_.find(suffix)->second->value()).front();
}

Camera::Source Camera::source() const {
  if (get_enum(config_.cam + "TriggerMode") == 0) return Source::internal;
  return get_enum(config_.cam + "TriggerSource") == 0 ? Source::software : Source::external;
}

Tick Camera::exposure_ticks() const {
  const double s = get_double(config_.cam + "AcquireTime");
  return std::max<Tick>(1, std::llround(s * static_cast<double>(kTicksPerSecond)));
}

double Camera::readout_seconds() const {
  const auto type = static_cast<CameraDataType>(get_enum(config_.cam + "DataType"));
  const std::int32_t rows = get_long(config_.cam + "SizeY");
  const ReadoutEntry* best = nullptr;
  for (const auto& e : config_.readout)
    if (e.data_type == type && e.size_y >= rows && (!best || e.size_y < best->size_y)) best = &e;
  return best ? best->seconds : config_.readout_time;
}

Tick Camera::readout_ticks() const {
  return std::max<Tick>(0, std::llround(readout_seconds() * static_cast<double>(kTicksPerSecond)));
}

Tick Camera::period_ticks() const {
  const double s = get_double(config_.cam + "AcquirePeriod");
  return std::max<Tick>(exposure_ticks() + readout_ticks(),
                        std::llround(s * static_cast<double>(kTicksPerSecond)));
}

void Camera::post_frame_rate() {
  const double period = static_cast<double>(period_ticks()) / static_cast<double>(kTicksPerSecond);
  post(config_.cam + "GC_AcqResFrameRate_RBV", Doubles{1.0 / period});
}

// ------------------------------------------------------------ puts

std::uint32_t Camera::on_put(const std::string& suffix, const Elements& value,
                             Pv::Completion& done) {
  if (size_of(value) != 1) return kEcaBadCount;
  const bool cam = suffix.starts_with(config_.cam);
  const std::string name = cam ? suffix.substr(config_.cam.size()) : suffix;
  if (const auto* d = std::get_if<Doubles>(&value)) {
    const double v = d->front();
    if (!std::isfinite(v) || v < 0 || (name == "AcquireTime" && v == 0)) return kEcaPutFail;
    post(suffix, *d, true);
    post_rbv(suffix, *d);
    post_frame_rate();
    return kEcaNormal;
  }
  if (const auto* l = std::get_if<Longs>(&value)) {
    const std::int32_t v = l->front();
    if (name == "NumImages" && v < 1) return kEcaPutFail;
    if (name == "SizeX" && (v < 1 || v > config_.size_x)) return kEcaPutFail;
    if (name == "SizeY" && (v < 1 || v > config_.size_y)) return kEcaPutFail;
    if (suffix.ends_with("DroppedArrays") && v != 0) return kEcaPutFail;  // only a reset
    post(suffix, *l, true);
    if (name == "ArrayCounter") array_counter_ = v;
    post_rbv(suffix, *l);
    if (name == "SizeX" || name == "SizeY") post_sizes();
    if (name == "SizeY") post_frame_rate();
    return kEcaNormal;
  }
  const std::uint16_t v = std::get<Enums>(value).front();
  if (v >= pvs_.find(suffix)->second->metadata().enum_strings.size()) return kEcaPutFail;
  if (cam && name == "Acquire") return put_acquire(v, done);
  post(suffix, Enums{v}, true);
  post_rbv(suffix, Enums{v});
  if (cam && name == "TriggerSoftware") {
    if (v == 1) trigger(now_, Source::software);
    post(suffix, Enums{0});
  } else if (cam && name == "DataType") {
    post_sizes();
    post_frame_rate();
  } else if (cam && name == "TriggerMode" && state_ == State::waiting &&
             source() == Source::internal) {
    next_start_ = now_;  // internal timing from now on
    run_until(now_);
  }
  return kEcaNormal;
}

std::uint32_t Camera::put_acquire(std::uint16_t v, Pv::Completion& done) {
  if (v == 0) {
    post(config_.cam + "Acquire", Enums{0}, true);
    if (state_ != State::idle) stop();
    return kEcaNormal;
  }
  pending_.push_back(std::exchange(done, nullptr));
  if (state_ == State::idle) {
    start();
  } else {
    post(config_.cam + "Acquire", Enums{1}, true);
  }
  return kEcaNormal;
}

}  // namespace pandafly::sim::ca
