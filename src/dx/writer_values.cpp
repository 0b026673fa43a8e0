// NDAttribute values as HDF5 elements, and the small dataset and attribute
// makers the writer's tree, columns and closing step share.
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/error.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx::detail {
namespace {

double to_double(const AttributeValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  const auto& s = std::get<std::string>(v);
  double out = std::numeric_limits<double>::quiet_NaN();
  std::from_chars(s.data(), s.data() + s.size(), out);
  return out;
}

std::int64_t to_int(const AttributeValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  const double d = to_double(v);
  if (!std::isfinite(d)) return 0;
  return static_cast<std::int64_t>(d);
}

std::string to_text(const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return fmt::format("{}", *i);
  return fmt::format("{}", std::get<double>(v));
}

template <class T>
void put(std::vector<std::byte>& out, T value) {
  const auto at = out.size();
  out.resize(at + sizeof value);
  std::memcpy(out.data() + at, &value, sizeof value);
}

template <class T>
std::vector<T> parse_list(const std::string& text, const Attribute& a) {
  std::vector<T> out;
  for (const auto& item : split_list(text)) {
    const AttributeValue v = item;
    const double d = to_double(v);
    if (std::isnan(d)) {
      throw std::invalid_argument(
          fmt::format("layout line {}: attribute {}: '{}' is not a number", a.line, a.name, item));
    }
    out.push_back(static_cast<T>(d));
  }
  return out;
}

template <class T>
void write_numbers(hid_t loc, const std::string& name, const std::vector<T>& v) {
  if (v.size() == 1) {
    h5::write_attribute(loc, name, v[0]);
  } else {
    h5::write_attribute_array(loc, name, h5::type_of<T>(), v.data(), v.size());
  }
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t from = 0;;) {
    const auto comma = text.find(',', from);
    std::string item = text.substr(from, comma - from);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    out.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
    if (comma == std::string::npos) return out;
    from = comma + 1;
  }
}

std::optional<ValueType> declared_type(const Dataset& d) noexcept {
  if (d.source != Source::ndattribute || d.type == ValueType::string) return std::nullopt;
  return d.type;
}

bool is_undefined(const AttributeValue& v) noexcept {
  const auto* s = std::get_if<std::string>(&v);
  return s != nullptr && *s == "Undefined";
}

double angle_of(const FrameRecord& f, std::string_view angle_attribute) noexcept {
  if (f.angle) return *f.angle;
  for (const auto& a : f.attributes) {
    if (a.name != angle_attribute) continue;
    if (const auto* d = std::get_if<double>(&a.value)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&a.value)) return static_cast<double>(*i);
    break;  // a string ("Undefined", text): no angle
  }
  return std::numeric_limits<double>::quiet_NaN();
}

Kind kind_of(ValueType t) noexcept {
  switch (t) {
    case ValueType::int32:
      return Kind::int32;
    case ValueType::float64:
      return Kind::float64;
    case ValueType::string:
      return Kind::string;
  }
  return Kind::float64;
}

Kind kind_of(const AttributeValue& v) noexcept {
  if (std::holds_alternative<std::int64_t>(v)) return Kind::int64;
  if (std::holds_alternative<double>(v)) return Kind::float64;
  return Kind::string;
}

std::size_t size_of(Kind k) noexcept {
  switch (k) {
    case Kind::int32:
    case Kind::uint32:
      return 4;
    case Kind::int64:
    case Kind::float64:
      return 8;
    case Kind::string:
      return string_bytes;
  }
  return 8;
}

void encode(Kind k, const std::optional<AttributeValue>& v, std::vector<std::byte>& out) {
  switch (k) {
    case Kind::int32:
      return put(out, static_cast<std::int32_t>(v ? to_int(*v) : 0));
    case Kind::uint32:
      return put(out, static_cast<std::uint32_t>(v ? to_int(*v) : 0));
    case Kind::int64:
      return put(out, v ? to_int(*v) : std::int64_t{0});
    case Kind::float64:
      return put(out, v ? to_double(*v) : std::numeric_limits<double>::quiet_NaN());
    case Kind::string: {
      const std::string text = v ? to_text(*v) : std::string();
      const auto at = out.size();
      out.resize(at + string_bytes, std::byte{0});  // NUL-terminated: at most 255 characters
      std::memcpy(out.data() + at, text.data(), std::min(text.size(), string_bytes - 1));
      return;
    }
  }
}

