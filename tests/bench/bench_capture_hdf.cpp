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
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include "pandafly/capture/panda_hdf_writer.hpp"

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
    ->Args({65536, 1})
    ->Args({65536, 0})
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

}  // namespace

BENCHMARK_MAIN();
