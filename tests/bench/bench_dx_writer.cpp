// bench_dx_writer: camera frames through dx::Writer into a DXfile.
//
// One iteration is one whole scan: the Writer is created (file, layout tree),
// the frames are pushed from this thread, finish() closes the file (end
// state, NXtomo view) and the file is fdatasync'ed, so the figure is a
// durable write of everything. Bytes processed = pixel bytes of input.
//
//   BM_writer/F                F frames of 2048×2048 uint16, uncompressed
//                              (H5Dwrite_chunk straight from the frame)
//   BM_file_write/F            reference: the same bytes write()n to one file
//                              in the same directory, then fdatasync (one
//                              flush at the end: not a limit for a writer
//                              that starts write-back as it goes)
//   vs_best_writer (counter of BM_writer_vs and BM_zmq_to_dxfile): the
//                              writer against the best plain writer of the
//                              same bytes in the same iteration — the
//                              fastest of write + fdatasync, write-behind
//                              (sync_file_range(SYNC_FILE_RANGE_WRITE) after
//                              every frame, or every 8, as the writer does
//                              per batch) and O_DIRECT; the honest ratio.
//                              vs_write_behind and vs_o_direct say which
//                              technique sets it
//   BM_memcpy/F                reference: the same bytes copied into a
//                              pre-touched 256 MiB ring
//   BM_writer_vs/F/R           BM_writer (R = 1: disk reserve on, 0: off)
//                              with both references timed in every
//                              iteration: counters vs_file_write, vs_memcpy =
//                              medians of the per-iteration ratio, the
//                              writer's rate / the reference's
//   BM_writer_bitshuffle/F/T   F projection-like frames (a noisy, attenuating
//                              disc on a flat field, Poisson-like noise),
//                              bitshuffle/LZ4 compressed by T worker threads
//                              (counter ratio = input / stored bytes)
//   BM_writer_gzip/F           the same with gzip level 1, for comparison
//   BM_zmq_to_dxfile/F         the whole input path: F frames of 2048×2048
//                              uint16 sent as ADZMQ messages (zero copy, a
//                              PUSH socket in another thread) over 127.0.0.1
//                              to capture::ZmqReceiver, each handed to the
//                              Writer without a copy; from the first send to
//                              the file closed and fdatasync'ed. Both
//                              references timed in every iteration
//                              (vs_file_write, vs_memcpy), and the ZMQ
//                              transport alone, frames received and dropped
//                              (vs_zmq_alone), as medians of per-iteration
//                              ratios (as BM_writer_vs); lost counts frames
//                              the receiver dropped or never got
//   BM_zmq_small_paced/N       N frames of 64×64 uint16 over ZMQ at 10 kHz
//                              into the Writer; lost (receiver overruns,
//                              missing numbers, writer losses) must be 0
//   BM_writer_small/N          N frames of 64×64 uint16 as fast as possible
//                              (items/s = the sustained frame rate)
//   BM_writer_small_paced/N    N such frames paced at 10 kHz; counters
//                              full_waits (push() found the queue full) and
//                              lost must be 0
//
// Files go to $PANDAFLY_BENCH_DIR if set. Otherwise BM_file_write,
// BM_writer_vs and BM_zmq_to_dxfile write to /var/tmp, a disk: their goal's
// reference is the *durable* file-write bandwidth (write + fdatasync), which
// tmpfs does not have. The others write to /dev/shm (page cache, fdatasync a
// no-op), so that they measure the CPU side and not the shared disk's mood.
// Run: build/release/tests/bench/bench_dx_writer  (a Release build)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <zmq.hpp>

#include "pandafly/capture/adzmq_encoder.hpp"
#include "pandafly/capture/zmq_receiver.hpp"
#include "pandafly/dx/writer.hpp"

