#pragma once
// Base64 (RFC 4648, standard alphabet, `=` padding) as the PandA uses it for
// tables (`X.TABLE.B?`, `X.TABLE<B`) and the data port's BASE64 format.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::panda::base64 {

/// Encodes `bytes`, padded with `=`.
[[nodiscard]] std::string encode(std::span<const std::byte> bytes);
/// Decodes `text` (padding optional, no whitespace). Returns nullopt on a
/// character outside the alphabet, misplaced padding or a dangling 6 bits.
[[nodiscard]] std::optional<std::vector<std::byte>> decode(std::string_view text);

/// uint32 words as little-endian bytes, base64 encoded in lines of at most
/// `bytes_per_line` bytes (a multiple of 4; the server itself emits 48).
[[nodiscard]] std::vector<std::string> encode_words(std::span<const std::uint32_t> words,
                                                    std::size_t bytes_per_line = 48);
/// Decodes base64 lines of little-endian uint32 words; nullopt when a line is
/// not base64 or does not decode to a multiple of 4 bytes.
[[nodiscard]] std::optional<std::vector<std::uint32_t>> decode_words(
    std::span<const std::string> lines);

}  // namespace pandafly::panda::base64
