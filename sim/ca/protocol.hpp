#pragma once
// The Channel Access wire format, server side, without I/O: message headers
// (16-byte standard, 24-byte extended), reassembly of a TCP byte stream into
// messages, splitting of a UDP datagram, and encoders for the messages a
// server sends (reference channel-access.md §3).
//
// Rules
//   * Every integer is big-endian. A payload is always a multiple of 8 bytes.
//   * A message uses the extended header (m_postsize = 0xFFFF, m_count = 0,
//     then u32 payload size and u32 count) iff its aligned payload is
//     ≥ 0xFFFF or its count is ≥ 0xFFFF — also when the payload is empty.
//   * parse_message() takes one whole message from the front of a byte span;
//     "not enough bytes yet" is nullopt without an error. An unaligned or
//     oversized payload is an error (the peer is broken: drop it).
//   * MessageReader keeps the partial tail of a TCP stream between feed()s.
//   * Encoders append to a caller-owned buffer (reused by the caller: no
//     allocation per message once it has grown).
//
// Example:
//   MessageReader reader;
//   reader.feed(bytes_from_socket);
//   std::error_code ec;
//   while (auto m = reader.next(ec)) handle(*m);   // spans valid until the next feed()
//   if (ec) drop_client(ec.message());
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

namespace pandafly::sim::ca {

/// CA protocol minor version this server speaks (libca 4.13).
inline constexpr std::uint16_t kMinorVersion = 13;
inline constexpr std::size_t kStandardHeaderSize = 16;
inline constexpr std::size_t kExtendedHeaderSize = 24;
/// Largest payload accepted from a client (a 1M-element DOUBLE write is 8 MB).
inline constexpr std::size_t kDefaultMaxPayload = std::size_t{64} << 20;

/// Command codes (caProto.h).
enum class Command : std::uint16_t {
  version = 0,
  event_add = 1,
  event_cancel = 2,
  read = 3,
  write = 4,
  search = 6,
  events_off = 8,
  events_on = 9,
  read_sync = 10,
  error = 11,
  clear_channel = 12,
  beacon = 13,
  not_found = 14,
  read_notify = 15,
  repeater_confirm = 17,
  create_chan = 18,
  write_notify = 19,
  client_name = 20,
  host_name = 21,
  access_rights = 22,
  echo = 23,
  repeater_register = 24,
  create_ch_fail = 26,
  server_disconn = 27,
};

/// Search flags and access-rights bits.
inline constexpr std::uint16_t kSearchDoReply = 10, kSearchDontReply = 5;
inline constexpr std::uint16_t kSequenceNoIsValid = 1;
inline constexpr std::uint32_t kAccessRead = 1, kAccessWrite = 2;

[[nodiscard]] constexpr std::size_t align8(std::size_t n) {
  return (n + 7) & ~std::size_t{7};
}

/// A decoded header; payload_size is the number of payload bytes on the wire.
struct Header {
  std::uint16_t command = 0;
  std::uint32_t payload_size = 0;
  std::uint16_t data_type = 0;
  std::uint32_t count = 0;
  std::uint32_t p1 = 0;
  std::uint32_t p2 = 0;
  friend bool operator==(const Header&, const Header&) = default;
};

/// One message: its header, the header's raw bytes (16 or 24, for ERROR
/// replies that quote a request) and its payload. Spans point into the
/// parsed buffer.
struct Message {
  Header header;
  std::span<const std::byte> raw_header;
  std::span<const std::byte> payload;
  [[nodiscard]] Command command() const { return static_cast<Command>(header.command); }
  [[nodiscard]] std::size_t size() const { return raw_header.size() + payload.size(); }
};

enum class ProtocolError {
  unaligned_payload = 1,  // payload size not a multiple of 8
  payload_too_large,      // above the reader's limit
  truncated_datagram,     // a UDP datagram ends inside a message
};
[[nodiscard]] const std::error_category& protocol_category();
[[nodiscard]] std::error_code make_error_code(ProtocolError e);

/// Parses the message at the front of `bytes`. Returns nullopt with `ec`
/// clear when more bytes are needed; nullopt with `ec` set on a broken
/// message (nothing consumed).
[[nodiscard]] std::optional<Message> parse_message(std::span<const std::byte> bytes,
                                                   std::size_t max_payload, std::error_code& ec);

/// Reassembles messages from a TCP stream fed in arbitrary slices.
class MessageReader {
 public:
  explicit MessageReader(std::size_t max_payload = kDefaultMaxPayload)
      : max_payload_(max_payload) {}

