// Issue 14 item 2: every capture combination of a pos_out (any subset of
// Value Diff Sum Mean Min Max StdDev) decodes to one column per captured
// quantity, RAW and SCALED, with the values of reference §3.7.
//
// Header bytes and values are written here from the protocol reference
// (panda-protocol.md §3.3 "standard deviation": each StdDev field is
// immediately preceded by one Mean field of the same name — in RAW always, in
// SCALED only when Mean was captured; a field never appears twice), never
// taken from our simulator.
#include "panda_capture_sets.hpp"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "panda_data_test_util.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data_header.hpp"

namespace pandafly::panda {
namespace {

using test::Packer;

StartData parse(const std::string& xml) {
  auto parsed = parse_xml_header(xml);
  if (auto* e = std::get_if<HeaderError>(&parsed)) FAIL("header refused: ", e->message);
  return std::get<StartData>(parsed);
}

ColumnDecoder decoder(const StartData& s, ColumnDecoder::Mode mode) {
  auto made = ColumnDecoder::make(s, mode);
  if (auto* e = std::get_if<DataError>(&made)) FAIL("decoder refused: ", e->message);
  return std::get<ColumnDecoder>(std::move(made));
}

std::vector<std::string> names(const ColumnDecoder& d) {
  std::vector<std::string> out;
  for (const auto& s : d.specs()) out.push_back(s.name);
  return out;
}

ColumnBlock decode(const ColumnDecoder& d, const std::string& bytes) {
  auto block = d.make_block();
  d.append(FrameData{std::as_bytes(std::span{bytes.data(), bytes.size()}),
                     bytes.size() / d.sample_bytes(), d.sample_bytes()},
           block);
  return block;
}

// RAW `INENC1.VAL.CAPTURE=Mean StdDev` — and `StdDev` alone, which the server
// announces with the same header. The gate count comes first (class 1).
const std::string raw_mean_std_dev =
    "<header>\n"
    "<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
    "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" process=\"Raw\" "
    "format=\"Framed\" sample_bytes=\"24\" />\n"
    "<fields>\n"
    "<field name=\"PCAP.GATE_DURATION\" type=\"int32\" capture=\"Value\" scale=\"8e-09\" "
    "offset=\"0\" units=\"s\" />\n"
    "<field name=\"INENC1.VAL\" type=\"int64\" capture=\"Mean\" scale=\"0.5\" offset=\"1\" "
    "units=\"mm\" />\n"
    "<field name=\"INENC1.VAL\" type=\"int96\" capture=\"StdDev\" scale=\"0.5\" offset=\"1\" "
    "units=\"mm\" />\n"
    "</fields>\n"
    "</header>\n";

// Two samples: x = 1, 2, 3, 4 over 4 ticks (Σx 10, Σx² 30); x = −5, 5 over
// 2 ticks (Σx 0, Σx² 50).
std::string raw_samples() {
  return Packer{}
      .put(std::int32_t{4})
      .put(std::int64_t{10})
      .put96(30, 0, 0)
      .put(std::int32_t{2})
      .put(std::int64_t{0})
      .put96(50, 0, 0)
      .str();
}

}  // namespace

TEST_CASE("RAW Mean StdDev: the Mean column is kept as INENC1.VAL.Mean, scaled and as sent") {
  const auto start = parse(raw_mean_std_dev);
  const auto scaled = decoder(start, ColumnDecoder::Mode::scaled);
  CHECK(names(scaled) == std::vector<std::string>{"PCAP.GATE_DURATION.Value", "INENC1.VAL.Mean",
                                                  "INENC1.VAL.StdDev"});
  const auto block = decode(scaled, raw_samples());
  REQUIRE(block.rows() == 2);
  CHECK(block.values<double>(0)[0] == 4 * 8e-9);
  CHECK(block.values<double>(1)[0] == 2.25);  // Σx·scale/N + offset = 10·0.5/4 + 1
  CHECK(block.values<double>(1)[1] == 1.0);   // 0·0.5/2 + 1
  // scale·√((Σx² − (Σx)²/N)/N): 0.5·√((30 − 25)/4), 0.5·√(50/2)
  CHECK(block.values<double>(2)[0] == doctest::Approx(0.5 * std::sqrt(1.25)).epsilon(1e-15));
  CHECK(block.values<double>(2)[1] == 2.5);

  const auto sent = decoder(start, ColumnDecoder::Mode::as_sent);
  CHECK(names(sent) == std::vector<std::string>{"PCAP.GATE_DURATION.Value", "INENC1.VAL.Mean",
                                                "INENC1.VAL.StdDev"});
  const auto raw = decode(sent, raw_samples());
  CHECK(raw.values<std::int64_t>(1)[0] == 10);
  CHECK(raw.values<Int96>(2)[1].value() == 50);
}

TEST_CASE("SCALED Mean StdDev and StdDev alone: the columns the header names") {
  const std::string head =
      "<header>\n"
      "<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
      "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" process=\"Scaled\" "
      "format=\"Framed\" sample_bytes=\"";
  const std::string mean =
      "<field name=\"INENC1.VAL\" type=\"double\" capture=\"Mean\" scale=\"0.5\" offset=\"1\" "
      "units=\"mm\" />\n";
  const std::string std_dev =
      "<field name=\"INENC1.VAL\" type=\"double\" capture=\"StdDev\" scale=\"0.5\" offset=\"1\" "
      "units=\"mm\" />\n";
  const std::string tail = "</fields>\n</header>\n";
  // Before issue 14 the Mean here became "INENC1.VAL.StdDev.sum".
  const auto both = parse(head + "16\" />\n<fields>\n" + mean + std_dev + tail);
  for (auto mode : {ColumnDecoder::Mode::scaled, ColumnDecoder::Mode::as_sent}) {
    const auto d = decoder(both, mode);
    CHECK(names(d) == std::vector<std::string>{"INENC1.VAL.Mean", "INENC1.VAL.StdDev"});
    const auto block = decode(d, Packer{}.put(2.25).put(0.75).str());
    CHECK(block.values<double>(0)[0] == 2.25);
    CHECK(block.values<double>(1)[0] == 0.75);
  }
  const auto alone = parse(head + "8\" />\n<fields>\n" + std_dev + tail);
  CHECK(names(decoder(alone, ColumnDecoder::Mode::scaled)) ==
        std::vector<std::string>{"INENC1.VAL.StdDev"});
}

TEST_CASE("a header naming a field twice (Mean before Mean StdDev) is refused") {
  // What our simulator sent for RAW "Mean StdDev" before issue 14.
  std::string twice = raw_mean_std_dev;
  const std::string mean_line =
      "<field name=\"INENC1.VAL\" type=\"int64\" capture=\"Mean\" scale=\"0.5\" offset=\"1\" "
      "units=\"mm\" />\n";
  twice.insert(twice.find(mean_line), mean_line);
  twice.replace(twice.find("sample_bytes=\"24\""), 17, "sample_bytes=\"32\"");
  const auto start = parse(twice);
  for (auto mode : {ColumnDecoder::Mode::scaled, ColumnDecoder::Mode::as_sent}) {
    auto made = ColumnDecoder::make(start, mode);
    REQUIRE(std::holds_alternative<DataError>(made));
    CHECK(std::get<DataError>(made).message.find("INENC1.VAL.Mean appears twice") !=
          std::string::npos);
  }
}

using namespace capture_sets;

TEST_CASE("every subset of the seven capture options: one column per captured quantity") {
  constexpr int rows = 5;
  for (unsigned mask = 1; mask < (1u << kOptions.size()); ++mask) {
    std::set<std::string> set;
    for (std::size_t i = 0; i < kOptions.size(); ++i)
      if (mask & (1u << i)) set.insert(kOptions[i]);
    for (bool raw : {true, false}) {
      CAPTURE(mask);
      CAPTURE(raw);
      const auto fields = wire_fields(set, raw);
      const auto d = decoder(parse(header_of(fields, raw)), ColumnDecoder::Mode::scaled);
      // What a user gets: every captured option once, plus (RAW) the gate count
      // the server adds; in RAW StdDev also brings its Mean.
      std::set<std::string> want;
      for (const auto& c : set) want.insert("INENC1.VAL." + c);
      if (raw && set.contains("StdDev")) want.insert("INENC1.VAL.Mean");
      if (raw && (set.contains("Mean") || set.contains("StdDev")))
        want.insert("PCAP.GATE_DURATION.Value");
      const auto got = names(d);
      CHECK(std::set<std::string>(got.begin(), got.end()) == want);
      CHECK(got.size() == want.size());
      const auto block = decode(d, samples_of(fields, raw, rows));
      REQUIRE(block.rows() == rows);
      for (std::size_t c = 0; c < got.size(); ++c) {
        if (got[c] == "PCAP.GATE_DURATION.Value") continue;
        const std::string capture = d.specs()[c].capture;
        const auto v = block.values<double>(c);
        for (std::int32_t k = 0; k < rows; ++k) {
          CAPTURE(got[c]);
          CAPTURE(k);
          if (capture == "StdDev") {
            CHECK(v[static_cast<std::size_t>(k)] ==
                  doctest::Approx(expected(capture, truth(k))).epsilon(1e-14));
          } else {
            CHECK(v[static_cast<std::size_t>(k)] == expected(capture, truth(k)));
          }
        }
      }
    }
  }
}

}  // namespace pandafly::panda
