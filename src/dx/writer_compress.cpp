// ChunkCompressor: bitshuffle/LZ4 chunks on worker threads (writer_compress.hpp).
#include "writer_compress.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <dlfcn.h>
#include <fmt/format.h>

namespace pandafly::dx::detail {
namespace {

constexpr const char* debian_plugins = "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins";
constexpr std::size_t header_bytes = 12;

// Where HDF5 looks for plugins: HDF5_PLUGIN_PATH (':'-separated), then Debian's directory.
std::vector<std::string> plugin_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("HDF5_PLUGIN_PATH")) {
    std::string text = env;
    for (std::size_t from = 0;;) {
      const auto colon = text.find(':', from);
      dirs.push_back(text.substr(from, colon - from));
      if (colon == std::string::npos) break;
      from = colon + 1;
    }
  }
  dirs.emplace_back(debian_plugins);
  return dirs;
}

// The plugin stays loaded for the life of the process (HDF5 loads it too).
void* open_plugin() {
  for (const auto& dir : plugin_dirs()) {
    const auto path = std::filesystem::path(dir) / "libh5bshuf.so";
    if (void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return h;
  }
  return nullptr;
}

template <class Fn>
bool find(void* lib, const char* name, Fn& fn) {
  void* sym = ::dlsym(lib, name);
  if (sym == nullptr) return false;
  static_assert(sizeof fn == sizeof sym);
  std::memcpy(&fn, &sym, sizeof fn);  // object pointer → function pointer, as POSIX allows
  return true;
}

void put_be(std::byte* at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) {
    at[i] = static_cast<std::byte>(value >> (8 * (bytes - 1 - i)));
  }
}

}  // namespace

std::unique_ptr<ChunkCompressor> ChunkCompressor::make(std::size_t threads, std::size_t elem_size,
                                                       std::size_t frame_bytes, std::string* why) {
  static void* lib = open_plugin();
  Api api;
  if (lib == nullptr || !find(lib, "bshuf_compress_lz4", api.compress) ||
      !find(lib, "bshuf_compress_lz4_bound", api.bound) ||
      !find(lib, "bshuf_default_block_size", api.default_block)) {
    if (why != nullptr) *why = "bitshuffle functions not found in libh5bshuf.so";
    return nullptr;
  }
  return std::make_unique<ChunkCompressor>(api, threads, elem_size, frame_bytes);
}

ChunkCompressor::ChunkCompressor(Api api, std::size_t threads, std::size_t elem_size,
                                 std::size_t frame_bytes)
    : api_(api),
      elem_size_(elem_size),
      block_(api.default_block(elem_size)),
      out_bytes_(header_bytes + api.bound(frame_bytes / elem_size, elem_size, block_)) {
  threads = std::max<std::size_t>(1, threads);
  // Not zeroed: the pages are first touched by the compression that fills them.
  for (std::size_t i = 0; i < threads + 2; ++i) free_.emplace_back(new std::byte[out_bytes_]);
  for (std::size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ChunkCompressor::~ChunkCompressor() {
  {
    std::scoped_lock lock(mutex_);
    stop_ = true;
  }
  ready_.notify_all();
  for (auto& t : workers_) t.join();
}

void ChunkCompressor::start(const std::vector<std::span<const std::byte>>& frames) {
  drain();  // the previous batch may still be in use
  std::scoped_lock lock(mutex_);
  if (jobs_.size() < frames.size()) jobs_.resize(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    Job& j = jobs_[i];
    j.in = frames[i];
    j.size = 0;
    j.done = j.failed = false;
  }
  next_ = 0;
  limit_ = frames.size();
  ready_.notify_all();
}

bool ChunkCompressor::taken_done() const noexcept {
  for (std::size_t i = 0; i < next_; ++i) {
    if (!jobs_[i].done) return false;
  }
  return true;
}

void ChunkCompressor::give_back(Job& job) noexcept {
  if (job.out) free_.push_back(std::move(job.out));
}

void ChunkCompressor::drain() noexcept {
  std::unique_lock lock(mutex_);
  limit_ = next_;  // nothing more is taken
  done_.wait(lock, [&] { return taken_done(); });
  for (std::size_t i = 0; i < next_; ++i) give_back(jobs_[i]);
  held_ = none;
}

std::span<const std::byte> ChunkCompressor::wait(std::size_t i) {
  std::unique_lock lock(mutex_);
  if (held_ != none) {
    give_back(jobs_[held_]);
    ready_.notify_one();  // a worker may be waiting for a buffer
  }
  held_ = i;
  done_.wait(lock, [&] { return jobs_[i].done; });
  if (jobs_[i].failed) throw std::runtime_error("bitshuffle/LZ4 compression failed");
  return {jobs_[i].out.get(), jobs_[i].size};
}

void ChunkCompressor::work() noexcept {
  for (;;) {
    Job* job = nullptr;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stop_ || (next_ < limit_ && !free_.empty()); });
      if (stop_) return;
      job = &jobs_[next_++];
      job->out = std::move(free_.back());
      free_.pop_back();
    }
    compress(*job);
    {
      std::scoped_lock lock(mutex_);
      job->done = true;
    }
    done_.notify_all();
  }
}

void ChunkCompressor::compress(Job& job) const noexcept {
  std::byte* out = job.out.get();
  put_be(out, job.in.size(), 8);
  put_be(out + 8, block_ * elem_size_, 4);
  const std::int64_t n = api_.compress(job.in.data(), out + header_bytes,
                                       job.in.size() / elem_size_, elem_size_, block_);
  job.failed = n < 0;
  job.size = n < 0 ? 0 : header_bytes + static_cast<std::size_t>(n);
}

}  // namespace pandafly::dx::detail
