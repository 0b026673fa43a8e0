#include "ca/dbr_codec.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include <fmt/format.h>

#include "pandafly/ca/error.hpp"

namespace pandafly::ca::dbr {
namespace {

namespace L = libca;

template <class S, class V>
constexpr Layout layout_of() {
  return {sizeof(S), sizeof(V), offsetof(S, value)};
}
template <class V>
constexpr Layout plain() {
  return {sizeof(V), sizeof(V), 0};
}

// Index = DBR type. Rows in DBF order: STRING SHORT FLOAT ENUM CHAR LONG DOUBLE.
constexpr std::array<Layout, 35> layouts = {{
    plain<L::dbr_string_t>(),
    plain<L::dbr_short_t>(),
    plain<L::dbr_float_t>(),
    plain<L::dbr_enum_t>(),
    plain<L::dbr_char_t>(),
    plain<L::dbr_long_t>(),
    plain<L::dbr_double_t>(),
    layout_of<L::dbr_sts_string, L::dbr_string_t>(),
    layout_of<L::dbr_sts_short, L::dbr_short_t>(),
    layout_of<L::dbr_sts_float, L::dbr_float_t>(),
    layout_of<L::dbr_sts_enum, L::dbr_enum_t>(),
    layout_of<L::dbr_sts_char, L::dbr_char_t>(),
    layout_of<L::dbr_sts_long, L::dbr_long_t>(),
    layout_of<L::dbr_sts_double, L::dbr_double_t>(),
    layout_of<L::dbr_time_string, L::dbr_string_t>(),
    layout_of<L::dbr_time_short, L::dbr_short_t>(),
    layout_of<L::dbr_time_float, L::dbr_float_t>(),
    layout_of<L::dbr_time_enum, L::dbr_enum_t>(),
    layout_of<L::dbr_time_char, L::dbr_char_t>(),
    layout_of<L::dbr_time_long, L::dbr_long_t>(),
    layout_of<L::dbr_time_double, L::dbr_double_t>(),
    layout_of<L::dbr_gr_string, L::dbr_string_t>(),
    layout_of<L::dbr_gr_short, L::dbr_short_t>(),
    layout_of<L::dbr_gr_float, L::dbr_float_t>(),
    layout_of<L::dbr_gr_enum, L::dbr_enum_t>(),
    layout_of<L::dbr_gr_char, L::dbr_char_t>(),
    layout_of<L::dbr_gr_long, L::dbr_long_t>(),
    layout_of<L::dbr_gr_double, L::dbr_double_t>(),
    layout_of<L::dbr_ctrl_string, L::dbr_string_t>(),
    layout_of<L::dbr_ctrl_short, L::dbr_short_t>(),
    layout_of<L::dbr_ctrl_float, L::dbr_float_t>(),
    layout_of<L::dbr_ctrl_enum, L::dbr_enum_t>(),
    layout_of<L::dbr_ctrl_char, L::dbr_char_t>(),
    layout_of<L::dbr_ctrl_long, L::dbr_long_t>(),
    layout_of<L::dbr_ctrl_double, L::dbr_double_t>(),
}};

[[noreturn]] void fail(Errc e, std::string detail) {
  throw Error(make_error_code(e), "", std::move(detail));
}

void check_type(L::chtype type, Class c) {
  const auto first = static_cast<L::chtype>(c);
  if (type < first || type > first + 6) fail(Errc::bad_type, fmt::format("DBR type {}", type));
}

FieldType native_index(L::chtype type) {
  return static_cast<FieldType>(type % 7);
}

template <class T>
T read(std::span<const std::byte> bytes, std::size_t offset) {
  T out;
  std::memcpy(&out, bytes.data() + offset, sizeof out);
  return out;
}

std::string fixed_string(const char* text, std::size_t capacity) {
  return std::string(text, ::strnlen(text, capacity));
}

template <class T>
std::vector<T> read_elements(std::span<const std::byte> bytes, const Layout& l, std::size_t n) {
  std::vector<T> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t at = l.value_offset + i * l.value_size;
    if constexpr (std::is_same_v<T, std::string>) {
      char text[L::MAX_STRING_SIZE];
      std::memcpy(text, bytes.data() + at, sizeof text);
      out.push_back(fixed_string(text, sizeof text));
    } else {
      out.push_back(read<T>(bytes, at));
    }
  }
  return out;
}

Alarm alarm_at(std::span<const std::byte> bytes) {
  return {static_cast<AlarmStatus>(read<std::uint16_t>(bytes, 0)),
          static_cast<AlarmSeverity>(read<std::uint16_t>(bytes, 2))};
}

template <class S>
S read_struct(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(S)) fail(Errc::bad_count, "short DBR_CTRL reply");
  return read<S>(bytes, 0);
}

template <class S>
void fill_numeric(Control& c, const S& s) {
  c.units = fixed_string(s.units, sizeof s.units);
  if constexpr (requires { s.precision; }) c.precision = s.precision;
  auto d = [](auto x) { return static_cast<double>(x); };
  c.display_limits = {d(s.lower_disp_limit), d(s.upper_disp_limit)};
  c.alarm_limits = {d(s.lower_alarm_limit), d(s.upper_alarm_limit)};
  c.warning_limits = {d(s.lower_warning_limit), d(s.upper_warning_limit)};
  c.control_limits = {d(s.lower_ctrl_limit), d(s.upper_ctrl_limit)};
  c.value = std::vector<decltype(s.value)>{s.value};
}

