// The camera simulator's serverHost rules seen from the sender
// (file-formats.md §3.2): which socket the simulated NDPluginZMQ opens.
#include <stdexcept>

#include <doctest/doctest.h>

#include "sim/camera/server_host.hpp"

namespace pandafly::sim::camera {

TEST_CASE("camera serverHost: the plugin's rules (§3.2), wildcards bind 127.0.0.1 only") {
  using P = SocketPattern;
  CHECK(sender_socket_for("tcp://*:1234") == SenderSocket{P::pub, true, "tcp://127.0.0.1:1234"});
  CHECK(sender_socket_for("tcp://0.0.0.0:1234 PUB") ==
        SenderSocket{P::pub, true, "tcp://127.0.0.1:1234"});
  CHECK(sender_socket_for("tcp://127.0.0.1:1234 PUB") ==
        SenderSocket{P::pub, true, "tcp://127.0.0.1:1234"});
  CHECK(sender_socket_for("tcp://127.0.0.1:1234 SUB CONNECT") ==
        SenderSocket{P::pub, false, "tcp://127.0.0.1:1234"});
  CHECK(sender_socket_for("tcp://127.0.0.1:1234") ==
        SenderSocket{P::push, false, "tcp://127.0.0.1:1234"});
  CHECK(sender_socket_for("tcp://127.0.0.1:1234 PUSH BIND") ==
        SenderSocket{P::push, true, "tcp://127.0.0.1:1234"});
  CHECK(sender_socket_for("  tcp://127.0.0.1:1234   PULL ") ==
        SenderSocket{P::push, true, "tcp://127.0.0.1:1234"});
  CHECK(describe(sender_socket_for("tcp://*:1234")) == "PUB bind tcp://127.0.0.1:1234");
  CHECK_THROWS_AS((void)sender_socket_for(""), std::invalid_argument);
  CHECK_THROWS_WITH_AS((void)sender_socket_for("tcp://127.0.0.1:1 XPUB"),
                       doctest::Contains("unknown word 'XPUB'"), std::invalid_argument);
}

}  // namespace pandafly::sim::camera
