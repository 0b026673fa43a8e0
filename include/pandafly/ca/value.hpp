#pragma once
// Values exchanged with Channel Access servers, free of any libca type.
//
// Rules:
//   - The seven CA element types map one to one onto C++ types:
//       DBF_STRING  std::string   (at most 39 bytes on the wire)
//       DBF_SHORT   std::int16_t
//       DBF_FLOAT   float
//       DBF_ENUM    std::uint16_t (the state index; read as std::string for the state name)
//       DBF_CHAR    std::uint8_t
//       DBF_LONG    std::int32_t
//       DBF_DOUBLE  double
//     Any request type may be used on any channel: the server converts.
//   - `Value` holds an array of one of them; its variant index is the DBF
//     number, so `type_of(v)` is `FieldType(v.index())`. Scalars are arrays of 1.
//   - Time stamps are converted from the EPICS epoch (1990) to Unix time.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace pandafly::ca {

/// Native field / request element type (the DBF_* number).
enum class FieldType : std::int16_t {
  string = 0,
  int16 = 1,
  float32 = 2,
  enumeration = 3,
  uint8 = 4,
  int32 = 5,
  float64 = 6,
};

/// "DBF_STRING", "DBF_SHORT", ... as libca's dbf_text names them.
[[nodiscard]] std::string_view to_string(FieldType t) noexcept;
/// Parses "double", "DBF_DOUBLE", "DBR_DOUBLE", "float64" (any case; also
/// string/short/int16/float/float32/enum/char/uint8/long/int32). nullopt if unknown.
[[nodiscard]] std::optional<FieldType> parse_field_type(std::string_view text);

template <class T>
concept Element = std::is_same_v<T, std::string> || std::is_same_v<T, std::int16_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, std::uint16_t> ||
    std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int32_t> || std::is_same_v<T, double>;

using Value = std::variant<std::vector<std::string>, std::vector<std::int16_t>, std::vector<float>,
                           std::vector<std::uint16_t>, std::vector<std::uint8_t>,
                           std::vector<std::int32_t>, std::vector<double>>;

template <Element T>
inline constexpr FieldType field_type_of =
    static_cast<FieldType>(std::is_same_v<T, std::string>     ? 0
                           : std::is_same_v<T, std::int16_t>  ? 1
                           : std::is_same_v<T, float>         ? 2
                           : std::is_same_v<T, std::uint16_t> ? 3
                           : std::is_same_v<T, std::uint8_t>  ? 4
                           : std::is_same_v<T, std::int32_t>  ? 5
                                                              : 6);

[[nodiscard]] inline FieldType type_of(const Value& v) noexcept {
  return static_cast<FieldType>(v.index());
}
[[nodiscard]] std::size_t size(const Value& v) noexcept;
/// An empty Value of element type `t`.
[[nodiscard]] Value make_value(FieldType t);
/// Element `i` as text: strings as they are, numbers in the shortest form
/// that reads back to the same value (e.g. "0.1", "5", "-3.25e-07").
[[nodiscard]] std::string format_element(const Value& v, std::size_t i);
/// Element `i` as a double; nullopt for strings.
[[nodiscard]] std::optional<double> to_double(const Value& v, std::size_t i);

// ---------------------------------------------------------------- alarms and time
enum class AlarmSeverity : std::uint16_t { no_alarm = 0, minor = 1, major = 2, invalid = 3 };
/// menuAlarmStat values.
enum class AlarmStatus : std::uint16_t {
  no_alarm = 0,
  read,
  write,
  hihi,
  high,
  lolo,
  low,
  state,
  cos,
  comm,
  timeout,
  hw_limit,
  calc,
  scan,
  link,
  soft,
  bad_sub,
  udf,
  disable,
  simm,
  read_access,
  write_access,
};

struct Alarm {
  AlarmStatus status = AlarmStatus::no_alarm;
  AlarmSeverity severity = AlarmSeverity::no_alarm;
  friend bool operator==(const Alarm&, const Alarm&) = default;
};

/// "NO_ALARM", "MINOR", "MAJOR", "INVALID"; "SEVERITY_<n>" beyond.
[[nodiscard]] std::string to_string(AlarmSeverity s);
/// "NO_ALARM", "READ", ..., "HIHI", ..., "WRITE_ACCESS"; "STATUS_<n>" beyond.
[[nodiscard]] std::string to_string(AlarmStatus s);

/// A server time stamp in Unix time.
struct Timestamp {
  std::int64_t seconds = 0;       ///< since 1970-01-01 00:00:00 UTC
  std::uint32_t nanoseconds = 0;  ///< 0..999'999'999

  /// From EPICS time (seconds since 1990-01-01 UTC).
  [[nodiscard]] static Timestamp from_epics(std::uint32_t sec_past_epoch, std::uint32_t nsec);
  [[nodiscard]] double unix_seconds() const noexcept {
    return static_cast<double>(seconds) + static_cast<double>(nanoseconds) * 1e-9;
  }
  [[nodiscard]] std::chrono::system_clock::time_point time_point() const noexcept;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

/// A value with the server's time stamp and alarm state (a DBR_TIME_* reply).
template <class T>
struct Timed {
  T value{};
  Timestamp stamp;
  Alarm alarm;
};

/// One monitor update.
using Update = Timed<Value>;

struct Limits {
  double lower = 0.0;
  double upper = 0.0;
  friend bool operator==(const Limits&, const Limits&) = default;
};

/// Metadata of a channel (a DBR_CTRL_* reply of its native type).
struct Control {
  FieldType native = FieldType::float64;
  Alarm alarm;
  std::string units;                      ///< numeric types
  std::optional<int> precision;           ///< float/double only
  Limits display_limits;                  ///< LOPR/HOPR
  Limits alarm_limits;                    ///< LOLO/HIHI
  Limits warning_limits;                  ///< LOW/HIGH
  Limits control_limits;                  ///< DRVL/DRVH
  std::vector<std::string> enum_strings;  ///< enums only
  Value value;                            ///< first element in the native type
};

}  // namespace pandafly::ca
