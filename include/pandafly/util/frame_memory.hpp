#pragma once
// keep_frame_memory(): tells glibc's malloc to keep the memory of freed
// camera frames for the next ones. Call once at a program's start, before
// frames flow (the scan tools, the benchmarks that stand for them).
//
// Why: libzmq allocates every received message (a 0.5–6 MiB frame) with
// malloc. By default glibc serves such sizes with mmap and returns them with
// munmap (or trims its heap), so every frame's pages are faulted in afresh:
// at 500 frames/s of 512 KiB that was a third of pandafly's CPU
// (bench_fly_scan: 0.73 → 0.50 ms of CPU per frame with these settings).
// Heap memory up to `mmap_threshold` per block is reused instead, and up to
// `trim_threshold` free at the heap's top is kept. The cost: freed frame
// memory stays with the process (bounded by the frames in flight).
#include <cstddef>

#include <malloc.h>

namespace pandafly::util {

inline void keep_frame_memory(std::size_t mmap_threshold = std::size_t{32} << 20,
                              std::size_t trim_threshold = std::size_t{256} << 20) {
  ::mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold));  // 32 MiB: glibc's largest
  ::mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold));
}

}  // namespace pandafly::util
