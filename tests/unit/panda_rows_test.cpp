// capture::PandaRows: data-port bytes built by hand from the protocol
// reference (§3) → DataConnection → ColumnDecoder → fly-scan rows, against
// values worked out by hand; missing columns and unusable values refused
// with messages naming them.
#include "pandafly/capture/panda_rows.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "panda_fly_stream.hpp"
#include "pandafly/panda/columns.hpp"

namespace pandafly::capture {
namespace {

using panda::ColumnDecoder;
using panda::test::WireField;

/// An acquisition decoded from `stream`: its header and every sample's bytes.
struct Decoded {
  panda::StartData start;
  std::string samples;
};

Decoded decode(const std::string& stream) {
  const auto d = panda::test::decode_whole(panda::DataOptions{}, stream);
  for (const auto& e : d.errors) FAIL_CHECK(e.message);
  REQUIRE(d.errors.empty());
  REQUIRE(d.starts.size() == 1);
  return {d.starts[0], d.samples.at(0)};
}

ColumnDecoder decoder_for(const panda::StartData& start, ColumnDecoder::Mode mode) {
  auto made = ColumnDecoder::make(start, mode);
  REQUIRE(std::holds_alternative<ColumnDecoder>(made));
  return std::get<ColumnDecoder>(std::move(made));
}

/// Samples [first, first + n) of `d` decoded into one block.
panda::ColumnBlock block_of(const Decoded& d, const ColumnDecoder& dec, std::size_t first,
                            std::size_t n) {
  const std::size_t sb = dec.sample_bytes();
  panda::ColumnBlock block = dec.make_block();
  dec.append({std::as_bytes(std::span{d.samples.data() + first * sb, n * sb}), n, sb}, block);
  return block;
}

std::string scaled_stream(const std::vector<WireField>& fields, std::size_t sample_bytes,
                          const std::string& payload, std::uint64_t missed = 0) {
  return "OK\n" + panda::test::header_xml(fields, "Scaled", sample_bytes, missed) +
         panda::test::bin_frame(payload) + "END 5 Ok\n";
}

TEST_CASE("PandaRows: a SCALED fly acquisition becomes rows, the table keeps every column") {
  const auto samples = panda::test::fly_samples(0, 5);
  const auto d =
      decode(scaled_stream(panda::test::scaled_fly_fields(), panda::test::scaled_fly_sample_bytes,
                           panda::test::pack(samples)));
  const auto dec = decoder_for(d.start, ColumnDecoder::Mode::scaled);
  PandaRows rows;
  rows.start(d.start, dec.specs(), ColumnDecoder::Mode::scaled);
  std::vector<PandaRow> out;
  rows.append(block_of(d, dec, 0, 2), out);  // two blocks: indices go on
  rows.append(block_of(d, dec, 2, 3), out);
  REQUIRE(out.size() == 5);
  for (std::size_t k = 0; k < 5; ++k) {
    CAPTURE(k);
    CHECK(out[k].index == k);
    CHECK(out[k].mean_deg == samples[k].mean);
    CHECK(out[k].min_deg == samples[k].min);
    CHECK(out[k].max_deg == samples[k].max);
    CHECK(out[k].ts_start_s == samples[k].ts_start);
    CHECK(out[k].ts_end_s == samples[k].ts_end);
    CHECK(out[k].ts_trig_s == samples[k].ts_trig);
  }
  CHECK(out[3].mean_deg == doctest::Approx(0.5 + 0.3 * 3 + 0.1));
  CHECK(rows.rows() == 5);

  // Every column, in header order, with its units, as float64.
  const auto& t = rows.table();
  REQUIRE(t.size() == 7);
  CHECK(t[0].name == "PCAP.BITS0.Value");
  CHECK(t[0].units == "");
  CHECK(t[0].values == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(t[1].name == "INENC1.VAL.Min");
  CHECK(t[1].units == "deg");
  CHECK(t[3].name == "PCAP.TS_START.Value");
  CHECK(t[3].units == "s");
  CHECK(t[6].name == "INENC1.VAL.Mean");
  REQUIRE(t[6].values.size() == 5);
  CHECK(t[6].values[4] == samples[4].mean);
  const auto taken = rows.take_table();
  CHECK(taken.size() == 7);
  CHECK(rows.table().size() == 7);  // a fresh table with the same columns
  CHECK(rows.table()[0].values.empty());

  // The header's times (not per row). 2026-01-15T10:00:00Z: 56 years after
  // 1970 with 14 leap days (1972 … 2024) = 20454 days, + 14 days into January
  // = 20468 days = 1768435200 s, + 10 h = 1768471200 s POSIX; the EPICS epoch
  // (1990-01-01) is 631152000 s POSIX, so EPICS 1137319200 s; start + 0.004 s.
  const auto& a = rows.acquisition();
  CHECK(a.start_time == "2026-01-15T10:00:00.004000000Z");
  REQUIRE(a.start_epics_s);
  CHECK(*a.start_epics_s == doctest::Approx(1137319200.004).epsilon(1e-15));
  REQUIRE(a.arm_epics_s);
  CHECK(*a.arm_epics_s == doctest::Approx(1137319200.000000001).epsilon(1e-15));
  CHECK(a.missed == 0);
  CHECK(a.columns.size() == 7);
}

TEST_CASE("PandaRows: a RAW stream decoded with scaled columns, worked out by hand (§3.7)") {
  // RAW wire order (§3.3): the gate count the server adds for Mean, then
  // 32-bit Min/Max, 64-bit timestamps, the Mean's 64-bit sum.
  const std::vector<WireField> fields = {{"PCAP.GATE_DURATION", "int32", "Value", 8e-9, 0, "s"},
                                         {"INENC1.VAL", "int32", "Min", 0.0001, 0, "deg"},
                                         {"INENC1.VAL", "int32", "Max", 0.0001, 0, "deg"},
                                         {"PCAP.TS_START", "int64", "Value", 8e-9, 0, "s"},
                                         {"PCAP.TS_END", "int64", "Value", 8e-9, 0, "s"},
                                         {"PCAP.TS_TRIG", "int64", "Value", 8e-9, 0, "s"},
                                         {"INENC1.VAL", "int64", "Mean", 0.0001, 0, "deg"}};
  // One exposure: the gate open 12500 ticks (100 µs at 125 MHz), the encoder
  // from 100 to 201 counts, its sum 1881250 (mean 150.5 counts); the gate
  // from tick 125000 to 137500, triggered at its end.
  panda::test::Packer p;
  p.put(std::int32_t{12500}).put(std::int32_t{100}).put(std::int32_t{201});
  p.put(std::int64_t{125000}).put(std::int64_t{137500}).put(std::int64_t{137500});
  p.put(std::int64_t{1881250});
  // A second exposure whose gate never opened: 0 ticks, Min = Max = 0 and a
  // zero sum (§3.7); triggered at tick 250000.
  p.put(std::int32_t{0}).put(std::int32_t{0}).put(std::int32_t{0});
  p.put(std::int64_t{0}).put(std::int64_t{0}).put(std::int64_t{250000});
  p.put(std::int64_t{0});
  const std::string stream = "OK\n" + panda::test::header_xml(fields, "Raw", 44) +
                             panda::test::bin_frame(p.str()) + "END 2 Ok\n";
  const auto d = decode(stream);
  const auto dec = decoder_for(d.start, ColumnDecoder::Mode::scaled);
  PandaRows rows({.encoder = "INENC1"});  // a block name: its VAL
  rows.start(d.start, dec.specs(), ColumnDecoder::Mode::scaled);
  std::vector<PandaRow> out;
  rows.append(block_of(d, dec, 0, 2), out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].mean_deg == doctest::Approx(1881250 * 0.0001 / 12500));  // 0.01505°
  CHECK(out[0].mean_deg == doctest::Approx(0.01505));
  CHECK(out[0].min_deg == doctest::Approx(0.0100));
  CHECK(out[0].max_deg == doctest::Approx(0.0201));
  CHECK(out[0].ts_start_s == doctest::Approx(0.001));  // 125000 × 8 ns
  CHECK(out[0].ts_end_s == doctest::Approx(0.0011));   // 137500 × 8 ns
  CHECK(out[0].ts_trig_s == doctest::Approx(0.0011));
  // No gate, no angles: Mean NaN (sum / 0 ticks), and Min/Max NaN rather
  // than the PandA's 0 — an exposure never gets angle 0 by accident.
  CHECK(out[1].index == 1);
  CHECK(std::isnan(out[1].mean_deg));
  CHECK(std::isnan(out[1].min_deg));
  CHECK(std::isnan(out[1].max_deg));
  CHECK(out[1].ts_trig_s == doctest::Approx(0.002));  // 250000 × 8 ns
  // The gate count is a column like any other (in seconds).
  REQUIRE(rows.table().size() == 7);
  CHECK(rows.table()[0].name == "PCAP.GATE_DURATION.Value");
  CHECK(rows.table()[0].values[0] == doctest::Approx(0.0001));

  SUBCASE("decoded as sent: sums and ticks, refused") {
    const auto raw = decoder_for(d.start, ColumnDecoder::Mode::as_sent);
    PandaRows r;
    CHECK_THROWS_WITH_AS(r.start(d.start, raw.specs(), ColumnDecoder::Mode::as_sent),
                         doctest::Contains("a RAW stream must be decoded with scaled columns"),
                         std::invalid_argument);
    CHECK_FALSE(r.started());
  }
}

TEST_CASE("PandaRows: a header lacking a column names it and lists what came") {
  auto fields = panda::test::scaled_fly_fields();
  fields.erase(fields.begin() + 5);  // PCAP.TS_TRIG
  fields.erase(fields.begin() + 2);  // INENC1.VAL Max
  const std::string stream =
      "OK\n" + panda::test::header_xml(fields, "Scaled", 4 + 4 * 8) + "END 0 Ok\n";
  const auto d = decode(stream);
  const auto dec = decoder_for(d.start, ColumnDecoder::Mode::scaled);
  PandaRows rows;
  try {
    rows.start(d.start, dec.specs(), ColumnDecoder::Mode::scaled);
    FAIL("no error for missing columns");
  } catch (const MissingColumns& e) {
    CHECK(e.missing() == std::vector<std::string>{"INENC1.VAL.Max", "PCAP.TS_TRIG.Value"});
    CHECK(e.present().size() == 5);
    CHECK(std::string(e.what()) ==
          "the PandA data header lacks INENC1.VAL.Max, PCAP.TS_TRIG.Value needed for fly-scan "
          "rows; it has: PCAP.BITS0.Value, INENC1.VAL.Min, PCAP.TS_START.Value, "
          "PCAP.TS_END.Value, INENC1.VAL.Mean");
  }
  CHECK_FALSE(rows.started());
  std::vector<PandaRow> out;
  CHECK_THROWS_AS(rows.append(dec.make_block(), out), std::logic_error);

  SUBCASE("another encoder named: all three of its columns missing") {
    const auto full = decode("OK\n" +
                             panda::test::header_xml(panda::test::scaled_fly_fields(), "Scaled",
                                                     panda::test::scaled_fly_sample_bytes) +
                             "END 0 Ok\n");
    const auto fdec = decoder_for(full.start, ColumnDecoder::Mode::scaled);
    PandaRows inenc2({.encoder = "INENC2"});
    CHECK_THROWS_WITH_AS(
        inenc2.start(full.start, fdec.specs(), ColumnDecoder::Mode::scaled),
        doctest::Contains("lacks INENC2.VAL.Mean, INENC2.VAL.Min, INENC2.VAL.Max needed"),
        MissingColumns);
  }
}

TEST_CASE("PandaRows: angles must be degrees, or converted") {
  // The encoder left in counts (scale 1, units "counts"): refused, unless the
  // rows are told how to convert. 10000 counts per degree, the direction
  // reversed: −1e-4 °/count, offset 90°.
  std::vector<WireField> fields = panda::test::scaled_fly_fields("INENC1.VAL", "counts");
  std::vector<panda::test::FlySample> s(1);
  s[0].min = 1000;
  s[0].max = 3000;
  s[0].mean = 2000;
  const auto d =
      decode(scaled_stream(fields, panda::test::scaled_fly_sample_bytes, panda::test::pack(s)));
  const auto dec = decoder_for(d.start, ColumnDecoder::Mode::scaled);
  PandaRows strict;
  CHECK_THROWS_WITH_AS(strict.start(d.start, dec.specs(), ColumnDecoder::Mode::scaled),
                       "PandA column INENC1.VAL.Mean has units \"counts\", not degrees: set "
                       "INENC1.VAL.UNITS=deg with SCALE in degrees per count, or give the rows a "
                       "conversion to degrees",
                       std::invalid_argument);
  PandaRows converted({.to_degrees = PandaRowOptions::Linear{-1e-4, 90}});
  converted.start(d.start, dec.specs(), ColumnDecoder::Mode::scaled);
  std::vector<PandaRow> out;
  converted.append(block_of(d, dec, 0, 1), out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].mean_deg == doctest::Approx(90 - 0.2));
  // The counts' Min (1000) is the larger angle now: min/max follow the angles.
  CHECK(out[0].min_deg == doctest::Approx(90 - 0.3));
  CHECK(out[0].max_deg == doctest::Approx(90 - 0.1));
}

TEST_CASE("PandaRows: rows a late client missed come first in the index") {
  const auto samples = panda::test::fly_samples(3, 2);
  const auto d =
      decode(scaled_stream(panda::test::scaled_fly_fields(), panda::test::scaled_fly_sample_bytes,
                           panda::test::pack(samples), /*missed=*/3));
  const auto dec = decoder_for(d.start, ColumnDecoder::Mode::scaled);
  PandaRows rows;
  rows.start(d.start, dec.specs(), ColumnDecoder::Mode::scaled);
  std::vector<PandaRow> out;
  rows.append(block_of(d, dec, 0, 2), out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].index == 3);  // exposure 3 stays row 3
  CHECK(out[1].index == 4);
  CHECK(out[0].mean_deg == samples[0].mean);
  CHECK(rows.acquisition().missed == 3);
  CHECK(rows.rows() == 2);
}

