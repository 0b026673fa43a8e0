#pragma once
// One request on the PandA control port and the reply it gets.
//
// A Request is one command line (`PCAP.TRIG?`, `PULSE1.WIDTH=1.5`) plus, for
// multi-line writes (`SEQ1.TABLE<B`, `*METADATA.YAML<`), its data lines; the
// terminating empty line is added when the request is encoded. A Reply is one
// of the four shapes the server sends (reference §1.2).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::panda {

/// The server reads lines into a 1024-byte buffer and needs length + 1 < 1024:
/// a longer line makes it drop the connection without a reply.
inline constexpr std::size_t max_line_length = 1022;

struct Request {
  std::string line;               // the command line, without LF
  std::vector<std::string> data;  // data lines of a multi-line write, without LF
  bool multiline = false;         // true: `data` follows, then an empty line

  /// `NAME?`
  [[nodiscard]] static Request read(std::string_view name);
  /// `NAME=VALUE` (VALUE may be empty, e.g. `*PCAP.ARM=`)
  [[nodiscard]] static Request write(std::string_view name, std::string_view value);
  /// `NAME<FMT` + data lines + empty line; `format` is what follows the `<`
  /// (`""`, `"B"`, `"<"`, `"<|"`, `"<B"`, `"<|B"`).
  [[nodiscard]] static Request write_lines(std::string_view name, std::string_view format,
                                           std::vector<std::string> lines);
  /// A line sent exactly as given (expert use).
  [[nodiscard]] static Request raw(std::string_view line);

  /// Why this request cannot be sent (newline/CR/NUL, a line over
  /// max_line_length, an empty command or data line), or nullopt when it can.
  [[nodiscard]] std::optional<std::string> problem() const;
  /// Appends the wire form (LF line ends) to `out`. Call only when problem() is empty.
  void encode_to(std::string& out) const;
  /// Number of bytes encode_to() appends.
  [[nodiscard]] std::size_t encoded_size() const;

  friend bool operator==(const Request&, const Request&) = default;
};

struct Reply {
  enum class Kind { ok, value, list, error };
  Kind kind = Kind::ok;
  std::string text;                // the value (`OK =text`) or the message (`ERR text`)
  std::vector<std::string> lines;  // a list's lines without their `!`

  [[nodiscard]] bool is_error() const noexcept { return kind == Kind::error; }
  friend bool operator==(const Reply&, const Reply&) = default;
};

/// `text` with control bytes escaped (`\x0a`) and cut to `max` characters
/// (with "..."): safe to put in an error message or a log line.
[[nodiscard]] std::string printable(std::string_view text, std::size_t max = 80);

/// A request together with the reply it got; what a command sees.
struct Exchange {
  Request request;
  Reply reply;
};

}  // namespace pandafly::panda
