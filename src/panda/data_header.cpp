#include "pandafly/panda/data_header.hpp"

#include <charconv>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>

namespace pandafly::panda {
namespace {

using Parsed = std::variant<StartData, HeaderError>;

HeaderError bad(std::string message) {
  return HeaderError{std::move(message), false};
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  const auto* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

std::optional<Processing> processing_from(std::string_view s) {
  if (s == "Scaled") return Processing::scaled;
  if (s == "Raw") return Processing::raw;
  return std::nullopt;
}

std::optional<DataFormat> format_from(std::string_view s) {
  if (s == "ASCII") return DataFormat::ascii;
  if (s == "Base64") return DataFormat::base64;
  if (s == "Framed") return DataFormat::framed;
  if (s == "Unframed") return DataFormat::unframed;
  return std::nullopt;
}

/// Sets one `<data>`/text-header property; returns an error message or "".
std::string set_property(StartData& start, std::string_view key, std::string_view value,
                         bool& sample_bytes_seen) {
  if (key == "arm_time") {
    start.arm_time = value;
  } else if (key == "start_time") {
    start.start_time = value;
  } else if (key == "hw_time_offset_ns") {
    std::int64_t ns = 0;
    if (!parse_number(value, ns))
      return fmt::format("hw_time_offset_ns \"{}\" is not an integer", value);
    start.hw_time_offset_ns = ns;
  } else if (key == "missed") {
    if (!parse_number(value, start.missed))
      return fmt::format("missed \"{}\" is not a count", value);
  } else if (key == "process") {
    const auto p = processing_from(value);
    if (!p) return fmt::format("process \"{}\" is neither Scaled nor Raw", value);
    start.processing = *p;
  } else if (key == "format") {
    const auto f = format_from(value);
    if (!f) return fmt::format("format \"{}\" is not ASCII, Base64, Framed or Unframed", value);
    start.format = *f;
  } else if (key == "sample_bytes") {
    if (!parse_number(value, start.sample_bytes) || start.sample_bytes == 0) {
      return fmt::format("sample_bytes \"{}\" is not a positive count", value);
    }
    sample_bytes_seen = true;
  }
  return {};  // unknown properties are tolerated: newer servers may add some
}

/// Builds a Field from its parts; returns an error message or "".
std::string make_field(Field& f, std::string_view name, std::string_view type,
                       std::string_view capture) {
  if (name.empty()) return "a field has no name";
  const auto t = field_type_from(type);
  if (!t) return fmt::format("field {} has unknown type \"{}\"", name, type);
  if (capture.empty()) return fmt::format("field {} has no capture mode", name);
  f.name = name;
  f.type = *t;
  f.capture = capture;
  f.mode = capture_mode_from(capture);
  return {};
}

std::string set_scaling(Field& f, std::string_view key, std::string_view value) {
  double v = 0;
  if (key == "units") {
    f.units = value;
    return {};
  }
  if (!parse_number(value, v)) return fmt::format("field {} has {} \"{}\"", f.name, key, value);
  (key == "scale" ? f.scale : f.offset) = v;
  return {};
}

std::string parse_xml_field(const pugi::xml_node& node, Field& f) {
  auto err = make_field(f, node.attribute("name").value(), node.attribute("type").value(),
                        node.attribute("capture").value());
  if (!err.empty()) return err;
  for (const char* key : {"scale", "offset", "units"}) {
    const auto attr = node.attribute(key);
    if (!attr) continue;
    err = set_scaling(f, key, attr.value());
    if (!err.empty()) return err;
  }
  return {};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string_view next_word(std::string_view& s) {
  s = trim(s);
  const auto space = s.find(' ');
  const auto word = s.substr(0, space);
  s = space == std::string_view::npos ? std::string_view{} : s.substr(space + 1);
  return word;
}

/// " NAME TYPE CAPTURE[ scale: S offset: O units: U]"
std::string parse_text_field(std::string_view line, Field& f) {
  const auto name = next_word(line);
  const auto type = next_word(line);
  const auto capture = next_word(line);
  auto err = make_field(f, name, type, capture);
  while (err.empty() && !trim(line).empty()) {
    auto key = next_word(line);
    if (key.empty() || key.back() != ':')
      return fmt::format("field {}: unexpected \"{}\"", f.name, key);
    key.remove_suffix(1);
    // units run to the end of the line: they may contain spaces
    const auto value = key == "units" ? std::exchange(line, {}) : next_word(line);
    err = set_scaling(f, key, trim(value));
  }
  return err;
}

}  // namespace

Parsed finish_layout(StartData start, bool sample_bytes_announced) {
  if (start.fields.empty()) return bad("the header lists no fields");
  const std::size_t sum = assign_offsets(start.fields);
  if (!sample_bytes_announced) {
    start.sample_bytes = sum;
    return start;
  }
  if (start.sample_bytes == sum) return start;
  if (start.processing == Processing::raw && start.sample_bytes == sum + 4) {
    Field count;
    count.name = "PCAP.SAMPLES";
    count.capture = "Value";
    start.fields.insert(start.fields.begin(), std::move(count));
    assign_offsets(start.fields);
    start.legacy_sample_count = true;
    return start;
  }
  return HeaderError{fmt::format("sample_bytes is {} but the {} fields add up to {} bytes",
                                 start.sample_bytes, start.fields.size(), sum),
                     true};
}

Parsed parse_xml_header(std::string_view xml) {
  pugi::xml_document doc;
  const auto loaded = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!loaded) {
    return bad(fmt::format("header XML does not parse: {} at byte {}", loaded.description(),
                           loaded.offset));
  }
  const auto header = doc.child("header");
  if (!header) return bad("header XML has no <header> element");
  const auto data = header.child("data");
  if (!data) return bad("header XML has no <data> element");
  StartData start;
  bool sample_bytes_seen = false;
  for (const auto& attr : data.attributes()) {
    auto err = set_property(start, attr.name(), attr.value(), sample_bytes_seen);
    if (!err.empty()) return bad(std::move(err));
  }
  for (const auto& node : header.child("fields").children("field")) {
    Field f;
    auto err = parse_xml_field(node, f);
    if (!err.empty()) return bad(std::move(err));
    start.fields.push_back(std::move(f));
  }
  return finish_layout(std::move(start), sample_bytes_seen);
}

Parsed parse_text_header(std::string_view text) {
  StartData start;
  bool sample_bytes_seen = false;
  bool in_fields = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (trim(line).empty()) continue;
    std::string err;
    if (in_fields) {
      Field f;
      err = parse_text_field(line, f);
      start.fields.push_back(std::move(f));
    } else if (trim(line) == "fields:") {
      in_fields = true;
    } else {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos)
        return bad(fmt::format("header line \"{}\" has no ':'", line));
      err = set_property(start, trim(line.substr(0, colon)), trim(line.substr(colon + 1)),
                         sample_bytes_seen);
    }
    if (!err.empty()) return bad(std::move(err));
  }
  if (!in_fields) return bad("text header has no \"fields:\" line");
  return finish_layout(std::move(start), sample_bytes_seen);
}

}  // namespace pandafly::panda
