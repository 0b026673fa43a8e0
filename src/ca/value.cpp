#include "pandafly/ca/value.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace pandafly::ca {
namespace {

constexpr std::array<std::string_view, 7> dbf_names = {
    "DBF_STRING", "DBF_SHORT", "DBF_FLOAT", "DBF_ENUM", "DBF_CHAR", "DBF_LONG", "DBF_DOUBLE"};

constexpr std::array<std::string_view, 4> severity_names = {"NO_ALARM", "MINOR", "MAJOR",
                                                            "INVALID"};

constexpr std::array<std::string_view, 22> status_names = {
    "NO_ALARM", "READ", "WRITE",   "HIHI",    "HIGH",        "LOLO",        "LOW",  "STATE",
    "COS",      "COMM", "TIMEOUT", "HWLIMIT", "CALC",        "SCAN",        "LINK", "SOFT",
    "BAD_SUB",  "UDF",  "DISABLE", "SIMM",    "READ_ACCESS", "WRITE_ACCESS"};

// 1990-01-01 00:00:00 UTC in Unix time (POSIX_TIME_AT_EPICS_EPOCH).
constexpr std::int64_t epics_epoch = 631152000;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(FieldType t) noexcept {
  const auto i = static_cast<std::size_t>(t);
  return i < dbf_names.size() ? dbf_names[i] : std::string_view("TYPENOTCONN");
}

std::optional<FieldType> parse_field_type(std::string_view text) {
  std::string s = lower(text);
  for (std::string_view prefix : {"dbf_", "dbr_"}) {
    if (s.starts_with(prefix)) s.erase(0, prefix.size());
  }
  struct Alias {
    std::string_view name;
    FieldType type;
  };
  static constexpr Alias aliases[] = {
      {"string", FieldType::string},    {"short", FieldType::int16},
      {"int", FieldType::int16},        {"int16", FieldType::int16},
      {"float", FieldType::float32},    {"float32", FieldType::float32},
      {"enum", FieldType::enumeration}, {"char", FieldType::uint8},
      {"uint8", FieldType::uint8},      {"long", FieldType::int32},
      {"int32", FieldType::int32},      {"double", FieldType::float64},
      {"float64", FieldType::float64},
  };
  for (const auto& a : aliases) {
    if (s == a.name) return a.type;
  }
  return std::nullopt;
}

std::size_t size(const Value& v) noexcept {
  return std::visit([](const auto& vec) { return vec.size(); }, v);
}

Value make_value(FieldType t) {
  switch (t) {
    case FieldType::string:
      return std::vector<std::string>{};
    case FieldType::int16:
      return std::vector<std::int16_t>{};
    case FieldType::float32:
      return std::vector<float>{};
    case FieldType::enumeration:
      return std::vector<std::uint16_t>{};
    case FieldType::uint8:
      return std::vector<std::uint8_t>{};
    case FieldType::int32:
      return std::vector<std::int32_t>{};
    case FieldType::float64:
      break;
  }
  return std::vector<double>{};
}

std::string format_element(const Value& v, std::size_t i) {
  return std::visit(
      [i](const auto& vec) -> std::string {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          return vec.at(i);
        } else if constexpr (std::is_same_v<T, std::uint8_t>) {
          return fmt::format("{}", static_cast<unsigned>(vec.at(i)));
        } else {
          return fmt::format("{}", vec.at(i));  // shortest round-trip form
        }
      },
      v);
}

std::optional<double> to_double(const Value& v, std::size_t i) {
  return std::visit(
      [i](const auto& vec) -> std::optional<double> {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          return std::nullopt;
        } else {
          return static_cast<double>(vec.at(i));
        }
      },
      v);
}

std::string to_string(AlarmSeverity s) {
  const auto i = static_cast<std::size_t>(s);
  return i < severity_names.size() ? std::string(severity_names[i]) : fmt::format("SEVERITY_{}", i);
}

std::string to_string(AlarmStatus s) {
  const auto i = static_cast<std::size_t>(s);
  return i < status_names.size() ? std::string(status_names[i]) : fmt::format("STATUS_{}", i);
}

Timestamp Timestamp::from_epics(std::uint32_t sec_past_epoch, std::uint32_t nsec) {
  return {static_cast<std::int64_t>(sec_past_epoch) + epics_epoch, nsec};
}

std::chrono::system_clock::time_point Timestamp::time_point() const noexcept {
  const auto since_epoch = std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanoseconds);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

}  // namespace pandafly::ca
