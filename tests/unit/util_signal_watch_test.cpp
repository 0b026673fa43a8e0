// SignalWatch: SIGINT, SIGTERM and SIGHUP, once and repeated, reach the watch
// thread and set the stop flag; a repeated signal never falls back to the
// default action (the process would die here); dispositions come back after.
#include <chrono>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/util/signal_watch.hpp"

namespace {

using pandafly::util::SignalWatch;
using namespace std::chrono_literals;

/// Waits (up to a generous guard) until the watch has counted `n` signals.
bool wait_for_count(const SignalWatch& w, int n) {
  const auto guard = std::chrono::steady_clock::now() + 20s;
  while (w.count() < n) {
    if (std::chrono::steady_clock::now() > guard) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

struct Seen {
  std::mutex mutex;
  std::vector<std::pair<int, int>> calls;
  void add(int sig, int count) {
    std::scoped_lock lock(mutex);
    calls.emplace_back(sig, count);
  }
  std::vector<std::pair<int, int>> get() {
    std::scoped_lock lock(mutex);
    return calls;
  }
};

}  // namespace

TEST_CASE("SignalWatch: a repeated signal is counted, never the default action") {
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    CAPTURE(SignalWatch::name(sig));
    Seen seen;
    SignalWatch w([&](int s, int count) { seen.add(s, count); });
    CHECK_FALSE(w.stop_requested().load());
    CHECK(w.first_signal() == 0);
    REQUIRE(std::raise(sig) == 0);
    REQUIRE(wait_for_count(w, 1));
    CHECK(w.stop_requested().load());
    REQUIRE(std::raise(sig) == 0);  // with SIG_DFL back in place this would end the test run
    REQUIRE(std::raise(sig) == 0);
    REQUIRE(wait_for_count(w, 3));
    CHECK(w.first_signal() == sig);
    // The callback runs on the watch thread after the count is raised: wait for it too.
    const auto guard = std::chrono::steady_clock::now() + 20s;
    while (seen.get().size() < 3 && std::chrono::steady_clock::now() < guard)
      std::this_thread::sleep_for(1ms);
    CHECK(seen.get() == std::vector<std::pair<int, int>>{{sig, 1}, {sig, 2}, {sig, 3}});
  }
}

TEST_CASE("SignalWatch: the first signal is the one remembered") {
  SignalWatch w;
  REQUIRE(std::raise(SIGHUP) == 0);
  REQUIRE(wait_for_count(w, 1));
  REQUIRE(std::raise(SIGINT) == 0);
  REQUIRE(wait_for_count(w, 2));
  CHECK(w.first_signal() == SIGHUP);
  CHECK(SignalWatch::name(SIGHUP) == "SIGHUP");
  CHECK(SignalWatch::name(SIGINT) == "SIGINT");
  CHECK(SignalWatch::name(SIGTERM) == "SIGTERM");
}

TEST_CASE("SignalWatch: one at a time; the previous dispositions come back") {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction before {};
  REQUIRE(::sigaction(SIGHUP, &ignore, &before) == 0);
  {
    SignalWatch w;
    CHECK_THROWS_AS(SignalWatch{}, std::logic_error);
    struct sigaction during {};
    REQUIRE(::sigaction(SIGHUP, nullptr, &during) == 0);
    CHECK((during.sa_handler != SIG_IGN));
  }
  struct sigaction after {};
  REQUIRE(::sigaction(SIGHUP, &before, &after) == 0);
  CHECK((after.sa_handler == SIG_IGN));
  SignalWatch again;  // the slot is free again
  CHECK(again.count() == 0);
}

TEST_CASE("SignalWatch: after a caught signal the watched signals stay ignored") {
  // The program is stopping because of the signal: a repeat during the rest
  // of its teardown must not take the default action (this process would die).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  struct sigaction before {};
  REQUIRE(::sigaction(SIGTERM, &dfl, &before) == 0);
  {
    SignalWatch w;
    REQUIRE(::raise(SIGTERM) == 0);
    REQUIRE(wait_for_count(w, 1));
  }
  struct sigaction after {};
  REQUIRE(::sigaction(SIGTERM, nullptr, &after) == 0);
  CHECK((after.sa_handler == SIG_IGN));
  CHECK(::raise(SIGTERM) == 0);  // ignored: still here
  REQUIRE(::sigaction(SIGTERM, &before, nullptr) == 0);
}
