// The server side of the PandA data port, without sockets: CaptureLayout (wire
// order, RAW extras, scaling worked out by hand), the encoders of every format
// against literal bytes, PandaDataConnection per option set, and the recorded
// streams of tests/data/panda_streams (see the last section and its README).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/panda/capture_layout.hpp"
#include "sim/panda/data_connection.hpp"
#include "sim/panda/data_encoder.hpp"

using namespace pandafly;
using panda::FieldType;
using sim::CapturedField;
using sim::CaptureLayout;

namespace {

// Little-endian bytes of integers and doubles, appended to a sample.
struct Bytes {
  std::vector<std::byte> v;
  template <class T>
  Bytes& put(T x) {
    std::byte b[sizeof x];
    std::memcpy(b, &x, sizeof x);
    v.insert(v.end(), b, b + sizeof x);
    return *this;
  }
  Bytes& i96(std::int64_t lo, std::int32_t hi) { return put(lo).put(hi); }
  [[nodiscard]] std::string str() const {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
  }
};

double f64_at(const std::vector<std::byte>& v, std::size_t offset) {
  double d;
  std::memcpy(&d, v.data() + offset, sizeof d);
  return d;
}

// "NAME.CAPTURE type" for every field, in wire order.
std::vector<std::string> describe(const panda::StartData& s) {
  std::vector<std::string> out;
  for (const auto& f : s.fields)
    out.push_back(f.column_name() + " " + std::string(panda::to_string(f.type)));
  return out;
}

const CapturedField kInenc = CapturedField::pos_out("INENC1.VAL", {"Value"}, 0.000125, 0, "deg");

// The example header of reference §3.3.
CaptureLayout example_layout() {
  return CaptureLayout({CapturedField::bits("PCAP.BITS0"), kInenc, CapturedField::gate_duration(),
                        CapturedField::timestamp("PCAP.TS_TRIG")});
}

}  // namespace

// ---------------------------------------------------------------- CaptureLayout

TEST_CASE("layout: wire order by class, RAW extras and types") {
  CaptureLayout layout({CapturedField::pos_out("INENC1.VAL", {"StdDev", "Mean", "Max", "Min"}, 0.5),
                        CapturedField::timestamp("PCAP.TS_TRIG"), CapturedField::bits("PCAP.BITS0"),
                        CapturedField::pos_out("COUNTER1.OUT", {"Sum", "Value"})});
  CHECK(describe(layout.raw_header()) ==
        std::vector<std::string>{"PCAP.GATE_DURATION.Value int32", "PCAP.BITS0.Value uint32",
                                 "INENC1.VAL.Min int32", "INENC1.VAL.Max int32",
                                 "COUNTER1.OUT.Value int32", "PCAP.TS_TRIG.Value int64",
                                 "COUNTER1.OUT.Sum int64",
                                 // Mean once: it is also StdDev's sum (issue 14 item 3)
                                 "INENC1.VAL.Mean int64", "INENC1.VAL.StdDev int96"});
  CHECK(describe(layout.scaled_header()) ==
        std::vector<std::string>{"PCAP.BITS0.Value uint32", "INENC1.VAL.Min double",
                                 "INENC1.VAL.Max double", "COUNTER1.OUT.Value double",
                                 "PCAP.TS_TRIG.Value double", "COUNTER1.OUT.Sum double",
                                 "INENC1.VAL.Mean double", "INENC1.VAL.StdDev double"});
  CHECK(layout.raw_sample_bytes() == 4 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 12);
  CHECK(layout.scaled_sample_bytes() == 4 + 7 * 8);
  auto raw = layout.raw_header();
  CHECK(raw.processing == panda::Processing::raw);
  CHECK(raw.sample_bytes == 56);
  CHECK(raw.fields[8].byte_offset == 44);
  CHECK(raw.fields[0].scale == 8e-9);
  CHECK(raw.fields[0].units == "s");
  CHECK_FALSE(raw.fields[1].scale);  // bit words announce no scale/offset/units
  CHECK_FALSE(raw.fields[1].offset);
  CHECK(raw.fields[2].scale == 0.5);
  CHECK(raw.fields[2].offset == 0.0);
  CHECK(raw.fields[7].mode == panda::CaptureMode::mean);
  CHECK(raw.fields[8].mode == panda::CaptureMode::std_dev);
  CHECK(layout.scaled_header().processing == panda::Processing::scaled);
}

