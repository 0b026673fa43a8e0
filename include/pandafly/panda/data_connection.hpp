#pragma once
// DataConnection: the sans-IO client side of the PandA data port (8889).
//
// Rules
//   States: status (waiting for OK/ERR) → header (lines up to <header>, the
//   body up to </header>, one empty line; or the text header up to its empty
//   line) → data (BIN frames, base64 or ASCII lines, or unframed bytes) →
//   END line → header again (or done after ONE_SHOT) ; failed is terminal.
//   The shell writes connect_line() once, then feeds every byte it reads to
//   receive() and drains next_event() until it returns NeedData. Every state
//   stops at any byte boundary and resumes when more bytes arrive.
//   Zero copy: a FrameData points into the bytes given to receive(); only a
//   sample split between two reads is assembled in an internal buffer (and
//   handed out alone). A BIN frame may thus arrive as several FrameData, each
//   of whole samples; nothing waits for a whole 2 MiB RAW frame. A FrameData
//   is valid until the next receive()/next_event()/closed() call. When next_event() returns
//   NeedData every byte given has been consumed or copied: the caller may
//   reuse its buffer.
//   A frame is only ever delivered as whole samples. Malformed bytes yield one
//   DataError naming what and the stream offset; the connection is then failed
//   and the caller should reconnect.
//   Samples delivered before the error stay valid for the caller; after it
//   next_event() returns NeedData and discards input (done() is true).
//   closed(): the peer closed the connection. Mid-acquisition that is a
//   DataError (closed_before_end, or truncated inside a unit); between
//   acquisitions or with NO_STATUS after whole samples it is a normal end
//   (NO_STATUS: an EndData with reason "" and the samples counted here).
//   No I/O, threads or clocks; not thread-safe (one owner).
//
// Example:
//   DataConnection data{DataOptions{}};          // XML FRAMED SCALED
//   write(fd, data.connect_line());
//   for (;;) {
//     data.receive(read(fd));
//     for (auto ev = data.next_event(); !is<NeedData>(ev); ev = data.next_event())
//       std::visit(handler, ev);                  // Ready, Start, Frame..., End
//   }
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pandafly/panda/data.hpp"
#include "pandafly/panda/data_header.hpp"

namespace pandafly::panda {

class DataConnection {
 public:
  /// Largest frame length accepted (FRAMED RAW passes 2 MiB DMA blocks through);
  /// a larger one means the stream is garbage. Frames are never buffered whole.
  static constexpr std::size_t max_frame_bytes = 16u << 20;
  /// Longest header or status line accepted before the stream is called garbage.
  static constexpr std::size_t max_line_bytes = 64u << 10;

  explicit DataConnection(DataOptions options = {});

  /// The options line to send first, newline included.
  [[nodiscard]] std::string connect_line() const { return options_.connect_line(); }
  [[nodiscard]] const DataOptions& options() const noexcept { return options_; }

  /// Hands bytes read from the socket to the connection (not copied yet: they
  /// must stay valid until next_event() returns NeedData).
  void receive(std::span<const std::byte> bytes);
  /// The next event, or NeedData when the bytes given so far are used up.
  [[nodiscard]] DataEvent next_event();
  /// The peer closed the connection: returns the final event (EndData with
  /// NO_STATUS, DataError mid-acquisition or mid-unit), or NeedData when the
  /// close was clean. Call after next_event() has returned NeedData.
  [[nodiscard]] DataEvent closed();

  /// True between a Start and its End.
  [[nodiscard]] bool in_acquisition() const noexcept { return state_ == State::data; }
  /// True after a DataError, or after the END of a ONE_SHOT connection.
  [[nodiscard]] bool done() const noexcept {
    return state_ == State::failed || state_ == State::finished;
  }
  /// Samples delivered in the current (or last) acquisition.
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
  /// Acquisitions started on this connection.
  [[nodiscard]] std::uint64_t acquisitions() const noexcept { return acquisitions_; }
  /// Bytes of the stream consumed so far.
  [[nodiscard]] std::uint64_t stream_offset() const noexcept { return offset_; }

