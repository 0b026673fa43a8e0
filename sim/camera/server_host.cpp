#include "sim/camera/server_host.hpp"

#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace pandafly::sim::camera {

namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const auto start = s.find_first_not_of(" \t");
    if (start == std::string_view::npos) return out;
    s.remove_prefix(start);
    const auto end = std::min(s.find_first_of(" \t"), s.size());
    out.push_back(s.substr(0, end));
    s.remove_prefix(end);
  }
}

/// `address` with a wildcard host ("*", "0.0.0.0") replaced by 127.0.0.1.
std::string loopback_only(std::string_view address) {
  const auto scheme = address.find("://");
  const auto host_at = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon < host_at) return std::string(address);
  const auto host = address.substr(host_at, colon - host_at);
  if (host != "*" && host != "0.0.0.0") return std::string(address);
  return fmt::format("{}127.0.0.1{}", address.substr(0, host_at), address.substr(colon));
}

}  // namespace

SenderSocket sender_socket_for(std::string_view server_host) {
  const auto w = words(server_host);
  if (w.empty()) throw std::invalid_argument("ZMQ serverHost is empty");
  std::optional<SocketPattern> type;
  std::optional<bool> bind;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "PUB" || w[i] == "SUB") {
      type = SocketPattern::pub;
    } else if (w[i] == "PUSH" || w[i] == "PULL") {
      type = SocketPattern::push;
    } else if (w[i] == "BIND" || w[i] == "CONNECT") {
      bind = w[i] == "BIND";
    } else {
      throw std::invalid_argument(fmt::format(
          "ZMQ serverHost '{}': unknown word '{}' (PUB, PUSH, SUB, PULL, BIND, CONNECT)",
          server_host, w[i]));
    }
  }
  const bool untyped = !type;
  if (untyped)
    type = w[0].find('*') != std::string_view::npos ? SocketPattern::pub : SocketPattern::push;
  if (!bind) bind = !(untyped && *type == SocketPattern::push);
  return {*type, *bind, loopback_only(w[0])};
}

std::string describe(const SenderSocket& s) {
  return fmt::format("{} {} {}", s.pattern == SocketPattern::pub ? "PUB" : "PUSH",
                     s.bind ? "bind" : "connect", s.address);
}

}  // namespace pandafly::sim::camera
