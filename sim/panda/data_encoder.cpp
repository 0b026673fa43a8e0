// Rules: see data_encoder.hpp. Number formats are printf's on purpose: the
// real server prints with them and clients compare text (%.12g, %.10g, %u).
#include "sim/panda/data_encoder.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "pandafly/panda/base64.hpp"

namespace pandafly::sim {
namespace {

using panda::DataFormat;
using panda::FieldType;
using panda::Processing;

// printf into a std::string; every caller's output is far below 64 bytes.
template <class... Args>
std::string print(const char* format, Args... args) {
  char buffer[64];
  int n = std::snprintf(buffer, sizeof buffer, format, args...);
  return std::string(buffer, static_cast<std::size_t>(std::max(n, 0)));
}

std::string_view header_format_name(DataFormat f) {
  switch (f) {
    case DataFormat::ascii:
      return "ASCII";
    case DataFormat::base64:
      return "Base64";
    case DataFormat::framed:
      return "Framed";
    case DataFormat::unframed:
      break;
  }
  return "Unframed";
}

std::string_view process_name(Processing p) {
  return p == Processing::raw ? "Raw" : "Scaled";
}

void put_u32_le(std::uint32_t v, std::string& out) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFFu);
}

template <class T>
T load(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void append_bytes(std::span<const std::byte> bytes, std::string& out) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string xml_data_line(const panda::StartData& s) {
  std::string line = "<data";
  if (!s.arm_time.empty()) line += " arm_time=\"" + xml_escape(s.arm_time) + "\"";
  if (!s.start_time.empty()) line += " start_time=\"" + xml_escape(s.start_time) + "\"";
  if (s.hw_time_offset_ns)
    line += " hw_time_offset_ns=\"" + std::to_string(*s.hw_time_offset_ns) + "\"";
  line += " missed=\"" + std::to_string(s.missed) + "\"";
  line += " process=\"" + std::string(process_name(s.processing)) + "\"";
  line += " format=\"" + std::string(header_format_name(s.format)) + "\"";
  if (s.format != DataFormat::ascii)
    line += " sample_bytes=\"" + std::to_string(s.sample_bytes) + "\"";
  return line + " />\n";
}

std::string xml_field_line(const panda::Field& f) {
  std::string line = "<field name=\"" + xml_escape(f.name) + "\" type=\"" +
                     std::string(panda::to_string(f.type)) + "\" capture=\"" +
                     xml_escape(f.capture) + "\"";
  if (f.scale) {
    line += " scale=\"" + print("%.12g", *f.scale) + "\" offset=\"" +
            print("%.12g", f.offset.value_or(0)) + "\" units=\"" + xml_escape(f.units) + "\"";
  }
  return line + " />\n";
}

std::string xml_header(const panda::StartData& s) {
  std::string out = "<header>\n" + xml_data_line(s) + "<fields>\n";
  for (const auto& f : s.fields) out += xml_field_line(f);
  return out + "</fields>\n</header>\n\n";
}

std::string text_header(const panda::StartData& s) {
  std::string out;
  if (!s.arm_time.empty()) out += "arm_time: " + s.arm_time + "\n";
  if (!s.start_time.empty()) out += "start_time: " + s.start_time + "\n";
  if (s.hw_time_offset_ns)
    out += "hw_time_offset_ns: " + std::to_string(*s.hw_time_offset_ns) + "\n";
  out += "missed: " + std::to_string(s.missed) + "\n";
  out += "process: " + std::string(process_name(s.processing)) + "\n";
  out += "format: " + std::string(header_format_name(s.format)) + "\n";
  if (s.format != DataFormat::ascii)
    out += "sample_bytes: " + std::to_string(s.sample_bytes) + "\n";
  out += "fields:\n";
  for (const auto& f : s.fields) {
    out += " " + f.name + " " + std::string(panda::to_string(f.type)) + " " + f.capture;
    if (f.scale)
      out += " scale: " + print("%.12g", *f.scale) +
             " offset: " + print("%.12g", f.offset.value_or(0)) + " units: " + f.units;
    out += "\n";
  }
  return out + "\n";
}

}  // namespace

