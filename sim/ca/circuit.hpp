#pragma once
// CircuitConnection: the sans-IO server side of one CA virtual circuit (one
// client's TCP connection), reference channel-access.md §3.4–3.8.
//
// Rules
//   States: Open (from construction; VERSION is queued at once) and Closed.
//   Open: VERSION / CLIENT_NAME / HOST_NAME are noted, no reply.
//     CREATE_CHAN → ACCESS_RIGHTS + CREATE_CHAN (or CREATE_CH_FAIL);
//     READ_NOTIFY → READ_NOTIFY (status in p1, zero payload on failure);
//     WRITE → nothing, or ERROR on failure; WRITE_NOTIFY → WRITE_NOTIFY when
//     the PV's completion fires (at once or much later), or at once with the
//     failure status; EVENT_ADD → an update at once, then one per PV
//     notification matching the mask (ERROR for a bad mask/type/count);
//     EVENT_CANCEL → the EVENT_ADD confirmation; CLEAR_CHANNEL → echoed,
//     the channel's subscriptions dropped; ECHO / READ_SYNC → echoed;
//     EVENTS_OFF → monitor updates are held, at most one (the latest state)
//     per subscription, and sent on EVENTS_ON.
//   Open → Closed on a protocol error (broken framing, a payload above the
//   limit, a data type > 38, an unknown sid, priority > 99, an unsupported
//   command; the reason is logged) or close() by the shell (socket gone).
//   Closed: input is ignored, every observer is removed, and completions
//   that fire later are dropped (they hold the circuit only weakly). Bytes
//   queued before closing are still there for the shell to send.
//
// Output: receive() queues its replies; monitor updates and late
// completions queue bytes outside receive() and call the on_output callback
// (the shell then drains with take_output()). Not thread-safe: one owner
// thread calls everything, including the PVs' device side.
//
// Example:
//   CircuitConnection c(db, "127.0.0.1:40000", [](std::string_view m) { log(m); });
//   c.on_output([&] { start_write(); });
//   c.receive(bytes);          // replies queued
//   c.take_output(buffer);     // VERSION, ACCESS_RIGHTS, CREATE_CHAN, …
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/ca/protocol.hpp"
#include "sim/ca/pv.hpp"

namespace pandafly::sim::ca {

struct CircuitOptions {
  std::size_t max_payload = kDefaultMaxPayload;  // larger client messages close the circuit
};

class CircuitConnection {
 public:
  using Log = std::function<void(std::string_view)>;
  using Options = CircuitOptions;

  /// Queues VERSION(0, 0, 13, 0, 0). `peer` names the client in log lines.
  CircuitConnection(std::shared_ptr<const PvDatabase> db, std::string peer, Log log = {},
                    Options options = {});
  CircuitConnection(const CircuitConnection&) = delete;
  CircuitConnection& operator=(const CircuitConnection&) = delete;
  ~CircuitConnection();

  /// Consumes client bytes (any slicing) and queues the replies.
  void receive(std::span<const std::byte> bytes);
  /// Moves every queued byte into `out` (its old content is dropped; the two
  /// buffers are swapped, so both keep their capacity).
  void take_output(std::vector<std::byte>& out);
  [[nodiscard]] bool has_output() const { return !out_.empty(); }
  /// Called when bytes are queued outside receive() (monitor update, late
  /// completion); may call take_output() at once.
  void on_output(std::function<void()> fn) { on_output_ = std::move(fn); }

  /// Closes (idempotent): observers removed, pending completions dropped.
  void close(std::string_view reason);
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] const std::string& close_reason() const { return close_reason_; }

  [[nodiscard]] std::size_t channel_count() const { return channels_.size(); }
  [[nodiscard]] std::size_t subscription_count() const { return subscriptions_.size(); }
  [[nodiscard]] const std::string& client_name() const { return client_name_; }
  [[nodiscard]] const std::string& host_name() const { return host_name_; }
  /// From the client's VERSION (0 until it arrives).
  [[nodiscard]] std::uint16_t priority() const { return priority_; }
  [[nodiscard]] std::uint16_t client_minor_version() const { return client_minor_; }

 private:
  struct Channel {
    std::uint32_t cid;
    std::shared_ptr<Pv> pv;
  };
  struct Subscription {
    std::uint32_t sid;
    std::uint16_t type;
    std::uint32_t count;
    unsigned mask;
    std::uint64_t observer;
    std::shared_ptr<Pv> pv;
    bool pending = false;  // an update held while events are off
  };

  void dispatch(const Message& m);
  void on_version(const Message& m);
  void on_create_chan(const Message& m);
  void on_read_notify(const Message& m, const Channel& ch);
  void on_write(const Message& m, const Channel& ch, bool notify);
  void on_event_add(const Message& m, const Channel& ch);
  void on_event_cancel(const Message& m);
  void on_clear_channel(const Message& m);
  void on_events_on();
  void on_pv_event(std::uint32_t subid, unsigned mask);
  void on_put_done(std::uint32_t sid, std::uint16_t type, std::uint32_t count, std::uint32_t ioid,
                   std::uint32_t eca);
  void cancel(std::uint32_t subid);
  void protocol_error(std::string reason);
  void queued_outside_receive();
  [[nodiscard]] const Channel* channel(const Message& m);

  std::shared_ptr<const PvDatabase> db_;
  std::string peer_;
  Log log_;
  MessageReader reader_;
  std::vector<std::byte> out_;
  // Monitor updates caused while a request is dispatched go out after its
  // reply (as rsrv's event queue sends them), each a snapshot of its moment.
  std::vector<std::byte> events_;
  std::function<void()> on_output_;
  std::unordered_map<std::uint32_t, Channel> channels_;  // by sid
  std::map<std::uint32_t, Subscription> subscriptions_;  // by subid (client-chosen)
  std::uint32_t next_sid_ = 1;
  std::string client_name_, host_name_;
  std::uint16_t priority_ = 0;
  std::uint16_t client_minor_ = 0;
  bool events_on_ = true;
  bool in_receive_ = false;
  bool in_dispatch_ = false;
  bool closed_ = false;
  std::string close_reason_;
  // Completions and observers reach the circuit only through this: expired
  // once the circuit is destroyed.
  std::shared_ptr<CircuitConnection*> self_;
};

}  // namespace pandafly::sim::ca
