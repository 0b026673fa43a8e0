#pragma once
// BlockingDataClient: a synchronous shell over DataConnection (PandA data port).
//
// It only moves bytes: connect() writes the options line; next() hands out
// the DataConnection's events, reading the socket when it needs more bytes.
// Pull model: nothing is read until the owner asks, so a slow consumer slows
// the reads and TCP flow control holds the data in the PandA's 256 MiB
// buffer — pandafly never drops a row (the PandA says "Data overrun" in END
// if its buffer runs out, and that reaches the caller).
//
// Threads: one owner thread makes every call (the data socket has one owner).
// A FrameData's bytes are valid until the next call on the client.
// Errors: connect() throws std::system_error naming host:port. next() never
// throws: a timeout is DataError{Errc::timed_out} and the connection stays
// usable (waiting for an arm can take long: call again); a socket error or the
// peer closing is the DataConnection's final event (EndData under NO_STATUS,
// else DataError closed_before_end/truncated) or DataError{Errc::connection_lost},
// each saying how many samples arrived; a malformed stream is the
// DataConnection's DataError. After either, connected() is false and
// reconnect() starts a fresh connection for the next acquisition.
//
// Example:
//   BlockingDataClient data{DataOptions{}};            // XML FRAMED SCALED
//   data.connect("127.0.0.1", 8889, 2s);              // waits for OK
//   for (;;) {
//     DataEvent ev = data.next(5s);
//     if (auto* f = std::get_if<FrameData>(&ev)) consume(*f);
//     if (is<EndData>(ev) || is<DataError>(ev)) break;
//   }
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/panda/data_connection.hpp"
#include "pandafly/panda/error.hpp"

namespace pandafly::panda {

class BlockingDataClient {
 public:
  /// Bytes asked of the kernel per read (and the largest useful set_min_read):
  /// FRAMED RAW frames can be ~2 MiB; each read is decoded while in L2.
  static constexpr std::size_t read_size = 1u << 20;

  explicit BlockingDataClient(DataOptions options = {});
  BlockingDataClient(const BlockingDataClient&) = delete;
  BlockingDataClient& operator=(const BlockingDataClient&) = delete;
  ~BlockingDataClient() { close(); }

  /// Connects within `timeout`, sends the options line and waits (same
  /// deadline) for the server's OK. Throws std::system_error (connection) or
  /// CommandError (the server refused the options, with its ERR text).
  void connect(std::string host, std::uint16_t port, std::chrono::milliseconds timeout);
  /// connect() again to the last host and port, with a fresh DataConnection.
  void reconnect(std::chrono::milliseconds timeout) { connect(host_, port_, timeout); }
  void close() noexcept;
  [[nodiscard]] bool connected() const noexcept { return fd_ >= 0; }

  /// The next event (never NeedData), waiting at most `timeout` for bytes.
  [[nodiscard]] DataEvent next(std::chrono::milliseconds timeout);

  /// Read coalescing for high rates: the socket wakes the reader only once
  /// `bytes` are waiting (SO_RCVLOWAT), so a 60 MB/s stream costs tens of
  /// wake-ups per second instead of thousands; what is there when a next()
  /// deadline passes is read anyway, so a slow stream is delayed at most by
  /// the timeout given to next(). 0 (the default): wake for every segment.
  void set_min_read(std::size_t bytes);

  [[nodiscard]] const DataConnection& connection() const noexcept { return conn_; }
  [[nodiscard]] std::uint64_t bytes_received() const noexcept { return bytes_received_; }
  [[nodiscard]] std::string peer() const { return host_ + ":" + std::to_string(port_); }

 private:
  /// Reads once; returns an event when the read ended the stream (EOF or error).
  [[nodiscard]] std::optional<DataEvent> read_some(std::chrono::steady_clock::time_point deadline);
  [[nodiscard]] DataEvent lost(std::string why);
  [[nodiscard]] DataEvent timeout() const;
  void apply_min_read();

  DataOptions options_;
  DataConnection conn_;
  int fd_ = -1;
  std::string host_;
  std::uint16_t port_ = 0;
  std::vector<std::byte> buf_;
  std::uint64_t bytes_received_ = 0;
  std::size_t min_read_ = 0;
};

}  // namespace pandafly::panda
