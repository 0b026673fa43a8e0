// CaImageSource: frames from NDPluginStdArrays over Channel Access (rules in
// the header). Here: connecting, the per-update sequence, and the pixel
// conversion from the waveform's CA type.
#include "pandafly/capture/ca_image_source.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "pandafly/ca/monitor.hpp"

namespace pandafly::capture {

static_assert(std::endian::native == std::endian::little,
              "frames are little-endian: a big-endian host must byte-swap the pixels");

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kEpicsEpochUnix = 631152000;  // 1990-01-01 UTC in Unix seconds
constexpr auto kStopSlice = std::chrono::milliseconds(10);

// NDDataType_t order: DataType_RBV's states.
constexpr std::array<std::pair<std::string_view, DataType>, 8> kNdTypes = {{
    {"Int8", DataType::int8},
    {"UInt8", DataType::uint8},
    {"Int16", DataType::int16},
    {"UInt16", DataType::uint16},
    {"Int32", DataType::int32},
    {"UInt32", DataType::uint32},
    {"Float32", DataType::float32},
    {"Float64", DataType::float64},
}};

bool later(const ca::Timestamp& a, const ca::Timestamp& b) {
  return std::pair(a.seconds, a.nanoseconds) > std::pair(b.seconds, b.nanoseconds);
}

std::string stamp_text(const ca::Timestamp& t) {
  return fmt::format("{}.{:09d}", t.seconds - kEpicsEpochUnix, t.nanoseconds);
}

// ---------------------------------------------------------------- pixel conversion

// Whether every value of pixel type D survives the waveform type S (Rules).
template <class S, class D>
constexpr bool carries() {
  if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) {
    return sizeof(S) >= sizeof(D);  // same size: reinterpreted; wider: holds both signs
  } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    return std::numeric_limits<S>::digits >= std::numeric_limits<D>::digits;
  } else if constexpr (std::is_floating_point_v<S> && std::is_floating_point_v<D>) {
    return sizeof(S) >= sizeof(D);
  } else {
    return false;  // float pixels through an integer waveform lost their fractions
  }
}

// `v` as D when it is exactly a D value.
template <class S, class D>
std::optional<D> exact(S v) {
  if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) {
    if constexpr (sizeof(S) == sizeof(D)) return std::bit_cast<D>(v);
    if (!std::in_range<D>(v)) return std::nullopt;
    return static_cast<D>(v);
  } else if constexpr (std::is_floating_point_v<S> && std::is_integral_v<D>) {
    if (!(v >= static_cast<S>(std::numeric_limits<D>::min()) &&
          v <= static_cast<S>(std::numeric_limits<D>::max()) && v == std::trunc(v)))
      return std::nullopt;
    return static_cast<D>(v);
  } else {
    if (std::isnan(v)) return std::numeric_limits<D>::quiet_NaN();
    const auto d = static_cast<D>(v);
    if (static_cast<S>(d) != v) return std::nullopt;
    return d;
  }
}

template <class D>
struct Tag {
  using type = D;
};

template <class F>
auto with_pixel_type(DataType t, F&& f) {
  switch (t) {
    case DataType::int8:
      return f(Tag<std::int8_t>{});
    case DataType::uint8:
      return f(Tag<std::uint8_t>{});
    case DataType::int16:
      return f(Tag<std::int16_t>{});
    case DataType::uint16:
      return f(Tag<std::uint16_t>{});
    case DataType::int32:
      return f(Tag<std::int32_t>{});
    case DataType::uint32:
      return f(Tag<std::uint32_t>{});
    case DataType::int64:
      return f(Tag<std::int64_t>{});
    case DataType::uint64:
      return f(Tag<std::uint64_t>{});
    case DataType::float32:
      return f(Tag<float>{});
    case DataType::float64:
      break;
  }
  return f(Tag<double>{});
}

