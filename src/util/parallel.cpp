// parallel_for (contract in include/pandafly/util/parallel.hpp).
#include "pandafly/util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pandafly::util {

std::size_t default_threads() noexcept {
  return std::max(1U, std::thread::hardware_concurrency());
}

void parallel_for(std::size_t threads, std::size_t count,
                  const std::function<void(std::size_t)>& task) {
  const std::size_t workers = std::min(threads, count);
  if (workers <= 1) {
    for (std::size_t i = 0; i < count; ++i) task(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex first_mutex;
  const auto work = [&] {
    for (std::size_t i = next++; i < count && !failed; i = next++) {
      try {
        task(i);
      } catch (...) {
        std::scoped_lock lock(first_mutex);
        if (!first) first = std::current_exception();
        failed = true;
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    pool.reserve(workers - 1);
    for (std::size_t t = 1; t < workers; ++t) pool.emplace_back(work);
    work();
  }  // joined
  if (first) std::rethrow_exception(first);
}

std::function<void(std::size_t, const std::function<void(std::size_t)>&)> parallel_on(
    std::size_t threads) {
  return [threads](std::size_t count, const std::function<void(std::size_t)>& task) {
    parallel_for(threads, count, task);
  };
}

}  // namespace pandafly::util
