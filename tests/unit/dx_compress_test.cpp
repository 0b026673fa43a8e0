// ChunkCompressor (src/dx/writer_compress.hpp): bitshuffle/LZ4 chunks made on
// worker threads from a pool of threads + 2 output buffers. Every chunk is
// decompressed again with the plugin's own bshuf_decompress_lz4 and compared
// with its frame, over batches larger than the pool, and a batch abandoned
// half-way must drain without a deadlock and leave the compressor usable.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <doctest/doctest.h>

#include "../../src/dx/writer_compress.hpp"

namespace {

using pandafly::dx::detail::ChunkCompressor;

using Decompress = std::int64_t (*)(const void*, void*, std::size_t, std::size_t, std::size_t);

// The plugin's decompressor, found where ChunkCompressor finds its compressor.
// Debian's plugin directory (set-up installs the bitshuffle package).
Decompress decompressor() {
  void* lib = ::dlopen("/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins/libh5bshuf.so",
                       RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return nullptr;
  void* sym = ::dlsym(lib, "bshuf_decompress_lz4");
  Decompress fn = nullptr;
  std::memcpy(&fn, &sym, sizeof fn);
  return fn;
}

std::uint64_t get_be(const std::byte* at, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(at[i]);
  return v;
}

// Frame k: a 16-bit ramp with a per-frame offset and a little hash noise,
// so every frame differs and compresses to a different size.
std::vector<std::byte> frame(std::size_t k, std::size_t pixels) {
  std::vector<std::uint16_t> v(pixels);
  for (std::size_t i = 0; i < pixels; ++i) {
    const std::uint32_t h = static_cast<std::uint32_t>(i * 2654435761U + k * 40503U);
    v[i] = static_cast<std::uint16_t>(1000 + 7 * k + (i % 512) + (h >> 29));
  }
  std::vector<std::byte> b(pixels * 2);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// The chunk decompresses (through the filter's header) to exactly `original`.
void check_chunk(Decompress decompress, std::span<const std::byte> chunk,
                 const std::vector<std::byte>& original) {
  REQUIRE(chunk.size() > 12);
  CHECK(get_be(chunk.data(), 8) == original.size());
  const std::size_t block_bytes = get_be(chunk.data() + 8, 4);
  REQUIRE(block_bytes % 2 == 0);
  std::vector<std::byte> back(original.size());
  const std::int64_t used =
      decompress(chunk.data() + 12, back.data(), original.size() / 2, 2, block_bytes / 2);
  CHECK(used == static_cast<std::int64_t>(chunk.size() - 12));
  CHECK(back == original);
}

}  // namespace

TEST_CASE("ChunkCompressor: batches larger than its buffer pool come back in order and exact") {
  const Decompress decompress = decompressor();
  REQUIRE((decompress != nullptr));
  constexpr std::size_t pixels = 96 * 80;
  for (const std::size_t threads : {1U, 2U, 3U}) {
    INFO("threads " << threads);
    std::string why;
    auto c = ChunkCompressor::make(threads, 2, pixels * 2, &why);
    REQUIRE_MESSAGE(c != nullptr, why);
    std::size_t k = 0;
    for (const std::size_t batch : {1U, 9U, 2U, 17U}) {  // the pool holds threads + 2
      std::vector<std::vector<std::byte>> frames;
      std::vector<std::span<const std::byte>> spans;
      for (std::size_t i = 0; i < batch; ++i) frames.push_back(frame(k++, pixels));
      for (const auto& f : frames) spans.emplace_back(f);
      c->start(spans);
      for (std::size_t i = 0; i < batch; ++i) check_chunk(decompress, c->wait(i), frames[i]);
      c->drain();
    }
  }
}

TEST_CASE("ChunkCompressor: a batch abandoned half-way drains, and the next batch is exact") {
  const Decompress decompress = decompressor();
  REQUIRE((decompress != nullptr));
  constexpr std::size_t pixels = 128 * 128;
  auto c = ChunkCompressor::make(2, 2, pixels * 2);
  REQUIRE((c != nullptr));
  std::vector<std::vector<std::byte>> frames;
  std::vector<std::span<const std::byte>> spans;
  for (std::size_t i = 0; i < 40; ++i) frames.push_back(frame(i, pixels));
  for (const auto& f : frames) spans.emplace_back(f);
  c->start(spans);
  check_chunk(decompress, c->wait(0), frames[0]);
  check_chunk(decompress, c->wait(1), frames[1]);
  c->drain();  // as the writer does when a write fails: must return, workers idle
  frames.erase(frames.begin(), frames.begin() + 30);
  spans.assign(frames.begin(), frames.end());
  c->start(spans);  // a new batch, straight after an abandoned one
  for (std::size_t i = 0; i < frames.size(); ++i) check_chunk(decompress, c->wait(i), frames[i]);
  c->drain();
}