template <class S, class D>
std::optional<std::vector<std::byte>> convert_all(const std::vector<S>& in, std::string_view pv,
                                                  DataType type, std::string& error) {
  std::vector<std::byte> out(in.size() * sizeof(D));
  if constexpr (std::is_same_v<S, D> ||
                (std::is_integral_v<S> && std::is_integral_v<D> && sizeof(S) == sizeof(D))) {
    if (!in.empty()) std::memcpy(out.data(), in.data(), out.size());
  } else if constexpr (std::is_integral_v<S> && std::is_integral_v<D>) {
    // The hot case (USHORT pixels on a LONG waveform): a plain range check,
    // through a small typed buffer (one memcpy per chunk, no aliasing tricks).
    // S and D are at most 32 bits wide here (carries()): int64 holds both ranges.
    constexpr auto lo = static_cast<std::int64_t>(std::numeric_limits<D>::min());
    constexpr auto hi = static_cast<std::int64_t>(std::numeric_limits<D>::max());
    constexpr std::size_t kChunk = 4096;
    std::array<D, kChunk> buffer{};
    for (std::size_t base = 0; base < in.size(); base += kChunk) {
      const std::size_t m = std::min(kChunk, in.size() - base);
      const S* src = in.data() + base;
      for (std::size_t j = 0; j < m; ++j) {
        const auto v = static_cast<std::int64_t>(src[j]);
        if (v < lo || v > hi) {
          error = fmt::format("{} element {} = {} does not fit {} pixels", pv, base + j, src[j],
                              to_string(type));
          return std::nullopt;
        }
        buffer[j] = static_cast<D>(src[j]);
      }
      std::memcpy(out.data() + base * sizeof(D), buffer.data(), m * sizeof(D));
    }
  } else {
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto d = exact<S, D>(in[i]);
      if (!d) {
        error =
            fmt::format("{} element {} = {} does not fit {} pixels", pv, i, in[i], to_string(type));
        return std::nullopt;
      }
      std::memcpy(out.data() + i * sizeof(D), &*d, sizeof(D));
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(SkipReason r) noexcept {
  switch (r) {
    case SkipReason::overwritten:
      return "overwritten";
    case SkipReason::stale:
      return "stale";
    case SkipReason::ambiguous:
      return "ambiguous";
    case SkipReason::shape:
      return "shape";
    case SkipReason::conversion:
      return "conversion";
  }
  return "unknown";
}

std::optional<DataType> data_type_from_nd(std::string_view name) noexcept {
  for (const auto& [n, t] : kNdTypes)
    if (n == name) return t;
  return std::nullopt;
}

std::optional<std::vector<std::byte>> convert_pixels(const ca::Value& values, DataType type,
                                                     std::string_view pv, std::string& error) {
  return std::visit(
      [&](const auto& in) -> std::optional<std::vector<std::byte>> {
        using S = typename std::decay_t<decltype(in)>::value_type;
        if constexpr (std::is_same_v<S, std::string>) {
          error = fmt::format("{} is DBF_STRING, not an image", pv);
          return std::nullopt;
        } else {
          return with_pixel_type(type, [&](auto tag) -> std::optional<std::vector<std::byte>> {
            using D = typename decltype(tag)::type;
            if constexpr (!carries<S, D>()) {
              error = fmt::format(
                  "{} is {}: it cannot carry every {} pixel (the IOC converts them with loss); "
                  "load NDStdArrays with a wider FTVL",
                  pv, ca::to_string(ca::type_of(values)), to_string(type));
              return std::nullopt;
            } else {
              return convert_all<S, D>(in, pv, type, error);
            }
          });
        }
      },
      values);
}

}  // namespace pandafly::capture

// ---------------------------------------------------------------- CaImageSource

namespace pandafly::capture {

struct CaImageSource::Impl {
  Impl(const ca::Context& context, CaImageSourceOptions opts);
  std::optional<CaImageEvent> take(const ca::Update& u, const util::StopToken& stop);
  std::optional<CaImageEvent> frame_from(std::uint64_t k, ca::Timed<ca::Value>&& array,
                                         const util::StopToken& stop);
  SkippedFrame skip(std::uint64_t k, SkipReason reason, std::string message);
  void drain_shape();
  [[nodiscard]] std::string name(std::string_view suffix) const {
    return options.prefix + std::string(suffix);
  }

  CaImageSourceOptions options;
  ca::Channel unique_id, data, size0, size1, data_type;
  ca::Monitor ids, size0_updates, size1_updates, type_updates;
  // The sequence (consumer thread only).
  bool have_baseline = false;
  std::int64_t last_id = 0;
  ca::Timestamp last_stamp;                   // of UniqueId_RBV's last update
  std::optional<ca::Timed<ca::Value>> array;  // the last ArrayData read, not yet handed out
  std::int32_t cols = 0, rows = 0;            // ArraySize0_RBV, ArraySize1_RBV
  std::string type_name;                      // DataType_RBV
  CaImageSourceStats stats;                   // the consumer's working copy
  mutable std::mutex snapshot_mutex;          // stats() may be called from any thread
  CaImageSourceStats snapshot;
  void publish() {
    std::scoped_lock lock(snapshot_mutex);
    snapshot = stats;
  }
};

namespace {

std::int32_t first_long(const ca::Value& v) {
  const auto x = ca::to_double(v, 0);
  return x ? static_cast<std::int32_t>(*x) : 0;
}

// Waits for every channel on one deadline; throws naming all that did not connect.
void connect_all(std::initializer_list<const ca::Channel*> channels, ca::Timeout timeout) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  std::vector<std::string> missing;
  for (const auto* c : channels) {
    const auto left = std::max(Clock::duration::zero(), deadline - Clock::now());
    try {
      c->wait_connected(std::chrono::duration_cast<ca::Timeout>(left));
    } catch (const ca::Error& e) {
      if (e.code() != std::errc::timed_out) throw;
      missing.push_back(c->name());
    }
  }
  if (missing.empty()) return;
  std::string others;
  for (std::size_t i = 1; i < missing.size(); ++i) others += (i == 1 ? "" : ", ") + missing[i];
  throw ca::Error(ca::make_error_code(ca::Errc::timeout), missing.front(),
                  fmt::format("not found within {:g} s{}", timeout.count(),
                              others.empty() ? "" : " (nor " + others + ")"));
}

ca::MonitorOptions monitor_of(ca::FieldType type, std::size_t capacity) {
  ca::MonitorOptions o;
  o.type = type;
  o.count = 1;
  o.capacity = capacity;
  o.mask = ca::events::value;  // an alarm change is not a new frame
  return o;
}

}  // namespace

CaImageSource::Impl::Impl(const ca::Context& context, CaImageSourceOptions opts)
    : options(std::move(opts)),
      unique_id(context, name("UniqueId_RBV")),
      data(context, name("ArrayData")),
      size0(context, name("ArraySize0_RBV")),
      size1(context, name("ArraySize1_RBV")),
      data_type(context, name("DataType_RBV")) {
  connect_all({&unique_id, &data, &size0, &size1, &data_type}, options.connect_timeout);
  size0_updates = ca::Monitor(size0, monitor_of(ca::FieldType::int32, 4));
  size1_updates = ca::Monitor(size1, monitor_of(ca::FieldType::int32, 4));
  type_updates = ca::Monitor(data_type, monitor_of(ca::FieldType::string, 4));
  // Last: its first update (the baseline) comes after the shape's current values.
  ids = ca::Monitor(unique_id, monitor_of(ca::FieldType::int32, options.queue_capacity));
  // Until the server has sent the baseline the subscription may not exist
  // there yet, and a frame posted meanwhile would become the baseline.
  const auto baseline = ids.pop(options.connect_timeout);
  if (!baseline)
    throw ca::Error(
        ca::make_error_code(ca::Errc::timeout), unique_id.name(),
        fmt::format("no first monitor update within {:g} s", options.connect_timeout.count()));
  (void)take(*baseline, {});
  publish();
}

SkippedFrame CaImageSource::Impl::skip(std::uint64_t k, SkipReason reason, std::string message) {
  ++stats.skipped;
  return SkippedFrame{k, reason, fmt::format("frame {}: {}", k, message)};
}

void CaImageSource::Impl::drain_shape() {
  while (auto u = size0_updates.try_pop()) cols = first_long(u->value);
  while (auto u = size1_updates.try_pop()) rows = first_long(u->value);
  while (auto u = type_updates.try_pop()) {
    const auto& names = std::get<std::vector<std::string>>(u->value);
    if (!names.empty()) type_name = names.front();
  }
}

// One UniqueId_RBV update (header Rules, "Frame numbers" and "The race").
std::optional<CaImageEvent> CaImageSource::Impl::take(const ca::Update& u,
                                                      const util::StopToken& stop) {
  ++stats.updates;
  const std::int64_t id = first_long(u.value);
  if (have_baseline && id == last_id && u.stamp == last_stamp) return std::nullopt;
  const ca::Timestamp previous = last_stamp;
  const bool first = !have_baseline;
  if (have_baseline && id <= last_id) ++stats.restarts;
  if (have_baseline && id > last_id + 1)
    stats.missing += static_cast<std::uint64_t>(id - last_id - 1);
  have_baseline = true;
  last_id = id;
  last_stamp = u.stamp;
  const auto k = static_cast<std::uint64_t>(std::max<std::int64_t>(id, 0));
  stats.last_frame = k;
  if (first) return std::nullopt;  // the value before this source: not a frame of ours
  const std::string uid = name("UniqueId_RBV"), pv = name("ArrayData");
  if (u.stamp == previous)
    return skip(
        k, SkipReason::ambiguous,
        fmt::format("{} updated twice with one time stamp ({}): frames cannot be told apart", uid,
                    stamp_text(u.stamp)));
  // The array kept from an earlier read may already be this frame's, or later.
  if (!array || !later(array->stamp, previous)) {
    try {
      array = data.get_time_value(std::nullopt, 0, options.read_timeout, stop);
    } catch (const ca::Error& e) {  // the frame is lost: say which
      throw ca::Error(e.code(), e.pv(), fmt::format("{} (reading frame {})", e.detail(), k));
    }
    ++stats.reads;
  }
  if (later(array->stamp, u.stamp))
    return skip(k, SkipReason::overwritten,
                fmt::format("{} already holds a later frame (stamp {} after {}'s {})", pv,
                            stamp_text(array->stamp), uid, stamp_text(u.stamp)));
  if (!later(array->stamp, previous))
    return skip(k, SkipReason::stale,
                fmt::format("{} did not change since the previous frame (stamp {}, not after {}); "
                            "is {}ArrayCallbacks Enable?",
                            pv, stamp_text(array->stamp), stamp_text(previous), options.prefix));
  auto mine = std::move(*array);
  array.reset();
  return frame_from(k, std::move(mine), stop);
}

// Frame k from its array: the shape and type checks, then the pixels.
std::optional<CaImageEvent> CaImageSource::Impl::frame_from(std::uint64_t k,
                                                            ca::Timed<ca::Value>&& a,
                                                            const util::StopToken& stop) {
  drain_shape();
  const std::size_t n = ca::size(a.value);
  const auto expected = [&] {
    return static_cast<std::size_t>(std::max(cols, 0)) *
           static_cast<std::size_t>(rows == 0 ? 1 : std::max(rows, 0));
  };
  if (n != expected()) {  // the sizes' updates may still be on their way: read them
    cols = size0.get<std::int32_t>(options.read_timeout, stop);
    rows = size1.get<std::int32_t>(options.read_timeout, stop);
  }
  if (n != expected() || n == 0)
    return skip(k, SkipReason::shape,
                fmt::format("{} has {} elements, {} × {} = {} × {}", name("ArrayData"), n,
                            name("ArraySize0_RBV"), name("ArraySize1_RBV"), cols, rows));
  if (type_name.empty()) type_name = data_type.get<std::string>(options.read_timeout, stop);
  const auto type = data_type_from_nd(type_name);
  if (!type)
    return skip(
        k, SkipReason::conversion,
        fmt::format("{} is '{}', not a pixel type read here", name("DataType_RBV"), type_name));
  std::string error;
  auto pixels = convert_pixels(a.value, *type, name("ArrayData"), error);
  if (!pixels) return skip(k, SkipReason::conversion, error);
  FrameHeader h;
  h.frame = k;
  h.timestamp = static_cast<double>(a.stamp.seconds - kEpicsEpochUnix) +
                static_cast<double>(a.stamp.nanoseconds) * 1e-9;
  h.type = *type;
  if (rows == 0)
    h.shape = {static_cast<std::size_t>(cols)};
  else
    h.shape = {static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)};
  ++stats.frames;
  return ReceivedFrame(std::move(h), std::move(*pixels));
}