namespace {

using namespace pandafly;
namespace fs = std::filesystem;
using Frame = std::shared_ptr<const std::vector<std::uint16_t>>;

constexpr std::size_t big = 2048;
constexpr std::size_t small = 64;

enum class Medium { disk, page_cache };

fs::path bench_file(const char* name, Medium medium = Medium::page_cache) {
  const char* dir = std::getenv("PANDAFLY_BENCH_DIR");
  if (dir == nullptr) dir = medium == Medium::disk ? "/var/tmp" : "/dev/shm";
  return fs::path(dir) /
         (std::string("pandafly_bench_") + name + "_" + std::to_string(::getpid()) + ".h5");
}

dx::Layout bench_layout() {
  dx::Dataset data;
  data.name = "data";
  data.det_default = true;
  dx::Group exchange;
  exchange.name = "exchange";
  exchange.datasets = {data};
  dx::Group defaults;
  defaults.name = "defaults";
  defaults.ndattr_default = true;
  dx::Layout l;
  l.root.groups = {exchange, defaults};
  return l;
}

// A flat field of ~30000 counts with an attenuating disc and noise of
// sqrt(counts) (a normal approximation of Poisson), fixed seed per frame.
Frame projection(std::size_t n, unsigned seed) {
  auto v = std::make_shared<std::vector<std::uint16_t>>(n * n);
  std::mt19937 rng(seed);
  std::normal_distribution<float> unit(0.0F, 1.0F);
  const float c = static_cast<float>(n) / 2.0F;
  for (std::size_t y = 0; y < n; ++y) {
    for (std::size_t x = 0; x < n; ++x) {
      const float dx = static_cast<float>(x) - c, dy = static_cast<float>(y) - c;
      const float r2 = (dx * dx + dy * dy) / (c * c * 0.5F);
      const float path = r2 < 1.0F ? 2.0F * std::sqrt(1.0F - r2) : 0.0F;
      const float counts = 100.0F + 30000.0F * std::exp(-0.8F * path);
      const float noisy = counts + std::sqrt(counts) * unit(rng);
      (*v)[y * n + x] = static_cast<std::uint16_t>(std::clamp(noisy, 0.0F, 65535.0F));
    }
  }
  return v;
}

std::vector<Frame> frames(std::size_t count, std::size_t n) {
  std::vector<Frame> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(projection(n, static_cast<unsigned>(i)));
  return out;
}

// The side of the square frames in `pool`.
std::size_t frame_side(const std::vector<Frame>& pool) {
  return static_cast<std::size_t>(std::sqrt(static_cast<double>(pool[0]->size())));
}

void sync(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fdatasync(fd);
    ::close(fd);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool reserve_space = false;           // BM_writer_vs/F/R sets it from R
std::size_t compression_threads = 0;  // BM_writer_bitshuffle/F/T sets it from T

dx::WriterOptions options(const fs::path& path, std::size_t n, dx::Compression c) {
  dx::WriterOptions o;
  o.reserve_slack = reserve_space ? 0 : o.reserve_slack;  // R=1: reserve before every batch
  o.path = path;
  o.layout = bench_layout();
  o.frame = {.height = n, .width = n, .type = capture::DataType::uint16};
  o.compression = c;
  o.gzip_level = 1;
  o.compression_threads = compression_threads;
  o.queue_capacity = n == big ? 32 : 4096;
  o.overwrite = true;
  return o;
}

struct ScanResult {
  dx::EndState end;
  std::uint64_t full_waits = 0;
  double seconds = 0;  ///< Writer created … file closed and fdatasync'ed (not the removal)
  std::uintmax_t file_bytes = 0;
};

// One scan of `count` frames cycling through `pool`.
ScanResult scan(const fs::path& path, const std::vector<Frame>& pool, std::size_t count,
                dx::Compression c, std::chrono::nanoseconds period = {}) {
  const std::size_t n = frame_side(pool);
  const auto t0 = std::chrono::steady_clock::now();
  dx::Writer w(options(path, n, c));
  auto next = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    auto r = dx::FrameRecord::owning(pool[i % pool.size()]);
    r.unique_id = static_cast<std::int64_t>(i);
    r.angle = static_cast<double>(i) * 0.1;
    if (period.count() > 0) {
      next += period;
      std::this_thread::sleep_until(next);
    }
    w.push(std::move(r));
  }
  const auto waits = w.stats().full_waits;
  ScanResult r{w.finish(dx::Ending::completed()), waits};
  sync(path);
  r.seconds = seconds_since(t0);
  r.file_bytes = fs::file_size(path);
  fs::remove(path);  // freeing the pages is not part of writing
  return r;
}

const std::vector<Frame>& big_pool() {
  static const std::vector<Frame> pool = frames(8, big);
  return pool;
}

void run_writer(benchmark::State& state, dx::Compression c, const char* name) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const auto& pool = big_pool();
  const fs::path path = bench_file(name);
  (void)scan(path, pool, 2, c);  // warm up: plugins loaded, pages touched
  std::uint64_t lost = 0;
  double stored = 0;
  for (auto _ : state) {
    const auto r = scan(path, pool, count, c);
    lost += r.end.frames_lost;
    stored += static_cast<double>(r.file_bytes);
    state.SetIterationTime(r.seconds);
  }
  state.counters["lost"] = static_cast<double>(lost);
  state.counters["ratio"] =
      static_cast<double>(state.iterations()) * static_cast<double>(count * big * big * 2) / stored;
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(count * big * big * 2));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}

