#pragma once
// The PandA simulator on its own io_context and thread, on ephemeral ports of
// 127.0.0.1, for integration tests.
#include <chrono>
#include <cstdint>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "sim/panda/server.hpp"

namespace pandafly::test {

class Simulator {
 public:
  Simulator() : server_(io_, {.control_port = 0, .data_port = 0, .command_log = ""}) {
    thread_ = std::thread([this] { io_.run(); });
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  ~Simulator() { stop(); }

  /// Closes listeners and connections; the io_context then runs out of work.
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return server_.control_port(); }
  [[nodiscard]] std::uint16_t data_port() const { return server_.data_port(); }
  [[nodiscard]] std::size_t requests() const { return server_.requests_received(); }
  [[nodiscard]] sim::PandaServer& server() { return server_; }

  /// Waits (up to 5 s) until `n` data clients are connected and ready.
  [[nodiscard]] bool wait_for_data_clients(std::size_t n) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (server_.data_clients_ready() < n) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  boost::asio::io_context io_;
  sim::PandaServer server_;
  std::thread thread_;
};

}  // namespace pandafly::test
