// decode_adzmq: every data type, both shape orders, attributes of each kind,
// the plugin's sloppy headers (file-formats.md §3.4), errors naming the frame,
// a zero-copy 2048×2048 frame, and headers cut or split at every index.
#include "pandafly/capture/adzmq.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace pandafly::capture {
namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span{s});
}

/// A header as NDPluginZMQ ≥ 1.4 writes it (keys in its fixed order).
std::string header(std::string_view type, std::string_view shape, std::uint64_t frame = 17,
                   std::string_view ndattr = "{}") {
  return fmt::format(
      R"({{"htype":"array-1.0", "type":"{}", "shape":{}, "frame":{}, "timeStamp":1136214245.5, )"
      R"("encoding":"", "ndattr":{}}})",
      type, shape, frame, ndattr);
}

std::variant<Frame, FrameError> decode(std::string_view h, std::size_t data_bytes) {
  static std::vector<std::byte> data;
  data.assign(data_bytes, std::byte{0x5a});
  return decode_adzmq(bytes(h), data);
}

const Frame& frame_of(const std::variant<Frame, FrameError>& r) {
  if (const auto* e = std::get_if<FrameError>(&r)) FAIL(e->message);
  return std::get<Frame>(r);
}

FrameError error_of(const std::variant<Frame, FrameError>& r) {
  REQUIRE(std::holds_alternative<FrameError>(r));
  return std::get<FrameError>(r);
}

/// The attributes of a header whose ndattr is `ndattr` (shape [1] uint8).
FrameHeader with_attrs(std::string_view ndattr) {
  return frame_of(decode(header("uint8", "[1]", 3, ndattr), 1)).header;
}

template <class T>
T value_of(const FrameHeader& h, std::string_view name) {
  const auto* a = h.attribute(name);
  REQUIRE_MESSAGE(a != nullptr, name);
  REQUIRE_MESSAGE(std::holds_alternative<T>(a->value), name);
  return std::get<T>(a->value);
}

TEST_CASE("adzmq: every data type, data size = elements × element size") {
  const std::pair<const char*, std::size_t> types[] = {
      {"int8", 1},   {"uint8", 1}, {"int16", 2},  {"uint16", 2},  {"int32", 4},
      {"uint32", 4}, {"int64", 8}, {"uint64", 8}, {"float32", 4}, {"float64", 8}};
  for (const auto& type : types) {
    const std::string name = type.first;  // clang 14: no structured bindings in CAPTURE
    const std::size_t size = type.second;
    CAPTURE(name);
    const auto f = frame_of(decode(header(name, "[2,3]"), 6 * size));
    CHECK(to_string(f.header.type) == name);
    CHECK(element_size(f.header.type) == size);
    CHECK(f.header.element_count() == 6);
    CHECK(f.header.byte_size() == 6 * size);
    CHECK(f.header.frame == 17);
    CHECK(f.header.timestamp == 1136214245.5);
    CHECK(f.header.byte_order == std::endian::little);
    CHECK(data_type_from(name) == f.header.type);
    CHECK(error_of(decode(header(name, "[2,3]"), 6 * size - 1)).code == AdzmqErrc::size_mismatch);
  }
  CHECK_FALSE(data_type_from("rgb"));
}

TEST_CASE("adzmq: shape is returned slowest first, whichever order the plugin used") {
  SUBCASE("ADZMQ >= 1.4: htype string, shape [y, x]") {
    const auto f = frame_of(decode(header("uint16", "[2048,2448]"), 2048 * 2448 * 2));
    CHECK(f.header.shape == std::vector<std::size_t>{2048, 2448});
    CHECK(f.header.wire_order == ShapeOrder::slowest_first);
  }
  SUBCASE("ADZMQ < 1.4: htype one-element array, shape [x, y]") {
    const std::string h =
        R"({"htype":["array-1.0"], "type":"uint16", "shape":[2448,2048], "frame":5, )"
        R"("timeStamp":1.5, "ndattr":{"ColorMode":0}})";  // no encoding: ADCore < 3
    const auto f = frame_of(decode(h, 2048 * 2448 * 2));
    CHECK(f.header.shape == std::vector<std::size_t>{2048, 2448});
    CHECK(f.header.wire_order == ShapeOrder::fastest_first);
    CHECK(value_of<std::int64_t>(f.header, "ColorMode") == 0);
  }
  SUBCASE("RGB1 [y, x, 3] and 1-D") {
    CHECK(frame_of(decode(header("uint8", "[4,5,3]"), 60)).header.shape ==
          std::vector<std::size_t>{4, 5, 3});
    CHECK(frame_of(decode(header("float64", "[7]"), 56)).header.shape ==
          std::vector<std::size_t>{7});
  }
}