void BM_writer(benchmark::State& state) {
  run_writer(state, dx::Compression::none, "writer");
}
void BM_writer_bitshuffle(benchmark::State& state) {
  compression_threads = static_cast<std::size_t>(state.range(1));
  run_writer(state, dx::Compression::bitshuffle_lz4, "bitshuffle");
  compression_threads = 0;
}
void BM_writer_gzip(benchmark::State& state) {
  run_writer(state, dx::Compression::gzip, "gzip");
}

// The references, as functions of the same frames (one pass = `count` frames).

double file_write(const fs::path& path, const std::vector<Frame>& pool, std::size_t count) {
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& f = *pool[i % pool.size()];
    if (::write(fd, f.data(), f.size() * 2) < 0) std::abort();
  }
  ::fdatasync(fd);
  ::close(fd);
  const double t = seconds_since(t0);
  fs::remove(path);
  return t;
}

// The same bytes with write-behind, the writer's own durability technique:
// after every `batch` frames sync_file_range(SYNC_FILE_RANGE_WRITE) starts
// the disk on what was written (without waiting), fdatasync at the end.
double file_write_behind(const fs::path& path, const std::vector<Frame>& pool, std::size_t count,
                         std::size_t batch) {
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& f = *pool[i % pool.size()];
    if (::write(fd, f.data(), f.size() * 2) < 0) std::abort();
    if ((i + 1) % batch == 0) (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  ::fdatasync(fd);
  ::close(fd);
  const double t = seconds_since(t0);
  fs::remove(path);
  return t;
}

// The same bytes with O_DIRECT from page-aligned copies of the frames (made
// once, outside the timing), fdatasync at the end for the metadata. Falls
// back to write-behind where O_DIRECT is refused (tmpfs).
double file_write_direct(const fs::path& path, const std::vector<Frame>& pool, std::size_t count) {
  static std::vector<std::unique_ptr<std::uint16_t, decltype(&std::free)>> aligned;
  static std::size_t bytes = 0;
  if (aligned.empty()) {
    bytes = pool[0]->size() * 2;
    for (const auto& f : pool) {
      void* p = nullptr;
      if (::posix_memalign(&p, 4096, bytes) != 0) std::abort();
      std::memcpy(p, f->data(), bytes);
      aligned.emplace_back(static_cast<std::uint16_t*>(p), &std::free);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
  if (fd < 0) return file_write_behind(path, pool, count, 1);
  for (std::size_t i = 0; i < count; ++i)
    if (::write(fd, aligned[i % aligned.size()].get(), bytes) < 0) std::abort();
  ::fdatasync(fd);
  ::close(fd);
  const double t = seconds_since(t0);
  fs::remove(path);
  return t;
}

// The plain writers of the same bytes, each technique timed now: write + one
// fdatasync, write-behind per frame and per 8 frames, O_DIRECT; `best` is the
// fastest of them (a minimum of four noisy times: it favours the reference).
struct PlainWrites {
  double behind = 0;  // the faster of write-behind per frame and per 8 frames
  double direct = 0;
  double best = 0;
};
PlainWrites plain_writes(const fs::path& path, const std::vector<Frame>& pool, std::size_t count) {
  PlainWrites w;
  w.behind =
      std::min(file_write_behind(path, pool, count, 1), file_write_behind(path, pool, count, 8));
  w.direct = file_write_direct(path, pool, count);
  w.best = std::min({file_write(path, pool, count), w.behind, w.direct});
  return w;
}

double copy_frames(const std::vector<Frame>& pool, std::size_t count) {
  static std::vector<std::uint16_t> ring(32 * big * big, 1);  // 256 MiB, touched
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    const auto& f = *pool[i % pool.size()];
    std::memcpy(ring.data() + (i % 32) * big * big, f.data(), f.size() * 2);
  }
  benchmark::DoNotOptimize(ring.data());
  benchmark::ClobberMemory();
  return seconds_since(t0);
}

void BM_file_write(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const fs::path path = bench_file("file_write", Medium::disk);
  for (auto _ : state) state.SetIterationTime(file_write(path, big_pool(), count));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(count * big * big * 2));
}

void BM_memcpy(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) state.SetIterationTime(copy_frames(big_pool(), count));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(count * big * big * 2));
}

