#include "sim/camera/frame_source.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace pandafly::sim::camera {

std::string_view to_string(FrameKind kind) {
  switch (kind) {
    case FrameKind::projection:
      return "projection";
    case FrameKind::flat:
      return "flat";
    case FrameKind::dark:
      return "dark";
  }
  return "?";
}

std::string_view hdf5_frame_location(FrameKind kind) {
  switch (kind) {
    case FrameKind::projection:
      return "/exchange/data";
    case FrameKind::flat:
      return "/exchange/data_white";
    case FrameKind::dark:
      return "/exchange/data_dark";
  }
  return "/exchange/data";
}

std::vector<capture::Attribute> frame_attributes(FrameKind kind, double angle_deg) {
  return {{"ColorMode", std::int64_t{0}},
          {"HDF5FrameLocation", std::string(hdf5_frame_location(kind))},
          {"theta_readout", angle_deg}};
}

namespace {

physics::ProjectionConfig projection_config(const FrameFormat& f, const FrameSourceOptions& o) {
  if (f.width == 0 || f.height == 0) throw std::invalid_argument("FrameSource: empty frame size");
  physics::ProjectionConfig c;
  c.width = f.width;
  c.height = f.height;
  c.pixel_mm = o.pixel_mm;
  if (!std::isfinite(o.axis_offset_px))
    throw std::invalid_argument("FrameSource: axis_offset_px must be finite");
  c.axis_u0 = (static_cast<double>(f.width) - 1.0) / 2.0 + o.axis_offset_px;
  c.noise = o.noise;
  c.seed = o.seed;
  if (f.type == capture::DataType::uint8) {
    c.dark_offset = 10;
    c.gain = 230;
  } else if (f.type == capture::DataType::int8) {
    c.dark_offset = 5;
    c.gain = 110;
  }
  if (o.gain) c.gain = *o.gain;
  if (o.dark_offset) c.dark_offset = *o.dark_offset;
  return c;
}

physics::Phantom fitted_phantom(const FrameFormat& f, const FrameSourceOptions& o) {
  if (o.phantom) return *o.phantom;
  const double pixels =
      std::min(static_cast<double>(f.width), static_cast<double>(f.height) / 0.9) * 0.95;
  return physics::Phantom::shepp_logan_3d(pixels * o.pixel_mm);
}

template <typename T>
T convert(float v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    // Clamp in double: every integer type's limits but the 64-bit ones are
    // exact there, and those are beyond any value a detector produces.
    const double lo = static_cast<double>(std::numeric_limits<T>::min());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    const double r = std::clamp(std::round(static_cast<double>(v)), lo, hi);
    return r >= hi ? std::numeric_limits<T>::max() : static_cast<T>(r);
  }
}

template <typename T>
void check_out(std::span<std::byte> out, const FrameFormat& f) {
  if (out.size() != f.bytes())
    throw std::invalid_argument("FrameSource: the buffer must hold width * height pixels");
  if (reinterpret_cast<std::uintptr_t>(out.data()) % alignof(T) != 0)
    throw std::invalid_argument("FrameSource: the buffer is not aligned for the pixel type");
}

}  // namespace

FrameSource::FrameSource(FrameFormat format, FrameSourceOptions options)
    : format_(format),
      phantom_(fitted_phantom(format, options)),
      projector_(projection_config(format, options)) {
  if (format_.type != capture::DataType::uint16 && format_.type != capture::DataType::float32)
    scratch_.assign(format_.pixels(), 0.0F);
  own_.assign(format_.bytes(), std::byte{0});
}

template <typename T>
void FrameSource::render_as(FrameKind kind, double angle_deg, std::uint64_t frame_seed,
                            std::span<T> out) {
  if constexpr (std::is_same_v<T, std::uint16_t> || std::is_same_v<T, float>) {
    switch (kind) {
      case FrameKind::projection:
        projector_.project(phantom_, angle_deg, out, frame_seed);
        break;
      case FrameKind::flat:
        projector_.flat(out, frame_seed);
        break;
      case FrameKind::dark:
        projector_.dark(out, frame_seed);
        break;
    }
  } else {
    render_as<float>(kind, angle_deg, frame_seed, std::span<float>(scratch_));
    std::transform(scratch_.begin(), scratch_.end(), out.begin(), convert<T>);
  }
}

void FrameSource::render(FrameKind kind, double angle_deg, std::uint64_t frame_seed,
                         std::span<std::byte> out) {
  using capture::DataType;
  auto as = [&]<typename T>(T*) {
    check_out<T>(out, format_);
    render_as<T>(kind, angle_deg, frame_seed,
                 std::span<T>(reinterpret_cast<T*>(out.data()), format_.pixels()));
  };
  switch (format_.type) {
    case DataType::int8:
      return as(static_cast<std::int8_t*>(nullptr));
    case DataType::uint8:
      return as(static_cast<std::uint8_t*>(nullptr));
    case DataType::int16:
      return as(static_cast<std::int16_t*>(nullptr));
    case DataType::uint16:
      return as(static_cast<std::uint16_t*>(nullptr));
    case DataType::int32:
      return as(static_cast<std::int32_t*>(nullptr));
    case DataType::uint32:
      return as(static_cast<std::uint32_t*>(nullptr));
    case DataType::int64:
      return as(static_cast<std::int64_t*>(nullptr));
    case DataType::uint64:
      return as(static_cast<std::uint64_t*>(nullptr));
    case DataType::float32:
      return as(static_cast<float*>(nullptr));
    case DataType::float64:
      return as(static_cast<double*>(nullptr));
  }
}

std::span<const std::byte> FrameSource::render(FrameKind kind, double angle_deg,
                                               std::uint64_t frame_seed) {
  render(kind, angle_deg, frame_seed, std::span<std::byte>(own_));
  return own_;
}

std::vector<float> FrameSource::truth_slice(std::size_t row) const {
  const std::size_t w = format_.width;
  const double pixel = projector_.config().pixel_mm;
  const double u0 = projector_.axis_u0();
  // The projector's geometry: z = ((height - 1) / 2 - v) * pixel_mm.
  const double z =
      ((static_cast<double>(format_.height) - 1) / 2 - static_cast<double>(row)) * pixel;
  std::vector<float> slice(w * w);
  for (std::size_t j = 0; j < w; ++j)
    for (std::size_t i = 0; i < w; ++i)
      slice[j * w + i] = static_cast<float>(phantom_.attenuation_at(
          {(static_cast<double>(i) - u0) * pixel, (static_cast<double>(j) - u0) * pixel, z}));
  return slice;
}

}  // namespace pandafly::sim::camera
