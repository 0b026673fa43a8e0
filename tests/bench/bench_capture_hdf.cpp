// bench_capture_hdf: PandA rows into an HDF5 file in the page cache.
//
// A row is the realistic 60-byte SCALED sample (BENCHMARKS.md): PCAP.TS_TRIG
// (seconds), INENC1.VAL Value/Min/Max/Mean, COUNTER1.OUT and
// PCAP.GATE_DURATION as float64, PCAP.BITS0 as uint32 — i.e. the scaled
// ColumnBlock of that layout, 8 columns. Input comes in batches of 1092 rows
// (≈ 64 KiB of input), flush() every 16384 batches (≈ 1 s at the 20 M rows/s
// goal). Bytes processed = 60 × rows.
//
//   BM_hdf_write/C/R         PandaHdfWriter, chunk_rows C, disk reserve R (1 on, 0 off)
//   BM_memcpy                reference: the same bytes copied into a 256 MiB pre-touched ring
//   BM_file_write/S          reference: the same bytes write()n to one file; S=1 fdatasync
//                            after every batch
//
// Files go to $PANDAFLY_BENCH_DIR (default /dev/shm: page cache, no disk).
// Run: build/h5bench/tests/bench/bench_capture_hdf  (a Release build)
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "known_sequence.hpp"
#include "pandafly/capture/panda_hdf_writer.hpp"
#include "pandafly/panda/data_connection.hpp"
#include "sim/panda/data_encoder.hpp"

namespace {

using namespace pandafly;
namespace fs = std::filesystem;

constexpr std::size_t batch_rows = 1092;  // 1092 × 60 B ≈ 64 KiB
constexpr std::size_t flush_every = 16384;

fs::path bench_file(const char* name) {
  const char* dir = std::getenv("PANDAFLY_BENCH_DIR");
  return fs::path(dir ? dir : "/dev/shm") /
         (std::string("pandafly_bench_") + name + "_" + std::to_string(::getpid()));
}

panda::Field scaled(const char* name, const char* capture, panda::FieldType type) {
  panda::Field f;
  f.name = name;
  f.capture = capture;
  f.mode = panda::capture_mode_from(capture);
  f.type = type;
  if (type == panda::FieldType::float64) {
    f.scale = 1.0;
    f.offset = 0.0;
  }
  return f;
}

panda::StartData scaled_start() {
  using panda::FieldType;
  panda::StartData s;
  s.fields = {scaled("PCAP.TS_TRIG", "Value", FieldType::float64),
              scaled("INENC1.VAL", "Value", FieldType::float64),
              scaled("INENC1.VAL", "Min", FieldType::float64),
              scaled("INENC1.VAL", "Max", FieldType::float64),
              scaled("INENC1.VAL", "Mean", FieldType::float64),
              scaled("PCAP.BITS0", "Value", FieldType::uint32),
              scaled("COUNTER1.OUT", "Value", FieldType::float64),
              scaled("PCAP.GATE_DURATION", "Value", FieldType::float64)};
  s.sample_bytes = panda::assign_offsets(s.fields);
  s.processing = panda::Processing::scaled;
  return s;
}

// One batch of rows, decoded once and written again and again.
struct Batch {
  panda::StartData start = scaled_start();
  panda::ColumnDecoder decoder = std::get<panda::ColumnDecoder>(
      panda::ColumnDecoder::make(start, panda::ColumnDecoder::Mode::scaled));
  panda::ColumnBlock block = decoder.make_block();
  std::vector<std::byte> frame = std::vector<std::byte>(batch_rows * start.sample_bytes);

  Batch() {
    for (std::size_t r = 0; r < batch_rows; ++r) {
      for (const auto& f : start.fields) {
        std::byte* p = frame.data() + r * start.sample_bytes + f.byte_offset;
        if (f.type == panda::FieldType::uint32) {
          const auto v = static_cast<std::uint32_t>(r);
          std::memcpy(p, &v, sizeof v);
        } else {
          const double v = static_cast<double>(r) * 8e-9 + static_cast<double>(f.byte_offset);
          std::memcpy(p, &v, sizeof v);
        }
      }
    }
    decoder.append({frame, batch_rows, start.sample_bytes}, block);
  }
};

const Batch& batch() {
  static const Batch b;
  return b;
}

void set_rates(benchmark::State& state) {
  const auto rows = static_cast<std::int64_t>(state.iterations()) * std::int64_t{batch_rows};
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(rows * 60);
}

void BM_hdf_write(benchmark::State& state) {
  const Batch& b = batch();
  const fs::path path = bench_file("hdf");
  capture::PandaHdfWriter::Options options;
  options.path = path;
  options.overwrite = true;
  options.chunk_rows = static_cast<std::size_t>(state.range(0));
  options.reserve_space = state.range(1) != 0;
  capture::PandaHdfWriter w(options);
  w.start(b.start, b.decoder.specs());
  std::size_t n = 0;
  for (auto _ : state) {
    if (!w.write(b.block) || (++n % flush_every == 0 && !w.flush())) {
      state.SkipWithError(w.failure().c_str());
      break;
    }
  }
  // After the timed loop: closing is not part of the rate.
  (void)w.finish(capture::FinishInfo::stopped("benchmark"));
  fs::remove(path);
  set_rates(state);
}
BENCHMARK(BM_hdf_write)
    ->Args({262144, 1})
    ->Args({262144, 0})
    ->Args({65536, 1})
    ->Args({16384, 1})
    ->Args({4096, 1})
    ->MinWarmUpTime(0.2)
    ->UseRealTime();

void BM_memcpy(benchmark::State& state) {
  const std::vector<std::byte>& src = batch().frame;
  std::vector<std::byte> ring(std::size_t{256} << 20, std::byte{1});  // touched before timing
  std::size_t at = 0;
  for (auto _ : state) {
    if (at + src.size() > ring.size()) at = 0;
    std::memcpy(ring.data() + at, src.data(), src.size());
    at += src.size();
    benchmark::ClobberMemory();
  }
  set_rates(state);
}
BENCHMARK(BM_memcpy)->UseRealTime();

void BM_file_write(benchmark::State& state) {
  const std::vector<std::byte>& src = batch().frame;
  const fs::path path = bench_file("raw");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError("cannot create the file");
    return;
  }
  const bool sync = state.range(0) != 0;
  for (auto _ : state) {
    const bool ok = ::write(fd, src.data(), src.size()) == static_cast<ssize_t>(src.size()) &&
                    (!sync || ::fdatasync(fd) == 0);
    if (!ok) {
      state.SkipWithError(std::strerror(errno));
      break;
    }
  }
  ::close(fd);
  fs::remove(path);
  set_rates(state);
}
BENCHMARK(BM_file_write)->Arg(0)->Arg(1)->MinWarmUpTime(0.2)->UseRealTime();

