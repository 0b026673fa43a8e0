#include "tcp.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pandafly::panda::tcp {
namespace {

/// Connects a fresh non-blocking socket to `ai` by `deadline`; returns the fd,
/// or -1 with `ec` set (the socket is closed then).
[[nodiscard]] int try_connect(const addrinfo& ai, Clock::time_point deadline, std::error_code& ec) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    ec = {errno, std::system_category()};
    return -1;
  }
  int err = ::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    const int n = ::poll(&p, 1, millis_left(deadline));
    socklen_t len = sizeof err;
    if (n == 0)
      err = ETIMEDOUT;
    else if (n < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      err = errno;
  }
  if (err == 0) return fd;
  ::close(fd);
  ec = {err, std::system_category()};
  return -1;
}

/// getaddrinfo()'s own error codes (EAI_*) and texts.
class ResolveCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "getaddrinfo"; }
  [[nodiscard]] std::string message(int rc) const override { return ::gai_strerror(rc); }
};
const ResolveCategory resolve_category;

using AddrInfo = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

/// One getaddrinfo() call on its own thread, shared with the caller that
/// waits for it: a caller that gives up marks it abandoned and the thread
/// frees the result when the lookup finally returns.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  bool abandoned = false;
  int rc = 0;
  addrinfo* found = nullptr;
};

/// getaddrinfo() has no timeout of its own (a DNS server that never answers
/// holds it for the resolver's timeout × attempts, 10 s by default), so it
/// runs on a detached thread and the caller waits only until `deadline`.
AddrInfo resolve(const std::string& host, const std::string& service, Clock::time_point deadline,
                 const std::string& peer) {
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host, service] {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
    const std::scoped_lock lock(lookup->mutex);
    if (lookup->abandoned) {
      if (rc == 0) ::freeaddrinfo(found);
      return;
    }
    lookup->rc = rc;
    lookup->found = found;
    lookup->done = true;
    lookup->done_cv.notify_one();
  }).detach();
  std::unique_lock lock(lookup->mutex);
  if (!lookup->done_cv.wait_until(lock, deadline, [&] { return lookup->done; })) {
    lookup->abandoned = true;
    throw std::system_error(
        std::make_error_code(std::errc::timed_out),
        "cannot connect to " + peer + ": the name lookup did not finish in time");
  }
  if (lookup->rc != 0) {
    throw std::system_error(std::error_code(lookup->rc, resolve_category),
                            "cannot resolve " + peer);
  }
  return {lookup->found, &::freeaddrinfo};
}

}  // namespace

int millis_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 1 << 30));
}

int connect(const std::string& host, std::uint16_t port, Clock::time_point deadline,
            bool no_delay) {
  const std::string peer = host + ":" + std::to_string(port);
  const AddrInfo owner = resolve(host, std::to_string(port), deadline, peer);
  const addrinfo* found = owner.get();
  std::error_code ec = std::make_error_code(std::errc::address_not_available);
  int fd = -1;
  for (const addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = try_connect(*ai, deadline, ec);
  }
  if (fd < 0) throw std::system_error(ec, "cannot connect to " + peer);
  const int one = 1;
  if (no_delay) (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool transient() noexcept {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

}  // namespace pandafly::panda::tcp
