#include "pandafly/capture/adzmq_encoder.hpp"

#include <iterator>
#include <type_traits>

#include <fmt/format.h>

namespace pandafly::capture {

namespace {

// fmt's "g" with a precision is printf's %g (shortest of %e/%f, trailing zeros
// removed) and, unlike printf, never looks at the C locale.
void append_number(std::string& out, double value, int digits) {
  fmt::format_to(std::back_inserter(out), "{:.{}g}", value, digits);
}

void append_value(std::string& out, const AttributeValue& value) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Undefined>) {
          out += "\"Undefined\"";
        } else if constexpr (std::is_same_v<T, std::string>) {
          out += '"';
          out += v;  // not escaped, as the plugin does (see the header)
          out += '"';
        } else if constexpr (std::is_same_v<T, float>) {
          append_number(out, static_cast<double>(v), 9);
        } else if constexpr (std::is_same_v<T, double>) {
          append_number(out, v, 17);
        } else {
          fmt::format_to(std::back_inserter(out), "{}", v);
        }
      },
      value);
}

void append_shape(std::string& out, const std::vector<std::size_t>& shape, HeaderStyle style) {
  out += '[';
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ',';
    const std::size_t dim = style == HeaderStyle::current ? shape[i] : shape[shape.size() - 1 - i];
    fmt::format_to(std::back_inserter(out), "{}", dim);
  }
  out += ']';
}

void append_attributes(std::string& out, const std::vector<Attribute>& attributes) {
  out += '{';
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    out += attributes[i].name;
    out += "\":";
    append_value(out, attributes[i].value);
  }
  out += '}';
}

}  // namespace

void encode_adzmq_header(const ArrayHeader& header, HeaderStyle style, std::string& out) {
  out.clear();
  out +=
      style == HeaderStyle::current ? R"({"htype":"array-1.0", )" : R"({"htype":["array-1.0"], )";
  out += R"("type":")";
  out += to_string(header.type);
  out += R"(", "shape":)";
  append_shape(out, header.shape, style);
  fmt::format_to(std::back_inserter(out), R"(, "frame":{}, "timeStamp":)", header.frame);
  append_number(out, header.timestamp, 17);
  out += ", ";
  if (header.with_encoding) {
    out += R"("encoding":")";
    out += header.encoding;
    out += R"(", )";
  }
  out += R"("ndattr":)";
  append_attributes(out, header.attributes);
  out += '}';
}

std::string encode_adzmq_header(const ArrayHeader& header, HeaderStyle style) {
  std::string out;
  encode_adzmq_header(header, style, out);
  return out;
}

std::string format_number(double value, int digits) {
  std::string out;
  append_number(out, value, digits);
  return out;
}

}  // namespace pandafly::capture
