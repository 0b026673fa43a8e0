#pragma once
// PandaServer: the Asio shell around PandaModel, PandaControlConnection and
// PandaDataConnection. Listens on 127.0.0.1 only: the control port (any number
// of connections, each its own PandaControlConnection over one shared model)
// and the data port (options line, then drained until the data stream exists).
//
// Threading: everything runs on the given io_context, which must be driven by
// one thread (the model has no locks). requests_received(), control_port() and
// data_port() may be read from any thread; stop() may be called from any thread
// (it posts the shutdown to the io_context). Connections outlive the
// PandaServer object safely: their shared state is reference-counted, but the
// io_context must outlive all of them.
//
// Example:
//   boost::asio::io_context io;
//   PandaServer server(io, {.control_port = 0, .data_port = 0});
//   std::thread t([&] { io.run(); });
//   … connect to 127.0.0.1:server.control_port() …
//   server.stop(); t.join();
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sim/panda/model.hpp"

namespace pandafly::sim {

class PandaServer {
 public:
  struct Options {
    std::uint16_t control_port = 8888;  // 0: ephemeral
    std::uint16_t data_port = 8889;     // 0: ephemeral
    std::string command_log;            // non-empty: append every received control line
  };

  /// Binds and starts listening; throws boost::system::system_error when a
  /// port cannot be bound (e.g. already in use), std::runtime_error when the
  /// command log cannot be opened.
  PandaServer(boost::asio::io_context& io, Options options);
  PandaServer(const PandaServer&) = delete;
  PandaServer& operator=(const PandaServer&) = delete;
  ~PandaServer();

  [[nodiscard]] std::uint16_t control_port() const { return control_port_; }
  [[nodiscard]] std::uint16_t data_port() const { return data_port_; }
  /// Closes the listeners and every open connection (asynchronously).
  void stop();
  /// Control request lines received so far over all connections (thread-safe).
  [[nodiscard]] std::size_t requests_received() const;
  /// The shared model; only touch it from the io_context thread.
  [[nodiscard]] PandaModel& model();

  struct State;  // shared with the connection coroutines (server.cpp)

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
  std::uint16_t control_port_ = 0;
  std::uint16_t data_port_ = 0;
};

}  // namespace pandafly::sim