h5::Dataset create_value_dataset(hid_t file, const std::string& path, Kind k, hsize_t chunk_rows) {
  h5::Extendible layout{.chunk_rows = chunk_rows};
  switch (k) {
    case Kind::int32:
      layout.type = h5::Type::int32;
      break;
    case Kind::uint32:
      layout.type = h5::Type::uint32;
      break;
    case Kind::int64:
      layout.type = h5::Type::int64;
      break;
    case Kind::float64:
      layout.type = h5::Type::float64;
      break;
    case Kind::string:
      layout.string_bytes = string_bytes;
      layout.c_string = true;  // NDFileHDF5's string NDAttributes
      break;
  }
  return h5::Dataset::create(file, path, layout);
}

void write_single_value(hid_t file, const std::string& path, const AttributeValue& v,
                        std::optional<ValueType> declared) {
  const Kind k = declared ? kind_of(*declared) : kind_of(v);
  auto d = create_value_dataset(file, path, k, 1);
  std::vector<std::byte> bytes;
  encode(k, v, bytes);
  d.append(bytes);
}

void write_layout_attribute(hid_t loc, const Attribute& a, const AttributeValue* value) {
  if (value != nullptr) {
    if (const auto* i = std::get_if<std::int64_t>(value))
      return h5::write_attribute(loc, a.name, *i);
    if (const auto* d = std::get_if<double>(value)) return h5::write_attribute(loc, a.name, *d);
    return h5::write_c_string_attribute(loc, a.name, std::get<std::string>(*value));
  }
  switch (a.type) {
    case ValueType::string:
      return h5::write_c_string_attribute(loc, a.name, a.value);
    case ValueType::int32:
      return write_numbers(loc, a.name, parse_list<std::int32_t>(a.value, a));
    case ValueType::float64:
      return write_numbers(loc, a.name, parse_list<double>(a.value, a));
  }
}

h5::Type pixel_type(capture::DataType t) noexcept {
  using D = capture::DataType;
  switch (t) {
    case D::int8:
      return h5::Type::int8;
    case D::uint8:
      return h5::Type::uint8;
    case D::int16:
      return h5::Type::int16;
    case D::uint16:
      return h5::Type::uint16;
    case D::int32:
      return h5::Type::int32;
    case D::uint32:
      return h5::Type::uint32;
    case D::int64:
      return h5::Type::int64;
    case D::uint64:
      return h5::Type::uint64;
    case D::float32:
      return h5::Type::float32;
    case D::float64:
      return h5::Type::float64;
  }
  return h5::Type::uint16;
}

std::vector<h5::Filter> filters_for(const WriterOptions& o) {
  constexpr H5Z_filter_t lz4 = 32004;
  constexpr H5Z_filter_t bitshuffle = 32008;
  constexpr const char* debian_plugins = "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins";
  std::vector<h5::Filter> out;
  switch (o.compression) {
    case Compression::none:
      return out;
    case Compression::gzip:
      out.push_back({H5Z_FILTER_DEFLATE, {o.gzip_level}});
      break;
    case Compression::lz4:
      out.push_back({lz4, {}});
      break;
    case Compression::bitshuffle_lz4:
      // The user's values are {block size, compressor}: 0 = auto, 2 = LZ4. The
      // plugin's set_local puts its version and the element size in front,
      // giving {0, 3, elem, 0, 2}; handing it those five instead appends them
      // (block 0, compressor 0): bitshuffle without LZ4 (checked with h5py).
      out.push_back({bitshuffle, {0, 2}});
      break;
  }
  const H5Z_filter_t id = out.front().id;
  if (h5::filter_available(id)) return out;
  // HDF5 looks in HDF5_PLUGIN_PATH or its built-in default; add Debian's directory.
  h5::call({"H5PLappend"}, H5PLappend, debian_plugins);
  if (h5::filter_available(id)) return out;
  throw std::runtime_error(
      fmt::format("dx::Writer: HDF5 filter {} is not available (install hdf5-filter-plugin or set "
                  "HDF5_PLUGIN_PATH)",
                  id));
}

std::string join(std::string_view group, std::string_view name) {
  std::string out(group);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace pandafly::dx::detail