TEST_CASE("layout: a captured gate duration replaces the RAW extra") {
  CaptureLayout layout(
      {CapturedField::pos_out("INENC1.VAL", {"Mean"}), CapturedField::gate_duration()});
  CHECK(describe(layout.raw_header()) ==
        std::vector<std::string>{"PCAP.GATE_DURATION.Value int32", "INENC1.VAL.Mean int64"});
  CHECK(describe(layout.scaled_header()) ==
        std::vector<std::string>{"PCAP.GATE_DURATION.Value double", "INENC1.VAL.Mean double"});
  auto scaled = layout.scaled_header();
  CHECK(scaled.fields[0].scale == 8e-9);  // samples → seconds
  CHECK(scaled.fields[0].units == "s");
  CHECK(scaled.sample_bytes == 16);
}

TEST_CASE("layout: invalid configurations") {
  CHECK_THROWS_AS(CaptureLayout({}), std::invalid_argument);
  CHECK_THROWS_AS(CaptureLayout({CapturedField::pos_out("INENC1.VAL", {})}), std::invalid_argument);
  CHECK_THROWS_AS(CaptureLayout({CapturedField::pos_out("INENC1.VAL", {"Average"})}),
                  std::invalid_argument);
  CHECK_THROWS_AS(CaptureLayout({{"PCAP.TS_TRIG", CapturedField::Kind::timestamp, {"Mean"}}}),
                  std::invalid_argument);
  // 11 words per field with every capture (Value Diff Min Max 4, Sum 2, the
  // Mean sum StdDev shares 2, sum of squares 3), plus the gate count: 6 fields are 67 words.
  std::vector<CapturedField> many;
  for (int i = 1; i <= 6; ++i)
    many.push_back(
        CapturedField::pos_out("INENC" + std::to_string(i) + ".VAL",
                               {"Value", "Diff", "Min", "Max", "Sum", "Mean", "StdDev"}));
  CHECK_THROWS_WITH_AS(CaptureLayout{many}, "Too many captures for PCAP", std::invalid_argument);
  many.resize(4);  // 45 words
  CHECK(CaptureLayout{many}.raw_sample_bytes() == 45 * 4);
}

TEST_CASE("layout: scaling worked out by hand") {
  CaptureLayout layout({CapturedField::gate_duration(),
                        CapturedField::pos_out("INENC1.VAL", {"Value", "Mean", "StdDev"}, 0.5, 1)});
  // RAW: ticks int32, Value int32, Mean int64 (also StdDev's sum), StdDev int96 = 28 bytes.
  REQUIRE(layout.raw_sample_bytes() == 28);
  REQUIRE(layout.scaled_sample_bytes() == 32);
  Bytes raw;
  raw.put(std::int32_t{4}).put(std::int32_t{10}).put(std::int64_t{10});
  raw.i96(30, 0);  // x = {1,2,3,4}: sum 10, sum of squares 30
  raw.put(std::int32_t{4}).put(std::int32_t{-3}).put(std::int64_t{1000});
  raw.i96(250000, 0);  // x = 250 four times: no spread
  raw.put(std::int32_t{0}).put(std::int32_t{0}).put(std::int64_t{0});
  raw.i96(0, 0);  // the gate never opened
  raw.put(std::int32_t{2}).put(std::int32_t{0}).put(std::int64_t{1} << 33);
  raw.i96(0, 4);             // x = {0, 2^33}: sum of squares 2^66 needs the high word
  raw.put(std::int32_t{7});  // a partial sample: ignored

  std::vector<std::byte> out{std::byte{1}};
  layout.scale(raw.v, out);
  REQUIRE(out.size() == 4 * 32);
  CHECK(f64_at(out, 0) == 4 * 8e-9);
  CHECK(f64_at(out, 8) == 10 * 0.5 + 1);
  CHECK(f64_at(out, 16) == 10 * 0.5 / 4 + 1);
  CHECK(f64_at(out, 24) == doctest::Approx(std::sqrt(1.25) * 0.5).epsilon(1e-15));
  CHECK(f64_at(out, 32 + 8) == -0.5);
  CHECK(f64_at(out, 32 + 16) == 126.0);  // 1000 · 0.5 / 4 + 1
  CHECK(f64_at(out, 32 + 24) == 0.0);
  CHECK(f64_at(out, 64 + 0) == 0.0);
  CHECK(f64_at(out, 64 + 8) == 1.0);
  CHECK(std::isnan(f64_at(out, 64 + 16)));  // N = 0
  CHECK(std::isnan(f64_at(out, 64 + 24)));
  CHECK(f64_at(out, 96 + 16) == std::ldexp(1.0, 33) * 0.5 / 2 + 1);
  CHECK(f64_at(out, 96 + 24) == std::ldexp(1.0, 32) * 0.5);  // √((2^66 − 2^66/2)/2)
}

