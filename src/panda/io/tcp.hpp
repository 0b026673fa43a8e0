#pragma once
// POSIX TCP helpers shared by the blocking shells (private to pandafly_io).
#include <chrono>
#include <cstdint>
#include <string>

namespace pandafly::panda::tcp {

using Clock = std::chrono::steady_clock;

/// Milliseconds until `deadline` for poll(): 0 when passed, capped at ~12 days.
[[nodiscard]] int millis_left(Clock::time_point deadline);

/// Resolves `host` and connects a non-blocking socket (TCP_NODELAY when
/// `no_delay`) by `deadline` — the deadline covers the name lookup too (it
/// runs on a detached thread that outlives a lookup given up on). Returns
/// the fd; throws std::system_error naming host:port (resolve failure,
/// refused, timed out).
[[nodiscard]] int connect(const std::string& host, std::uint16_t port, Clock::time_point deadline,
                          bool no_delay);

/// The last socket call failed only for now (EAGAIN, EWOULDBLOCK, EINTR).
[[nodiscard]] bool transient() noexcept;

}  // namespace pandafly::panda::tcp
