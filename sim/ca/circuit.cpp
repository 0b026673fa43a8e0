#include "sim/ca/circuit.hpp"

// Rules: see circuit.hpp. Channel ids (sids) are never reused within a
// circuit, so a completion that fires after its channel was cleared finds no
// channel and is dropped.
#include <fmt/format.h>

#include "sim/ca/dbr_codec.hpp"

namespace pandafly::sim::ca {

namespace {

constexpr std::uint16_t kMaxPriority = 99;
constexpr std::uint32_t kEcaBadMask = 330;
constexpr unsigned kAllEvents = kDbeValue | kDbeLog | kDbeAlarm | kDbeProperty;
// EVENT_ADD payload: f32 low, f32 high, f32 to, u16 mask, u16 pad.
constexpr std::size_t kEventMaskOffset = 12;

// Sets a flag for the lifetime of a scope.
class FlagGuard {
 public:
  explicit FlagGuard(bool& flag) : flag_(flag) { flag_ = true; }
  FlagGuard(const FlagGuard&) = delete;
  FlagGuard& operator=(const FlagGuard&) = delete;
  ~FlagGuard() { flag_ = false; }

 private:
  bool& flag_;
};

}  // namespace

CircuitConnection::CircuitConnection(std::shared_ptr<const PvDatabase> db, std::string peer,
                                     Log log, Options options)
    : db_(std::move(db)),
      peer_(std::move(peer)),
      log_(std::move(log)),
      reader_(options.max_payload),
      self_(std::make_shared<CircuitConnection*>(this)) {
  append_version(out_);
}

CircuitConnection::~CircuitConnection() {
  for (auto& [subid, sub] : subscriptions_) sub.pv->unobserve(sub.observer);
}

void CircuitConnection::receive(std::span<const std::byte> bytes) {
  if (closed_) return;
  FlagGuard guard(in_receive_);
  reader_.feed(bytes);
  std::error_code ec;
  while (!closed_) {
    auto m = reader_.next(ec);
    if (!m) break;
    {
      FlagGuard dispatching(in_dispatch_);
      dispatch(*m);
    }
    if (!closed_) out_.insert(out_.end(), events_.begin(), events_.end());
    events_.clear();
  }
  if (ec && !closed_) protocol_error(ec.message());
}

void CircuitConnection::take_output(std::vector<std::byte>& out) {
  out.clear();
  out.swap(out_);
}

void CircuitConnection::close(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  for (auto& [subid, sub] : subscriptions_) sub.pv->unobserve(sub.observer);
  subscriptions_.clear();
  channels_.clear();
}

void CircuitConnection::protocol_error(std::string reason) {
  if (log_) log_(fmt::format("CA circuit {}: {}; closing", peer_, reason));
  close(reason);
}

void CircuitConnection::queued_outside_receive() {
  if (!in_receive_ && on_output_) on_output_();
}

const CircuitConnection::Channel* CircuitConnection::channel(const Message& m) {
  const auto it = channels_.find(m.header.p1);
  if (it != channels_.end()) return &it->second;
  protocol_error(fmt::format("command {} for unknown sid {}", m.header.command, m.header.p1));
  return nullptr;
}

void CircuitConnection::dispatch(const Message& m) {
  const Header& h = m.header;
  const Command cmd = m.command();
  const bool typed = cmd == Command::read_notify || cmd == Command::write ||
                     cmd == Command::write_notify || cmd == Command::event_add;
  if (typed && h.data_type > kDbrLastType)
    return protocol_error(fmt::format("command {} with data type {}", h.command, h.data_type));
  switch (cmd) {
    case Command::version:
      return on_version(m);
    case Command::client_name:
      client_name_ = payload_string(m.payload);
      return;
    case Command::host_name:
      host_name_ = payload_string(m.payload);
      return;
    case Command::create_chan:
      return on_create_chan(m);
    case Command::echo:
    case Command::read_sync:
      return append_echo(out_, h);
    case Command::events_off:
      events_on_ = false;
      return;
    case Command::events_on:
      return on_events_on();
    case Command::event_cancel:
      return on_event_cancel(m);
    case Command::clear_channel:
      return on_clear_channel(m);
    case Command::read_notify:
    case Command::write:
    case Command::write_notify:
    case Command::event_add:
      break;
    default:
      return protocol_error(fmt::format("unsupported command {}", h.command));
  }
  const Channel* ch = channel(m);
  if (!ch) return;
  if (cmd == Command::read_notify) return on_read_notify(m, *ch);
  if (cmd == Command::event_add) return on_event_add(m, *ch);
  on_write(m, *ch, cmd == Command::write_notify);
}

void CircuitConnection::on_version(const Message& m) {
  if (m.header.data_type > kMaxPriority)
    return protocol_error(fmt::format("priority {} above 99", m.header.data_type));
  priority_ = m.header.data_type;
  client_minor_ = static_cast<std::uint16_t>(m.header.count);
}

void CircuitConnection::on_create_chan(const Message& m) {
  const std::uint32_t cid = m.header.p1;
  const std::string_view name = payload_string(m.payload);
  auto pv = db_->find(name);
  if (!pv) return append_create_ch_fail(out_, cid);
  const std::uint32_t sid = next_sid_++;
  append_access_rights(out_, cid, kAccessRead | (pv->writable() ? kAccessWrite : 0u));
  append_create_chan(out_, static_cast<std::uint16_t>(pv->native_type()),
                     static_cast<std::uint32_t>(pv->max_count()), cid, sid);
  channels_.emplace(sid, Channel{cid, std::move(pv)});
}

void CircuitConnection::on_read_notify(const Message& m, const Channel& ch) {
  (void)append_dbr_message(out_, Command::read_notify, m.header.data_type, m.header.count,
                           m.header.p2, *ch.pv);
}

void CircuitConnection::on_write(const Message& m, const Channel& ch, bool notify) {
  const Header& h = m.header;
  Elements value;
  std::uint32_t eca = kEcaNoWriteAccess;
  if (ch.pv->writable()) eca = decode_put(h.data_type, h.count, m.payload, *ch.pv, value);
  if (eca == kEcaNormal) {
    Pv::Completion done = &plain_write_done;
    if (notify) {
      done = [self = std::weak_ptr(self_), sid = h.p1, type = h.data_type, count = h.count,
              ioid = h.p2](std::uint32_t status) {
        if (auto s = self.lock()) (*s)->on_put_done(sid, type, count, ioid, status);
      };
    }
    eca = ch.pv->put(std::move(value), std::move(done));
  }
  if (eca == kEcaNormal) return;
  if (notify) return append_write_notify(out_, h.data_type, h.count, eca, h.p2);
  append_error(out_, ch.cid, eca, m.raw_header, fmt::format("write to {} failed", ch.pv->name()));
}

void CircuitConnection::on_put_done(std::uint32_t sid, std::uint16_t type, std::uint32_t count,
                                    std::uint32_t ioid, std::uint32_t eca) {
  if (closed_ || !channels_.contains(sid)) return;  // cleared meanwhile: nobody to tell
  append_write_notify(out_, type, count, eca, ioid);
  queued_outside_receive();
}

void CircuitConnection::on_event_add(const Message& m, const Channel& ch) {
  const Header& h = m.header;
  unsigned mask = kDbeValue | kDbeAlarm;  // what clients older than the mask field asked for
  if (m.payload.size() >= kEventMaskOffset + 2) mask = get_u16(m.payload.data() + kEventMaskOffset);
  std::uint32_t eca = kEcaNormal;
  if ((mask & kAllEvents) == 0) eca = kEcaBadMask;
  if (!dbr_layout(h.data_type)) eca = kEcaBadType;
  if (h.count > ch.pv->max_count()) eca = kEcaBadCount;
  if (eca != kEcaNormal)
    return append_error(out_, ch.cid, eca, m.raw_header,
                        fmt::format("subscription to {} refused", ch.pv->name()));
  const std::uint32_t subid = h.p2;
  if (subscriptions_.contains(subid)) cancel(subid);  // a client reusing an id replaces it
  const std::uint64_t observer =
      ch.pv->observe([self = std::weak_ptr(self_), subid](const Pv&, unsigned event) {
        if (auto s = self.lock()) (*s)->on_pv_event(subid, event);
      });
  subscriptions_.emplace(subid, Subscription{h.p1, h.data_type, h.count, mask, observer, ch.pv});
  (void)append_dbr_message(out_, Command::event_add, h.data_type, h.count, subid, *ch.pv);
}

void CircuitConnection::on_pv_event(std::uint32_t subid, unsigned mask) {
  auto it = subscriptions_.find(subid);
  if (closed_ || it == subscriptions_.end() || (it->second.mask & mask) == 0) return;
  Subscription& sub = it->second;
  if (!events_on_) {
    sub.pending = true;  // coalesced: the state at EVENTS_ON is sent
    return;
  }
  if (in_dispatch_) {
    (void)append_dbr_message(events_, Command::event_add, sub.type, sub.count, subid, *sub.pv);
    return;
  }
  (void)append_dbr_message(out_, Command::event_add, sub.type, sub.count, subid, *sub.pv);
  queued_outside_receive();
}

void CircuitConnection::on_events_on() {
  events_on_ = true;
  for (auto& [subid, sub] : subscriptions_) {
    if (!sub.pending) continue;
    sub.pending = false;
    (void)append_dbr_message(out_, Command::event_add, sub.type, sub.count, subid, *sub.pv);
  }
}

void CircuitConnection::cancel(std::uint32_t subid) {
  auto it = subscriptions_.find(subid);
  if (it == subscriptions_.end()) return;
  it->second.pv->unobserve(it->second.observer);
  subscriptions_.erase(it);
}

void CircuitConnection::on_event_cancel(const Message& m) {
  const Header& h = m.header;
  if (!channel(m)) return;
  auto it = subscriptions_.find(h.p2);
  // An unknown id is a race with a subscription the server already dropped: no reply.
  if (it == subscriptions_.end() || it->second.sid != h.p1) return;
  cancel(h.p2);
  append_event_cancel_reply(out_, h.data_type, h.count, h.p1, h.p2);
}

void CircuitConnection::on_clear_channel(const Message& m) {
  const std::uint32_t sid = m.header.p1;
  if (!channel(m)) return;
  std::erase_if(subscriptions_, [&](auto& entry) {
    if (entry.second.sid != sid) return false;
    entry.second.pv->unobserve(entry.second.observer);
    return true;
  });
  channels_.erase(sid);
  append_clear_channel(out_, sid, m.header.p2);
}

}  // namespace pandafly::sim::ca
