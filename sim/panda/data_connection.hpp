#pragma once
// PandaDataConnection: the sans-IO server side of the PandA data port (8889).
//
// Rules
//   States: Options (waiting for the one options line), Ready (options
//   accepted, between acquisitions; the client's further bytes are drained and
//   ignored), Acquiring (between start() and end() of an acquisition), Closed.
//   Options → Ready on a valid line (reply `OK\n`, nothing with NO_STATUS);
//   Options → Closed on an invalid token or a CR (reply `ERR …\n`), or on a line
//   longer than 1022 characters (no reply). Ready → Acquiring on start() (the
//   header unless NO_HEADER); samples() while Acquiring gives this client's
//   encoding of them; Acquiring → Ready on end() (`END n reason` unless
//   NO_STATUS), or → Closed after it with ONE_SHOT. start(), samples() and
//   end() in any other state return "" and change nothing, so a server may
//   call them on every connection. The shell closes the socket once closed()
//   is true and every returned byte is written.
//   The connection registers a `data` session in the model (`*WHO?`,
//   `*PCAP.STATUS?` reader count) for its lifetime.
//   No sockets, threads or clocks; not thread-safe (one owner).
//
// Example:
//   PandaDataConnection d(model, "127.0.0.1:40001");
//   d.receive("XML FRAMED SCALED\n");                        // "OK\n"
//   d.start(layout, arm_time, start_time, 0);                 // XML header + "\n"
//   d.samples(raw);                                           // "BIN " frames (scaled)
//   d.end("Ok");                                              // "END 3 Ok\n"
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/panda/data.hpp"
#include "sim/panda/capture_layout.hpp"
#include "sim/panda/data_encoder.hpp"
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

/// The client-side name of a format (for panda::StartData::format).
[[nodiscard]] panda::DataFormat to_panda(DataOptions::Format format);

class PandaDataConnection {
 public:
  PandaDataConnection(PandaModel& model, std::string peer,
                      std::string connected_at = "1970-01-01T00:00:00.000Z");

  /// Consumes client bytes; returns the bytes to send back (possibly empty).
  [[nodiscard]] std::string receive(std::string_view bytes);
  [[nodiscard]] bool closed() const { return state_ == State::closed; }
  /// Options accepted and still open (Ready or Acquiring).
  [[nodiscard]] bool ready() const { return state_ == State::ready || acquiring(); }
  [[nodiscard]] bool acquiring() const { return state_ == State::acquiring; }
  /// The accepted options (meaningful once ready()).
  [[nodiscard]] const DataOptions& options() const { return options_; }

  /// An acquisition of `layout` starts (armed at `arm_time`, started at
  /// `start_time`, ISO-8601 UTC with ns); `missed` samples of it were produced
  /// before this client joined. Returns the header in this client's options
  /// (RAW or SCALED layout, XML or text), "" with NO_HEADER. Ready only; an
  /// acquisition still running on this connection is replaced silently.
  [[nodiscard]] std::string start(const CaptureLayout& layout, std::string_view arm_time,
                                  std::string_view start_time, std::uint64_t missed);
  /// Whole RAW samples of the layout given to start(); returns their encoding
  /// for this client (scaled first for SCALED clients). Acquiring only.
  [[nodiscard]] std::string samples(std::span<const std::byte> raw);
  /// Ends the acquisition: the rest of a BASE64 line, then `END n reason`
  /// (n = samples sent to this client) unless NO_STATUS. Acquiring only.
  [[nodiscard]] std::string end(std::string_view reason);
  /// Samples sent to this client in the current (or last) acquisition.
  [[nodiscard]] std::uint64_t samples_sent() const { return encoder_ ? encoder_->samples() : 0; }

 private:
  enum class State { options, ready, acquiring, closed };
  [[nodiscard]] std::string on_options_line(std::string_view line);

  std::unique_ptr<Session> session_;
  State state_ = State::options;
  std::string partial_;
  DataOptions options_;
  std::optional<CaptureLayout> layout_;   // of the current acquisition
  std::optional<SampleEncoder> encoder_;  // of the current acquisition
  std::vector<std::byte> scaled_;         // scratch for SCALED conversion
};

}  // namespace pandafly::sim
