#pragma once
// decode_adzmq: the sans-IO decoder of one areaDetector ADZMQ message
// (NDPluginZMQ, PSI htype "array-1.0"; docs: file-formats.md §3).
//
// Rules
//   A message is exactly two ZMQ frames: a JSON header and the raw array bytes.
//   The decoder is a pure function of those two byte strings: no state, no I/O,
//   threads or clocks; any thread may call it. It never throws.
//   Strict where a wrong answer would corrupt a projection: htype must be
//   "array-1.0", type one of the ten numeric types, every dim > 0, encoding ""
//   (or absent), and the data frame exactly prod(shape) × element size bytes.
//   Tolerant where the plugin is sloppy (§3.4): a header that is not valid JSON
//   is re-read as the plugin writes it (bare nan/inf, raw int8/uint8 characters,
//   unescaped quotes/backslashes/control bytes, Latin-1 bytes). ndattr is then
//   split by the grammar the plugin composes it with, so a raw byte that is
//   white space or JSON punctuation (9, 10, 13, 32, `"` `,` `:` `[` `]` `{` `}`)
//   is read as that one attribute's value and the others stay readable. If
//   ndattr still does not read, the frame decodes without attributes and says
//   why in FrameHeader::attribute_warning — a consumer must then treat its
//   routing and angle as unknown (dx::Writer does not store such a frame).
//   Attributes never fail a frame.
//   Shape order: ADZMQ ≥ 1.4 sends htype "array-1.0" and shape slowest first;
//   older plugins send htype ["array-1.0"] and shape fastest first. The decoder
//   tells them apart by htype and always returns shape slowest first (C order).
//   Byte order: the wire has no key for it; array-1.0 means little-endian (the
//   IOC host's native order, x86 at every beamline we know).
//   Zero copy: Frame::data is the caller's data span; it lives as long as the
//   caller's buffer (the ZMQ message).
//
// Example:
//   auto r = capture::decode_adzmq(as_bytes(header_msg), as_bytes(data_msg));
//   if (auto* e = std::get_if<capture::FrameError>(&r)) log(e->message);
//   else write(std::get<capture::Frame>(r));
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace pandafly::capture {

// ------------------------------------------------------------------ errors

enum class AdzmqErrc {
  bad_json = 1,          ///< the header does not parse, even read as the plugin writes it
  missing_field,         ///< htype, type, shape, frame or timeStamp is absent
  bad_field,             ///< a field has the wrong JSON type or value (htype, frame, timeStamp)
  bad_type,              ///< `type` is not one of the ten numeric types
  bad_shape,             ///< shape empty, too many dims, a dim ≤ 0 or not an integer, overflow
  unsupported_encoding,  ///< `encoding` names a codec: the data part is unusable (§3.3)
  size_mismatch,         ///< the data frame is not prod(shape) × element size bytes
};

[[nodiscard]] const std::error_category& adzmq_category() noexcept;
[[nodiscard]] std::error_code make_error_code(AdzmqErrc e) noexcept;

/// A message that does not decode: the class (`code`), the frame number when the
/// header got that far, and a message naming what and where, e.g.
/// "frame 17: data is 4194300 bytes, shape 2048×1024 uint16 needs 4194304".
struct FrameError {
  std::error_code code;
  std::optional<std::uint64_t> frame;
  std::string message;
};

// ------------------------------------------------------------------ header

enum class DataType : std::uint8_t {
  int8,
  uint8,
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  float32,
  float64
};

/// Bytes per element of `t`.
[[nodiscard]] std::size_t element_size(DataType t) noexcept;
/// The wire name of `t` ("uint16").
[[nodiscard]] std::string_view to_string(DataType t) noexcept;
/// The type a wire name names, or nullopt.
[[nodiscard]] std::optional<DataType> data_type_from(std::string_view name) noexcept;

/// How the sender listed the dims: ADZMQ ≥ 1.4 slowest first, older fastest first.
enum class ShapeOrder { slowest_first, fastest_first };

/// One entry of the header's `ndattr` object, in the order sent. The wire keeps
/// no attribute type: integers arrive as int64 (a uint64 above INT64_MAX as
/// double), any number with a fraction or exponent as double, strings as
/// strings ("Undefined" for an undefined value), true/false as 1/0.
struct NDAttribute {
  std::string name;
  std::variant<std::int64_t, double, std::string> value;
  /// Recovered from non-JSON text: a bare nan/inf, a raw int8/uint8 character
  /// (its byte value; a digit character cannot be told from a number) or another
  /// bare word (kept as a string).
  bool sloppy = false;
};

struct FrameHeader {
  std::uint64_t frame = 0;  ///< NDArray.uniqueId
  double timestamp = 0;     ///< NDArray.timeStamp, s (EPICS epoch or camera clock, §3.5)
  DataType type = DataType::uint8;
  std::vector<std::size_t> shape;  ///< slowest first (C order): a mono image is {y, x}
  ShapeOrder wire_order = ShapeOrder::slowest_first;
  std::endian byte_order = std::endian::little;
  std::vector<NDAttribute> attributes;
  /// Non-empty when ndattr could not be read and `attributes` is empty for it.
  std::string attribute_warning;

  [[nodiscard]] std::size_t element_count() const noexcept;
  [[nodiscard]] std::size_t byte_size() const noexcept {
    return element_count() * element_size(type);
  }
  /// The first attribute called `name`, or nullptr.
  [[nodiscard]] const NDAttribute* attribute(std::string_view name) const noexcept;
};

/// A decoded message: the header and a view of the caller's data bytes.
struct Frame {
  FrameHeader header;
  std::span<const std::byte> data;
};

/// Decodes the header frame alone (a receiver may read it before the data
/// frame, §3.6). Checks everything but the data size.
[[nodiscard]] std::variant<FrameHeader, FrameError> decode_adzmq_header(
    std::span<const std::byte> header_json);

/// Decodes one message. On success Frame::data is `data` itself (zero copy).
[[nodiscard]] std::variant<Frame, FrameError> decode_adzmq(std::span<const std::byte> header_json,
                                                           std::span<const std::byte> data);

}  // namespace pandafly::capture

template <>
struct std::is_error_code_enum<pandafly::capture::AdzmqErrc> : std::true_type {};
