// PandA data-port decode: DataConnection events + ColumnDecoder columns.
//
// A row is the realistic 60-byte sample of ../shared/BENCHMARKS.md:
//   RAW:    PCAP.BITS0 u32, PCAP.GATE_DURATION, INENC1.VAL Value/Min/Max,
//           COUNTER1.OUT, INENC2.VAL (int32 each), PCAP.TS_TRIG, PCAP.TS_START,
//           INENC1.VAL Mean sum, COUNTER1.OUT Sum (int64 each)        = 60 bytes
//   SCALED: PCAP.BITS0 u32 + 7 doubles                                  = 60 bytes
// Each benchmark decodes a 4 MiB stream (header, frames, END) per iteration;
// bytes/s counts the stream bytes, items/s the rows. BM_memcpy copies the same
// 4 MiB into a pre-touched buffer in the same run: the reference for ratios.
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data_connection.hpp"

namespace {

using namespace pandafly::panda;

constexpr std::size_t row_bytes = 60;
constexpr std::size_t stream_rows = (4u << 20) / row_bytes;

std::string field(const char* name, const char* type, const char* capture, const char* scale) {
  std::string f =
      std::string{"<field name=\""} + name + "\" type=\"" + type + "\" capture=\"" + capture + "\"";
  if (scale != nullptr) f += std::string{" scale=\""} + scale + "\" offset=\"0\" units=\"\"";
  return f + " />\n";
}

std::string header(bool raw) {
  std::string fields;
  if (raw) {
    fields = field("PCAP.BITS0", "uint32", "Value", nullptr) +
             field("PCAP.GATE_DURATION", "int32", "Value", "8e-09") +
             field("INENC1.VAL", "int32", "Value", "0.000125") +
             field("INENC1.VAL", "int32", "Min", "0.000125") +
             field("INENC1.VAL", "int32", "Max", "0.000125") +
             field("COUNTER1.OUT", "int32", "Value", "1") +
             field("INENC2.VAL", "int32", "Value", "0.001") +
             field("PCAP.TS_TRIG", "int64", "Value", "8e-09") +
             field("PCAP.TS_START", "int64", "Value", "8e-09") +
             field("INENC1.VAL", "int64", "Mean", "0.000125") +
             field("COUNTER1.OUT", "int64", "Sum", "1");
  } else {
    fields = field("PCAP.BITS0", "uint32", "Value", nullptr);
    for (const char* n :
         {"PCAP.GATE_DURATION", "INENC1.VAL", "COUNTER1.OUT", "PCAP.TS_TRIG", "PCAP.TS_START"}) {
      fields += field(n, "double", "Value", "1");
    }
    fields += field("INENC1.VAL", "double", "Min", "1") + field("INENC1.VAL", "double", "Max", "1");
  }
  return std::string{"OK\n<header>\n<data missed=\"0\" process=\""} + (raw ? "Raw" : "Scaled") +
         "\" format=\"Framed\" sample_bytes=\"60\" />\n<fields>\n" + fields +
         "</fields>\n</header>\n\n";
}

std::string rows(std::size_t n) {
  std::string out(n * row_bytes, '\0');
  for (std::size_t r = 0; r < n; ++r) {
    const auto gate = static_cast<std::uint32_t>(1000 + r % 7);  // never 0: a real mean
    std::memcpy(out.data() + r * row_bytes, &r, 4);
    std::memcpy(out.data() + r * row_bytes + 4, &gate, 4);
  }
  return out;
}

/// The whole stream: header, frames of `rows_per_frame` rows, END.
std::vector<std::byte> stream(bool raw, std::size_t rows_per_frame) {
  std::string s = header(raw);
  const std::string data = rows(stream_rows);
  for (std::size_t r = 0; r < stream_rows; r += rows_per_frame) {
    const std::size_t n = std::min(rows_per_frame, stream_rows - r);
    const auto length = static_cast<std::uint32_t>(n * row_bytes + 8);
    s += "BIN ";
    s.append(reinterpret_cast<const char*>(&length), 4);
    s.append(data, r * row_bytes, n * row_bytes);
  }
  s += "END " + std::to_string(stream_rows) + " Ok\n";
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

/// Decodes `bytes` fed in `read_size` pieces; returns the rows decoded.
std::size_t decode(std::span<const std::byte> bytes, std::size_t read_size, bool columns,
                   std::optional<ColumnDecoder>& dec, ColumnBlock& block) {
  DataConnection c;
  std::size_t n = 0;
  for (std::size_t at = 0; at < bytes.size(); at += read_size) {
    c.receive(bytes.subspan(at, std::min(read_size, bytes.size() - at)));
    for (auto ev = c.next_event(); !is<NeedData>(ev); ev = c.next_event()) {
      if (auto* f = std::get_if<FrameData>(&ev)) {
        n += f->samples;
        if (!columns) continue;
        block.clear();
        dec->append(*f, block);
      } else if (auto* s = std::get_if<StartData>(&ev); s != nullptr && columns && !dec) {
        dec.emplace(std::get<ColumnDecoder>(ColumnDecoder::make(*s, ColumnDecoder::Mode::scaled)));
        block = dec->make_block();
        block.reserve(65536 / row_bytes + 1);
      }
    }
  }
  return n;
}

void run(benchmark::State& state, bool raw, std::size_t rows_per_frame, std::size_t read_size,
         bool columns) {
  const auto bytes = stream(raw, rows_per_frame);
  std::optional<ColumnDecoder> dec;
  ColumnBlock block;
  benchmark::DoNotOptimize(decode(bytes, read_size, columns, dec, block));  // warm up
  for (auto _ : state) {
    const auto n = decode(bytes, read_size, columns, dec, block);
    if (n != stream_rows) state.SkipWithError("wrong row count");
    benchmark::DoNotOptimize(block);
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(static_cast<std::size_t>(state.iterations()) * bytes.size()));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(static_cast<std::size_t>(state.iterations()) * stream_rows));
}

constexpr std::size_t full = 65536 / row_bytes;  // rows in a full 64 KiB frame
constexpr std::size_t whole_stream = 1u << 30;   // the stream in one piece

void BM_decode_framed_raw_full_frames(benchmark::State& s) {
  run(s, true, full, whole_stream, true);
}
void BM_decode_framed_scaled_full_frames(benchmark::State& s) {
  run(s, false, full, whole_stream, true);
}
void BM_decode_framed_raw_one_sample_per_frame(benchmark::State& s) {
  run(s, true, 1, whole_stream, true);
}
void BM_decode_framed_raw_4k_reads(benchmark::State& s) {
  run(s, true, full, 4096, true);
}
void BM_decode_framed_raw_full_frames_events_only(benchmark::State& s) {
  run(s, true, full, whole_stream, false);
}

void BM_memcpy(benchmark::State& state) {
  const auto bytes = stream(true, full);
  std::vector<std::byte> dst(bytes.size(), std::byte{1});  // touched before timing
  for (auto _ : state) {
    std::memcpy(dst.data(), bytes.data(), bytes.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<std::int64_t>(static_cast<std::size_t>(state.iterations()) * bytes.size()));
  state.SetItemsProcessed(
      static_cast<std::int64_t>(static_cast<std::size_t>(state.iterations()) * stream_rows));
}

}  // namespace

BENCHMARK(BM_memcpy);
BENCHMARK(BM_decode_framed_raw_full_frames);
BENCHMARK(BM_decode_framed_scaled_full_frames);
BENCHMARK(BM_decode_framed_raw_one_sample_per_frame);
BENCHMARK(BM_decode_framed_raw_4k_reads);
BENCHMARK(BM_decode_framed_raw_full_frames_events_only);

BENCHMARK_MAIN();
