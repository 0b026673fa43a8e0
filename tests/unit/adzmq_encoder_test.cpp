// The sender side of ADZMQ (capture/adzmq_encoder.hpp; used by the camera
// simulator and LivePublisher): header text byte for byte as
// NDPluginZMQ writes it (golden texts written by hand from file-formats.md
// §3.3 and the plugin's concatenation order), and the round trip through the
// project's own decoder for every data type and both header styles.
#include "pandafly/capture/adzmq_encoder.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/capture/adzmq.hpp"

namespace pandafly::capture {
namespace {

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

ArrayHeader example() {
  ArrayHeader h;
  h.frame = 17;
  h.timestamp = 1136214245.5;
  h.type = DataType::uint16;
  h.shape = {2048, 2448};
  h.attributes = {{"ColorMode", std::int64_t{0}},
                  {"HDF5FrameLocation", std::string("/exchange/data")}};
  return h;
}

constexpr DataType kAllTypes[] = {
    DataType::int8,   DataType::uint8, DataType::int16,  DataType::uint16,  DataType::int32,
    DataType::uint32, DataType::int64, DataType::uint64, DataType::float32, DataType::float64};

}  // namespace

TEST_CASE("adzmq encoder: the reference's example header, byte for byte (ADZMQ >= 1.4)") {
  // file-formats.md §3.3, typed in by hand.
  const std::string want =
      R"({"htype":"array-1.0", "type":"uint16", "shape":[2048,2448], "frame":17, )"
      R"("timeStamp":1136214245.5, "encoding":"", )"
      R"("ndattr":{"ColorMode":0,"HDF5FrameLocation":"/exchange/data"}})";
  CHECK(encode_adzmq_header(example()) == want);
}

TEST_CASE("adzmq encoder: the legacy (< 1.4) header: htype array, shape fastest first") {
  const std::string want =
      R"({"htype":["array-1.0"], "type":"uint16", "shape":[2448,2048], "frame":17, )"
      R"("timeStamp":1136214245.5, "encoding":"", )"
      R"("ndattr":{"ColorMode":0,"HDF5FrameLocation":"/exchange/data"}})";
  CHECK(encode_adzmq_header(example(), HeaderStyle::legacy) == want);
}

TEST_CASE("adzmq encoder: numbers as the plugin's ostream writes them") {
  ArrayHeader h = example();
  h.timestamp = 0.1;  // %.17g shows the double's full value
  h.with_encoding = false;
  h.attributes = {{"i", std::int64_t{-42}},
                  {"u", std::uint64_t{18446744073709551615ULL}},
                  {"f32", 0.1F},
                  {"f64", 1.0 / 3.0},
                  {"whole", 12.0},
                  {"none", Undefined{}},
                  {"nan", std::numeric_limits<double>::quiet_NaN()},
                  {"s", std::string("a b")}};
  const std::string want =
      R"({"htype":"array-1.0", "type":"uint16", "shape":[2048,2448], "frame":17, )"
      R"("timeStamp":0.10000000000000001, "ndattr":{"i":-42,"u":18446744073709551615,)"
      R"("f32":0.100000001,"f64":0.33333333333333331,"whole":12,"none":"Undefined",)"
      R"("nan":nan,"s":"a b"}})";
  CHECK(encode_adzmq_header(h) == want);
  CHECK(format_number(1164304547.0158327, 17) == "1164304547.0158327");
  CHECK(format_number(1e-7, 17) == "9.9999999999999995e-08");
}

TEST_CASE("adzmq encoder: round trip through decode_adzmq, every type, both styles") {
  for (const HeaderStyle style : {HeaderStyle::current, HeaderStyle::legacy}) {
    for (const DataType type : kAllTypes) {
      INFO(to_string(type), " legacy=", style == HeaderStyle::legacy);
      ArrayHeader h;
      h.frame = 123456789012ULL;
      h.timestamp = 1164304547.0158327;
      h.type = type;
      h.shape = {3, 5, 7};
      h.attributes = {{"ColorMode", std::int64_t{0}},
                      {"HDF5FrameLocation", std::string("/exchange/data_dark")},
                      {"theta_readout", 12.345678901234567},
                      {"gain", 2.5F},
                      {"counter", std::uint64_t{99}}};
      const std::string text = encode_adzmq_header(h, style);
      const std::string data(3 * 5 * 7 * element_size(type), '\x5a');
      auto r = decode_adzmq(bytes(text), bytes(data));
      REQUIRE_MESSAGE(std::holds_alternative<Frame>(r), text);
      const auto& got = std::get<Frame>(r).header;
      CHECK(got.frame == h.frame);
      CHECK(got.timestamp == h.timestamp);  // 17 digits: exact
      CHECK(got.type == type);
      CHECK(got.shape == std::vector<std::size_t>{3, 5, 7});
      CHECK(got.wire_order == (style == HeaderStyle::current ? ShapeOrder::slowest_first
                                                             : ShapeOrder::fastest_first));
      CHECK(got.attribute_warning.empty());
      REQUIRE(got.attributes.size() == 5);
      CHECK(got.attributes[0].name == "ColorMode");
      CHECK(std::get<std::int64_t>(got.attributes[0].value) == 0);
      CHECK(std::get<std::string>(got.attributes[1].value) == "/exchange/data_dark");
      CHECK(std::get<double>(got.attributes[2].value) == 12.345678901234567);
      CHECK(std::get<double>(got.attributes[3].value) == 2.5);
      CHECK(std::get<std::int64_t>(got.attributes[4].value) == 99);
      for (const auto& a : got.attributes) CHECK_FALSE(a.sloppy);
    }
  }
}

TEST_CASE("adzmq encoder: the text buffer is reused, not appended to") {
  std::string out = "left over";
  encode_adzmq_header(example(), HeaderStyle::current, out);
  CHECK(out == encode_adzmq_header(example()));
  encode_adzmq_header(example(), HeaderStyle::current, out);
  CHECK(out == encode_adzmq_header(example()));
}

}  // namespace pandafly::capture