  /// Appends stream bytes. Invalidates the spans of earlier messages.
  void feed(std::span<const std::byte> bytes);
  /// The next complete message, or nullopt: more bytes needed (`ec` clear)
  /// or the stream is broken (`ec` set; the reader stays broken).
  [[nodiscard]] std::optional<Message> next(std::error_code& ec);
  /// Bytes held (a partial message, or messages not taken yet).
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::vector<std::byte> buffer_;
  std::size_t start_ = 0;  // first byte not yet returned
  std::size_t max_payload_;
  std::error_code broken_;
};

/// Calls `fn(const Message&)` for each message of a datagram, in order.
/// Returns the error that stopped it (a truncated or broken message), if any;
/// messages before it have been handled.
template <class Fn>
[[nodiscard]] std::error_code for_each_message(std::span<const std::byte> datagram, Fn&& fn) {
  std::error_code ec;
  while (!datagram.empty()) {
    auto m = parse_message(datagram, kDefaultMaxPayload, ec);
    if (!m) return ec ? ec : make_error_code(ProtocolError::truncated_datagram);
    fn(*m);
    datagram = datagram.subspan(m->size());
  }
  return ec;
}

// ---------------------------------------------------------------- encoding
/// Writes big-endian integers and IEEE floats at `p`.
void put_u16(std::byte* p, std::uint16_t v);
void put_u32(std::byte* p, std::uint32_t v);
void put_f32(std::byte* p, float v);
void put_f64(std::byte* p, double v);
[[nodiscard]] std::uint16_t get_u16(const std::byte* p);
[[nodiscard]] std::uint32_t get_u32(const std::byte* p);
[[nodiscard]] float get_f32(const std::byte* p);
[[nodiscard]] double get_f64(const std::byte* p);

/// Appends a header and `align8(payload_bytes)` zero bytes; returns the
/// offset of the payload in `out` for the caller to fill (the pointer would
/// not survive a later append).
std::size_t append_message(std::vector<std::byte>& out, Command command, std::size_t payload_bytes,
                           std::uint16_t data_type, std::uint32_t count, std::uint32_t p1,
                           std::uint32_t p2);
/// Appends a message without payload.
void append_header_only(std::vector<std::byte>& out, Command command, std::uint16_t data_type,
                        std::uint32_t count, std::uint32_t p1, std::uint32_t p2);

/// VERSION(0, priority_or_flags, 13, p1, 0).
void append_version(std::vector<std::byte>& out, std::uint16_t data_type = 0,
                    std::uint32_t sequence = 0);
/// ACCESS_RIGHTS(0, 0, 0, cid, rights).
void append_access_rights(std::vector<std::byte>& out, std::uint32_t cid, std::uint32_t rights);
/// CREATE_CHAN(0, native type, element count, cid, sid).
void append_create_chan(std::vector<std::byte>& out, std::uint16_t native_type,
                        std::uint32_t element_count, std::uint32_t cid, std::uint32_t sid);
/// CREATE_CH_FAIL(0, 0, 0, cid, 0).
void append_create_ch_fail(std::vector<std::byte>& out, std::uint32_t cid);
/// SERVER_DISCONN(0, 0, 0, cid, 0).
void append_server_disconn(std::vector<std::byte>& out, std::uint32_t cid);
/// CLEAR_CHANNEL(0, 0, 0, sid, cid).
void append_clear_channel(std::vector<std::byte>& out, std::uint32_t sid, std::uint32_t cid);
/// WRITE_NOTIFY(0, type, count, status, ioid).
void append_write_notify(std::vector<std::byte>& out, std::uint16_t type, std::uint32_t count,
                         std::uint32_t status, std::uint32_t ioid);
/// EVENT_ADD(0, type, count, sid, subid): the confirmation of EVENT_CANCEL.
void append_event_cancel_reply(std::vector<std::byte>& out, std::uint16_t type, std::uint32_t count,
                               std::uint32_t sid, std::uint32_t subid);
/// The same header back (ECHO, READ_SYNC), without payload.
void append_echo(std::vector<std::byte>& out, const Header& request);
/// ERROR(align8(request header + text + NUL), 0, 0, cid, status) + the
/// request's raw header + `text` NUL-terminated.
void append_error(std::vector<std::byte>& out, std::uint32_t cid, std::uint32_t status,
                  std::span<const std::byte> request_header, std::string_view text);
/// SEARCH(8, tcp_port, 0, 0xFFFFFFFF, cid) + minor version: "found, use the
/// datagram's source address".
void append_search_reply(std::vector<std::byte>& out, std::uint16_t tcp_port, std::uint32_t cid);
/// NOT_FOUND(0, DOREPLY, minor, cid, cid).
void append_not_found(std::vector<std::byte>& out, std::uint32_t cid, std::uint16_t minor);
/// RSRV_IS_UP(0, 13, tcp_port, beacon_id, server IPv4): the beacon a repeater
/// forwards; clients re-search their disconnected channels on an anomaly.
void append_beacon(std::vector<std::byte>& out, std::uint16_t tcp_port, std::uint32_t beacon_id,
                   std::uint32_t server_ipv4);
/// REPEATER_CONFIRM(0, 0, 0, 0, client IPv4).
void append_repeater_confirm(std::vector<std::byte>& out, std::uint32_t client_ipv4);

/// The NUL-terminated (or payload-long) string at the front of a payload.
[[nodiscard]] std::string_view payload_string(std::span<const std::byte> payload);

}  // namespace pandafly::sim::ca

template <>
struct std::is_error_code_enum<pandafly::sim::ca::ProtocolError> : std::true_type {};