 private:
  enum class State {
    status,
    header_start,
    header_body,
    header_end,
    data,
    end_line,
    finished,
    failed
  };
  enum class LineStatus { complete, partial, too_long };

  // Each step consumes input for its state and returns an event, or NeedData
  // to ask for more bytes. They only run from next_event().
  [[nodiscard]] DataEvent step_status();
  [[nodiscard]] DataEvent step_header_start();
  [[nodiscard]] DataEvent step_header_body();
  [[nodiscard]] DataEvent step_header_end();
  [[nodiscard]] DataEvent step_data();
  [[nodiscard]] DataEvent step_framed();
  [[nodiscard]] DataEvent step_unframed();
  [[nodiscard]] DataEvent step_lines();
  [[nodiscard]] DataEvent step_end_line();
  [[nodiscard]] DataEvent frame_payload();

  [[nodiscard]] DataEvent start_without_header();
  [[nodiscard]] DataEvent parsed_header(std::variant<StartData, HeaderError> parsed);
  [[nodiscard]] DataEvent begin(StartData start);
  [[nodiscard]] DataEvent end_line(std::string_view rest);  // "<n> <reason>"
  [[nodiscard]] DataEvent fail(DataErrc code, std::string message);
  [[nodiscard]] DataEvent closed_in_data();
  [[nodiscard]] std::optional<DataEvent> check_frame_length(std::size_t length);
  /// Whole unframed samples of `s` (in samples_buf_ when `buffered`, else the
  /// caller's bytes), stopping at an END line at a sample boundary.
  [[nodiscard]] DataEvent unframed_from(std::span<const std::byte> s, bool buffered);
  /// The whole samples decoded from text lines so far, or NeedData.
  [[nodiscard]] DataEvent whole_text_samples();
  [[nodiscard]] DataEvent flush_pending_end();
  /// Appends one ASCII/BASE64 data line's bytes to samples_buf_; false (and
  /// `why`) when it does not parse.
  [[nodiscard]] bool decode_line(std::string_view line, std::string& why);
  [[nodiscard]] bool decode_ascii(std::string_view line, std::string& why);
  /// Moves bytes up to the next '\n' into line_ (without it).
  [[nodiscard]] LineStatus take_line();
  /// Copies from the input until buf_ holds `want` bytes; true when it does.
  [[nodiscard]] bool fill(std::size_t want);
  void consume(std::size_t n) noexcept;
  [[nodiscard]] FrameData frame_of(std::span<const std::byte> bytes);

  DataOptions options_;
  State state_ = State::status;
  std::span<const std::byte> in_;            // caller's bytes not yet consumed
  std::vector<std::byte> carry_;             // input kept when the caller did not drain
  std::vector<std::byte> buf_;               // a frame header, or a sample split between reads
  std::size_t frame_left_ = 0;               // payload bytes of the current frame still to come
  std::vector<std::byte> samples_buf_;       // decoded text samples / unframed remainder
  bool drop_buf_ = false;                    // buf_ was handed out: clear at the next call
  std::size_t drop_samples_ = 0;             // samples_buf_ bytes handed out: erase then
  std::string line_;                         // a line being assembled
  std::string header_;                       // header lines being collected
  std::optional<std::string> pending_end_;   // END line seen after unsent text samples
  std::optional<std::string> pending_fail_;  // bad data line seen after unsent samples
  StartData start_;                          // the layout of the current acquisition
  DataError error_;                          // the error once failed
  std::uint64_t samples_ = 0;
  std::uint64_t acquisitions_ = 0;
  std::uint64_t offset_ = 0;
};

/// True when `ev` holds an event of type T.
template <class T>
[[nodiscard]] bool is(const DataEvent& ev) noexcept {
  return std::holds_alternative<T>(ev);
}

}  // namespace pandafly::panda
