#include "format.hpp"

#include <charconv>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

namespace pandafly_ca {

namespace ca = pandafly::ca;
using nlohmann::json;

namespace {

std::string char_string(const ca::Value& v) {
  const auto& bytes = std::get<std::vector<std::uint8_t>>(v);
  std::string out;
  for (auto b : bytes) {
    if (b == 0) break;
    out.push_back(static_cast<char>(b));
  }
  return out;
}

bool as_chars(const ca::Value& v, const Shape& shape) {
  return shape.char_as_string && ca::type_of(v) == ca::FieldType::uint8;
}

json element_json(const ca::Value& v, std::size_t i) {
  return std::visit(
      [i](const auto& vec) -> json {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, std::uint8_t>) {
          return static_cast<unsigned>(vec[i]);
        } else {
          return vec[i];
        }
      },
      v);
}

std::tm broken_down(std::time_t t, bool utc) {
  std::tm tm{};
  if (utc) {
    gmtime_r(&t, &tm);
  } else {
    localtime_r(&t, &tm);
  }
  return tm;
}

std::string date_time(const ca::Timestamp& t, bool utc, const char* format) {
  const std::tm tm = broken_down(static_cast<std::time_t>(t.seconds), utc);
  char buf[64] = {};
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

double parse_number(const std::string& word) {
  double x = 0;
  const auto* end = word.data() + word.size();
  const auto [ptr, ec] = std::from_chars(word.data(), end, x);
  if (ec != std::errc() || ptr != end) {
    throw std::invalid_argument(fmt::format("'{}' is not a number", word));
  }
  return x;
}

}  // namespace

std::string value_text(const ca::Value& v, const Shape& shape) {
  if (as_chars(v, shape)) return char_string(v);
  const std::size_t n = ca::size(v);
  if (!shape.array) return n == 0 ? std::string() : ca::format_element(v, 0);
  std::string out = fmt::format("{}", n);
  for (std::size_t i = 0; i < n; ++i) {
    out += ' ';
    out += ca::format_element(v, i);
  }
  return out;
}

json value_json(const ca::Value& v, const Shape& shape) {
  if (as_chars(v, shape)) return char_string(v);
  const std::size_t n = ca::size(v);
  if (!shape.array) return n == 0 ? json(nullptr) : element_json(v, 0);
  json out = json::array();
  for (std::size_t i = 0; i < n; ++i) out.push_back(element_json(v, i));
  return out;
}

std::string local_time_text(const ca::Timestamp& t) {
  return fmt::format("{}.{:06}", date_time(t, false, "%Y-%m-%d %H:%M:%S"), t.nanoseconds / 1000);
}

std::string utc_iso_text(const ca::Timestamp& t) {
  return fmt::format("{}.{:09}Z", date_time(t, true, "%Y-%m-%dT%H:%M:%S"), t.nanoseconds);
}

std::string alarm_text(const ca::Alarm& a) {
  if (a == ca::Alarm{}) return {};
  return fmt::format(" {} {}", ca::to_string(a.status), ca::to_string(a.severity));
}

void add_time_json(json& j, const ca::Timestamp& t, const ca::Alarm& a) {
  j["timestamp"] = t.unix_seconds();
  j["time"] = utc_iso_text(t);
  j["status"] = ca::to_string(a.status);
  j["severity"] = ca::to_string(a.severity);
}

ca::Value parse_values(const std::vector<std::string>& words, ca::FieldType t) {
  if (t == ca::FieldType::string || t == ca::FieldType::enumeration) return words;
  std::vector<double> numbers;
  numbers.reserve(words.size());
  for (const auto& w : words) numbers.push_back(parse_number(w));
  return numbers;
}

}  // namespace pandafly_ca
