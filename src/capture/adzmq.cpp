#include "pandafly/capture/adzmq.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adzmq_text.hpp"

namespace pandafly::capture {

namespace {

using detail::bare_mark;
using detail::char_mark;
using detail::plugin_text_to_json;
using detail::utf8_repaired;
using Json = nlohmann::ordered_json;  // keeps ndattr in the order sent

// ------------------------------------------------------------------ category

class AdzmqCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "adzmq"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<AdzmqErrc>(ev)) {
      case AdzmqErrc::bad_json:
        return "ADZMQ header is not JSON";
      case AdzmqErrc::missing_field:
        return "ADZMQ header lacks a required field";
      case AdzmqErrc::bad_field:
        return "ADZMQ header field has a bad value";
      case AdzmqErrc::bad_type:
        return "unknown ADZMQ data type";
      case AdzmqErrc::bad_shape:
        return "bad ADZMQ shape";
      case AdzmqErrc::unsupported_encoding:
        return "compressed ADZMQ array";
      case AdzmqErrc::size_mismatch:
        return "ADZMQ data size disagrees with type and shape";
    }
    return "unknown adzmq error";
  }
};

struct TypeInfo {
  DataType type;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<TypeInfo, 10> types{{{DataType::int8, "int8", 1},
                                          {DataType::uint8, "uint8", 1},
                                          {DataType::int16, "int16", 2},
                                          {DataType::uint16, "uint16", 2},
                                          {DataType::int32, "int32", 4},
                                          {DataType::uint32, "uint32", 4},
                                          {DataType::int64, "int64", 8},
                                          {DataType::uint64, "uint64", 8},
                                          {DataType::float32, "float32", 4},
                                          {DataType::float64, "float64", 8}}};

/// ND_ARRAY_MAX_DIMS of areaDetector.
constexpr std::size_t max_dims = 10;
constexpr std::string_view htype_name = "array-1.0";

struct Parsed {
  Json json;
  std::string attribute_warning;
  /// Set when ndattr was read by the plugin's grammar rather than as JSON.
  std::optional<std::vector<detail::RawAttribute>> raw_attributes;
};

/// The ndattr object's inside when `text` ends with `"ndattr":{…}}` as the
/// plugin composes it (ndattr is its last key), and where "ndattr" starts.
std::optional<std::pair<std::size_t, std::string_view>> ndattr_body(std::string_view text) {
  // The keys before ndattr hold no free text (encoding is a codec name), so
  // its first occurrence is the key itself.
  const auto at = text.find("\"ndattr\"");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 8);
  const auto trim_front = [&] {
    while (!rest.empty() && (rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n'))
      rest.remove_prefix(1);
  };
  trim_front();
  if (rest.empty() || rest[0] != ':') return std::nullopt;
  rest.remove_prefix(1);
  trim_front();
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\n' || rest.back() == '\r'))
    rest.remove_suffix(1);
  if (rest.size() < 3 || rest.front() != '{' || !rest.ends_with("}}")) return std::nullopt;
  return std::pair{at, rest.substr(1, rest.size() - 3)};
}

/// Parses the header: as JSON; else the fixed keys as plugin text and ndattr
/// by the plugin's grammar (adzmq_text.hpp); else all as plugin text; else
/// as plugin text with ndattr dropped. Returns the parser's complaint when
/// nothing reads.
std::variant<Parsed, std::string> parse_header(std::string_view text) {
  Json strict = Json::parse(text, nullptr, false);
  if (!strict.is_discarded()) return Parsed{std::move(strict), {}, {}};
  const auto without_ndattr = [&](std::size_t at) {
    return Json::parse(plugin_text_to_json(text.substr(0, at)) + "\"ndattr\":{}}", nullptr, false);
  };
  if (const auto body = ndattr_body(text)) {
    if (auto raw = detail::split_plugin_ndattr(body->second)) {
      Json fixed = without_ndattr(body->first);
      if (!fixed.is_discarded()) return Parsed{std::move(fixed), {}, std::move(raw)};
    }
  }
  std::string why;
  try {
    return Parsed{Json::parse(plugin_text_to_json(text)), {}, {}};
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for 1e999
    why = e.what();
  }
  const auto at = text.find("\"ndattr\"");
  if (at == std::string_view::npos) return why;
  Json without = without_ndattr(at);
  if (without.is_discarded()) return why;
  return Parsed{
      std::move(without), fmt::format("ndattr does not parse, attributes dropped ({})", why), {}};
}

// ------------------------------------------------------------------ fields

/// A bare word or byte ("\0word", "\1<decimal>"), or nullptr when `j` is not one.
const std::string* bare_word(const Json& j) {
  if (!j.is_string()) return nullptr;
  const auto& s = j.get_ref<const std::string&>();
  return !s.empty() && (s[0] == bare_mark || s[0] == char_mark) ? &s : nullptr;
}

/// The value of a bare byte "\1<decimal>".
std::optional<std::int64_t> bare_byte(std::string_view w) {
  if (w.size() < 2 || w[0] != char_mark) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(w.data() + 1, w.data() + w.size(), v);
  if (ec != std::errc{} || end != w.data() + w.size()) return std::nullopt;
  return v;
}

/// nan / inf / -inf (any case, with optional sign), as the plugin's %g prints them.
std::optional<double> non_finite(std::string_view w) {
  const bool minus = !w.empty() && w[0] == '-';
  if (!w.empty() && (w[0] == '-' || w[0] == '+')) w.remove_prefix(1);
  std::string lower;
  for (const char c : w) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (lower == "inf" || lower == "infinity")
    return minus ? -std::numeric_limits<double>::infinity()
                 : std::numeric_limits<double>::infinity();
  return std::nullopt;
}

std::optional<double> number_of(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (const auto* w = bare_word(j); w != nullptr && (*w)[0] == bare_mark)
    return non_finite(std::string_view{*w}.substr(1));
  return std::nullopt;
}

std::optional<std::uint64_t> unsigned_of(const Json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  return std::nullopt;  // nlohmann stores every non-negative integer as unsigned
}

/// `j` for a message, at most ~60 bytes.
std::string show(const Json& j) {
  const auto* w = bare_word(j);
  std::string s = w == nullptr           ? j.dump(-1, ' ', false, Json::error_handler_t::replace)
                  : (*w)[0] == char_mark ? fmt::format("bare byte {}", w->substr(1))
                                         : fmt::format("bare {:?}", w->substr(1));
  if (s.size() <= 60) return s;
  std::size_t cut = 56;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8
  s.resize(cut);
  return s + "…";
}

/// Converts one ndattr value; false when it has no place in NDAttribute.
bool attribute_value(const Json& j, NDAttribute& a) {
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      a.value = static_cast<std::int64_t>(u);
    else
      a.value = static_cast<double>(u);
  } else if (j.is_number_integer()) {
    a.value = j.get<std::int64_t>();
  } else if (j.is_number_float()) {
    a.value = j.get<double>();
  } else if (j.is_boolean()) {
    a.value = std::int64_t{j.get<bool>() ? 1 : 0};
  } else if (const auto* w = bare_word(j)) {
    const std::string_view word = std::string_view{*w}.substr(1);
    a.sloppy = true;
    if (const auto b = bare_byte(*w))
      a.value = *b;
    else if (const auto d = non_finite(word))
      a.value = *d;
    else
      a.value = std::string{word};
  } else if (j.is_string()) {
    a.value = j.get<std::string>();
  } else {
    return false;
  }
  return true;
}

/// A value read by the plugin's grammar (split_plugin_ndattr).
NDAttribute attribute_of(detail::RawAttribute&& raw) {
  NDAttribute a;
  a.name = utf8_repaired(raw.name);
  using K = detail::RawAttribute::Kind;
  switch (raw.kind) {
    case K::text:
      a.value = utf8_repaired(raw.value);
      break;
    case K::byte:
      a.value = std::int64_t{static_cast<unsigned char>(raw.value[0])};
      a.sloppy = true;
      break;
    case K::token: {
      const Json j = Json::parse(raw.value, nullptr, false);
      if (!j.is_discarded() && (j.is_number() || j.is_boolean())) {
        (void)attribute_value(j, a);
      } else if (const auto d = non_finite(raw.value)) {
        a.value = *d;
        a.sloppy = true;
      } else {
        a.value = raw.value;  // a bare word
        a.sloppy = true;
      }
      break;
    }
  }
  return a;
}

void read_attributes(const Json& ndattr, FrameHeader& h) {
  if (!ndattr.is_object()) {
    h.attribute_warning =
        fmt::format("ndattr is {}, not an object: attributes dropped", show(ndattr));
    return;
  }
  for (const auto& [name, value] : ndattr.items()) {
    NDAttribute a;
    a.name = name;
    if (attribute_value(value, a)) {
      h.attributes.push_back(std::move(a));
    } else {
      if (!h.attribute_warning.empty()) h.attribute_warning += "; ";
      h.attribute_warning +=
          fmt::format("attribute {:?} skipped: {} value", name, value.type_name());
    }
  }
}

class HeaderReader {
 public:
  explicit HeaderReader(const Json& j) : j_(j) {}