TEST_CASE("adzmq: attributes of each kind, in the order sent") {
  const auto h = with_attrs(
      R"({"ColorMode":0,"Neg":-12,"Big":18446744073709551615,"I64":9223372036854775807,)"
      R"("F32":0.100000001,"F64":3.1415926535897931,"Loc":"/exchange/data","Undef":"Undefined",)"
      R"("Flag":true,"Exp":1e-3})");
  REQUIRE(h.attributes.size() == 10);
  CHECK(h.attributes[0].name == "ColorMode");
  CHECK(h.attributes[9].name == "Exp");
  CHECK(value_of<std::int64_t>(h, "Neg") == -12);
  CHECK(value_of<double>(h, "Big") == doctest::Approx(1.8446744073709552e19));
  CHECK(value_of<std::int64_t>(h, "I64") == INT64_MAX);
  CHECK(value_of<double>(h, "F32") == doctest::Approx(0.1));
  CHECK(value_of<double>(h, "F64") == 3.1415926535897931);
  CHECK(value_of<std::string>(h, "Loc") == "/exchange/data");
  CHECK(value_of<std::string>(h, "Undef") == "Undefined");
  CHECK(value_of<std::int64_t>(h, "Flag") == 1);
  CHECK(value_of<double>(h, "Exp") == 1e-3);
  for (const auto& a : h.attributes) CHECK_FALSE(a.sloppy);
  CHECK(h.attribute_warning.empty());
  CHECK(h.attribute("nope") == nullptr);
}

TEST_CASE("adzmq: bare nan and inf (§3.4)") {
  const auto h = with_attrs(R"({"a":nan,"b":inf,"c":-inf,"d":-nan,"e":1.5,"f":NaN})");
  CHECK(std::isnan(value_of<double>(h, "a")));
  CHECK(value_of<double>(h, "b") == INFINITY);
  CHECK(value_of<double>(h, "c") == -INFINITY);
  CHECK(std::isnan(value_of<double>(h, "d")));
  CHECK(std::isnan(value_of<double>(h, "f")));
  CHECK(value_of<double>(h, "e") == 1.5);
  CHECK(h.attribute("a")->sloppy);
  CHECK_FALSE(h.attribute("e")->sloppy);
  // The time stamp may be nan too; the frame still decodes.
  const std::string t = R"({"htype":"array-1.0", "type":"uint8", "shape":[1], "frame":1, )"
                        R"("timeStamp":nan, "encoding":"", "ndattr":{}})";
  CHECK(std::isnan(frame_of(decode(t, 1)).header.timestamp));
}

TEST_CASE("adzmq: raw int8/uint8 characters (§3.4)") {
  SUBCASE("a letter is its byte value") {
    const auto h = with_attrs(R"({"Bin":A,"Word":Bogus})");
    CHECK(value_of<std::int64_t>(h, "Bin") == 65);
    CHECK(h.attribute("Bin")->sloppy);
    CHECK(value_of<std::string>(h, "Word") == "Bogus");
  }
  SUBCASE("NUL, a control byte and a high byte") {
    const std::string nd =
        std::string{R"({"z":)"} + '\0' + R"(,"c":)" + '\x07' + R"(,"h":)" + '\xb0' + "}";
    const auto h = with_attrs(nd);
    CHECK(value_of<std::int64_t>(h, "z") == 0);
    CHECK(value_of<std::int64_t>(h, "c") == 7);
    CHECK(value_of<std::int64_t>(h, "h") == 0xb0);
  }
  SUBCASE(
      "text that fits no reading of the plugin's grammar loses the attributes, never "
      "the frame") {
    const auto f = frame_of(decode(header("uint8", "[1]", 9, R"({"a":1,"Bin":,,,"b":2})"), 1));
    CHECK(f.header.attributes.empty());
    CHECK(f.header.attribute_warning.find("ndattr does not parse") != std::string::npos);
    CHECK(f.header.frame == 9);
  }
}

// NDPluginZMQ prints an int8/uint8 NDAttribute with operator<< on a char: the
// raw byte (file-formats.md §3.4). Each of these bytes used to make the whole
// ndattr unreadable, so the frame lost its routing and angle.
TEST_CASE("adzmq: a raw white-space or punctuation byte is one attribute's value") {
  for (const int b : {9, 10, 13, 32, int{'"'}, int{','}, int{':'}, int{'['}, int{']'}, int{'{'},
                      int{'}'}, 0, 0xff}) {
    CAPTURE(b);
    for (const bool last : {false, true}) {
      CAPTURE(last);
      const std::string raw(1, static_cast<char>(b));
      const std::string nd =
          last ? R"({"HDF5FrameLocation":"/exchange/data_dark","theta_readout":12.5,"Bin":)" + raw +
                     "}"
               : R"({"Bin":)" + raw +
                     R"(,"HDF5FrameLocation":"/exchange/data_dark","theta_readout":12.5})";
      const auto h = with_attrs(nd);
      CHECK(h.attribute_warning.empty());
      REQUIRE(h.attributes.size() == 3);
      CHECK(value_of<std::int64_t>(h, "Bin") == b);
      CHECK(h.attribute("Bin")->sloppy);
      CHECK(value_of<std::string>(h, "HDF5FrameLocation") == "/exchange/data_dark");
      CHECK(value_of<double>(h, "theta_readout") == 12.5);
    }
  }
}

