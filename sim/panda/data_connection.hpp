#pragma once
// PandaDataConnection: the sans-IO server side of the PandA data port (8889).
//
// Rules
//   States: Options (waiting for the one options line), Ready (options
//   accepted; the client's further bytes are drained and ignored), Closed.
//   Options → Ready on a valid line (reply `OK\n`, nothing with NO_STATUS);
//   Options → Closed on an invalid token or a CR (reply `ERR …\n`), or on a line
//   longer than 1022 characters (no reply). The shell closes the socket once
//   closed() is true and the reply is written.
//   This first cut stops at Ready: the header/data/END stream of an armed
//   acquisition (reference §3.3-3.6) will be produced from here.
//   The connection registers a `data` session in the model (`*WHO?`,
//   `*PCAP.STATUS?` reader count) for its lifetime.
//   No sockets, threads or clocks; not thread-safe (one owner).
//
// Example:
//   PandaDataConnection d(model, "127.0.0.1:40001");
//   d.receive("XML FRAMED SCALED\n");   // "OK\n"
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sim/panda/model.hpp"

namespace pandafly::sim {

/// The options of reference §3.2 after applying every token in order.
struct DataOptions {
  enum class Format { ascii, base64, framed, unframed };
  Format format = Format::ascii;
  bool raw = false;  // RAW vs SCALED
  bool header = true;
  bool status = true;
  bool one_shot = false;
  bool xml = false;
};

/// Applies the tokens of one options line; nullopt on an unknown token.
[[nodiscard]] std::optional<DataOptions> parse_data_options(std::string_view line);

class PandaDataConnection {
 public:
  PandaDataConnection(PandaModel& model, std::string peer,
                      std::string connected_at = "1970-01-01T00:00:00.000Z");

  /// Consumes client bytes; returns the bytes to send back (possibly empty).
  [[nodiscard]] std::string receive(std::string_view bytes);
  [[nodiscard]] bool closed() const { return state_ == State::closed; }
  [[nodiscard]] bool ready() const { return state_ == State::ready; }
  /// The accepted options (meaningful once ready()).
  [[nodiscard]] const DataOptions& options() const { return options_; }

 private:
  enum class State { options, ready, closed };
  [[nodiscard]] std::string on_options_line(std::string_view line);

  std::unique_ptr<Session> session_;
  State state_ = State::options;
  std::string partial_;
  DataOptions options_;
};

}  // namespace pandafly::sim
