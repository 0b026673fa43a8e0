#pragma once
// Test helper: runs a coroutine on a fresh io_context in this thread and
// rethrows what it throws (a failed REQUIRE included); 30 s overall limit.
#include <chrono>
#include <exception>
#include <functional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

namespace pandafly::test {

inline void run_async(
    const std::function<boost::asio::awaitable<void>(boost::asio::any_io_executor)>& body) {
  boost::asio::io_context io;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  io.run_for(std::chrono::seconds(30));
  REQUIRE(done);
  if (error) std::rethrow_exception(error);
}

}  // namespace pandafly::test