// Per-iteration ratios, reference time / measured time (> 1: faster than the
// reference). The counters report the median: on this shared VM one stalled
// iteration of either side would otherwise move a ratio of sums.
class Ratios {
 public:
  void add(double reference_seconds, double measured_seconds) {
    values_.push_back(reference_seconds / measured_seconds);
  }
  [[nodiscard]] double median() {
    if (values_.empty()) return 0;
    std::sort(values_.begin(), values_.end());
    const std::size_t n = values_.size();
    return n % 2 == 1 ? values_[n / 2] : 0.5 * (values_[n / 2 - 1] + values_[n / 2]);
  }

 private:
  std::vector<double> values_;
};

// The writer with both references measured in every iteration, interleaved
// (the file write before the scan in odd iterations, after it in even ones,
// so neither side always inherits the other's page-cache state):
// vs_file_write and vs_memcpy are medians of the writer's rate over each
// reference's (goal: the lower ≥ 0.95).
void BM_writer_vs(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  const fs::path path = bench_file("writer_vs", Medium::disk);
  const fs::path ref = bench_file("file_write", Medium::disk);
  reserve_space = state.range(1) != 0;
  Ratios write, best, behind, direct, copy;
  (void)scan(path, big_pool(), 2, dx::Compression::none);
  for (auto _ : state) {
    const bool write_first = state.iterations() % 2 == 1;
    const double before = write_first ? file_write(ref, big_pool(), count) : 0;
    const double t = scan(path, big_pool(), count, dx::Compression::none).seconds;
    state.SetIterationTime(t);
    write.add(write_first ? before : file_write(ref, big_pool(), count), t);
    const auto plain = plain_writes(ref, big_pool(), count);
    best.add(plain.best, t);
    behind.add(plain.behind, t);
    direct.add(plain.direct, t);
    copy.add(copy_frames(big_pool(), count), t);
  }
  state.counters["vs_file_write"] = write.median();
  state.counters["vs_best_writer"] = best.median();
  state.counters["vs_write_behind"] = behind.median();
  state.counters["vs_o_direct"] = direct.median();
  state.counters["vs_memcpy"] = copy.median();
  reserve_space = false;
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(count * big * big * 2));
}

