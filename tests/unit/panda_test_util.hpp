#pragma once
// Test helpers: drive a command through a ControlConnection with scripted
// reply bytes, no sockets.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/panda/control_connection.hpp"

namespace pandafly::panda::test {

/// Sends `command`, checks the bytes it produced against `expected_out`
/// (skipped when empty), feeds `replies` (one chunk per step, in order: the
/// bytes answering each batch) and returns the result.
template <class C>
Result<typename C::result_type> drive(C command, const std::vector<std::string>& expected_out,
                                      const std::vector<std::string>& replies) {
  ControlConnection c;
  auto ticket = c.send(std::move(command));
  for (std::size_t step = 0; step < replies.size(); ++step) {
    const std::string out = c.take_output();
    if (step < expected_out.size()) CHECK(out == expected_out[step]);
    REQUIRE_FALSE(c.receive(replies[step]));
  }
  CHECK_FALSE(c.has_output());
  REQUIRE(c.finished(ticket.id));
  CHECK(c.take_completed() == std::vector<CommandId>{ticket.id});
  return c.take_result(ticket);
}

}  // namespace pandafly::panda::test