TEST_CASE("adzmq: raw bytes next to strings that hold the same punctuation") {
  SUBCASE("a raw quote before a string value") {
    const auto h = with_attrs(R"({"q":","Loc":"/exchange/data","n":7})");
    CHECK(value_of<std::int64_t>(h, "q") == '"');
    CHECK(value_of<std::string>(h, "Loc") == "/exchange/data");
    CHECK(value_of<std::int64_t>(h, "n") == 7);
  }
  SUBCASE("a string holding a quote, comma and colon, then a raw comma") {
    const auto h = with_attrs(R"({"Note":"a "b", c: d","c":,,"t":-1.5e2,"u":nan,"w":Undefined})");
    CHECK(value_of<std::string>(h, "Note") == R"(a "b", c: d)");
    CHECK(value_of<std::int64_t>(h, "c") == ',');
    CHECK(value_of<double>(h, "t") == -150.0);
    CHECK(std::isnan(value_of<double>(h, "u")));
    CHECK(value_of<std::string>(h, "w") == "Undefined");
  }
  SUBCASE("two raw bytes in a row, and an empty string") {
    const auto h = with_attrs(R"({"a":},"b":{,"e":"","z":"})");
    CHECK(value_of<std::int64_t>(h, "a") == '}');
    CHECK(value_of<std::int64_t>(h, "b") == '{');
    CHECK(value_of<std::string>(h, "e").empty());
    CHECK(value_of<std::int64_t>(h, "z") == '"');
  }
}

TEST_CASE("adzmq: unescaped strings (§3.4)") {
  SUBCASE("quotes inside a value") {
    const auto h = with_attrs(R"({"Note":"he said "hi" twice","n":1})");
    CHECK(value_of<std::string>(h, "Note") == R"(he said "hi" twice)");
    CHECK(value_of<std::int64_t>(h, "n") == 1);
  }
  SUBCASE("backslashes are literal once the header is not JSON") {
    const auto h = with_attrs(R"({"Path":"C:\data\x","t":nan})");
    CHECK(value_of<std::string>(h, "Path") == R"(C:\data\x)");
  }
  SUBCASE("control bytes, UTF-8 and Latin-1 inside strings") {
    const std::string nd = "{\"Multi\":\"a\nb\tc\",\"Deg\":\"5\xc2\xb0\",\"L1\":\"5\xb0\"}";
    const auto h = with_attrs(nd);
    CHECK(value_of<std::string>(h, "Multi") == "a\nb\tc");
    CHECK(value_of<std::string>(h, "Deg") == "5\xc2\xb0");
    CHECK(value_of<std::string>(h, "L1") == "5\xc2\xb0");  // Latin-1 ° read as U+00B0
  }
  SUBCASE("valid JSON escapes from a JSON encoder are honoured") {
    const auto h = with_attrs(R"({"q":"a\"b\\c\u00b0"})");
    CHECK(value_of<std::string>(h, "q") == "a\"b\\c\xc2\xb0");
  }
}

TEST_CASE("adzmq: long headers, a trailing NUL, no encoding key") {
  std::string nd = "{";
  for (int i = 0; i < 200; ++i) nd += fmt::format("{}\"Attr{}\":{}", i == 0 ? "" : ",", i, i);
  nd += "}";
  const auto h = header("uint8", "[1]", 3, nd);
  REQUIRE(h.size() > 2048);
  CHECK(frame_of(decode(h, 1)).header.attributes.size() == 200);
  CHECK(frame_of(decode(header("uint8", "[1]") + '\0', 1)).header.frame == 17);
}

