#include "sim/ca/protocol.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

namespace pandafly::sim::ca {

namespace {

class ProtocolCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "ca-protocol"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<ProtocolError>(ev)) {
      case ProtocolError::unaligned_payload:
        return "payload size is not a multiple of 8";
      case ProtocolError::payload_too_large:
        return "payload larger than the server accepts";
      case ProtocolError::truncated_datagram:
        return "datagram ends inside a message";
    }
    return "unknown CA protocol error";
  }
};

constexpr std::uint32_t kExtendedMarker = 0xFFFF;

}  // namespace

const std::error_category& protocol_category() {
  static const ProtocolCategory category;
  return category;
}

std::error_code make_error_code(ProtocolError e) {
  return {static_cast<int>(e), protocol_category()};
}

// ---------------------------------------------------------------- byte order

void put_u16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

void put_u32(std::byte* p, std::uint32_t v) {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

void put_f32(std::byte* p, float v) {
  put_u32(p, std::bit_cast<std::uint32_t>(v));
}

void put_f64(std::byte* p, double v) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  put_u32(p, static_cast<std::uint32_t>(bits >> 32));
  put_u32(p + 4, static_cast<std::uint32_t>(bits));
}

std::uint16_t get_u16(const std::byte* p) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}

std::uint32_t get_u32(const std::byte* p) {
  return (std::to_integer<std::uint32_t>(p[0]) << 24) |
         (std::to_integer<std::uint32_t>(p[1]) << 16) |
         (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

float get_f32(const std::byte* p) {
  return std::bit_cast<float>(get_u32(p));
}

double get_f64(const std::byte* p) {
  const std::uint64_t bits = (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4);
  return std::bit_cast<double>(bits);
}

// ---------------------------------------------------------------- parsing

std::optional<Message> parse_message(std::span<const std::byte> bytes, std::size_t max_payload,
                                     std::error_code& ec) {
  ec.clear();
  if (bytes.size() < kStandardHeaderSize) return std::nullopt;
  const std::byte* p = bytes.data();
  Header h;
  h.command = get_u16(p);
  h.payload_size = get_u16(p + 2);
  h.data_type = get_u16(p + 4);
  h.count = get_u16(p + 6);
  h.p1 = get_u32(p + 8);
  h.p2 = get_u32(p + 12);
  std::size_t header_size = kStandardHeaderSize;
  if (h.payload_size == kExtendedMarker) {
    if (bytes.size() < kExtendedHeaderSize) return std::nullopt;
    h.payload_size = get_u32(p + 16);
    h.count = get_u32(p + 20);
    header_size = kExtendedHeaderSize;
  }
  if (h.payload_size % 8 != 0) {
    ec = ProtocolError::unaligned_payload;
    return std::nullopt;
  }
  if (h.payload_size > max_payload) {
    ec = ProtocolError::payload_too_large;
    return std::nullopt;
  }
  if (bytes.size() - header_size < h.payload_size) return std::nullopt;
  return Message{h, bytes.first(header_size), bytes.subspan(header_size, h.payload_size)};
}

void MessageReader::feed(std::span<const std::byte> bytes) {
  if (broken_) return;
  if (start_ > 0) {
    // Keep only the partial tail: one memmove of at most one message.
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Message> MessageReader::next(std::error_code& ec) {
  ec = broken_;
  if (broken_) return std::nullopt;
  const std::span<const std::byte> rest = std::span(buffer_).subspan(start_);
  auto m = parse_message(rest, max_payload_, ec);
  if (ec) {
    broken_ = ec;
    return std::nullopt;
  }
  if (!m) {
    // A large message is coming: grow once instead of by doubling steps.
    if (rest.size() >= kExtendedHeaderSize && get_u16(rest.data() + 2) == kExtendedMarker)
      buffer_.reserve(start_ + kExtendedHeaderSize + get_u32(rest.data() + 16));
    return std::nullopt;
  }
  start_ += m->size();
  return m;
}

// ---------------------------------------------------------------- encoding

std::size_t append_message(std::vector<std::byte>& out, Command command, std::size_t payload_bytes,
                           std::uint16_t data_type, std::uint32_t count, std::uint32_t p1,
                           std::uint32_t p2) {
  const std::size_t payload = align8(payload_bytes);
  const bool extended = payload >= kExtendedMarker || count >= kExtendedMarker;
  const std::size_t header = extended ? kExtendedHeaderSize : kStandardHeaderSize;
  const std::size_t at = out.size();
  out.resize(at + header + payload);  // zero-filled: pad bytes are zero
  std::byte* p = out.data() + at;
  put_u16(p, static_cast<std::uint16_t>(command));
  put_u16(p + 2, extended ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(payload));
  put_u16(p + 4, data_type);
  put_u16(p + 6, extended ? std::uint16_t{0} : static_cast<std::uint16_t>(count));
  put_u32(p + 8, p1);
  put_u32(p + 12, p2);
  if (extended) {
    put_u32(p + 16, static_cast<std::uint32_t>(payload));
    put_u32(p + 20, count);
  }
  return at + header;
}

void append_header_only(std::vector<std::byte>& out, Command command, std::uint16_t data_type,
                        std::uint32_t count, std::uint32_t p1, std::uint32_t p2) {
  (void)append_message(out, command, 0, data_type, count, p1, p2);
}

void append_version(std::vector<std::byte>& out, std::uint16_t data_type, std::uint32_t sequence) {
  append_header_only(out, Command::version, data_type, kMinorVersion, sequence, 0);
}

void append_access_rights(std::vector<std::byte>& out, std::uint32_t cid, std::uint32_t rights) {
  append_header_only(out, Command::access_rights, 0, 0, cid, rights);
}

void append_create_chan(std::vector<std::byte>& out, std::uint16_t native_type,
                        std::uint32_t element_count, std::uint32_t cid, std::uint32_t sid) {
  append_header_only(out, Command::create_chan, native_type, element_count, cid, sid);
}

void append_create_ch_fail(std::vector<std::byte>& out, std::uint32_t cid) {
  append_header_only(out, Command::create_ch_fail, 0, 0, cid, 0);
}

void append_server_disconn(std::vector<std::byte>& out, std::uint32_t cid) {
  append_header_only(out, Command::server_disconn, 0, 0, cid, 0);
}

void append_clear_channel(std::vector<std::byte>& out, std::uint32_t sid, std::uint32_t cid) {
  append_header_only(out, Command::clear_channel, 0, 0, sid, cid);
}

void append_write_notify(std::vector<std::byte>& out, std::uint16_t type, std::uint32_t count,
                         std::uint32_t status, std::uint32_t ioid) {
  append_header_only(out, Command::write_notify, type, count, status, ioid);
}

void append_event_cancel_reply(std::vector<std::byte>& out, std::uint16_t type, std::uint32_t count,
                               std::uint32_t sid, std::uint32_t subid) {
  append_header_only(out, Command::event_add, type, count, sid, subid);
}

void append_echo(std::vector<std::byte>& out, const Header& request) {
  append_header_only(out, static_cast<Command>(request.command), request.data_type, request.count,
                     request.p1, request.p2);
}

void append_error(std::vector<std::byte>& out, std::uint32_t cid, std::uint32_t status,
                  std::span<const std::byte> request_header, std::string_view text) {
  const std::size_t n = request_header.size() + text.size() + 1;
  const std::size_t at = append_message(out, Command::error, n, 0, 0, cid, status);
  std::memcpy(out.data() + at, request_header.data(), request_header.size());
  std::memcpy(out.data() + at + request_header.size(), text.data(), text.size());
}

void append_search_reply(std::vector<std::byte>& out, std::uint16_t tcp_port, std::uint32_t cid) {
  const std::size_t at = append_message(out, Command::search, 8, tcp_port, 0, 0xFFFFFFFF, cid);
  put_u16(out.data() + at, kMinorVersion);
}

void append_not_found(std::vector<std::byte>& out, std::uint32_t cid, std::uint16_t minor) {
  append_header_only(out, Command::not_found, kSearchDoReply, minor, cid, cid);
}

void append_beacon(std::vector<std::byte>& out, std::uint16_t tcp_port, std::uint32_t beacon_id,
                   std::uint32_t server_ipv4) {
  append_header_only(out, Command::beacon, kMinorVersion, tcp_port, beacon_id, server_ipv4);
}

void append_repeater_confirm(std::vector<std::byte>& out, std::uint32_t client_ipv4) {
  append_header_only(out, Command::repeater_confirm, 0, 0, 0, client_ipv4);
}

std::string_view payload_string(std::span<const std::byte> payload) {
  const auto* chars = reinterpret_cast<const char*>(payload.data());
  const auto* end = std::find(chars, chars + payload.size(), '\0');
  return {chars, static_cast<std::size_t>(end - chars)};
}

}  // namespace pandafly::sim::ca
