#include "sim/panda/parse.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace pandafly::sim {
namespace {

constexpr const char* kMissing = "Number missing";
constexpr const char* kTrailing = "Unexpected character after input";
constexpr const char* kRange = "Number out of range";

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

bool is_blank(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// Picks the base from the prefix as strtoul(…, 0) does; advances past "0x".
unsigned pick_base(std::string_view text, std::size_t& i) {
  if (i >= text.size() || text[i] != '0') return 10;
  bool hex = i + 2 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X') &&
             digit_value(text[i + 2]) < 16;
  if (!hex) return 8;
  i += 2;
  return 16;
}

}  // namespace

std::uint32_t CInteger::wrapped32() const {
  auto low = static_cast<std::uint32_t>(magnitude);
  return negative ? static_cast<std::uint32_t>(0u - low) : low;
}

std::optional<CInteger> scan_c_integer(std::string_view text, std::size_t& pos) {
  std::size_t i = pos;
  while (i < text.size() && is_blank(text[i])) ++i;
  CInteger result;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) result.negative = text[i++] == '-';
  unsigned base = pick_base(text, i);
  std::size_t first = i;
  for (; i < text.size() && digit_value(text[i]) < static_cast<int>(base); ++i) {
    auto d = static_cast<std::uint64_t>(digit_value(text[i]));
    if (result.magnitude > (std::numeric_limits<std::uint64_t>::max() - d) / base) {
      result.overflow = true;
    }
    result.magnitude = result.magnitude * base + d;
  }
  if (i == first) return std::nullopt;
  pos = i;
  return result;
}

namespace {

// Scans the whole text as one integer, or fails with the server's message.
Expected<CInteger> whole_integer(std::string_view text) {
  std::size_t pos = 0;
  auto n = scan_c_integer(text, pos);
  if (!n) return Error{kMissing};
  if (pos != text.size()) return Error{kTrailing};
  if (n->overflow) return Error{kRange};
  return *n;
}

}  // namespace

Expected<std::uint32_t> parse_uint(std::string_view text, std::uint32_t max) {
  auto n = whole_integer(text);
  if (!n.ok()) return Error{n.error()};
  if (n.value().magnitude > std::numeric_limits<std::uint32_t>::max()) return Error{kRange};
  std::uint32_t v = n.value().wrapped32();
  if (v > max) return Error{kRange};
  return v;
}

Expected<std::int32_t> parse_int(std::string_view text) {
  auto n = whole_integer(text);
  if (!n.ok()) return Error{n.error()};
  // The server reads a 64-bit long and keeps its low 32 bits: 4294967295 is -1.
  return static_cast<std::int32_t>(n.value().wrapped32());
}

Expected<std::uint64_t> parse_raw_ticks(std::string_view text) {
  auto n = whole_integer(text);
  if (!n.ok()) return Error{n.error()};
  if (n.value().negative) return std::uint64_t{n.value().wrapped32()};  // -1 → 2^32 − 1
  return n.value().magnitude;
}

Expected<std::uint64_t> parse_uint64(std::string_view text) {
  auto n = whole_integer(text);
  if (!n.ok()) return Error{n.error()};
  if (n.value().negative && n.value().magnitude != 0) return Error{kRange};
  return n.value().magnitude;
}

Expected<double> parse_double(std::string_view text) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str()) return Error{kMissing};
  if (*end != '\0') return Error{kTrailing};
  // The server passes strtod's errno text on.
  if (errno == ERANGE) return Error{"Error converting number: (34) Numerical result out of range"};
  return v;
}

std::string format_double(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

}  // namespace pandafly::sim
