#pragma once
// AsioDataClient: a Boost.Asio (C++20 coroutine) shell over DataConnection.
//
// Pull model, as BlockingDataClient: `co_await next(timeout)` hands out the
// next event, reading the socket only when the DataConnection needs bytes, so
// a slow consumer slows the reads and TCP flow control keeps the data in the
// PandA's buffer. One coroutine owns the client: at most one next() at a time.
// A FrameData's bytes are valid until the next call.
//
// Threads: single-threaded; every call on the executor's thread. The client
// must outlive any next() in progress (its timeout handler refers to it).
// Errors: connect() throws std::system_error (naming host:port) or
// CommandError (options refused). next() never throws: a timeout is
// DataError{Errc::timed_out} and the connection stays usable; EOF, a socket
// error or a malformed stream end the connection with one final event
// (EndData under NO_STATUS, else DataError) saying how many samples arrived.
//
// Example:
//   AsioDataClient data(io.get_executor(), DataOptions{});
//   co_await data.connect("127.0.0.1", 8889, 2s);
//   for (;;) {
//     DataEvent ev = co_await data.next(5s);
//     ...
//   }
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "pandafly/panda/data_connection.hpp"
#include "pandafly/panda/error.hpp"

namespace pandafly::panda {

class AsioDataClient {
 public:
  static constexpr std::size_t read_size = 1u << 20;

  AsioDataClient(boost::asio::any_io_executor ex, DataOptions options = {});
  AsioDataClient(const AsioDataClient&) = delete;
  AsioDataClient& operator=(const AsioDataClient&) = delete;
  ~AsioDataClient() { close(); }

  /// Connects within `timeout`, sends the options line and waits for OK.
  [[nodiscard]] boost::asio::awaitable<void> connect(std::string host, std::uint16_t port,
                                                     std::chrono::milliseconds timeout);
  void close() noexcept;
  [[nodiscard]] bool connected() const noexcept { return socket_.is_open(); }

  /// The next event (never NeedData), waiting at most `timeout` for bytes.
  [[nodiscard]] boost::asio::awaitable<DataEvent> next(std::chrono::milliseconds timeout);

  [[nodiscard]] const DataConnection& connection() const noexcept { return conn_; }
  [[nodiscard]] std::uint64_t bytes_received() const noexcept { return bytes_received_; }

 private:
  /// One read within `timeout`; an event when the read ended the stream.
  [[nodiscard]] boost::asio::awaitable<std::optional<DataEvent>> read_some(
      std::chrono::milliseconds timeout);
  [[nodiscard]] DataError error(Errc code, std::string what) const;

  boost::asio::any_io_executor executor_;
  boost::asio::ip::tcp::socket socket_;
  DataOptions options_;
  DataConnection conn_;
  std::vector<std::byte> buf_;
  std::string peer_;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t reads_ = 0;  // bumped per read: a late timeout handler sees it changed
};

}  // namespace pandafly::panda
