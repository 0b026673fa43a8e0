#pragma once
// ChunkCompressor: bitshuffle/LZ4 chunks made on worker threads, in the exact
// byte format of the bitshuffle HDF5 filter (id 32008), so the writer thread
// stores them with H5Dwrite_chunk and any reader decompresses them through
// the plugin. One thread compressing in HDF5's filter pipeline reaches about
// 0.7 GB/s of input here; the goal is 1 GB/s (bench_dx_writer).
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
//   - start(frames) hands a batch to the workers; wait(i) returns frame i's
//     chunk once done (in any order; the writer asks in order and writes
//     while later frames are still being compressed). The spans and the
//     returned chunks stay valid until the next start(). One user thread.
//   - drain() before the frames of a batch are released (also on errors).
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
  /// Frame i's chunk; throws std::runtime_error if bitshuffle reported an error.
  [[nodiscard]] std::span<const std::byte> wait(std::size_t i);
  /// Waits until no worker reads the batch's frames any more (before they are released).
  void drain() noexcept;

 private:
  struct Job {
    std::span<const std::byte> in;
    std::vector<std::byte> out;  // reused across batches
    std::size_t size = 0;        // bytes of `out` in use
    bool done = false;
    bool failed = false;
  };
  [[nodiscard]] bool all_done() const noexcept;
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
  std::size_t jobs_in_batch_ = 0;
  std::size_t next_ = 0;  // next job to take
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace pandafly::dx::detail