TEST_CASE("layout: bits, timestamps, sums and the RAW extra gate count") {
  CaptureLayout layout({CapturedField::pos_out("INENC1.VAL", {"Mean", "Sum"}, 2, -1),
                        CapturedField::bits("PCAP.BITS0"),
                        CapturedField::timestamp("PCAP.TS_TRIG")});
  // RAW: extra ticks, bits, Sum, TS, Mean.
  Bytes raw;
  raw.put(std::int32_t{5}).put(std::uint32_t{0xDEADBEEF}).put(std::int64_t{-20});
  raw.put(std::int64_t{125000000}).put(std::int64_t{25});
  std::vector<std::byte> out;
  layout.scale(raw.v, out);
  REQUIRE(out.size() == 4 + 3 * 8);
  std::uint32_t bits;
  std::memcpy(&bits, out.data(), 4);
  CHECK(bits == 0xDEADBEEF);
  CHECK(f64_at(out, 4) == -41.0);              // Sum: 2 · −20 − 1
  CHECK(f64_at(out, 12) == 125000000 * 8e-9);  // TS_TRIG in seconds
  CHECK(f64_at(out, 20) == 9.0);               // Mean: 25 · 2 / 5 − 1
}

// ---------------------------------------------------------------- encoders

TEST_CASE("encode_header: XML, the example of reference §3.3") {
  auto start = example_layout().scaled_header();
  start.format = panda::DataFormat::framed;
  start.arm_time = "2026-01-15T10:00:00.000000001Z";
  start.start_time = "2026-01-15T10:00:00.004000000Z";
  CHECK(sim::encode_header(start, true) ==
        "<header>\n"
        "<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
        "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" process=\"Scaled\" "
        "format=\"Framed\" sample_bytes=\"28\" />\n"
        "<fields>\n"
        "<field name=\"PCAP.BITS0\" type=\"uint32\" capture=\"Value\" />\n"
        "<field name=\"INENC1.VAL\" type=\"double\" capture=\"Value\" scale=\"0.000125\" "
        "offset=\"0\" units=\"deg\" />\n"
        "<field name=\"PCAP.GATE_DURATION\" type=\"double\" capture=\"Value\" scale=\"8e-09\" "
        "offset=\"0\" units=\"s\" />\n"
        "<field name=\"PCAP.TS_TRIG\" type=\"double\" capture=\"Value\" scale=\"8e-09\" "
        "offset=\"0\" units=\"s\" />\n"
        "</fields>\n"
        "</header>\n"
        "\n");
}

TEST_CASE("encode_header: RAW, ASCII, escaping, %.12g, hw offset, old servers") {
  CaptureLayout layout({CapturedField::pos_out("X.Y", {"Value"}, 1.0 / 3, -2.5, "<&\"'>")});
  auto start = layout.raw_header();
  start.format = panda::DataFormat::ascii;
  start.hw_time_offset_ns = -12;
  start.missed = 7;
  CHECK(sim::encode_header(start, true) ==
        "<header>\n"
        "<data hw_time_offset_ns=\"-12\" missed=\"7\" process=\"Raw\" format=\"ASCII\" />\n"
        "<fields>\n"
        "<field name=\"X.Y\" type=\"int32\" capture=\"Value\" scale=\"0.333333333333\" "
        "offset=\"-2.5\" units=\"&lt;&amp;&quot;&apos;&gt;\" />\n"
        "</fields>\n"
        "</header>\n"
        "\n");
}

