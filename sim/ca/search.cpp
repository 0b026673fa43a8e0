#include "sim/ca/search.hpp"

#include "sim/ca/protocol.hpp"

namespace pandafly::sim::ca {

std::error_code SearchResponder::answer(std::span<const std::byte> datagram,
                                        std::vector<std::byte>& reply) {
  reply.clear();
  std::uint32_t sequence = 0;
  bool found_any = false;
  bool not_found_any = false;
  // VERSION goes first; it is written once we know the datagram needs an answer.
  append_version(reply, kSequenceNoIsValid, 0);
  const auto ec = for_each_message(datagram, [&](const Message& m) {
    if (m.command() == Command::version) {
      sequence = m.header.p1;
      return;
    }
    if (m.command() != Command::search) return;
    const std::uint32_t cid = m.header.p1;
    if (db_->find(payload_string(m.payload))) {
      append_search_reply(reply, tcp_port_, cid);
      found_any = true;
      ++found_;
    } else if (m.header.data_type == kSearchDoReply) {
      append_not_found(reply, cid, static_cast<std::uint16_t>(m.header.count));
      not_found_any = true;
    }
  });
  if (!found_any && !not_found_any) {
    reply.clear();
    return ec;
  }
  put_u32(reply.data() + 8, sequence);  // the VERSION's p1
  return ec;
}

bool answer_repeater(std::span<const std::byte> datagram, std::uint32_t client_ipv4,
                     std::vector<std::byte>& reply) {
  reply.clear();
  bool registration = datagram.empty();
  if (!registration) {
    std::error_code ec;
    const auto m = parse_message(datagram, kDefaultMaxPayload, ec);
    registration = m && m->command() == Command::repeater_register;
  }
  if (registration) append_repeater_confirm(reply, client_ipv4);
  return registration;
}

}  // namespace pandafly::sim::ca
