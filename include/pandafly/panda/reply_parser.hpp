#pragma once
// ReplyParser: bytes from the PandA control port → Replies (sans-IO).
//
// Rules
//   States: `idle` (between replies) and `in_list` (after a `!` line, until `.`).
//   idle:    `OK` → ok; `OK =v` → value v; `ERR m` → error m; `!x` → in_list;
//            `.` → an empty list; anything else → malformed_reply.
//   in_list: `!x` → one more line; `.` → the list, back to idle;
//            `ERR m` → an error reply (the partial list is dropped), back to idle;
//            anything else → malformed_reply.
//   Bytes are buffered until a LF completes a line ("need more data" is normal).
//   After an error the parser is failed: feed() returns the same error and
//   consumes nothing until reset(). A line over max_reply_line, or a list of
//   more than Limits::list_lines lines or Limits::list_bytes bytes, is an
//   error, so memory stays bounded whatever the peer sends.
//   Default list limits, far above any real reply: the largest is
//   `SEQn.TABLE?` of a full table, one line per word — 1 048 576 lines,
//   about 11 MB, at current firmware's MAX_LENGTH; `*CHANGES?` of a full
//   design is about 700 lines (60 kB). Limits: 4 194 304 lines and 64 MiB.
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "pandafly/panda/request.hpp"

namespace pandafly::panda {

class ReplyParser {
 public:
  static constexpr std::size_t max_reply_line = 1U << 20;

  /// Bounds on one `!` list reply.
  struct Limits {
    std::size_t list_lines = std::size_t{1} << 22;   ///< `!` lines
    std::size_t list_bytes = std::size_t{64} << 20;  ///< their bytes as received (`!`, LF)
  };

  ReplyParser() = default;
  explicit ReplyParser(Limits limits) : limits_(limits) {}

  /// Consumes `bytes`, appending each reply completed by them to `out`.
  /// Returns a malformed_reply error (see detail()) when the stream breaks the
  /// grammar; replies completed before the bad line are still appended.
  [[nodiscard]] std::error_code feed(std::string_view bytes, std::vector<Reply>& out);
  /// What was wrong, when feed() failed.
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
  /// True when no partial reply is buffered.
  [[nodiscard]] bool idle() const noexcept { return state_ == State::idle && buffer_.empty(); }
  /// Forget everything (for a new connection).
  void reset();

 private:
  enum class State { idle, in_list, failed };

  [[nodiscard]] bool on_line(std::string_view line, std::vector<Reply>& out);
  [[nodiscard]] bool fail(std::string why);

  Limits limits_;
  State state_ = State::idle;
  std::string buffer_;          // an incomplete line
  Reply list_;                  // the list being collected
  std::size_t list_bytes_ = 0;  // its text so far
  std::string detail_;
};

}  // namespace pandafly::panda