  std::variant<FrameHeader, FrameError> read() {
    if (!j_.is_object()) return fail(AdzmqErrc::bad_json, "header is not a JSON object");
    if (const auto* f = find("frame")) {
      const auto n = unsigned_of(*f);
      if (!n)
        return fail(AdzmqErrc::bad_field, fmt::format("frame is {}, not a uniqueId", show(*f)));
      frame_ = *n;
      h_.frame = *n;
    } else {
      return fail(AdzmqErrc::missing_field, "no \"frame\"");
    }
    if (auto e = read_htype()) return std::move(*e);
    if (auto e = read_type()) return std::move(*e);
    if (auto e = read_shape()) return std::move(*e);
    if (auto e = read_time()) return std::move(*e);
    if (auto e = read_encoding()) return std::move(*e);
    if (const auto* a = find("ndattr")) read_attributes(*a, h_);
    return std::move(h_);
  }

  FrameError fail(AdzmqErrc code, std::string what) const {
    return {code, frame_,
            frame_ ? fmt::format("frame {}: {}", *frame_, what) : fmt::format("header: {}", what)};
  }

 private:
  const Json* find(const char* key) const {
    const auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  std::optional<FrameError> read_htype() {
    const auto* t = find("htype");
    if (t == nullptr) return fail(AdzmqErrc::missing_field, "no \"htype\" (shape order unknown)");
    if (t->is_string() && t->get_ref<const std::string&>() == htype_name) {
      h_.wire_order = ShapeOrder::slowest_first;
    } else if (t->is_array() && t->size() == 1 && (*t)[0].is_string() &&
               (*t)[0].get_ref<const std::string&>() == htype_name) {
      h_.wire_order = ShapeOrder::fastest_first;  // ADZMQ < 1.4
    } else {
      return fail(AdzmqErrc::bad_field, fmt::format("htype is {}, not \"array-1.0\"", show(*t)));
    }
    return std::nullopt;
  }

  std::optional<FrameError> read_type() {
    const auto* t = find("type");
    if (t == nullptr) return fail(AdzmqErrc::missing_field, "no \"type\"");
    const auto type =
        t->is_string() ? data_type_from(t->get_ref<const std::string&>()) : std::nullopt;
    if (!type)
      return fail(AdzmqErrc::bad_type, fmt::format("type {} is not a numeric type", show(*t)));
    h_.type = *type;
    return std::nullopt;
  }

  std::optional<FrameError> read_shape() {
    const auto* s = find("shape");
    if (s == nullptr) return fail(AdzmqErrc::missing_field, "no \"shape\"");
    if (!s->is_array() || s->empty() || s->size() > max_dims)
      return fail(AdzmqErrc::bad_shape,
                  fmt::format("shape {} is not a list of 1 to {} dims", show(*s), max_dims));
    std::size_t bytes = element_size(h_.type);
    for (const auto& d : *s) {
      const auto n = unsigned_of(d);
      if (!n || *n == 0 || *n > std::numeric_limits<std::size_t>::max() / bytes)
        return fail(AdzmqErrc::bad_shape,
                    fmt::format("shape {}: dim {} is not a positive size", show(*s), show(d)));
      bytes *= static_cast<std::size_t>(*n);
      h_.shape.push_back(static_cast<std::size_t>(*n));
    }
    if (h_.wire_order == ShapeOrder::fastest_first) std::reverse(h_.shape.begin(), h_.shape.end());
    return std::nullopt;
  }

  std::optional<FrameError> read_time() {
    const auto* t = find("timeStamp");
    if (t == nullptr) return fail(AdzmqErrc::missing_field, "no \"timeStamp\"");
    const auto v = number_of(*t);
    if (!v)
      return fail(AdzmqErrc::bad_field, fmt::format("timeStamp is {}, not a number", show(*t)));
    h_.timestamp = *v;
    return std::nullopt;
  }

  std::optional<FrameError> read_encoding() {
    const auto* e = find("encoding");  // absent before ADCore 3
    if (e == nullptr || (e->is_string() && e->get_ref<const std::string&>().empty()))
      return std::nullopt;
    return fail(e->is_string() ? AdzmqErrc::unsupported_encoding : AdzmqErrc::bad_field,
                fmt::format("encoding {}: only uncompressed arrays are usable (the plugin sends "
                            "the uncompressed size)",
                            show(*e)));
  }

  const Json& j_;
  FrameHeader h_;
  std::optional<std::uint64_t> frame_;
};

}  // namespace

// ------------------------------------------------------------------ public

const std::error_category& adzmq_category() noexcept {
  static const AdzmqCategory category;
  return category;
}

std::error_code make_error_code(AdzmqErrc e) noexcept {
  return {static_cast<int>(e), adzmq_category()};
}

std::size_t element_size(DataType t) noexcept {
  return types[static_cast<std::size_t>(t)].size;
}

std::string_view to_string(DataType t) noexcept {
  return types[static_cast<std::size_t>(t)].name;
}

std::optional<DataType> data_type_from(std::string_view name) noexcept {
  for (const auto& t : types)
    if (t.name == name) return t.type;
  return std::nullopt;
}

std::size_t FrameHeader::element_count() const noexcept {
  std::size_t n = 1;
  for (const auto d : shape) n *= d;
  return n;
}

const NDAttribute* FrameHeader::attribute(std::string_view name) const noexcept {
  for (const auto& a : attributes)
    if (a.name == name) return &a;
  return nullptr;
}

std::variant<FrameHeader, FrameError> decode_adzmq_header(std::span<const std::byte> header_json) {
  std::string_view text{reinterpret_cast<const char*>(header_json.data()), header_json.size()};
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);  // a C-string sender
  if (text.empty()) return FrameError{AdzmqErrc::bad_json, std::nullopt, "header: empty"};
  auto parsed = parse_header(text);
  if (auto* why = std::get_if<std::string>(&parsed))
    return FrameError{AdzmqErrc::bad_json, std::nullopt, fmt::format("header: not JSON: {}", *why)};
  auto& p = std::get<Parsed>(parsed);
  auto header = HeaderReader{p.json}.read();
  if (auto* h = std::get_if<FrameHeader>(&header)) {
    if (!p.attribute_warning.empty()) h->attribute_warning = std::move(p.attribute_warning);
    if (p.raw_attributes) {
      h->attributes.clear();
      for (auto& raw : *p.raw_attributes) h->attributes.push_back(attribute_of(std::move(raw)));
    }
  }
  return header;
}

std::variant<Frame, FrameError> decode_adzmq(std::span<const std::byte> header_json,
                                             std::span<const std::byte> data) {
  auto decoded = decode_adzmq_header(header_json);
  if (auto* e = std::get_if<FrameError>(&decoded)) return std::move(*e);
  auto& h = std::get<FrameHeader>(decoded);
  if (data.size() != h.byte_size()) {
    return FrameError{
        AdzmqErrc::size_mismatch, h.frame,
        fmt::format("frame {}: data is {} bytes, shape {} {} needs {}", h.frame, data.size(),
                    fmt::join(h.shape, "×"), to_string(h.type), h.byte_size())};
  }
  return Frame{std::move(h), data};
}

}  // namespace pandafly::capture
