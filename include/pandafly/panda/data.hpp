#pragma once
// Values of the PandA data port (TCP 8889): the options a client asks for, the
// field layout a header announces, and the events DataConnection produces.
//
// A sample is one PCAP trigger: the captured fields packed in header order, no
// padding, little endian, 64-bit values only 4-byte aligned.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace pandafly::panda {

// ------------------------------------------------------------------ layout

/// Wire type of one field. Sizes: 4, 4, 8, 8, 12 bytes.
enum class FieldType { uint32, int32, int64, float64, int96 };
[[nodiscard]] std::size_t size_of(FieldType t) noexcept;
[[nodiscard]] std::string_view to_string(FieldType t) noexcept;  // "uint32", "double", ...
[[nodiscard]] std::optional<FieldType> field_type_from(std::string_view s) noexcept;

enum class CaptureMode { value, diff, sum, mean, min, max, std_dev, other };
[[nodiscard]] CaptureMode capture_mode_from(std::string_view s) noexcept;

/// One field of a sample, as the header announces it.
struct Field {
  std::string name;     ///< "INENC1.VAL"
  std::string capture;  ///< "Value", "Mean", "StdDev", ... as sent
  CaptureMode mode = CaptureMode::value;
  FieldType type = FieldType::uint32;
  std::optional<double> scale;  ///< absent for bit words (PCAP.BITSn)
  std::optional<double> offset;
  std::string units;            ///< "" when absent; "(null)" from the dummy server is kept
  std::size_t byte_offset = 0;  ///< position in the sample, filled by the header parser

  /// "INENC1.VAL.Mean": the column name the capture writer uses.
  [[nodiscard]] std::string column_name() const { return name + "." + capture; }
  friend bool operator==(const Field&, const Field&) = default;
};

/// Computes byte offsets and the sample size; returns the sample size.
std::size_t assign_offsets(std::vector<Field>& fields) noexcept;

// ------------------------------------------------------------------ options

enum class DataFormat { ascii, base64, framed, unframed };
enum class Processing { scaled, raw };

/// What the client asks for in its one options line.
struct DataOptions {
  DataFormat format = DataFormat::framed;
  Processing processing = Processing::scaled;
  bool xml = true;        ///< XML header (false: the older text header)
  bool header = true;     ///< false: NO_HEADER (the caller must then give `fields`)
  bool status = true;     ///< false: NO_STATUS (no OK, no END)
  bool one_shot = false;  ///< ONE_SHOT: the server closes after one acquisition
  /// The layout to assume when `header` is false (as announced by a header of
  /// an earlier acquisition, or from *CAPTURE?). Ignored when `header` is true.
  std::vector<Field> fields;

  /// The options line, newline included: e.g. "XML FRAMED SCALED\n".
  [[nodiscard]] std::string connect_line() const;
  /// UNFRAMED RAW NO_HEADER NO_STATUS ONE_SHOT (the server's BARE).
  [[nodiscard]] static DataOptions bare(std::vector<Field> fields);
};

[[nodiscard]] std::string_view to_string(DataFormat f) noexcept;
[[nodiscard]] std::string_view to_string(Processing p) noexcept;

// ------------------------------------------------------------------ events

/// The server accepted the options line (or NO_STATUS: the connection is open).
struct ReadyData {};

/// An acquisition started: the header of this arm.
struct StartData {
  std::vector<Field> fields;
  std::string arm_time;  ///< ISO-8601 UTC with ns, "" from old servers
  std::string start_time;
  std::optional<std::int64_t> hw_time_offset_ns;
  std::uint64_t missed = 0;  ///< samples lost because this client joined late
  Processing processing = Processing::scaled;
  DataFormat format = DataFormat::framed;
  std::size_t sample_bytes = 0;  ///< bytes per sample as decoded (== Σ field sizes)
  /// Servers before 2.1 sent an unannounced 4-byte sample count in RAW; the
  /// parser then inserts a synthetic "PCAP.SAMPLES" Value uint32 field at index 0.
  bool legacy_sample_count = false;

  friend bool operator==(const StartData&, const StartData&) = default;
};

/// Whole samples, zero-copy where possible. `bytes` is valid until the next
/// call on the DataConnection; `bytes.size() == samples * sample_bytes`.
struct FrameData {
  std::span<const std::byte> bytes;
  std::size_t samples = 0;
  std::size_t sample_bytes = 0;
};

/// Why an acquisition ended, as the END line says.
enum class EndReason {
  ok,                     ///< "Ok"
  disarmed,               ///< "Disarmed"
  framing_error,          ///< "Framing error"
  dma_data_error,         ///< "DMA data error"
  driver_data_overrun,    ///< "Driver data overrun"
  unexpected_completion,  ///< "Unexpected completion error"
  early_disconnect,       ///< "Early disconnect"
  data_overrun,           ///< "Data overrun"
  unknown,                ///< any other text (kept in EndData::reason_text), or none
};
[[nodiscard]] EndReason end_reason_from(std::string_view text) noexcept;
[[nodiscard]] std::string_view to_string(EndReason r) noexcept;

struct EndData {
  std::uint64_t samples = 0;  ///< samples the server says it sent this client
  EndReason reason = EndReason::ok;
  std::string reason_text;  ///< exactly as sent ("" if the line had none)
};

/// The stream broke. `samples_before` samples of this acquisition were
/// delivered (in FrameData events) before the error; they stay valid.
struct DataError {
  std::error_code code;
  std::string message;              ///< names what was wrong and where
  std::uint64_t stream_offset = 0;  ///< byte offset in the stream where it was found
  std::uint64_t samples_before = 0;
};

/// "Feed me more bytes": not an error.
struct NeedData {};

using DataEvent = std::variant<NeedData, ReadyData, StartData, FrameData, EndData, DataError>;

// ------------------------------------------------------------------ errors

enum class DataErrc {
  rejected = 1,          ///< the server answered the options line with ERR
  bad_status_line,       ///< neither OK nor ERR after the options line
  bad_header,            ///< header XML/text does not parse or lacks what it must have
  sample_size_mismatch,  ///< sample_bytes disagrees with the field sizes
  bad_frame_marker,      ///< neither "BIN " nor "END " where a unit must start
  bad_frame_length,      ///< frame length too small, too big or not whole samples
  bad_data_line,         ///< an ASCII or BASE64 data line does not parse
  bad_end_line,          ///< "END" without a sample count
  truncated,             ///< the connection closed inside a header, frame or line
  closed_before_end,     ///< the connection closed during an acquisition (no END)
  data_after_end,        ///< bytes after the END of a ONE_SHOT connection
  no_layout,             ///< NO_HEADER without fields to decode with
};

[[nodiscard]] const std::error_category& data_category() noexcept;
[[nodiscard]] std::error_code make_error_code(DataErrc e) noexcept;

}  // namespace pandafly::panda

template <>
struct std::is_error_code_enum<pandafly::panda::DataErrc> : std::true_type {};