// Sends `count` frames cycling through `pool` from a PUSH socket bound to
// 127.0.0.1, as the plugin would with "tcp://127.0.0.1:P PUSH BIND" (blocking
// sends: the socket's high-water mark paces it, nothing is dropped here).
class ZmqSender {
 public:
  explicit ZmqSender(zmq::context_t& ctx) : socket_(ctx, zmq::socket_type::push) {
    socket_.set(zmq::sockopt::sndhwm, 8);
    socket_.bind("tcp://127.0.0.1:*");
  }
  [[nodiscard]] std::string server_host() {
    return socket_.get(zmq::sockopt::last_endpoint) + " PUSH BIND";
  }
  // `period` > 0 paces the sends (a camera at 1/period frames per second).
  void send(const std::vector<Frame>& pool, std::size_t count, std::uint64_t first_id,
            std::chrono::nanoseconds period) {
    const std::size_t n = frame_side(pool);
    capture::ArrayHeader h;
    h.type = capture::DataType::uint16;
    h.shape = {n, n};
    std::string text;
    auto next = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
      if (period.count() > 0) {
        next += period;
        std::this_thread::sleep_until(next);
      }
      h.frame = first_id + i;
      capture::encode_adzmq_header(h, capture::HeaderStyle::current, text);
      const auto& f = *pool[i % pool.size()];
      socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
      zmq::message_t data(const_cast<std::uint16_t*>(f.data()), f.size() * 2,
                          [](void*, void*) {});  // the pool outlives the send
      socket_.send(data, zmq::send_flags::none);
    }
  }

 private:
  zmq::socket_t socket_;
};

// A sender and a receiver connected over 127.0.0.1, and the next frame number.
class ZmqRig {
 public:
  explicit ZmqRig(std::size_t queue_capacity)
      : sender_(ctx_), rx_(sender_.server_host(), receiver_options(queue_capacity)) {}
  std::tuple<ZmqSender&, capture::ZmqReceiver&, std::uint64_t&> parts() {
    return {sender_, rx_, next_id_};
  }

 private:
  static capture::ZmqReceiverOptions receiver_options(std::size_t queue_capacity) {
    capture::ZmqReceiverOptions o;
    o.queue_capacity = queue_capacity;
    return o;
  }
  zmq::context_t ctx_;
  ZmqSender sender_;
  capture::ZmqReceiver rx_;
  std::uint64_t next_id_ = 1;
};

struct ZmqScan {
  double seconds = 0;
  std::uint64_t lost = 0;
};

ZmqScan zmq_scan(ZmqSender& sender, capture::ZmqReceiver& rx, const fs::path& path,
                 const std::vector<Frame>& pool, std::size_t count, std::uint64_t first_id,
                 std::chrono::nanoseconds period = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  dx::Writer w(options(path, frame_side(pool), dx::Compression::none));
  std::thread send([&] { sender.send(pool, count, first_id, period); });
  std::size_t got = 0;
  while (got < count) {
    auto f = rx.pop(std::chrono::seconds(2));
    if (!f) break;  // the rest was dropped: counted below
    auto owner = std::make_shared<capture::ReceivedFrame>(std::move(*f));
    w.push(dx::FrameRecord::view(owner->frame(), owner));
    ++got;
  }
  send.join();
  const auto end = w.finish(dx::Ending::completed());
  sync(path);
  ZmqScan r{seconds_since(t0), count - got + end.frames_lost};
  fs::remove(path);
  return r;
}

// The transport alone: the same frames over the same sockets, received and dropped.
double zmq_alone(ZmqSender& sender, capture::ZmqReceiver& rx, std::size_t count,
                 std::uint64_t first_id) {
  const auto t0 = std::chrono::steady_clock::now();
  std::thread send([&] { sender.send(big_pool(), count, first_id, {}); });
  for (std::size_t got = 0; got < count && rx.pop(std::chrono::seconds(2)); ++got) {
  }
  send.join();
  return seconds_since(t0);
}