TEST_CASE("panda_time_to_epics_seconds: the header's ISO-8601 times") {
  CHECK(panda_time_to_epics_seconds("1990-01-01T00:00:00Z") == 0.0);
  CHECK(panda_time_to_epics_seconds("1990-01-02T00:00:01.5Z") == 86401.5);
  // 2000-03-01: 10 years (1990 … 1999, leap 1992 1996) = 3652 days, + Jan 31
  // + Feb 29 (2000 is a leap year) = 3712 days.
  CHECK(panda_time_to_epics_seconds("2000-03-01T00:00:00.000000000Z") == 3712.0 * 86400);
  CHECK_FALSE(panda_time_to_epics_seconds(""));
  CHECK_FALSE(panda_time_to_epics_seconds("2026-01-15 10:00:00Z"));
  CHECK_FALSE(panda_time_to_epics_seconds("2026-01-15T10:00:00"));
  CHECK_FALSE(panda_time_to_epics_seconds("2026-13-15T10:00:00Z"));
  CHECK_FALSE(panda_time_to_epics_seconds("2026-01-15T10:00:00.Z"));
  CHECK_FALSE(panda_time_to_epics_seconds("2026-01-15T10:00:00.12a4Z"));
}

}  // namespace
}  // namespace pandafly::capture