TEST_CASE("adzmq: errors carry the right code and name the frame") {
  SUBCASE("size mismatch") {
    const auto e = error_of(decode(header("uint16", "[2048,1024]"), 4194300));
    CHECK(e.code == AdzmqErrc::size_mismatch);
    CHECK(e.frame == 17);
    CHECK(e.message == "frame 17: data is 4194300 bytes, shape 2048×1024 uint16 needs 4194304");
    CHECK(std::string{e.code.category().name()} == "adzmq");
    CHECK_FALSE(e.code.message().empty());
  }
  SUBCASE("missing fields") {
    const char* keys[] = {"\"htype\":\"array-1.0\", ", "\"type\":\"uint16\", ", "\"shape\":[2,2], ",
                          "\"timeStamp\":1136214245.5, "};
    for (const char* key : keys) {
      CAPTURE(key);
      std::string h = header("uint16", "[2,2]");
      h.erase(h.find(key), std::strlen(key));
      const auto e = error_of(decode(h, 8));
      CHECK(e.code == AdzmqErrc::missing_field);
      CHECK(e.message.rfind("frame 17: no ", 0) == 0);
    }
    std::string h = header("uint16", "[2,2]");
    h.erase(h.find("\"frame\":17, "), 12);
    const auto e = error_of(decode(h, 8));
    CHECK(e.code == AdzmqErrc::missing_field);
    CHECK_FALSE(e.frame);
    CHECK(e.message == "header: no \"frame\"");
  }
  SUBCASE("bad values") {
    CHECK(error_of(decode(header("rgb", "[2]"), 2)).code == AdzmqErrc::bad_type);
    for (const char* s : {"[]", "[0,2]", "[-1,2]", "[2.5]", "[\"2\"]", "2",
                          "[1,1,1,1,1,1,1,1,1,1,1]", "[4294967296,4294967296,4294967296]"}) {
      CAPTURE(s);
      const auto e = error_of(decode(header("uint8", s), 1));
      CHECK(e.code == AdzmqErrc::bad_shape);
      CHECK(e.message.rfind("frame 17: shape", 0) == 0);
    }
    std::string lz4 = header("uint8", "[1]");
    lz4.replace(lz4.find("\"encoding\":\"\""), 13, "\"encoding\":\"lz4\"");
    CHECK(error_of(decode(lz4, 1)).code == AdzmqErrc::unsupported_encoding);
    std::string old = header("uint8", "[1]");
    old.replace(old.find("\"array-1.0\""), 11, "\"array-2.0\"");
    CHECK(error_of(decode(old, 1)).code == AdzmqErrc::bad_field);
    std::string neg = header("uint8", "[1]");
    neg.replace(neg.find("17"), 2, "-3");
    CHECK(error_of(decode(neg, 1)).code == AdzmqErrc::bad_field);
  }
  SUBCASE("garbage") {
    for (std::string_view g : {"", "STOP", "[1,2]", "{\"htype\":", "\x01\x02\xff", "{}}"}) {
      CAPTURE(g);
      const auto e = error_of(decode(g, 0));
      CHECK(e.code.category() == adzmq_category());
      CHECK(e.message.rfind("header: ", 0) == 0);
      CHECK_FALSE(e.frame);
    }
    CHECK(error_of(decode("STOP", 0)).code == AdzmqErrc::bad_json);
  }
}

TEST_CASE("adzmq: a 2048×2048 uint16 frame decodes zero-copy") {
  std::vector<std::byte> data(2048u * 2048u * 2u, std::byte{1});
  const auto h = header("uint16", "[2048,2048]", 42);
  const auto r = decode_adzmq(bytes(h), data);
  const auto& f = frame_of(r);
  CHECK(f.data.data() == data.data());
  CHECK(f.data.size() == data.size());
  CHECK(f.header.frame == 42);
}

TEST_CASE("adzmq: the header alone, as a receiver reads it before the data frame") {
  const auto r = decode_adzmq_header(bytes(header("int32", "[3,4]")));
  REQUIRE(std::holds_alternative<FrameHeader>(r));
  CHECK(std::get<FrameHeader>(r).byte_size() == 48);
}

TEST_CASE("adzmq: a header cut or split at every index decodes or fails, never crashes") {
  const std::string sloppy =
      header("uint16", "[2,3]", 7, "{\"a\":nan,\"b\":A,\"c\":\"x\"y\",\"d\":\"C:\\t\",\"e\":-inf}");
  for (const std::string& h :
       {header("uint16", "[2,3]", 7, R"({"ColorMode":0,"s":"v"})"), sloppy}) {
    std::string message = h + std::string(12, 'd');
    for (std::size_t i = 0; i <= message.size(); ++i) {
      CAPTURE(i);
      const std::string_view m{message};
      const auto r = decode_adzmq(bytes(m.substr(0, i)), bytes(m.substr(i)));
      if (const auto* f = std::get_if<Frame>(&r)) {
        CHECK(i == h.size());  // only the true split matches the data size
        CHECK(f->header.frame == 7);
      } else {
        CHECK_FALSE(std::get<FrameError>(r).message.empty());
      }
      (void)decode_adzmq_header(bytes(m.substr(0, i)));
    }
  }
  CHECK(frame_of(decode(sloppy, 12)).header.attributes.size() == 5);
}

}  // namespace
}  // namespace pandafly::capture
