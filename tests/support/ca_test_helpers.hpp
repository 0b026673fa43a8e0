#pragma once
// Test helpers for the Channel Access client tests: elapsed time, the
// ca::Error a call throws, and a thread-safe record of what a Context logged.
#include <chrono>
#include <mutex>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/ca/context.hpp"
#include "pandafly/ca/error.hpp"

namespace ca_test {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The ca::Error `f` throws; fails the test when it throws none.
template <class F>
pandafly::ca::Error error_of(F&& f) {
  try {
    f();
  } catch (const pandafly::ca::Error& e) {
    return e;
  }
  FAIL("no ca::Error thrown");
  return pandafly::ca::Error({}, "", "");
}

/// A thread-safe record of what a Context logged.
class LogRecorder {
 public:
  pandafly::ca::Logger logger() {
    return [this](const pandafly::ca::LogMessage& m) {
      std::scoped_lock lock(mutex_);
      messages_.push_back(m);
    };
  }
  std::vector<pandafly::ca::LogMessage> messages() const {
    std::scoped_lock lock(mutex_);
    return messages_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<pandafly::ca::LogMessage> messages_;
};

}  // namespace ca_test
