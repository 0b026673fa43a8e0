#pragma once
// Test helpers for the CA simulator's wire-level tests: byte strings from hex,
// messages built with the production encoder, and messages split back out of
// a byte stream.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/protocol.hpp"

namespace sim_ca_test {

using Bytes = std::vector<std::byte>;

/// Bytes from hex digits; spaces, '|' and other separators are ignored.
inline Bytes hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (!std::isxdigit(c)) continue;
    const int v = std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::byte>(high * 16 + v));
      high = -1;
    }
  }
  return out;
}

/// "00 12 FF ..." (for readable failure messages).
inline std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += ' ';
    const auto b = std::to_integer<unsigned>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

/// A string NUL-terminated and zero-padded to a multiple of 8 bytes.
inline Bytes padded(std::string_view text) {
  Bytes out(pandafly::sim::ca::align8(text.size() + 1));
  for (std::size_t i = 0; i < text.size(); ++i) out[i] = static_cast<std::byte>(text[i]);
  return out;
}

/// The concatenation of byte strings.
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// One message (header fields and payload bytes; the extended header when needed).
inline Bytes msg(pandafly::sim::ca::Command command, std::uint16_t data_type, std::uint32_t count,
                 std::uint32_t p1, std::uint32_t p2, const Bytes& payload = {}) {
  Bytes out;
  const std::size_t at =
      pandafly::sim::ca::append_message(out, command, payload.size(), data_type, count, p1, p2);
  for (std::size_t i = 0; i < payload.size(); ++i) out[at + i] = payload[i];
  return out;
}

/// A parsed message with its own copy of the payload.
struct Parsed {
  pandafly::sim::ca::Header header;
  Bytes payload;
  [[nodiscard]] pandafly::sim::ca::Command command() const {
    return static_cast<pandafly::sim::ca::Command>(header.command);
  }
};

/// Every message of a byte stream (which must hold whole messages only).
inline std::vector<Parsed> split(const Bytes& bytes) {
  std::vector<Parsed> out;
  std::span<const std::byte> rest(bytes);
  while (!rest.empty()) {
    std::error_code ec;
    auto m = pandafly::sim::ca::parse_message(rest, pandafly::sim::ca::kDefaultMaxPayload, ec);
    REQUIRE(m);
    out.push_back({m->header, Bytes(m->payload.begin(), m->payload.end())});
    rest = rest.subspan(m->size());
  }
  return out;
}

}  // namespace sim_ca_test
