#pragma once
// parallel_for: runs task(0) … task(count − 1) on up to `threads` threads
// (the caller's included) and returns when all are done.
//
// Rules
//   - Tasks are handed out one at a time from a shared counter, so uneven
//     tasks balance. threads ≤ 1 or count ≤ 1: everything on the calling thread.
//   - A task that throws: the other threads finish their current task and
//     take no new one; the first exception is rethrown to the caller after
//     every thread has joined.
//   - default_threads(): std::thread::hardware_concurrency(), at least 1.
//   - parallel_on(threads): parallel_for on that many threads as a function
//     object, for the interfaces that take one (dx::ParallelFor).
//
// Example:
//   util::parallel_for(util::default_threads(), rows, [&](std::size_t r) { filter(r); });
#include <cstddef>
#include <functional>

namespace pandafly::util {

[[nodiscard]] std::size_t default_threads() noexcept;
void parallel_for(std::size_t threads, std::size_t count,
                  const std::function<void(std::size_t)>& task);
[[nodiscard]] std::function<void(std::size_t, const std::function<void(std::size_t)>&)> parallel_on(
    std::size_t threads);

}  // namespace pandafly::util
