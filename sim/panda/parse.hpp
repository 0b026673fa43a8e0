#pragma once
// Number parsing and formatting with the PandA server's rules: integers as C
// strtoul/strtol with base 0 (`0x` hex, leading `0` octal), doubles as strtod,
// doubles printed "%.10g". Every parser consumes the whole text or fails with the
// server's message.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/panda/reply.hpp"

namespace pandafly::sim {

/// An integer as C's strtoull(…, 0) sees it, before any narrowing.
struct CInteger {
  std::uint64_t magnitude = 0;
  bool negative = false;
  bool overflow = false;  // more than 64 bits of magnitude
  /// The value modulo 2^32, negatives wrapped as strtoul does.
  [[nodiscard]] std::uint32_t wrapped32() const;
};

/// Scans one integer at `pos` (leading blanks and a sign allowed, base 0).
/// Advances `pos` past it; returns nullopt (pos unchanged) when no digit is there.
[[nodiscard]] std::optional<CInteger> scan_c_integer(std::string_view text, std::size_t& pos);

/// Whole-text parsers for field values.
[[nodiscard]] Expected<std::uint32_t> parse_uint(std::string_view text, std::uint32_t max);
/// Any integer strtol reads; the low 32 bits as int32 (the server wraps).
[[nodiscard]] Expected<std::int32_t> parse_int(std::string_view text);
/// A time RAW value: non-negative as read, a negative one wrapped to 32 bits.
[[nodiscard]] Expected<std::uint64_t> parse_raw_ticks(std::string_view text);
[[nodiscard]] Expected<std::uint64_t> parse_uint64(std::string_view text);
[[nodiscard]] Expected<double> parse_double(std::string_view text);

/// "%.10g", as the server prints scaled values.
[[nodiscard]] std::string format_double(double value);

}  // namespace pandafly::sim