TEST_CASE("encode_header: text form") {
  auto start = example_layout().scaled_header();
  start.format = panda::DataFormat::base64;
  start.arm_time = "A";
  start.start_time = "S";
  CHECK(sim::encode_header(start, false) ==
        "arm_time: A\nstart_time: S\nmissed: 0\nprocess: Scaled\nformat: Base64\n"
        "sample_bytes: 28\nfields:\n"
        " PCAP.BITS0 uint32 Value\n"
        " INENC1.VAL double Value scale: 0.000125 offset: 0 units: deg\n"
        " PCAP.GATE_DURATION double Value scale: 8e-09 offset: 0 units: s\n"
        " PCAP.TS_TRIG double Value scale: 8e-09 offset: 0 units: s\n"
        "\n");
  start.format = panda::DataFormat::ascii;
  CHECK(sim::encode_header(start, false).find("sample_bytes") == std::string::npos);
}

TEST_CASE("encode_end") {
  CHECK(sim::encode_end(5, "Ok") == "END 5 Ok\n");
  CHECK(sim::encode_end(0, "Data overrun") == "END 0 Data overrun\n");
}

TEST_CASE("FRAMED: BIN header, whole samples, frame size limits") {
  auto start = example_layout().scaled_header();  // 28-byte samples
  start.format = panda::DataFormat::framed;
  std::vector<std::byte> sample(28, std::byte{0xAB});
  sim::SampleEncoder one(start);
  std::string out;
  one.encode(sample, out);
  CHECK(out == std::string("BIN \x24\x00\x00\x00", 8) + std::string(28, '\xAB'));
  CHECK(one.samples() == 1);

  sim::SampleEncoder small(start, 8 + 2 * 28 + 27);  // room for 2 samples per frame
  std::vector<std::byte> five(5 * 28, std::byte{1});
  std::string frames;
  small.encode(five, frames);
  CHECK(frames.size() == 3 * 8 + 5 * 28);
  CHECK(frames.substr(0, 8) == std::string("BIN \x40\x00\x00\x00", 8));  // 8 + 56
  CHECK(frames.substr(64, 8) == std::string("BIN \x40\x00\x00\x00", 8));
  CHECK(frames.substr(128, 8) == std::string("BIN \x24\x00\x00\x00", 8));  // the last one

  sim::SampleEncoder big(start);  // SCALED: ≤ 65536 bytes per frame
  std::vector<std::byte> many(5000 * 28);
  std::string stream;
  big.encode(many, stream);
  std::size_t at = 0, count = 0;
  while (at < stream.size()) {
    std::uint32_t len;
    std::memcpy(&len, stream.data() + at + 4, 4);
    CHECK(stream.compare(at, 4, "BIN ") == 0);
    CHECK(len <= 65536);
    CHECK((len - 8) % 28 == 0);
    at += len;
    ++count;
  }
  CHECK(at == stream.size());
  CHECK(count == 3);  // 2340 + 2340 + 320 samples

  auto raw = example_layout().raw_header();  // 20-byte RAW samples: 2 MiB frames
  raw.format = panda::DataFormat::framed;
  sim::SampleEncoder raw_enc(raw);
  std::string raw_stream;
  raw_enc.encode(std::vector<std::byte>(200000 * 20), raw_stream);
  std::uint32_t first;
  std::memcpy(&first, raw_stream.data() + 4, 4);
  CHECK(first == 8 + (((2u << 20) - 8) / 20) * 20);
}

TEST_CASE("UNFRAMED: the bytes as they are") {
  auto start = example_layout().raw_header();
  start.format = panda::DataFormat::unframed;
  sim::SampleEncoder enc(start);
  Bytes b;
  for (std::uint32_t w = 0; w < 10; ++w) b.put(w);  // two samples of 20 bytes
  b.put(std::uint8_t{9});                           // partial: dropped
  std::string out;
  enc.encode(b.v, out);
  enc.finish(out);
  CHECK(out == b.str().substr(0, 40));
  CHECK(enc.samples() == 2);
}