CaImageSource::CaImageSource(const ca::Context& context, CaImageSourceOptions options)
    : impl_(std::make_unique<Impl>(context, std::move(options))) {}

CaImageSource::~CaImageSource() = default;

std::optional<CaImageEvent> CaImageSource::next(std::chrono::milliseconds timeout,
                                                util::StopToken stop) {
  const auto deadline = Clock::now() + timeout;
  auto& ids = impl_->ids;
  while (true) {
    // An update already queued wins over a stop request.
    auto u = ids.try_pop();
    if (!u) {
      if (stop.stop_requested())
        throw ca::Error(util::cancelled_error(), impl_->name("UniqueId_RBV"),
                        "waiting for a frame: cancelled");
      const auto left = deadline - Clock::now();
      if (left <= Clock::duration::zero()) return std::nullopt;
      const auto slice = stop.stop_possible() ? std::min<Clock::duration>(left, kStopSlice) : left;
      u = ids.pop(std::chrono::duration_cast<ca::Timeout>(slice));
      if (!u) {
        if (ids.closed())
          throw ca::Error(ca::make_error_code(ca::Errc::channel_destroyed),
                          impl_->name("UniqueId_RBV"), "monitor closed");
        continue;
      }
    }
    std::optional<CaImageEvent> e;
    try {
      e = impl_->take(*u, stop);
    } catch (...) {
      impl_->publish();  // the update was taken: stats() says so
      throw;
    }
    impl_->publish();
    if (e) return e;
  }
}

CaImageSourceStats CaImageSource::stats() const {
  std::scoped_lock lock(impl_->snapshot_mutex);
  return impl_->snapshot;
}

const std::string& CaImageSource::prefix() const noexcept {
  return impl_->options.prefix;
}

}  // namespace pandafly::capture
