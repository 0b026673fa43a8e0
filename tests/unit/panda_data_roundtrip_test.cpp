// Round-trip property: samples encoded the way the PandA server does (the
// simulator's CaptureLayout + SampleEncoder) and decoded by DataConnection come
// back equal — for random layouts, random values, every format, RAW and
// SCALED, random frame sizes and random read sizes (fixed seeds: repeatable).
#include <cmath>
#include <cstring>
#include <random>

#include <doctest/doctest.h>

#include "panda_data_test_util.hpp"
#include "sim/panda/capture_layout.hpp"
#include "sim/panda/data_encoder.hpp"

namespace pandafly::panda {
namespace {

using sim::CapturedField;

/// A random capture configuration: 1-4 pos_out fields with random captures,
/// maybe timestamps, bits and the gate duration.
sim::CaptureLayout random_layout(std::mt19937_64& rng) {
  std::vector<CapturedField> fields;
  const char* modes[] = {"Value", "Diff", "Sum", "Min", "Max", "Mean", "StdDev"};
  const int n = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> captures;
    for (const char* m : modes) {
      if (rng() % 3 == 0) captures.emplace_back(m);
    }
    if (captures.empty()) captures.emplace_back("Value");
    const double scale = (rng() % 2 == 0) ? 1.0 : 0.000125 * static_cast<double>(1 + rng() % 8);
    fields.push_back(CapturedField::pos_out("INENC" + std::to_string(i + 1) + ".VAL", captures,
                                            scale, static_cast<double>(rng() % 3), "mm"));
  }
  if (rng() % 2 == 0) fields.push_back(CapturedField::timestamp("PCAP.TS_TRIG"));
  if (rng() % 2 == 0) fields.push_back(CapturedField::bits("PCAP.BITS0"));
  if (rng() % 3 == 0) fields.push_back(CapturedField::gate_duration());
  return sim::CaptureLayout(std::move(fields));
}

/// Random RAW samples; gate counts are 0..1000 ticks so Mean/StdDev vary.
std::vector<std::byte> random_raw(const sim::CaptureLayout& l, std::size_t n,
                                  std::mt19937_64& rng) {
  const StartData raw = l.raw_header();
  std::vector<std::byte> out(n * raw.sample_bytes);
  for (std::size_t k = 0; k < n; ++k) {
    for (const Field& f : raw.fields) {
      std::byte* p = out.data() + k * raw.sample_bytes + f.byte_offset;
      if (f.name == "PCAP.GATE_DURATION") {
        const auto ticks = static_cast<std::uint32_t>(rng() % 1001);
        std::memcpy(p, &ticks, 4);
        continue;
      }
      for (std::size_t b = 0; b < size_of(f.type); ++b) p[b] = static_cast<std::byte>(rng());
      if (f.type == FieldType::int96) p[11] = std::byte{0};  // a sum of squares is not negative
    }
  }
  return out;
}

std::string wire(const StartData& start, std::span<const std::byte> samples, bool xml,
                 std::size_t max_frame, std::size_t pieces) {
  std::string out = "OK\n" + sim::encode_header(start, xml);
  sim::SampleEncoder enc(start, max_frame);
  const std::size_t n = samples.size() / start.sample_bytes;
  for (std::size_t p = 0; p < pieces; ++p) {
    const std::size_t from = n * p / pieces, to = n * (p + 1) / pieces;
    enc.encode(samples.subspan(from * start.sample_bytes, (to - from) * start.sample_bytes), out);
  }
  enc.finish(out);
  return out + sim::encode_end(n, "Ok");
}

/// SCALED samples equal to the 10 significant digits ASCII carries.
bool same_to_ten_digits(const StartData& start, const std::string& got,
                        std::span<const std::byte> want) {
  for (std::size_t at = 0; at < want.size(); at += start.sample_bytes) {
    for (const Field& f : start.fields) {
      if (f.type == FieldType::uint32) {
        if (std::memcmp(got.data() + at + f.byte_offset, want.data() + at + f.byte_offset, 4) != 0)
          return false;
        continue;
      }
      double a = 0, b = 0;
      std::memcpy(&a, got.data() + at + f.byte_offset, 8);
      std::memcpy(&b, want.data() + at + f.byte_offset, 8);
      if (std::isnan(a) != std::isnan(b)) return false;
      if (!std::isnan(a) && std::fabs(a - b) > 1e-9 * std::fabs(b) + 1e-300) return false;
    }
  }
  return true;
}

TEST_CASE("round trip: server-side encoding → DataConnection → the same samples") {
  std::mt19937_64 rng(20261123);
  for (int round = 0; round < 40; ++round) {
    const auto layout = random_layout(rng);
    const std::size_t n = 1 + rng() % 300;
    const auto raw = random_raw(layout, n, rng);
    std::vector<std::byte> scaled;
    layout.scale(raw, scaled);
    for (auto format :
         {DataFormat::framed, DataFormat::unframed, DataFormat::base64, DataFormat::ascii}) {
      for (auto processing : {Processing::raw, Processing::scaled}) {
        // Unframed SCALED/RAW data could contain "END <digits>" at a sample
        // boundary by chance; random bytes make that possible, so UNFRAMED
        // runs without status here (BARE-like) and ends on close.
        StartData start =
            processing == Processing::raw ? layout.raw_header() : layout.scaled_header();
        start.format = format;
        const auto& samples = processing == Processing::raw ? raw : scaled;
        DataOptions o;
        o.format = format;
        o.processing = processing;
        o.xml = rng() % 4 != 0;
        const std::size_t max_frame = 8 + start.sample_bytes * (1 + rng() % 40);
        std::string stream = wire(start, samples, o.xml, max_frame, 1 + rng() % 5);
        if (format == DataFormat::unframed) {
          o.status = false;
          stream = sim::encode_header(start, o.xml) +
                   std::string(reinterpret_cast<const char*>(samples.data()), samples.size());
        }
        std::vector<std::size_t> cuts;
        for (std::size_t at = rng() % 97; at < stream.size(); at += 1 + rng() % 4096)
          cuts.push_back(at);
        const auto d = test::decode_cut(o, stream, cuts);
        CAPTURE(round);
        CAPTURE(o.connect_line());
        REQUIRE(d.errors.empty());
        REQUIRE(d.starts.size() == 1);
        CHECK(d.starts[0].fields == start.fields);
        REQUIRE(d.samples.size() == 1);
        REQUIRE(d.samples[0].size() == samples.size());
        if (format == DataFormat::ascii && processing == Processing::scaled) {
          CHECK(same_to_ten_digits(start, d.samples[0], samples));  // %.10g text
        } else {
          CHECK(std::memcmp(d.samples[0].data(), samples.data(), samples.size()) == 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace pandafly::panda