std::string encode_header(const panda::StartData& start, bool xml) {
  return xml ? xml_header(start) : text_header(start);
}

std::string encode_end(std::uint64_t samples, std::string_view reason) {
  return "END " + std::to_string(samples) + " " + std::string(reason) + "\n";
}

SampleEncoder::SampleEncoder(const panda::StartData& start, std::size_t max_frame_bytes)
    : format_(start.format),
      processing_(start.processing),
      fields_(start.fields),
      sample_bytes_(start.sample_bytes) {
  if (max_frame_bytes == 0)
    max_frame_bytes = processing_ == Processing::raw ? raw_frame_bytes : scaled_frame_bytes;
  std::size_t room = max_frame_bytes > 8 ? max_frame_bytes - 8 : 0;
  frame_samples_ = sample_bytes_ == 0 ? 1 : std::max<std::size_t>(1, room / sample_bytes_);
}

void SampleEncoder::encode(std::span<const std::byte> samples, std::string& out) {
  if (sample_bytes_ == 0) return;
  const std::size_t n = samples.size() / sample_bytes_;
  auto whole = samples.first(n * sample_bytes_);
  samples_ += n;
  switch (format_) {
    case DataFormat::framed:
      encode_framed(whole, out);
      break;
    case DataFormat::unframed:
      append_bytes(whole, out);
      break;
    case DataFormat::base64:
      encode_base64(whole, out);
      break;
    case DataFormat::ascii:
      encode_ascii(whole, out);
      break;
  }
}

void SampleEncoder::finish(std::string& out) {
  if (format_ != DataFormat::base64 || pending_.empty()) return;
  out += " " + panda::base64::encode(pending_) + '\0' + "\n";
  pending_.clear();
}

// "BIN " + uint32 LE length (header included) + whole samples.
void SampleEncoder::encode_framed(std::span<const std::byte> bytes, std::string& out) const {
  const std::size_t step = frame_samples_ * sample_bytes_;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    auto payload = bytes.subspan(at, std::min(step, bytes.size() - at));
    out += "BIN ";
    put_u32_le(static_cast<std::uint32_t>(payload.size() + 8), out);
    append_bytes(payload, out);
  }
}

// Lines of exactly 57 input bytes; the rest waits for more bytes or finish().
void SampleEncoder::encode_base64(std::span<const std::byte> bytes, std::string& out) {
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  std::size_t at = 0;
  for (; pending_.size() - at >= base64_line_bytes; at += base64_line_bytes) {
    auto line = std::span<const std::byte>(pending_).subspan(at, base64_line_bytes);
    out += " " + panda::base64::encode(line) + '\0' + "\n";
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(at));
}

void SampleEncoder::encode_ascii(std::span<const std::byte> bytes, std::string& out) const {
  for (std::size_t at = 0; at < bytes.size(); at += sample_bytes_) {
    ascii_sample(bytes.data() + at, out);
    out += '\n';
  }
}

// RAW: every 32-bit word in hex; SCALED: each field by its type.
void SampleEncoder::ascii_sample(const std::byte* sample, std::string& out) const {
  if (processing_ == Processing::raw) {
    for (std::size_t w = 0; w + 4 <= sample_bytes_; w += 4)
      out += print(" 0x%08x", load<std::uint32_t>(sample + w));
    return;
  }
  for (const auto& f : fields_) {
    const std::byte* p = sample + f.byte_offset;
    switch (f.type) {
      case FieldType::uint32:
        out += print(" %u", load<std::uint32_t>(p));
        break;
      case FieldType::int32:
        out += print(" %d", load<std::int32_t>(p));
        break;
      case FieldType::int64:
        out += print(" %" PRId64, load<std::int64_t>(p));
        break;
      case FieldType::float64:
        out += print(" %.10g", load<double>(p));
        break;
      case FieldType::int96:
        for (std::size_t w = 0; w < 12; w += 4) out += print(" 0x%08x", load<std::uint32_t>(p + w));
        break;
    }
  }
}

}  // namespace pandafly::sim
