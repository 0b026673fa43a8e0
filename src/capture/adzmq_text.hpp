#pragma once
// plugin_text_to_json: reads an NDPluginZMQ header the way the plugin writes it
// (file-formats.md §3.4) and returns it as JSON text. Private to decode_adzmq.
//
// Rules
//   The plugin builds its header by concatenation, so it is not always JSON.
//   Outside strings: a bare word (nan, inf, Undefined) becomes a string that
//   starts with bare_mark; a single bare byte (a raw int8/uint8 character)
//   becomes the string char_mark + its decimal value; numbers, true, false and
//   null stay. The plugin writes C strings, so none of its own strings starts
//   with either mark. Inside strings: every backslash is literal (the plugin
//   never escapes), a quote closes the string only when `, : } ]` or the end
//   follows it, control bytes are escaped, bytes that are not UTF-8 are read as
//   Latin-1. Anything else (a raw `,` value, a cut header) is left for the JSON
//   parser to reject. Pure; any thread.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::capture::detail {

inline constexpr char bare_mark = '\0';  // "\0word": a bare word
inline constexpr char char_mark = '\1';  // "\1<decimal>": one bare byte

/// `in` rewritten as JSON text (valid JSON when the plugin's quirks were the
/// only problem).
[[nodiscard]] std::string plugin_text_to_json(std::string_view in);

/// One `"name":value` entry of the plugin's ndattr object, as the bytes sent.
struct RawAttribute {
  enum class Kind {
    text,   ///< a quoted value: `value` is what stood between the quotes
    token,  ///< a number or bare word (nan, inf, Undefined)
    byte,   ///< one raw int8/uint8 character: `value` is that byte
  };
  std::string name;
  Kind kind = Kind::text;
  std::string value;
};

/// Splits the inside of the plugin's ndattr object (between its braces) by
/// the grammar NDPluginZMQ composes it with (file-formats.md §3.3):
/// entries `"name":value` joined by `,`, a value being a quoted string (never
/// escaped), a number or bare word, or exactly one raw byte (int8/uint8: any
/// byte at all, `,` `"` `}` `:` and white space included). A raw byte can make
/// the text read two ways; the reading must account for every byte up to the
/// end, and among readings the one with the shortest strings wins (a raw `"`
/// or `,` is one entry, not the start of a string swallowing the next ones).
/// Names are taken not to contain `"`. Nullopt when no reading fits.
/// Work is O(n^2) in the worst case: bodies over 256 KiB give nullopt.
[[nodiscard]] std::optional<std::vector<RawAttribute>> split_plugin_ndattr(std::string_view body);

/// `s` with every byte that is not part of valid UTF-8 read as Latin-1.
[[nodiscard]] std::string utf8_repaired(std::string_view s);

}  // namespace pandafly::capture::detail