TEST_CASE("BASE64: 57-byte lines ending NUL LF, across calls") {
  auto start = CaptureLayout({kInenc, CapturedField::pos_out("COUNTER1.OUT", {"Value"}),
                              CapturedField::timestamp("PCAP.TS_TRIG")})
                   .raw_header();  // 16-byte samples
  start.format = panda::DataFormat::base64;
  sim::SampleEncoder enc(start);
  std::vector<std::byte> bytes(80);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::byte>(i);
  std::string out;
  for (std::size_t s = 0; s < 3; ++s) enc.encode(std::span(bytes).subspan(16 * s, 16), out);
  CHECK(out.empty());  // 48 bytes held back
  enc.encode(std::span(bytes).subspan(48, 32), out);
  CHECK(
      out ==
      std::string(" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4") +
          '\0' + "\n");
  out.clear();
  enc.finish(out);
  CHECK(out == std::string(" OTo7PD0+P0BBQkNERUZHSElKS0xNTk8=") + '\0' + "\n");
  CHECK(enc.samples() == 5);
}

TEST_CASE("ASCII: SCALED values by type, RAW words in hex") {
  CaptureLayout layout(
      {CapturedField::bits("PCAP.BITS0"), kInenc, CapturedField::timestamp("PCAP.TS_TRIG")});
  auto scaled = layout.scaled_header();
  scaled.format = panda::DataFormat::ascii;
  sim::SampleEncoder enc(scaled);
  Bytes b;
  b.put(std::uint32_t{4294967295u}).put(1234567.891).put(0.1);
  b.put(std::uint32_t{257}).put(1e20).put(-2.5e-7);
  std::string out;
  enc.encode(b.v, out);
  CHECK(out == " 4294967295 1234567.891 0.1\n 257 1e+20 -2.5e-07\n");

  auto raw = layout.raw_header();  // uint32, int32, int64
  raw.format = panda::DataFormat::ascii;
  sim::SampleEncoder raw_enc(raw);
  Bytes r;
  r.put(std::uint32_t{257}).put(std::int32_t{-1}).put(std::int64_t{0x100000002});
  std::string raw_out;
  raw_enc.encode(r.v, raw_out);
  CHECK(raw_out == " 0x00000101 0xffffffff 0x00000002 0x00000001\n");
}

// ---------------------------------------------------------------- PandaDataConnection

TEST_CASE("PandaDataConnection streams an acquisition in each client's options") {
  sim::PandaModel model;
  CaptureLayout layout({kInenc, CapturedField::timestamp("PCAP.TS_TRIG")});
  Bytes raw;  // two RAW samples of 12 bytes
  raw.put(std::int32_t{8000}).put(std::int64_t{125}).put(std::int32_t{-8}).put(std::int64_t{250});

  SUBCASE("XML FRAMED RAW: header, frame, END, again") {
    sim::PandaDataConnection c(model, "127.0.0.1:1");
    CHECK(c.samples(raw.v).empty());  // not ready: nothing
    REQUIRE(c.receive("XML FRAMED RAW\n") == "OK\n");
    CHECK(c.end("Ok").empty());  // no acquisition
    std::string header = c.start(layout, "A", "S", 0);
    CHECK(
        header.starts_with("<header>\n<data arm_time=\"A\" start_time=\"S\" missed=\"0\" "
                           "process=\"Raw\" format=\"Framed\" sample_bytes=\"12\" />\n"));
    CHECK(header.ends_with("</header>\n\n"));
    CHECK(c.acquiring());
    CHECK(c.samples(raw.v) == std::string("BIN \x20\x00\x00\x00", 8) + raw.str());
    CHECK(c.end("Ok") == "END 2 Ok\n");
    CHECK(c.ready());
    CHECK_FALSE(c.acquiring());
    CHECK(c.start(layout, "A2", "S2", 5).find("missed=\"5\"") != std::string::npos);
    CHECK(c.end("Disarmed") == "END 0 Disarmed\n");
  }
  SUBCASE("SCALED ASCII with the text header") {
    sim::PandaDataConnection c(model, "127.0.0.1:1");
    REQUIRE(c.receive("ASCII SCALED\n") == "OK\n");
    CHECK(c.start(layout, "A", "S", 0).starts_with("arm_time: A\nstart_time: S\n"));
    CHECK(c.samples(raw.v) == " 1 1e-06\n -0.001 2e-06\n");
    CHECK(c.end("Ok") == "END 2 Ok\n");
  }
  SUBCASE("NO_HEADER NO_STATUS ONE_SHOT BASE64") {
    sim::PandaDataConnection c(model, "127.0.0.1:1");
    REQUIRE(c.receive("BASE64 RAW NO_HEADER NO_STATUS ONE_SHOT\n").empty());
    CHECK(c.ready());
    CHECK(c.start(layout, "A", "S", 0).empty());
    CHECK(c.samples(raw.v).empty());  // 24 bytes wait for a 57-byte line
    CHECK(c.end("Ok") == std::string(" QB8AAH0AAAAAAAAA+P////oAAAAAAAAA") + '\0' + "\n");
    CHECK(c.closed());
    CHECK(c.start(layout, "A", "S", 0).empty());
  }
  SUBCASE("BARE: raw bytes only, closed after the acquisition") {
    sim::PandaDataConnection c(model, "127.0.0.1:1");
    REQUIRE(c.receive("BARE\n").empty());
    CHECK(c.start(layout, "A", "S", 0).empty());
    CHECK(c.samples(raw.v) == raw.str());
    CHECK(c.end("Ok").empty());
    CHECK(c.closed());
  }
}

