#pragma once
// Name lookup with a deadline for the Asio shells (private to pandafly_io).
//
// asio's resolver runs getaddrinfo() on a private thread; cancel() does not
// interrupt a call already running there, so a DNS server that never answers
// would hold a connect for the resolver's own timeout (10 s by default)
// whatever the caller's timeout. resolve_by() therefore waits on a timer set
// to the deadline, which the lookup's completion cancels: the caller resumes
// at the first of the two. A lookup given up on finishes later on its own
// (its state is shared with the completion handler); until then it is
// outstanding work of the io_context (run() does not return for lack of
// work, and destroying the io_context waits for it in asio's resolver
// shutdown) — the connect itself fails on time.
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pandafly::panda::detail {

/// Resolves `host`:`service`; on failure sets `ec` (asio::error::timed_out
/// when `deadline` passed first) and returns no endpoints.
inline boost::asio::awaitable<boost::asio::ip::tcp::resolver::results_type> resolve_by(
    boost::asio::any_io_executor executor, std::string host, std::string service,
    std::chrono::steady_clock::time_point deadline, boost::system::error_code& ec) {
  namespace asio = boost::asio;
  using Results = asio::ip::tcp::resolver::results_type;
  struct Wait {
    Wait(const asio::any_io_executor& ex, std::chrono::steady_clock::time_point at)
        : resolver(ex), signal(ex, at) {}
    asio::ip::tcp::resolver resolver;
    asio::steady_timer signal;  // expires at the deadline, cancelled by the lookup
    bool done = false;
    boost::system::error_code ec;
    Results results;
  };
  auto wait = std::make_shared<Wait>(executor, deadline);
  wait->resolver.async_resolve(host, service, [wait](boost::system::error_code e, Results results) {
    wait->done = true;
    wait->ec = e;
    wait->results = std::move(results);
    wait->signal.cancel();
  });
  boost::system::error_code ignored;
  co_await wait->signal.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  if (!wait->done) {
    wait->resolver.cancel();
    ec = asio::error::timed_out;
    co_return Results{};
  }
  ec = wait->ec;
  co_return wait->results;
}

}  // namespace pandafly::panda::detail
