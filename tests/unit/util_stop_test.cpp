// util/stop.hpp: the adapters that let a std::stop_token end a wait or set a
// flag. Waits use 60 s deadlines as failure guards: a pass means the stop
// request, not the deadline, ended the wait.
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "pandafly/util/stop.hpp"

namespace util = pandafly::util;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Waiter {
  std::mutex mutex;
  std::condition_variable cv;
  bool ready = false;
  bool waiting = false;  // set under the mutex just before the wait

  // Waits up to 60 s; returns wait_until's verdict.
  bool wait(const util::StopToken& stop) {
    const util::WakeOnStop wake(stop, mutex, cv);
    std::unique_lock lock(mutex);
    waiting = true;
    cv.notify_all();
    return util::wait_until(cv, lock, Clock::now() + 60s, stop, [&] { return ready; });
  }
  void wait_for_waiter() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return waiting; });
  }
};

}  // namespace

TEST_CASE("WakeOnStop ends a condition-variable wait when stop is requested") {
  Waiter w;
  util::StopSource stop;
  auto t0 = Clock::now();
  auto result = std::async(std::launch::async, [&] { return w.wait(stop.get_token()); });
  w.wait_for_waiter();
  CHECK(result.wait_for(0s) == std::future_status::timeout);
  stop.request_stop();
  REQUIRE(result.wait_for(60s) == std::future_status::ready);
  CHECK_FALSE(result.get());  // not ready: cancelled
  CHECK(Clock::now() - t0 < 30s);
}

TEST_CASE("wait_until: a result already there wins over a stop request") {
  Waiter w;
  w.ready = true;
  util::StopSource stop;
  stop.request_stop();
  CHECK(w.wait(stop.get_token()));
}

TEST_CASE("a stop requested before the wait ends it at once") {
  Waiter w;
  util::StopSource stop;
  stop.request_stop();
  const auto t0 = Clock::now();
  CHECK_FALSE(w.wait(stop.get_token()));
  CHECK(Clock::now() - t0 < 30s);
}

TEST_CASE("a default token never stops: the wait ends on its predicate") {
  Waiter w;
  auto result = std::async(std::launch::async, [&] { return w.wait(util::StopToken{}); });
  w.wait_for_waiter();
  {
    std::scoped_lock lock(w.mutex);
    w.ready = true;
  }
  w.cv.notify_all();
  REQUIRE(result.wait_for(60s) == std::future_status::ready);
  CHECK(result.get());
}

TEST_CASE("StopFlag follows its token; StopCallback maps a token onto a stop() function") {
  util::StopSource stop;
  util::StopFlag flag(stop.get_token());
  int stopped = 0;
  const util::StopCallback on_stop(stop.get_token(), [&] { ++stopped; });
  CHECK_FALSE(flag.flag().load());
  CHECK(stopped == 0);
  CHECK(stop.request_stop());
  CHECK(flag.flag().load());
  CHECK(stopped == 1);
  CHECK_FALSE(stop.request_stop());  // first request wins; callbacks ran once
  CHECK(stopped == 1);

  SUBCASE("already stopped: set in the constructor") {
    util::StopFlag late(stop.get_token());
    CHECK(late.flag().load());
  }
  SUBCASE("set by hand without a stop request") {
    util::StopSource other;
    util::StopFlag f(other.get_token());
    f.set();
    CHECK(f.flag().load());
    CHECK_FALSE(other.stop_requested());
  }
}

TEST_CASE("cancelled_error is operation_canceled, distinct from a timeout") {
  CHECK(util::is_cancelled(util::cancelled_error()));
  CHECK(util::cancelled_error() == std::errc::operation_canceled);
  CHECK_FALSE(util::is_cancelled(std::make_error_code(std::errc::timed_out)));
}
