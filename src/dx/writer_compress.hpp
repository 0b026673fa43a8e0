#pragma once
// ChunkCompressor: bitshuffle/LZ4 chunks made on worker threads, in the exact
// byte format of the bitshuffle HDF5 filter (id 32008), so the writer thread
// stores them with H5Dwrite_chunk and any reader decompresses them through
// the plugin. One thread compressing in HDF5's filter pipeline reaches about
// 0.7 GB/s of input here; the goal is 1 GB/s (bench_dx_writer
// BM_writer_bitshuffle: 2 workers 1.6–1.9 GB/s into tmpfs, 1.1–1.2 GB/s
// durable on ext4; 1 worker 0.9–1.2).
//
// Rules:
//   - The compression functions come from the bitshuffle plugin itself
//     (libh5bshuf.so exports bitshuffle's public C API: bshuf_compress_lz4,
//     bshuf_compress_lz4_bound, bshuf_default_block_size), loaded with dlopen
//     from HDF5_PLUGIN_PATH or Debian's plugin directory. make() returns
//     nullptr when they cannot be found; the writer then uses the pipeline.
//   - Chunk format (what the filter writes, checked by reading back with
//     h5py): 8 bytes big-endian uncompressed size, 4 bytes big-endian block
//     size in bytes, then bshuf_compress_lz4's output.
//   - start(frames) hands a batch to the workers, who take its frames in
//     order; wait(i) returns frame i's chunk once done. The writer asks in
//     order (i = 0, 1, 2, ...) and writes while later frames are still being
//     compressed. The input spans stay in use until drain(); a returned
//     chunk stays valid until the next wait(), drain() or start(). One user
//     thread.
//   - Output buffers: a pool of threads + 2 compressed-chunk buffers, made
//     once and reused for the compressor's life (this VM is slow the first
//     time it touches memory: a buffer per frame of a batch cost 134 MiB of
//     fresh pages per 16-frame batch). A worker takes the next frame only
//     when a buffer is free; wait(i) gives back frame i-1's buffer.
//   - drain() before the frames of a batch are released (also on errors):
//     frames not yet taken are skipped, those being compressed finished.
//   - The destructor stops and joins the workers.
//
// Example:
//   auto c = ChunkCompressor::make(2, 2, 2048 * 2048 * 2);
//   c->start(pixel_spans);
//   for (i...) dataset.write_filtered_chunk(row + i, c->wait(i));
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace pandafly::dx::detail {

class ChunkCompressor {
 public:
  struct Api {
    std::int64_t (*compress)(const void*, void*, std::size_t, std::size_t, std::size_t) = nullptr;
    std::size_t (*bound)(std::size_t, std::size_t, std::size_t) = nullptr;
    std::size_t (*default_block)(std::size_t) = nullptr;
  };

  /// `threads` workers for frames of `frame_bytes` bytes of `elem_size`-byte
  /// pixels; nullptr if the plugin's functions are not found (see `why`).
  [[nodiscard]] static std::unique_ptr<ChunkCompressor> make(std::size_t threads,
                                                             std::size_t elem_size,
                                                             std::size_t frame_bytes,
                                                             std::string* why = nullptr);
  ChunkCompressor(Api api, std::size_t threads, std::size_t elem_size, std::size_t frame_bytes);
  ~ChunkCompressor();
  ChunkCompressor(const ChunkCompressor&) = delete;
  ChunkCompressor& operator=(const ChunkCompressor&) = delete;

  void start(const std::vector<std::span<const std::byte>>& frames);
  /// Frame i's chunk (i one more than the last call's, from 0 after start());
  /// throws std::runtime_error if bitshuffle reported an error.
  [[nodiscard]] std::span<const std::byte> wait(std::size_t i);
  /// Waits until no worker reads the batch's frames any more (before they are released).
  void drain() noexcept;

 private:
  using Buffer = std::unique_ptr<std::byte[]>;
  struct Job {
    std::span<const std::byte> in;
    Buffer out;            // from free_ while taken, back to free_ when given back
    std::size_t size = 0;  // bytes of `out` in use
    bool done = false;
    bool failed = false;
  };
  [[nodiscard]] bool taken_done() const noexcept;
  void give_back(Job& job) noexcept;  // under mutex_
  void work() noexcept;
  void compress(Job& job) const noexcept;

  Api api_;
  std::size_t elem_size_;
  std::size_t block_;  // elements per block
  std::size_t out_bytes_;
  std::mutex mutex_;
  std::condition_variable ready_;  // new jobs, or stopping
  std::condition_variable done_;   // a job finished
  std::vector<Job> jobs_;
  std::vector<Buffer> free_;  // the pool's idle buffers
  std::size_t limit_ = 0;     // jobs that may be taken (the batch; next_ once draining)
  std::size_t next_ = 0;      // next job to take
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t held_ = none;  // the job whose chunk wait() last returned
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace pandafly::dx::detail