// ---------------------------------------------------------------- recorded streams
// tests/data/panda_streams/*: the bytes a client receives after its options
// line, produced by PandaDataConnection for a known sequence (README there).
// This test regenerates them in memory and requires the files to be identical;
// with PANDAFLY_RECORD_PANDA_STREAMS=1 in the environment it writes them.

namespace streams {

// The raw quantities of sample i of every recorded acquisition.
struct Truth {
  std::int64_t ticks = 0;  // gate high ticks: 1000 + 10 i, but 0 for i = 7
  std::int64_t value = 0;  // INENC1.VAL at the trigger: 1000 i − 5000
  std::int64_t min = 0, max = 0, sum = 0, sumsq = 0;  // of INENC1.VAL = a, a+1, … while gated
  std::int64_t ts = 0;                                // PCAP.TS_TRIG: 125000 (i + 1) + 17
  std::int64_t bits = 0;                              // PCAP.BITS0: 0x10000 | i
  std::int64_t counter = 0;                           // COUNTER1.OUT: 3 i
};

Truth truth(std::size_t i) {
  Truth t;
  const auto k = static_cast<std::int64_t>(i);
  const std::int64_t n = k == 7 ? 0 : 1000 + 10 * k;
  const std::int64_t a = 100 * k - 50;  // the first gated position
  t.ticks = n;
  if (n > 0) {
    t.min = a;
    t.max = a + n - 1;
    t.sum = n * a + n * (n - 1) / 2;
    t.sumsq = n * a * a + a * n * (n - 1) + (n - 1) * n * (2 * n - 1) / 6;
  }
  t.value = 1000 * k - 5000;
  t.ts = 125000 * (k + 1) + 17;
  t.bits = 0x10000 | k;
  t.counter = 3 * k;
  return t;
}

// The RAW word(s) of `f` (INENC1.VAL Mean and Sum both carry the sum).
std::int64_t raw_of(const panda::Field& f, const Truth& t) {
  if (f.name == "PCAP.GATE_DURATION") return t.ticks;
  if (f.name == "PCAP.TS_TRIG") return t.ts;
  if (f.name == "PCAP.BITS0") return t.bits;
  if (f.name == "COUNTER1.OUT") return t.counter;
  switch (f.mode) {
    case panda::CaptureMode::min:
      return t.min;
    case panda::CaptureMode::max:
      return t.max;
    case panda::CaptureMode::mean:
    case panda::CaptureMode::sum:
      return t.sum;
    case panda::CaptureMode::std_dev:
      return t.sumsq;
    default:
      return t.value;
  }
}

// The SCALED value of `f`, by the formulas of reference §3.7.
double scaled_of(const panda::Field& f, const Truth& t) {
  const double scale = f.scale.value_or(1), offset = f.offset.value_or(0);
  const auto n = static_cast<double>(t.ticks);
  if (f.mode == panda::CaptureMode::mean)
    return n == 0 ? NAN : static_cast<double>(t.sum) * scale / n + offset;
  if (f.mode == panda::CaptureMode::std_dev) {
    if (n == 0) return NAN;
    auto s = static_cast<long double>(t.sum);
    long double var = (static_cast<long double>(t.sumsq) - s * s / n) / n;
    return scale * static_cast<double>(std::sqrt(var));
  }
  return static_cast<double>(raw_of(f, t)) * scale + offset;
}

std::vector<std::byte> pack(const panda::StartData& raw, std::size_t first, std::size_t count) {
  Bytes b;
  for (std::size_t i = first; i < first + count; ++i) {
    Truth t = truth(i);
    for (const auto& f : raw.fields) {
      std::int64_t v = raw_of(f, t);
      if (f.type == FieldType::int64)
        b.put(v);
      else if (f.type == FieldType::int96)
        b.i96(v, v < 0 ? -1 : 0);
      else
        b.put(static_cast<std::uint32_t>(v));
    }
  }
  return b.v;
}

struct Acquisition {
  std::vector<CapturedField> fields;
  std::vector<std::size_t> batches;  // samples per send
  std::string reason;
  std::string arm_time, start_time;
};

struct Stream {
  std::string file;
  std::string options;  // the options line, without its LF
  std::vector<Acquisition> acquisitions;
};

const CapturedField kTs = CapturedField::timestamp("PCAP.TS_TRIG");
const CapturedField kBits = CapturedField::bits("PCAP.BITS0");
const CapturedField kCounter = CapturedField::pos_out("COUNTER1.OUT", {"Value"});
const std::string kArm = "2026-01-15T10:00:00.000000001Z",
                  kStart = "2026-01-15T10:00:00.004000000Z";

std::vector<Stream> all() {
  auto averaged =
      CapturedField::pos_out("INENC1.VAL", {"Min", "Max", "Mean", "StdDev"}, 0.000125, 0, "deg");
  auto ramp = CapturedField::pos_out("INENC1.VAL", {"Value"}, 0.000125, 1.5, "deg");
  auto mean = CapturedField::pos_out("INENC1.VAL", {"Mean"}, 0.000125, 0, "deg");
  return {
      {"framed_raw_mean_stddev.bin",
       "XML FRAMED RAW",
       {{{averaged, kTs, kBits}, {8, 12}, "Ok", kArm, kStart}}},
      {"framed_scaled.bin",
       "XML FRAMED SCALED",
       {{{ramp, kTs, kBits, kCounter, CapturedField::gate_duration()},
         {20, 20, 10},
         "Ok",
         kArm,
         kStart}}},
      {"ascii_scaled.txt", "ASCII SCALED", {{{ramp, kCounter, kTs}, {10}, "Ok", kArm, kStart}}},
      {"base64_raw.bin",
       "XML BASE64 RAW",
       {{{ramp, kCounter, kTs}, {7, 7, 7, 7, 2}, "Ok", kArm, kStart}}},
      {"unframed_bare.bin", "BARE", {{{ramp, kTs}, {40}, "Ok", kArm, kStart}}},
      {"framed_raw_two_acquisitions.bin",
       "XML FRAMED RAW",
       {{{ramp, kTs}, {5}, "Ok", kArm, kStart},
        {{kBits, kCounter, mean},
         {4},
         "Disarmed",
         "2026-01-15T10:01:00.000000001Z",
         "2026-01-15T10:01:00.002000000Z"}}},
  };
}

// Every byte the client of `s` receives after sending its options line.
std::string produce(const Stream& s) {
  sim::PandaModel model;
  sim::PandaDataConnection conn(model, "127.0.0.1:1");
  std::string out = conn.receive(s.options + "\n");
  for (const auto& a : s.acquisitions) {
    CaptureLayout layout(a.fields);
    out += conn.start(layout, a.arm_time, a.start_time, 0);
    std::size_t first = 0;
    for (std::size_t n : a.batches) {
      out += conn.samples(pack(layout.raw_header(), first, n));
      first += n;
    }
    out += conn.end(a.reason);
  }
  return out;
}

std::string json_number(double v, bool integer) {
  if (std::isnan(v)) return "null";
  if (integer) return std::to_string(static_cast<std::int64_t>(v));
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

// `"key_fields": [{"name": …}, …]` and `"key_values": [[column], …]`, one column per field.
std::string json_columns(const std::string& key, const panda::StartData& h, std::size_t count,
                         bool raw) {
  std::string fields, values;
  for (const auto& f : h.fields) {
    fields += std::string(fields.empty() ? "" : ",") + "\n      {\"name\": \"" + f.name +
              "\", \"capture\": \"" + f.capture + "\", \"type\": \"" +
              std::string(panda::to_string(f.type)) + "\"}";
    std::string column;
    for (std::size_t i = 0; i < count; ++i) {
      bool integer = raw || f.type == FieldType::uint32;
      double v = raw ? static_cast<double>(raw_of(f, truth(i))) : scaled_of(f, truth(i));
      column += (i ? ", " : "") + json_number(v, integer);
    }
    values += std::string(values.empty() ? "" : ",") + "\n      [" + column + "]";
  }
  return "    \"" + key + "_fields\": [" + fields + "],\n    \"" + key + "_values\": [" + values +
         "],\n";
}

std::string json_acquisition(const Stream& s, const Acquisition& a) {
  CaptureLayout layout(a.fields);
  auto opts = *sim::parse_data_options(s.options);
  std::size_t count = 0;
  for (std::size_t n : a.batches) count += n;
  auto wire = opts.raw ? layout.raw_header() : layout.scaled_header();
  std::string out = "    \"arm_time\": \"" + a.arm_time + "\",\n    \"start_time\": \"" +
                    a.start_time +
                    "\",\n    \"sample_bytes\": " + std::to_string(wire.sample_bytes) +
                    ",\n    \"samples\": " + std::to_string(count) + ",\n";
  out += json_columns("wire", wire, count, opts.raw);
  out += json_columns("scaled", layout.scaled_header(), count, false);
  out += "    \"end\": " +
         (opts.status
              ? "{\"samples\": " + std::to_string(count) + ", \"reason\": \"" + a.reason + "\"}"
              : std::string("null")) +
         "\n";
  return "  {\n" + out + "  }";
}

std::string json(const Stream& s) {
  std::string out = "{\n\"stream\": \"" + s.file + "\",\n\"options_line\": \"" + s.options +
                    "\",\n\"acquisitions\": [\n";
  for (std::size_t i = 0; i < s.acquisitions.size(); ++i)
    out += (i ? ",\n" : "") + json_acquisition(s, s.acquisitions[i]);
  return out + "\n]\n}\n";
}

std::filesystem::path dir() {
  // Not __FILE__: with ccache's CCACHE_BASEDIR it is relative to the build folder.
  return std::filesystem::path(PANDAFLY_SOURCE_DIR) / "tests" / "data" / "panda_streams";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

}  // namespace streams

TEST_CASE("recorded streams: the server's scaling agrees with the formulas") {
  for (const auto& s : streams::all()) {
    for (const auto& a : s.acquisitions) {
      CaptureLayout layout(a.fields);
      auto scaled = layout.scaled_header();
      std::vector<std::byte> out;
      layout.scale(streams::pack(layout.raw_header(), 0, 20), out);
      for (std::size_t i = 0; i < 20; ++i) {
        for (const auto& f : scaled.fields) {
          if (f.type == FieldType::uint32) continue;
          double expected = streams::scaled_of(f, streams::truth(i));
          double got = f64_at(out, i * scaled.sample_bytes + f.byte_offset);
          CAPTURE(f.column_name());
          CAPTURE(i);
          if (std::isnan(expected))
            CHECK(std::isnan(got));
          else
            CHECK(got == expected);
        }
      }
    }
  }
}

TEST_CASE("recorded streams: tests/data/panda_streams is what the encoder produces") {
  const bool record = std::getenv("PANDAFLY_RECORD_PANDA_STREAMS") != nullptr;
  for (const auto& s : streams::all()) {
    auto bin = streams::dir() / s.file;
    auto expected = streams::dir() / (std::filesystem::path(s.file).stem().string() + ".json");
    CAPTURE(s.file);
    if (record) {
      streams::write_file(bin, streams::produce(s));
      streams::write_file(expected, streams::json(s));
    }
    REQUIRE(std::filesystem::exists(bin));
    CHECK(streams::read_file(bin) == streams::produce(s));
    CHECK(streams::read_file(expected) == streams::json(s));
  }
}
