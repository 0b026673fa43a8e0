#pragma once
// PandaControlConnection: the sans-IO server side of the PandA control port (8888),
// the twin of the client's panda::ControlConnection.
//
// Rules
//   States: Lines (reading request lines), Table (collecting the data lines of a
//   `NAME<FMT` request up to its empty line), Closed.
//   receive() takes any slice of the client's byte stream and returns the reply
//   bytes for every request completed by it, in request order; a partial line
//   stays inside until its LF arrives. The request kind is decided by the first
//   of `?`, `=`, `<` in the line (reference §1.1). A `<` request always collects
//   its data lines up to the empty line and is then answered once, even when the
//   request itself is malformed.
//   A line longer than 1022 characters before its LF closes the connection
//   without a reply (the server's "Line overrun"); Closed ignores all input.
//   The connection registers itself as a `config` session of the model (for
//   `*WHO?` and its own `*CHANGES` indexes) and unregisters on destruction.
//   No sockets, threads or clocks; not thread-safe (one owner).
//
// Example:
//   PandaModel model;
//   PandaControlConnection c(model, "127.0.0.1:40000");
//   std::string out = c.receive("*IDN?\nPCAP.TRIG=PULSE1.OUT\n");  // "OK =PandA SW: …\nOK\n"
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/panda/model.hpp"

namespace pandafly::sim {

inline constexpr std::size_t kMaxLineLength = 1022;  // characters before the LF

class PandaControlConnection {
 public:
  /// Called with every complete line consumed (without its LF): request lines
  /// with `request` true, data lines of a `<` request (and its empty
  /// terminator) with `request` false.
  using LineObserver = std::function<void(std::string_view line, bool request)>;

  /// `peer` ("ip:port") and `connected_at` (ISO-8601 UTC) appear in `*WHO?`.
  PandaControlConnection(PandaModel& model, std::string peer,
                         std::string connected_at = "1970-01-01T00:00:00.000Z");

  /// Consumes client bytes; returns the reply bytes (possibly empty).
  [[nodiscard]] std::string receive(std::string_view bytes);
  /// True once a line overran; the shell should close the socket.
  [[nodiscard]] bool closed() const { return state_ == State::closed; }
  /// Request lines completed so far.
  [[nodiscard]] std::size_t requests() const { return requests_; }
  void set_line_observer(LineObserver observer) { observer_ = std::move(observer); }

 private:
  enum class State { lines, table, closed };

  void on_line(std::string_view line, std::string& out);
  void on_request(std::string_view line, std::string& out);
  void finish_table(std::string& out);

  PandaModel& model_;
  std::unique_ptr<Session> session_;
  State state_ = State::lines;
  std::string partial_;       // bytes of the line being received
  std::string table_name_;    // `NAME` of the `<` request being collected
  std::string table_format_;  // text after its `<`
  std::vector<std::string> table_lines_;
  std::size_t requests_ = 0;
  LineObserver observer_;
};

}  // namespace pandafly::sim
