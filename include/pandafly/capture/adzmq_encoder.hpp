#pragma once
// encode_adzmq_header: the sender's half of the ADZMQ wire format (file-formats.md
// §3.3): the JSON header text NDPluginZMQ builds for one NDArray. One encoder
// for the project: the camera simulator (sim/camera/publisher) and
// capture::LivePublisher both send with it.
//
// Rules
//   * Pure (no I/O, threads or clocks); any thread may call it. The output
//     decodes with capture::decode_adzmq (the round-trip tests hold us to it).
//   * HeaderStyle::current is ADZMQ ≥ 1.4, byte for byte:
//       {"htype":"array-1.0", "type":"uint16", "shape":[1536,2048], "frame":17,
//        "timeStamp":1136214245.5, "encoding":"", "ndattr":{"ColorMode":0}}
//     (one line; ", " between the top-level keys, "," inside shape and ndattr,
//     no trailing NUL). HeaderStyle::legacy (< 1.4) writes htype as
//     ["array-1.0"] and shape fastest first; everything else is the same.
//   * Numbers as the plugin's ostream writes them: timeStamp and float64
//     attributes %.17g, float32 attributes %.9g, integers in decimal; nan and
//     inf bare (as the plugin does: not JSON, decoders must tolerate it).
//     Strings are quoted and, like the plugin, NOT escaped: a '"' or '\' in a
//     value breaks the JSON — keep them out. An undefined attribute is
//     "Undefined". The plugin's raw-character int8/uint8 attributes are not
//     offered: store such values as int64.
//   * `shape` is always given slowest first (C order: {SizeY, SizeX}).
//
// Example:
//   ArrayHeader h{.frame = 17, .timestamp = 1136214245.5, .type = DataType::uint16,
//                 .shape = {1536, 2048}, .attributes = {{"ColorMode", std::int64_t{0}}}};
//   std::string text;
//   encode_adzmq_header(h, HeaderStyle::current, text);   // reuses text's capacity
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "pandafly/capture/adzmq.hpp"

namespace pandafly::capture {

/// An NDAttribute whose value is undefined: written as "Undefined".
struct Undefined {
  friend bool operator==(Undefined, Undefined) = default;
};

/// An NDAttribute value by its NDAttrDataType: int64 stands for every signed
/// integer type, uint64 for every unsigned one, float for float32, double for
/// float64.
using AttributeValue =
    std::variant<Undefined, std::int64_t, std::uint64_t, float, double, std::string>;

struct Attribute {
  std::string name;
  AttributeValue value;
};

enum class HeaderStyle {
  current,  ///< ADZMQ ≥ 1.4: htype "array-1.0", shape slowest first
  legacy,   ///< ADZMQ < 1.4: htype ["array-1.0"], shape fastest first
};

/// What the header says about one NDArray.
struct ArrayHeader {
  std::uint64_t frame = 0;  ///< NDArray.uniqueId
  double timestamp = 0;     ///< NDArray.timeStamp (s since the EPICS epoch)
  DataType type = DataType::uint16;
  std::vector<std::size_t> shape{};  ///< slowest first: {SizeY, SizeX}
  std::string encoding{};            ///< "" = uncompressed
  bool with_encoding = true;         ///< false: no "encoding" key (ADCore < 3)
  std::vector<Attribute> attributes{};
};

/// Writes the header text into `out` (replacing its content, keeping its capacity).
void encode_adzmq_header(const ArrayHeader& header, HeaderStyle style, std::string& out);
/// The same, as a new string.
[[nodiscard]] std::string encode_adzmq_header(const ArrayHeader& header,
                                              HeaderStyle style = HeaderStyle::current);

/// `value` as the plugin's ostream writes it with setprecision(`digits`) (%.{digits}g).
[[nodiscard]] std::string format_number(double value, int digits);

}  // namespace pandafly::capture
