#include "pandafly/panda/data.hpp"

#include <array>
#include <utility>

namespace pandafly::panda {

std::size_t size_of(FieldType t) noexcept {
  switch (t) {
    case FieldType::uint32:
    case FieldType::int32:
      return 4;
    case FieldType::int64:
    case FieldType::float64:
      return 8;
    case FieldType::int96:
      return 12;
  }
  return 0;
}

namespace {
constexpr std::array<std::pair<FieldType, std::string_view>, 5> field_type_names{{
    {FieldType::uint32, "uint32"},
    {FieldType::int32, "int32"},
    {FieldType::int64, "int64"},
    {FieldType::float64, "double"},
    {FieldType::int96, "int96"},
}};

constexpr std::array<std::pair<CaptureMode, std::string_view>, 7> capture_names{{
    {CaptureMode::value, "Value"},
    {CaptureMode::diff, "Diff"},
    {CaptureMode::sum, "Sum"},
    {CaptureMode::mean, "Mean"},
    {CaptureMode::min, "Min"},
    {CaptureMode::max, "Max"},
    {CaptureMode::std_dev, "StdDev"},
}};

constexpr std::array<std::pair<EndReason, std::string_view>, 8> end_reason_names{{
    {EndReason::ok, "Ok"},
    {EndReason::disarmed, "Disarmed"},
    {EndReason::framing_error, "Framing error"},
    {EndReason::dma_data_error, "DMA data error"},
    {EndReason::driver_data_overrun, "Driver data overrun"},
    {EndReason::unexpected_completion, "Unexpected completion error"},
    {EndReason::early_disconnect, "Early disconnect"},
    {EndReason::data_overrun, "Data overrun"},
}};
}  // namespace

std::string_view to_string(FieldType t) noexcept {
  for (const auto& [type, name] : field_type_names) {
    if (type == t) return name;
  }
  return "?";
}

std::optional<FieldType> field_type_from(std::string_view s) noexcept {
  for (const auto& [type, name] : field_type_names) {
    if (name == s) return type;
  }
  return std::nullopt;
}

CaptureMode capture_mode_from(std::string_view s) noexcept {
  for (const auto& [mode, name] : capture_names) {
    if (name == s) return mode;
  }
  return CaptureMode::other;
}

std::size_t assign_offsets(std::vector<Field>& fields) noexcept {
  std::size_t offset = 0;
  for (auto& f : fields) {
    f.byte_offset = offset;
    offset += size_of(f.type);
  }
  return offset;
}

std::string_view to_string(DataFormat f) noexcept {
  switch (f) {
    case DataFormat::ascii:
      return "ASCII";
    case DataFormat::base64:
      return "BASE64";
    case DataFormat::framed:
      return "FRAMED";
    case DataFormat::unframed:
      return "UNFRAMED";
  }
  return "?";
}

std::string_view to_string(Processing p) noexcept {
  return p == Processing::raw ? "RAW" : "SCALED";
}

std::string DataOptions::connect_line() const {
  std::string line;
  if (xml) line += "XML ";
  line += to_string(format);
  line += ' ';
  line += to_string(processing);
  if (!header) line += " NO_HEADER";
  if (!status) line += " NO_STATUS";
  if (one_shot) line += " ONE_SHOT";
  line += '\n';
  return line;
}

DataOptions DataOptions::bare(std::vector<Field> fields) {
  DataOptions o;
  o.format = DataFormat::unframed;
  o.processing = Processing::raw;
  o.xml = false;
  o.header = false;
  o.status = false;
  o.one_shot = true;
  o.fields = std::move(fields);
  return o;
}

EndReason end_reason_from(std::string_view text) noexcept {
  for (const auto& [reason, name] : end_reason_names) {
    if (name == text) return reason;
  }
  return EndReason::unknown;
}

std::string_view to_string(EndReason r) noexcept {
  for (const auto& [reason, name] : end_reason_names) {
    if (reason == r) return name;
  }
  return "unknown";
}

namespace {

class DataCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "panda-data"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<DataErrc>(ev)) {
      case DataErrc::rejected:
        return "the PandA rejected the data options";
      case DataErrc::bad_status_line:
        return "neither OK nor ERR after the options line";
      case DataErrc::bad_header:
        return "malformed data header";
      case DataErrc::sample_size_mismatch:
        return "sample_bytes disagrees with the field sizes";
      case DataErrc::bad_frame_marker:
        return "neither BIN nor END where a frame must start";
      case DataErrc::bad_frame_length:
        return "bad frame length";
      case DataErrc::bad_data_line:
        return "malformed data line";
      case DataErrc::bad_end_line:
        return "malformed END line";
      case DataErrc::truncated:
        return "connection closed inside a frame or line";
      case DataErrc::closed_before_end:
        return "connection closed before END";
      case DataErrc::data_after_end:
        return "data after the END of a ONE_SHOT connection";
      case DataErrc::no_layout:
        return "NO_HEADER without a field layout";
    }
    return "unknown panda-data error";
  }
};

}  // namespace

const std::error_category& data_category() noexcept {
  static const DataCategory category;
  return category;
}

std::error_code make_error_code(DataErrc e) noexcept {
  return {static_cast<int>(e), data_category()};
}

}  // namespace pandafly::panda
