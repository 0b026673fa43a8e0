#pragma once
// PandaServer: the Asio shell around PandaModel, PandaControlConnection and
// PandaDataConnection. Listens on 127.0.0.1 only: the control port (any number
// of connections, each its own PandaControlConnection over one shared model)
// and the data port (options line, then header/data/END of every acquisition
// in each client's own options).
//
// Acquisitions are driven from outside (a test, later the PCAP simulation):
// begin_acquisition(), send_samples() (whole RAW samples), end_acquisition().
// Every data client that is ready when an acquisition begins gets its header,
// all samples and END; a client that becomes ready during one gets the header
// with `missed` = samples already produced, then the later samples. Each data
// client has a bounded send backlog (bytes queued but not yet written to the
// socket): when new samples arrive while it is at or over
// Options::max_backlog_bytes, that client gets `END n Data overrun` and no more
// data of the acquisition. Writes follow TCP back-pressure: one async_write at
// a time per socket, the rest queued. A ONE_SHOT or rejected connection is
// shut down for sending once its last byte is written and closed when the
// peer closes (or after a second).
//
// Threading: everything runs on the given io_context, which must be driven by
// one thread (the model has no locks). requests_received(), data_clients_ready(),
// control_port() and data_port() may be read from any thread; stop(),
// begin_acquisition(), send_samples() and end_acquisition() may be called from
// any thread (they post to the io_context, and take effect in call order).
// Connections outlive the PandaServer object safely: their shared state is
// reference-counted, but the io_context must outlive all of them.
//
// Example:
//   boost::asio::io_context io;
//   PandaServer server(io, {.control_port = 0, .data_port = 0});
//   std::thread t([&] { io.run(); });
//   … connect to 127.0.0.1:server.data_port(), send "XML FRAMED RAW\n" …
//   while (server.data_clients_ready() < 1) std::this_thread::sleep_for(1ms);
//   server.begin_acquisition(CaptureLayout({CapturedField::timestamp("PCAP.TS_TRIG")}));
//   server.send_samples(raw_bytes);
//   server.end_acquisition();
//   server.stop(); t.join();
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "sim/panda/capture_layout.hpp"
#include "sim/panda/model.hpp"

namespace pandafly::sim {

class PandaServer {
 public:
  struct Options {
    std::uint16_t control_port = 8888;  // 0: ephemeral
    std::uint16_t data_port = 8889;     // 0: ephemeral
    std::string command_log;            // non-empty: append every received control line
    std::size_t max_backlog_bytes = std::size_t{256} << 20;  // per data client (the 256 MiB buffer)
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

  /// Data connections whose options line was accepted and that will take the
  /// next acquisition: still open, not finished by ONE_SHOT (thread-safe). A
  /// test waits for this before beginning an acquisition.
  [[nodiscard]] std::size_t data_clients_ready() const;
  /// Starts an acquisition of `layout`; sends every ready data client its
  /// header. Empty times mean "now" (ISO-8601 UTC with ns). An acquisition
  /// still running is ended first with "Disarmed".
  void begin_acquisition(CaptureLayout layout, std::string arm_time = {},
                         std::string start_time = {});
  /// Whole RAW samples of the current layout (a trailing partial sample is
  /// dropped); ignored when no acquisition runs.
  void send_samples(std::vector<std::byte> raw_samples);
  /// Ends the acquisition: every client still in it gets `END n reason`.
  void end_acquisition(std::string reason = "Ok");
  /// A fault (a crashed server, a broken network): every open data connection
  /// is closed abruptly once the bytes already queued for it (by calls made
  /// before this one) are written — no END line, no further bytes. The data
  /// listener and the control port keep working; the acquisition goes on for
  /// clients that connect later (they join with `missed`). Thread-safe.
  void close_data_connections();
  /// Bytes queued for data clients and not yet written to their sockets, the
  /// most of any client (io_context thread only). Non-zero after an END means
  /// a client is "still taking data".
  [[nodiscard]] std::size_t data_backlog_bytes() const;

  struct State;  // shared with the connection coroutines (server.cpp)

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
  std::uint16_t control_port_ = 0;
  std::uint16_t data_port_ = 0;
};

}  // namespace pandafly::sim
