// ColumnDecoder: samples into typed columns, and RAW scaled on the client,
// against values worked out by hand.
#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "panda_data_test_util.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data_header.hpp"

namespace pandafly::panda {
namespace {

using test::Packer;

Field field(std::string name, std::string capture, FieldType type, std::optional<double> scale = {},
            std::optional<double> offset = {}, std::string units = "") {
  Field f;
  f.name = std::move(name);
  f.capture = std::move(capture);
  f.mode = capture_mode_from(f.capture);
  f.type = type;
  f.scale = scale;
  f.offset = offset;
  f.units = std::move(units);
  return f;
}

/// The RAW layout of: GATE_DURATION (added by the server for Mean/StdDev),
/// BITS0, INENC1.VAL Min, TS_TRIG, INENC2.VAL Mean, INENC1.VAL StdDev (with
/// its extra sum before it) — in the server's class order.
StartData raw_start() {
  StartData s;
  s.processing = Processing::raw;
  s.fields = {
      field("PCAP.GATE_DURATION", "Value", FieldType::int32, 8e-9, 0, "s"),
      field("PCAP.BITS0", "Value", FieldType::uint32),
      field("INENC1.VAL", "Min", FieldType::int32, 0.5, 1, "mm"),
      field("PCAP.TS_TRIG", "Value", FieldType::int64, 8e-9, 0, "s"),
      field("INENC2.VAL", "Mean", FieldType::int64, 2, 10, "deg"),
      field("INENC1.VAL", "Mean", FieldType::int64, 0.5, 1, "mm"),
      field("INENC1.VAL", "StdDev", FieldType::int96, 0.5, 1, "mm"),
  };
  s.sample_bytes = 48;
  return std::get<StartData>(finish_layout(s, true));
}

struct RawRow {
  std::int32_t ticks;
  std::uint32_t bits;
  std::int32_t min;
  std::int64_t ts;
  std::int64_t sum2;
  std::int64_t sum1;
  Int128 sum_sq1;
};

std::string pack(const std::vector<RawRow>& rows) {
  Packer p;
  for (const auto& r : rows) {
    const auto sq = Int96::from(r.sum_sq1);
    p.put(r.ticks).put(r.bits).put(r.min).put(r.ts).put(r.sum2).put(r.sum1);
    p.put96(sq.word[0], sq.word[1], sq.word[2]);
  }
  return p.str();
}

FrameData frame_of(const std::string& bytes, std::size_t sample_bytes) {
  return FrameData{std::as_bytes(std::span{bytes.data(), bytes.size()}),
                   bytes.size() / sample_bytes, sample_bytes};
}

template <class D>
ColumnDecoder make_decoder(const StartData& s, D mode) {
  auto made = ColumnDecoder::make(s, mode);
  REQUIRE(std::holds_alternative<ColumnDecoder>(made));
  return std::get<ColumnDecoder>(std::move(made));
}

const Int128 big = Int128{2147483647} * 2147483647 * (1 << 20);

const std::vector<RawRow> rows = {
    // x = 1, 2, 3, 4 over 4 ticks: sum 10, Σx² 30
    {4, 0xA5, -3, 125'000'000, 100, 10, 30},
    // the gate never opened
    {0, 0, 0, 0, 0, 0, 0},
    // x = -5, 5 over 2 ticks: sum 0, Σx² 50
    {2, 1, 7, 1, -40, 0, 50},
    // x = 2^31 − 1 for 2^20 ticks: the variance cancels to exactly 0
    {1 << 20, 2, 2147483647, 3, 0, std::int64_t{2147483647} << 20, big},
};

TEST_CASE("Int96 round-trips through 128 bits, negative values included") {
  for (Int128 v :
       {Int128{0}, Int128{-1}, Int128{30}, big, -big, (Int128{1} << 95) - 1, -(Int128{1} << 95)}) {
    CHECK(Int96::from(v).value() == v);
  }
  CHECK(Int96{{0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}}.value() == -1);
}

TEST_CASE("RAW scaled on the client: Mean and StdDev over the raw gate ticks") {
  const auto start = raw_start();
  const auto dec = make_decoder(start, ColumnDecoder::Mode::scaled);
  std::vector<std::string> names;
  for (const auto& s : dec.specs()) names.push_back(s.name);
  // The INENC1.VAL Mean RAW sends before its StdDev is that field's Mean
  // column too (reference §3.3; pandablocks-client keeps it).
  CHECK(names == std::vector<std::string>{"PCAP.GATE_DURATION.Value", "PCAP.BITS0.Value",
                                          "INENC1.VAL.Min", "PCAP.TS_TRIG.Value", "INENC2.VAL.Mean",
                                          "INENC1.VAL.Mean", "INENC1.VAL.StdDev"});
  const auto bytes = pack(rows);
  auto block = dec.make_block();
  dec.append(frame_of(bytes, 48), block);
  REQUIRE(block.rows() == 4);

  const auto gate = block.values<double>(0);
  CHECK(gate[0] == doctest::Approx(32e-9));
  CHECK(gate[3] == doctest::Approx((1 << 20) * 8e-9));
  CHECK(block.values<std::uint32_t>(1)[0] == 0xA5);
  const auto min = block.values<double>(2);
  CHECK(min[0] == -0.5);  // −3 · 0.5 + 1
  CHECK(min[2] == 4.5);
  const auto ts = block.values<double>(3);
  CHECK(ts[0] == doctest::Approx(1.0));
  const auto mean = block.values<double>(4);
  CHECK(mean[0] == 60.0);  // 100 · 2 / 4 + 10
  CHECK(std::isnan(mean[1]));
  CHECK(mean[2] == -30.0);  // −40 · 2 / 2 + 10
  const auto mean1 = block.values<double>(5);
  CHECK(mean1[0] == 2.25);  // 10 · 0.5 / 4 + 1
  CHECK(std::isnan(mean1[1]));
  CHECK(mean1[2] == 1.0);           // 0 · 0.5 / 2 + 1
  CHECK(mean1[3] == 1073741824.5);  // (2^31 − 1) · 2^20 · 0.5 / 2^20 + 1
  const auto sd = block.values<double>(6);
  CHECK(sd[0] == doctest::Approx(0.5 * std::sqrt(1.25)).epsilon(1e-15));
  CHECK(std::isnan(sd[1]));
  CHECK(sd[2] == 2.5);  // 0.5 · √((2·50 − 0)/4)
  CHECK(sd[3] == 0.0);
}

TEST_CASE("StdDev of impossible raw sums (garbage on the wire) is a number or NaN, never UB") {
  // Found by fuzz_data_stream: N·Σx² − (Σx)² overflowed 128 bits.
  const std::vector<RawRow> bad = {
      {static_cast<std::int32_t>(0x80000001u), 0, 0, 0, 0, INT64_MIN, -(Int128{1} << 95)},
      {-1, 0, 0, 0, 0, INT64_MAX, (Int128{1} << 95) - 1},
  };
  const auto dec = make_decoder(raw_start(), ColumnDecoder::Mode::scaled);
  const auto bytes = pack(bad);
  auto block = dec.make_block();
  dec.append(frame_of(bytes, 48), block);
  for (double v : block.values<double>(6)) CHECK((std::isnan(v) || v >= 0));
}

TEST_CASE("as sent: one column per header field, named as the header names it") {
  const auto dec = make_decoder(raw_start(), ColumnDecoder::Mode::as_sent);
  REQUIRE(dec.specs().size() == 7);
  CHECK(dec.specs()[5].name == "INENC1.VAL.Mean");  // was INENC1.VAL.StdDev.sum (issue 14)
  CHECK(dec.specs()[6].type == ColumnType::int96);
  const auto bytes = pack(rows);
  auto block = dec.make_block();
  dec.append(frame_of(bytes, 48), block);
  dec.append(frame_of(bytes, 48), block);  // appends
  REQUIRE(block.rows() == 8);
  CHECK(block.values<std::int32_t>(0)[4] == 4);
  CHECK(block.values<std::int64_t>(4)[2] == -40);
  CHECK(block.values<Int96>(6)[3].value() == big);
  CHECK(block.bytes(6).size() == 8 * 12);
  block.clear();
  CHECK(block.rows() == 0);
  CHECK_THROWS_AS((void)block.values<double>(3), std::bad_variant_access);  // it holds int64
}

TEST_CASE("scale 1 / offset 0 stays integer; SCALED streams are copied as sent") {
  StartData raw;
  raw.processing = Processing::raw;
  raw.fields = {field("COUNTER1.OUT", "Value", FieldType::int32, 1, 0),
                field("PCAP.TS_TRIG", "Sum", FieldType::int64, 1, 0)};
  raw = std::get<StartData>(finish_layout(raw, false));
  const auto dec = make_decoder(raw, ColumnDecoder::Mode::scaled);
  CHECK(dec.specs()[0].type == ColumnType::int32);
  CHECK(dec.specs()[1].type == ColumnType::int64);

  StartData scaled;
  scaled.fields = {field("PCAP.BITS0", "Value", FieldType::uint32),
                   field("INENC1.VAL", "Mean", FieldType::float64, 0.5, 1)};
  scaled = std::get<StartData>(finish_layout(scaled, false));
  const auto sdec = make_decoder(scaled, ColumnDecoder::Mode::scaled);
  const auto bytes = Packer{}.put(3u).put(0.25).put(4u).put(-1.0).str();
  auto block = sdec.make_block();
  sdec.append(frame_of(bytes, 12), block);
  CHECK(block.values<double>(1)[0] == 0.25);  // the server already scaled it
  CHECK(block.values<std::uint32_t>(0)[1] == 4);
}

TEST_CASE("older firmware: the gate count is PCAP.SAMPLES") {
  StartData s;
  s.processing = Processing::raw;
  s.fields = {field("PCAP.SAMPLES", "Value", FieldType::uint32, 1, 0),
              field("INENC1.VAL", "Mean", FieldType::int64, 0.25, 0)};
  s = std::get<StartData>(finish_layout(s, false));
  const auto dec = make_decoder(s, ColumnDecoder::Mode::scaled);
  const auto bytes = Packer{}.put(8u).put(std::int64_t{64}).str();
  auto block = dec.make_block();
  dec.append(frame_of(bytes, 12), block);
  CHECK(block.values<double>(1)[0] == 2.0);  // 64 · 0.25 / 8
}

TEST_CASE("RAW Mean without a gate count cannot be scaled: an error, not a guess") {
  StartData s;
  s.processing = Processing::raw;
  s.fields = {field("INENC1.VAL", "Mean", FieldType::int64, 0.25, 0)};
  s = std::get<StartData>(finish_layout(s, false));
  const auto made = ColumnDecoder::make(s, ColumnDecoder::Mode::scaled);
  REQUIRE(std::holds_alternative<DataError>(made));
  CHECK(std::get<DataError>(made).message.find("INENC1.VAL.Mean") != std::string::npos);
  CHECK(
      std::holds_alternative<ColumnDecoder>(ColumnDecoder::make(s, ColumnDecoder::Mode::as_sent)));
}

}  // namespace
}  // namespace pandafly::panda
