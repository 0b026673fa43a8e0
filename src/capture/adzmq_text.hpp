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
#include <string>
#include <string_view>

namespace pandafly::capture::detail {

inline constexpr char bare_mark = '\0';  // "\0word": a bare word
inline constexpr char char_mark = '\1';  // "\1<decimal>": one bare byte

/// `in` rewritten as JSON text (valid JSON when the plugin's quirks were the
/// only problem).
[[nodiscard]] std::string plugin_text_to_json(std::string_view in);

}  // namespace pandafly::capture::detail