// ------------------------------------------------------------------ CPU at 60 MB/s

// One second of a FRAMED RAW stream at 60 MB/s (1 M rows, 64 KiB frames),
// without its header (that is fed once).
std::string one_second_of_frames(const panda::StartData& raw) {
  std::vector<std::byte> rows(1'000'000 * raw.sample_bytes);
  for (std::size_t i = 0; i < rows.size(); i += 4) {
    const auto v = static_cast<std::uint32_t>(i / raw.sample_bytes % 1000 + 1);  // gates never 0
    std::memcpy(rows.data() + i, &v, 4);
  }
  std::string out;
  sim::SampleEncoder(raw).encode(rows, out);
  return out;
}

// The capture pipeline in one thread: DataConnection → ColumnDecoder (RAW
// scaled here) → chunk-aligned blocks (as PandaCapture makes them) →
// PandaHdfWriter.
struct Pipeline {
  panda::DataConnection conn{[] {
    panda::DataOptions o;
    o.processing = panda::Processing::raw;
    return o;
  }()};
  std::optional<panda::ColumnDecoder> dec;
  panda::ColumnBlock block;
  capture::PandaHdfWriter writer;
  std::size_t chunk_rows;
  std::uint64_t rows = 0;  // handed to the writer

  explicit Pipeline(const capture::PandaHdfWriter::Options& o)
      : writer(o), chunk_rows(o.chunk_rows) {}

  void feed(std::string_view bytes) {
    conn.receive(std::as_bytes(std::span{bytes.data(), bytes.size()}));
    for (auto ev = conn.next_event(); !panda::is<panda::NeedData>(ev); ev = conn.next_event()) {
      if (auto* st = std::get_if<panda::StartData>(&ev)) start(*st);
      if (auto* f = std::get_if<panda::FrameData>(&ev)) frame(*f);
    }
  }
  void start(const panda::StartData& st) {
    dec.emplace(std::get<panda::ColumnDecoder>(
        panda::ColumnDecoder::make(st, panda::ColumnDecoder::Mode::scaled)));
    block = dec->make_block();
    writer.start(st, dec->specs());
  }
  void frame(const panda::FrameData& f) {
    for (std::size_t done = 0; done < f.samples;) {
      const std::size_t to_boundary = chunk_rows - (rows + block.rows()) % chunk_rows;
      const std::size_t n = std::min(f.samples - done, to_boundary);
      dec->append({f.bytes.subspan(done * f.sample_bytes, n * f.sample_bytes), n, f.sample_bytes},
                  block);
      done += n;
      if (n != to_boundary) continue;
      rows += block.rows();
      (void)writer.write(block);
      block.clear();
    }
  }
};

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// CPU of pandafly's capture pipeline fed 60 MB/s in 1 ms slices for 5 s, in
// one thread, without the TCP socket (tests/bench/capture_cpu.py measures
// pandactl over TCP), flushing once a second. Counter cpu_percent = process
// CPU (user + system, getrusage) / wall time × 100. The file goes to
// $PANDAFLY_BENCH_CPU_DIR (default /tmp: a disk file system's page cache, as a
// capture would use).
void BM_pipeline_cpu_at_60MBps(benchmark::State& state) {
  auto raw = test::row60_layout().raw_header();
  raw.format = panda::DataFormat::framed;
  const std::string second = one_second_of_frames(raw);
  const char* dir = std::getenv("PANDAFLY_BENCH_CPU_DIR");
  capture::PandaHdfWriter::Options options;
  options.path =
      fs::path(dir ? dir : "/tmp") / ("pandafly_bench_cpu_" + std::to_string(::getpid()));
  options.overwrite = true;
  constexpr std::size_t slice = 60'000;  // 1 ms at 60 MB/s
  constexpr int seconds = 5;
  for (auto _ : state) {
    Pipeline p(options);
    p.feed("OK\n" + sim::encode_header(raw, true));
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t sec = 0; sec < seconds; ++sec) {
      for (std::size_t at = 0; at < second.size(); at += slice) {
        std::this_thread::sleep_until(t0 +
                                      std::chrono::microseconds((sec * second.size() + at) / 60));
        p.feed(std::string_view{second}.substr(at, slice));
      }
      (void)p.writer.flush();
    }
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.counters["cpu_percent"] = 100.0 * (cpu_seconds() - cpu0) / wall;
    state.counters["input_MB_per_s"] = static_cast<double>(second.size()) * seconds / wall / 1e6;
    (void)p.writer.finish(capture::FinishInfo::stopped("benchmark"));
    fs::remove(options.path);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * seconds) *
                          static_cast<std::int64_t>(second.size()));
}
BENCHMARK(BM_pipeline_cpu_at_60MBps)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
