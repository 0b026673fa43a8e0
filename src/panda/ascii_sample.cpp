#include "pandafly/panda/ascii_sample.hpp"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "pandafly/panda/request.hpp"

namespace pandafly::panda {
namespace {

/// The next space-separated word of [p, end); advances p past it.
std::string_view next_word(const char*& p, const char* end) {
  while (p != end && *p == ' ') ++p;
  const char* b = p;
  while (p != end && *p != ' ') ++p;
  return {b, static_cast<std::size_t>(p - b)};
}

template <class T>
bool parse_all(std::string_view w, T& v, int base = 10) {
  const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v, base);
  return !w.empty() && ec == std::errc{} && ptr == w.data() + w.size();
}

bool parse_all(std::string_view w, double& v) {
  const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  return !w.empty() && ec == std::errc{} && ptr == w.data() + w.size();
}

/// RAW: the field's 32-bit words, each "0x%08x".
bool raw_words(const Field& f, const char*& p, const char* end, std::byte* out) {
  for (std::size_t i = 0; i < size_of(f.type) / 4; ++i) {
    auto w = next_word(p, end);
    if (!w.starts_with("0x") && !w.starts_with("0X")) return false;
    std::uint32_t v = 0;
    if (!parse_all(w.substr(2), v, 16)) return false;
    std::memcpy(out + 4 * i, &v, 4);
  }
  return true;
}

/// SCALED: a uint32 or a double.
bool scaled_value(const Field& f, const char*& p, const char* end, std::byte* out) {
  const auto w = next_word(p, end);
  if (f.type == FieldType::uint32) {
    std::uint32_t v = 0;
    if (!parse_all(w, v)) return false;
    std::memcpy(out, &v, 4);
    return true;
  }
  double v = 0;
  if (f.type != FieldType::float64 || !parse_all(w, v)) return false;  // SCALED has no others
  std::memcpy(out, &v, 8);
  return true;
}

}  // namespace

std::string decode_ascii_sample(std::string_view line, const StartData& start, std::byte* out) {
  const char* p = line.data();
  const char* const end = line.data() + line.size();
  const bool raw = start.processing == Processing::raw;
  for (const auto& f : start.fields) {
    const bool ok = raw ? raw_words(f, p, end, out + f.byte_offset)
                        : scaled_value(f, p, end, out + f.byte_offset);
    if (!ok) {
      return fmt::format("data line \"{}\": no valid {} value for {}", printable(line),
                         to_string(f.type), f.column_name());
    }
  }
  if (next_word(p, end).empty()) return {};
  return fmt::format("data line \"{}\" has more values than the {} fields", printable(line),
                     start.fields.size());
}

}  // namespace pandafly::panda