void fill_enum(Control& c, const L::dbr_ctrl_enum& s) {
  const auto n = static_cast<std::size_t>(std::clamp<int>(s.no_str, 0, L::MAX_ENUM_STATES));
  for (std::size_t i = 0; i < n; ++i) {
    c.enum_strings.push_back(fixed_string(s.strs[i], L::MAX_ENUM_STRING_SIZE));
  }
  c.value = std::vector<std::uint16_t>{s.value};
}

template <class T>
void append_bytes(std::vector<std::byte>& out, const T& x) {
  const auto* p = reinterpret_cast<const std::byte*>(&x);
  out.insert(out.end(), p, p + sizeof x);
}

}  // namespace

Layout layout(L::chtype type) {
  if (type < 0 || type > L::LAST_BUFFER_TYPE)
    fail(Errc::bad_type, fmt::format("DBR type {}", type));
  return layouts[static_cast<std::size_t>(type)];
}

std::size_t size_n(L::chtype type, long count) {
  const Layout l = layout(type);
  return count <= 0 ? l.size : l.size + static_cast<std::size_t>(count - 1) * l.value_size;
}

Value decode_value(L::chtype type, long count, std::span<const std::byte> bytes) {
  const Layout l = layout(type);
  if (count < 0 || bytes.size() < size_n(type, count)) {
    fail(Errc::bad_count, fmt::format("DBR reply of {} bytes for {} elements of type {}",
                                      bytes.size(), count, type));
  }
  const auto n = static_cast<std::size_t>(count);
  switch (native_index(type)) {
    case FieldType::string:
      return read_elements<std::string>(bytes, l, n);
    case FieldType::int16:
      return read_elements<std::int16_t>(bytes, l, n);
    case FieldType::float32:
      return read_elements<float>(bytes, l, n);
    case FieldType::enumeration:
      return read_elements<std::uint16_t>(bytes, l, n);
    case FieldType::uint8:
      return read_elements<std::uint8_t>(bytes, l, n);
    case FieldType::int32:
      return read_elements<std::int32_t>(bytes, l, n);
    case FieldType::float64:
      break;
  }
  return read_elements<double>(bytes, l, n);
}

Timed<Value> decode_time(L::chtype type, long count, std::span<const std::byte> bytes) {
  check_type(type, Class::time);
  Timed<Value> out;
  out.value = decode_value(type, count, bytes);
  out.alarm = alarm_at(bytes);
  out.stamp = Timestamp::from_epics(read<std::uint32_t>(bytes, 4), read<std::uint32_t>(bytes, 8));
  return out;
}

Control decode_control(L::chtype type, std::span<const std::byte> bytes) {
  check_type(type, Class::ctrl);
  Control c;
  c.native = native_index(type);
  if (bytes.size() < layout(type).size) fail(Errc::bad_count, "short DBR_CTRL reply");
  c.alarm = alarm_at(bytes);
  switch (c.native) {
    case FieldType::string:
      c.value = decode_value(type, 1, bytes);
      break;
    case FieldType::enumeration:
      fill_enum(c, read_struct<L::dbr_ctrl_enum>(bytes));
      break;
    case FieldType::int16:
      fill_numeric(c, read_struct<L::dbr_ctrl_short>(bytes));
      break;
    case FieldType::float32:
      fill_numeric(c, read_struct<L::dbr_ctrl_float>(bytes));
      break;
    case FieldType::uint8:
      fill_numeric(c, read_struct<L::dbr_ctrl_char>(bytes));
      break;
    case FieldType::int32:
      fill_numeric(c, read_struct<L::dbr_ctrl_long>(bytes));
      break;
    case FieldType::float64:
      fill_numeric(c, read_struct<L::dbr_ctrl_double>(bytes));
      break;
  }
  return c;
}

Encoded encode(const Value& v, std::string_view pv) {
  Encoded out;
  out.type = static_cast<L::chtype>(v.index());
  out.count = size(v);
  if (out.count == 0) {
    throw Error(make_error_code(Errc::bad_count), std::string(pv), "nothing to write (0 elements)");
  }
  std::visit(
      [&](const auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        out.bytes.reserve(vec.size() * layout(out.type).value_size);
        for (const auto& x : vec) {
          if constexpr (std::is_same_v<T, std::string>) {
            if (x.size() >= L::MAX_STRING_SIZE) {
              throw Error(make_error_code(Errc::string_too_big), std::string(pv),
                          fmt::format("a DBR_STRING holds at most {} bytes, not {}",
                                      L::MAX_STRING_SIZE - 1, x.size()));
            }
            char text[L::MAX_STRING_SIZE] = {};
            std::memcpy(text, x.data(), x.size());
            append_bytes(out.bytes, text);
          } else {
            append_bytes(out.bytes, x);
          }
        }
      },
      v);
  return out;
}

}  // namespace pandafly::ca::dbr