void BM_zmq_to_dxfile(benchmark::State& state) {
  // As pandafly-dx record does: libzmq allocates every received frame; kept in
  // the heap, freed 8 MiB buffers serve again instead of being unmapped and
  // faulted in anew (1.2-1.5 → 1.7-2.2 GB/s here).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
  const auto count = static_cast<std::size_t>(state.range(0));
  ZmqRig rig(32);
  auto [sender, rx, next_id] = rig.parts();  // references into rig
  const fs::path path = bench_file("zmq", Medium::disk);
  const fs::path ref = bench_file("file_write", Medium::disk);
  (void)zmq_scan(sender, rx, path, big_pool(), 4, next_id);  // warm up: connected, pages touched
  next_id += 4;
  Ratios write, best, behind, direct, copy, transport;
  double lost = 0;
  for (auto _ : state) {  // the file write first in odd iterations (see BM_writer_vs)
    const bool write_first = state.iterations() % 2 == 1;
    const double before = write_first ? file_write(ref, big_pool(), count) : 0;
    const auto r = zmq_scan(sender, rx, path, big_pool(), count, next_id);
    next_id += count;
    state.SetIterationTime(r.seconds);
    lost += static_cast<double>(r.lost);
    write.add(write_first ? before : file_write(ref, big_pool(), count), r.seconds);
    const auto plain = plain_writes(ref, big_pool(), count);
    best.add(plain.best, r.seconds);
    behind.add(plain.behind, r.seconds);
    direct.add(plain.direct, r.seconds);
    copy.add(copy_frames(big_pool(), count), r.seconds);
    transport.add(zmq_alone(sender, rx, count, next_id), r.seconds);
    next_id += count;
  }
  state.counters["vs_zmq_alone"] = transport.median();
  state.counters["vs_file_write"] = write.median();
  state.counters["vs_best_writer"] = best.median();
  state.counters["vs_write_behind"] = behind.median();
  state.counters["vs_o_direct"] = direct.median();
  state.counters["vs_memcpy"] = copy.median();
  state.counters["lost"] = lost + static_cast<double>(rx.stats().overruns);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(count * big * big * 2));
}

// N frames of 64×64 uint16 sent over ZMQ at 10 kHz into the Writer: lost must be 0.
void BM_zmq_small_paced(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  static const std::vector<Frame> pool = frames(64, small);
  ZmqRig rig(4096);
  auto [sender, rx, next_id] = rig.parts();  // references into rig
  const fs::path path = bench_file("zmq_small");
  (void)zmq_scan(sender, rx, path, pool, 100, next_id);
  next_id += 100;
  double lost = 0;
  for (auto _ : state) {
    const auto r = zmq_scan(sender, rx, path, pool, count, next_id, std::chrono::microseconds(100));
    next_id += count;
    state.SetIterationTime(r.seconds);
    lost += static_cast<double>(r.lost);
  }
  const auto st = rx.stats();
  state.counters["lost"] = lost + static_cast<double>(st.overruns + st.missing);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
}

void run_small(benchmark::State& state, std::chrono::nanoseconds period) {
  const auto count = static_cast<std::size_t>(state.range(0));
  static const std::vector<Frame> pool = frames(64, small);
  const fs::path path = bench_file("small");
  (void)scan(path, pool, 1000, dx::Compression::none);
  double lost = 0, waits = 0;
  for (auto _ : state) {
    const auto r = scan(path, pool, count, dx::Compression::none, period);
    state.SetIterationTime(r.seconds);
    lost += static_cast<double>(r.end.frames_lost);
    waits += static_cast<double>(r.full_waits);
  }
  state.counters["lost"] = lost;
  state.counters["full_waits"] = waits;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(count));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(count * small * small * 2));
}

void BM_writer_small(benchmark::State& state) {
  run_small(state, {});
}
void BM_writer_small_paced(benchmark::State& state) {
  run_small(state, std::chrono::microseconds(100));
}

}  // namespace

BENCHMARK(BM_memcpy)->Arg(64)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_file_write)->Arg(64)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_writer)->Arg(1)->Arg(64)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_writer_vs)
    ->Args({64, 1})
    ->Args({64, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(15);
BENCHMARK(BM_zmq_to_dxfile)->Arg(64)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(9);
BENCHMARK(BM_zmq_small_paced)
    ->Arg(20000)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(1);
BENCHMARK(BM_writer_bitshuffle)
    ->Args({16, 1})
    ->Args({16, 2})
    ->Args({64, 2})
    ->Args({16, 4})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)  // several scans each: one scan that meets cold pages is not the figure
    ->UseManualTime();
BENCHMARK(BM_writer_gzip)->Arg(16)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_writer_small)->Arg(100000)->Unit(benchmark::kMillisecond)->UseManualTime();
BENCHMARK(BM_writer_small_paced)
    ->Arg(20000)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(1);

BENCHMARK_MAIN();
