#pragma once
// sender_socket_for: what NDPluginZMQ does with its `serverHost` string
// ("transport://address [PUB|PUSH|SUB|PULL] [BIND|CONNECT]", file-formats.md
// §3.2) — the sender's mirror of capture::receiver_socket_for.
//
// Rules
//   * Type: PUB or SUB ⇒ PUB; PUSH or PULL ⇒ PUSH; none ⇒ PUB when the address
//     contains '*', else PUSH.
//   * Bind or connect: BIND / CONNECT when given; otherwise bind, except an
//     untyped PUSH, which connects.
//   * Simulators bind 127.0.0.1 only: a host of "*" or "0.0.0.0" becomes
//     127.0.0.1 (so `tcp://*:1234` binds tcp://127.0.0.1:1234, PUB). Port 0 or
//     '*' binds an ephemeral port (read it back from the socket).
//   * Pure; throws std::invalid_argument (naming the word) on an empty string
//     or an unknown word.
//
// Example:
//   auto s = sender_socket_for("tcp://*:1234");   // {pub, bind, "tcp://127.0.0.1:1234"}
#include <string>
#include <string_view>

namespace pandafly::sim::camera {

enum class SocketPattern { pub, push };

struct SenderSocket {
  SocketPattern pattern = SocketPattern::pub;
  bool bind = true;
  std::string address;  ///< what the sender binds or connects
  friend bool operator==(const SenderSocket&, const SenderSocket&) = default;
};

[[nodiscard]] SenderSocket sender_socket_for(std::string_view server_host);

/// "PUB bind tcp://127.0.0.1:1234" (for messages).
[[nodiscard]] std::string describe(const SenderSocket& s);

}  // namespace pandafly::sim::camera
