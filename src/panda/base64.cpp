#include "pandafly/panda/base64.hpp"

#include <array>

namespace pandafly::panda::base64 {
namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_reverse() {
  std::array<std::int8_t, 256> r{};
  r.fill(-1);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    r[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return r;
}
constexpr auto reverse = make_reverse();

}  // namespace

std::string encode(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto v = std::to_integer<std::uint32_t>(bytes[i]) << 16 |
                   std::to_integer<std::uint32_t>(bytes[i + 1]) << 8 |
                   std::to_integer<std::uint32_t>(bytes[i + 2]);
    out.push_back(alphabet[v >> 18 & 63]);
    out.push_back(alphabet[v >> 12 & 63]);
    out.push_back(alphabet[v >> 6 & 63]);
    out.push_back(alphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = std::to_integer<std::uint32_t>(bytes[i]) << 16;
  if (rest == 2) v |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
  out.push_back(alphabet[v >> 18 & 63]);
  out.push_back(alphabet[v >> 12 & 63]);
  out.push_back(rest == 2 ? alphabet[v >> 6 & 63] : '=');
  out.push_back('=');
  return out;
}

std::optional<std::vector<std::byte>> decode(std::string_view text) {
  // Padding is optional, but when present it must complete the last quantum
  // (`AB==`, `ABC=`); `AB=` is as malformed to us as to the PandA.
  const std::size_t padded = text.size();
  std::size_t pad = 0;
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++pad;
  }
  if (pad > 2 || (pad > 0 && padded % 4 != 0)) return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;  // 6 dangling bits cannot form a byte
  std::vector<std::byte> out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const auto d = reverse[static_cast<unsigned char>(c)];
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::byte>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::vector<std::string> encode_words(std::span<const std::uint32_t> words,
                                      std::size_t bytes_per_line) {
  const std::size_t words_per_line = bytes_per_line < 4 ? 1 : bytes_per_line / 4;
  std::vector<std::string> lines;
  std::vector<std::byte> buf;
  for (std::size_t i = 0; i < words.size(); i += words_per_line) {
    buf.clear();
    for (std::size_t j = i; j < words.size() && j < i + words_per_line; ++j) {
      for (int b = 0; b < 4; ++b) buf.push_back(static_cast<std::byte>(words[j] >> (8 * b)));
    }
    lines.push_back(encode(buf));
  }
  return lines;
}

std::optional<std::vector<std::uint32_t>> decode_words(std::span<const std::string> lines) {
  std::vector<std::uint32_t> words;
  for (const auto& line : lines) {
    auto bytes = decode(line);
    if (!bytes || bytes->size() % 4 != 0) return std::nullopt;
    for (std::size_t i = 0; i < bytes->size(); i += 4) {
      std::uint32_t w = 0;
      for (std::size_t b = 0; b < 4; ++b)
        w |= std::to_integer<std::uint32_t>((*bytes)[i + b]) << (8 * b);
      words.push_back(w);
    }
  }
  return words;
}

}  // namespace pandafly::panda::base64
