#include "pandafly/ca/channel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "ca/dbr_codec.hpp"
#include "ca/state.hpp"

namespace pandafly::ca {
namespace detail {

std::chrono::steady_clock::time_point deadline_after(Timeout t) {
  const double secs = t.count() > 0 ? std::min(t.count(), 1e8) : 0.0;  // also maps NaN to 0
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(Timeout(secs));
}

void ChannelState::close_locked() {
  std::vector<MonitorState*> subs;
  {
    std::scoped_lock lock(mutex);
    subs.swap(monitors);
    state = ConnectionState::closed;
  }
  for (auto* m : subs) {
    if (m->evid != nullptr) libca::ca_clear_subscription(m->evid);
    m->evid = nullptr;
    m->queue.close();
  }
  if (chid != nullptr) {
    libca::ca_clear_channel(chid);
    libca::ca_flush_io();
    chid = nullptr;
  }
  // libca calls none of the request callbacks any more: release them.
  std::scoped_lock lock(mutex);
  for (auto& [ptr, req] : pending) {
    if (!req->done) {
      req->done = true;
      req->status = static_cast<int>(Errc::channel_destroyed);
    }
  }
  pending.clear();
  changed.notify_all();
}

void ChannelState::release_locked() noexcept {
  {
    std::scoped_lock lock(mutex);
    if (channel_object || !monitors.empty()) return;
  }
  {
    std::scoped_lock cl(context->channels_mutex);
    std::erase(context->channels, this);
  }
  if (context->ctx == nullptr) return;  // the Context already cleared this channel
  try {
    context->make_current();
    close_locked();
  } catch (const Error& e) {
    context->log({LogMessage::Kind::exception, e.code(), name, e.what()});
  } catch (...) {
    // make_current() reports through Error only; nothing else can be thrown here.
  }
}

void on_connection(libca::connection_handler_args args) {
  auto* s = static_cast<ChannelState*>(libca::ca_puser(args.chan));
  if (s == nullptr) return;
  const bool up = args.op == libca::CA_OP_CONN_UP;
  const auto state = up ? ConnectionState::connected : ConnectionState::disconnected;
  std::optional<FieldType> native;
  std::size_t count = 0;
  if (up) {
    const short t = libca::ca_field_type(args.chan);
    if (t >= 0 && t <= static_cast<short>(FieldType::float64)) native = static_cast<FieldType>(t);
    count = libca::ca_element_count(args.chan);
  }
  std::function<void(ConnectionState)> callback;
  {
    std::scoped_lock lock(s->mutex);
    if (s->state == ConnectionState::closed) return;
    s->state = state;
    if (up) {
      s->native = native;
      s->count = count;
    } else {
      // Requests in flight end now; libca's own ECA_DISCONN callback may follow.
      for (auto& [ptr, req] : s->pending) {
        if (req->done) continue;
        req->done = true;
        req->status = libca::ECA_DISCONN;
      }
    }
    callback = s->on_state;
    s->changed.notify_all();
  }
  if (!callback) return;
  try {
    callback(state);
  } catch (const std::exception& e) {
    s->context->log({LogMessage::Kind::message,
                     {},
                     s->name,
                     fmt::format("connection callback threw: {}", e.what())});
  } catch (...) {
    s->context->log({LogMessage::Kind::message, {}, s->name, "connection callback threw"});
  }
}

void on_request_done(libca::event_handler_args args) {
  auto* req = static_cast<Request*>(args.usr);
  if (req == nullptr) return;
  ChannelState* s = req->owner;
  int status = args.status;
  std::vector<std::byte> data;
  if (args.dbr != nullptr && is_success(status) && args.type >= 0 &&
      args.type <= libca::LAST_BUFFER_TYPE && args.count >= 0) {
    try {
      const auto* p = static_cast<const std::byte*>(args.dbr);
      data.assign(p, p + dbr::size_n(args.type, args.count));
    } catch (...) {
      status = static_cast<int>(Errc::alloc_mem);
    }
  }
  std::scoped_lock lock(s->mutex);
  if (!req->done) {
    req->done = true;
    req->status = status;
    req->type = args.type;
    req->count = args.count;
    req->data = std::move(data);
  }
  s->pending.erase(req);  // may destroy *req: not used below
  s->changed.notify_all();
}

}  // namespace detail

namespace {

using detail::ChannelState;
using detail::Request;

// Runs f(chid) with the channel usable: lifetime shared, context current, chid open.
template <class F>
auto with_chid(const ChannelState& s, F&& f) {
  std::shared_lock lock(s.context->lifetime);
  if (s.chid == nullptr) {
    throw Error(make_error_code(Errc::channel_destroyed), s.name, "channel closed");
  }
  s.context->make_current();
  return f(s.chid);
}

[[noreturn]] void throw_not_connected(const ChannelState& s, std::string_view op) {
  throw Error(make_error_code(Errc::disconnected), s.name,
              fmt::format("{}: not connected ({})", op, to_string(s.state)));
}

// Registers a request, issues it with `call(chid, Request*)` and flushes.
template <class Call>
std::shared_ptr<Request> submit(ChannelState& s, std::string_view op, Call&& call) {
  auto req = std::make_shared<Request>();
  req->owner = &s;
  with_chid(s, [&](libca::chid id) {
    {
      std::scoped_lock lock(s.mutex);
      if (s.state != ConnectionState::connected) throw_not_connected(s, op);
      s.pending.emplace(req.get(), req);
    }
    const int status = call(id, req.get());
    if (!is_success(status)) {
      {
        std::scoped_lock lock(s.mutex);
        s.pending.erase(req.get());
      }
      detail::throw_status(status, s.name, op);
    }
    libca::ca_flush_io();
  });
  return req;
}

[[noreturn]] void throw_cancelled(const ChannelState& s, std::string_view op) {
  throw Error(util::cancelled_error(), s.name, fmt::format("{}: cancelled", op));
}

// Waits for the callback of `req` until `t` passes or `stop` is requested;
// returns its result or throws. A request left behind stays in `pending`
// until libca calls back (or the channel is cleared), as after a timeout.
Request wait_reply(ChannelState& s, const std::shared_ptr<Request>& req, Timeout t,
                   std::string_view op, const util::StopToken& stop) {
  const util::WakeOnStop wake(stop, s.mutex, s.changed);  // before the lock: see util/stop.hpp
  std::unique_lock lock(s.mutex);
  if (!util::wait_until(s.changed, lock, detail::deadline_after(t), stop,
                        [&] { return req->done; })) {
    lock.unlock();
    if (stop.stop_requested()) throw_cancelled(s, op);
    throw Error(make_error_code(Errc::timeout), s.name,
                fmt::format("{}: no reply within {:g} s", op, t.count()));
  }
  Request out = std::move(*req);
  lock.unlock();
  if (!is_success(out.status)) detail::throw_status(out.status, s.name, op);
  return out;
}

// Runs a decoder, naming the PV in its errors.
template <class F>
auto decode(const ChannelState& s, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(e.code(), s.name, e.detail());
  }
}

Request get_request(ChannelState& s, libca::chtype type, std::size_t count, Timeout t,
                    std::string_view op, const util::StopToken& stop) {
  if (stop.stop_requested()) throw_cancelled(s, op);
  auto req = submit(s, op, [&](libca::chid id, Request* r) {
    return libca::ca_array_get_callback(type, count, id, detail::on_request_done, r);
  });
  return wait_reply(s, req, t, op, stop);
}

}  // namespace

Channel::Channel() noexcept = default;

Channel::Channel(const Context& context, std::string name, StateCallback on_state) {
  if (!context.state_) {
    throw Error(make_error_code(Errc::channel_destroyed), name, "moved-from Context");
  }
  auto s = std::make_shared<ChannelState>(context.state_, std::move(name));
  s->on_state = std::move(on_state);
  auto& ctx = *s->context;
  std::shared_lock lock(ctx.lifetime);
  ctx.make_current();
  {
    std::scoped_lock cl(ctx.channels_mutex);
    ctx.channels.push_back(s.get());
  }
  libca::chid id = nullptr;
  const int status = libca::ca_create_channel(s->name.c_str(), detail::on_connection, s.get(),
                                              libca::CA_PRIORITY_DEFAULT, &id);
  if (!is_success(status)) {
    std::scoped_lock cl(ctx.channels_mutex);
    std::erase(ctx.channels, s.get());
    detail::throw_status(status, s->name, "ca_create_channel");
  }
  s->chid = id;
  libca::ca_flush_io();
  state_ = std::move(s);
}

Channel Channel::connect(const Context& context, std::string name, Timeout timeout,
                         StateCallback on_state) {
  Channel ch(context, std::move(name), std::move(on_state));
  ch.wait_connected(timeout);
  return ch;
}

Channel::~Channel() {
  if (!state_) return;
  std::unique_lock lock(state_->context->lifetime);
  state_->channel_object = false;
  state_->release_locked();  // Monitors of this channel keep it open until they close
}

Channel::Channel(Channel&& other) noexcept = default;

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    Channel dying(std::move(*this));
    state_ = std::move(other.state_);
  }
  return *this;
}

ChannelState& Channel::state_ref() const {
  if (!state_) {
    throw Error(make_error_code(Errc::bad_chid), "", "empty Channel (default or moved-from)");
  }
  return *state_;
}

void Channel::throw_empty() const {
  throw Error(make_error_code(Errc::bad_count), state_ref().name,
              "get: the server returned no elements (empty array)");
}

void Channel::wait_connected(Timeout timeout, util::StopToken stop) const {
  auto& s = state_ref();
  const util::WakeOnStop wake(stop, s.mutex, s.changed);
  std::unique_lock lock(s.mutex);
  (void)util::wait_until(s.changed, lock, detail::deadline_after(timeout), stop, [&] {
    return s.state == ConnectionState::connected || s.state == ConnectionState::closed;
  });
  const auto state = s.state;
  lock.unlock();
  if (state == ConnectionState::connected) return;
  if (stop.stop_requested()) throw_cancelled(s, "connect");
  if (state == ConnectionState::closed) {
    throw Error(make_error_code(Errc::channel_destroyed), s.name, "channel closed");
  }
  throw Error(make_error_code(Errc::timeout), s.name,
              state == ConnectionState::never_connected
                  ? fmt::format("not found within {:g} s", timeout.count())
                  : fmt::format("disconnected, not reconnected within {:g} s", timeout.count()));
}

const std::string& Channel::name() const {
  static const std::string none;
  return state_ ? state_->name : none;
}

ConnectionState Channel::state() const {
  if (!state_) return ConnectionState::closed;
  std::scoped_lock lock(state_->mutex);
  return state_->state;
}

FieldType Channel::native_type() const {
  auto& s = state_ref();
  std::scoped_lock lock(s.mutex);
  if (!s.native) throw_not_connected(s, "native type");
  return *s.native;
}

std::size_t Channel::element_count() const {
  auto& s = state_ref();
  std::scoped_lock lock(s.mutex);
  if (!s.native) throw_not_connected(s, "element count");
  return s.count;
}

ChannelInfo Channel::info() const {
  auto& s = state_ref();
  ChannelInfo i;
  i.name = s.name;
  {
    std::scoped_lock lock(s.mutex);
    i.state = s.state;
    i.native_type = s.native;
    i.element_count = s.count;
  }
  if (i.state == ConnectionState::closed) return i;
  with_chid(s, [&](libca::chid id) {
    char host[256] = {};
    libca::ca_get_host_name(id, host, sizeof host);
    i.host = host;
    i.read_access = libca::ca_read_access(id) != 0;
    i.write_access = libca::ca_write_access(id) != 0;
  });
  return i;
}

void Channel::on_state_change(StateCallback cb) {
  auto& s = state_ref();
  std::scoped_lock lock(s.mutex);
  s.on_state = std::move(cb);
}

Value Channel::get_value(std::optional<FieldType> type, std::size_t count, Timeout timeout,
                         util::StopToken stop) const {
  auto& s = state_ref();
  const FieldType t = type ? *type : native_type();
  auto r = get_request(s, dbr::type_of(dbr::Class::plain, t), count, timeout, "get", stop);
  return decode(s, [&] { return dbr::decode_value(r.type, r.count, r.data); });
}

Timed<Value> Channel::get_time_value(std::optional<FieldType> type, std::size_t count,
                                     Timeout timeout, util::StopToken stop) const {
  auto& s = state_ref();
  const FieldType t = type ? *type : native_type();
  auto r = get_request(s, dbr::type_of(dbr::Class::time, t), count, timeout, "get", stop);
  return decode(s, [&] { return dbr::decode_time(r.type, r.count, r.data); });
}

Control Channel::get_control(Timeout timeout, util::StopToken stop) const {
  auto& s = state_ref();
  auto r = get_request(s, dbr::type_of(dbr::Class::ctrl, native_type()), 1, timeout, "get", stop);
  return decode(s, [&] { return dbr::decode_control(r.type, r.data); });
}

void Channel::put_value(const Value& value) const {
  auto& s = state_ref();
  const auto enc = dbr::encode(value, s.name);
  with_chid(s, [&](libca::chid id) {
    {
      std::scoped_lock lock(s.mutex);
      if (s.state != ConnectionState::connected) throw_not_connected(s, "put");
    }
    detail::check(libca::ca_array_put(enc.type, enc.count, id, enc.bytes.data()), s.name, "put");
    libca::ca_flush_io();
  });
}

void Channel::put_value_wait(const Value& value, Timeout timeout, util::StopToken stop) const {
  auto& s = state_ref();
  const auto enc = dbr::encode(value, s.name);
  if (stop.stop_requested()) throw_cancelled(s, "put-callback");  // nothing written
  auto req = submit(s, "put-callback", [&](libca::chid id, Request* r) {
    return libca::ca_array_put_callback(enc.type, enc.count, id, enc.bytes.data(),
                                        detail::on_request_done, r);
  });
  (void)wait_reply(s, req, timeout, "put-callback", stop);
}

std::optional<Error> Channel::take_async_error() {
  if (!state_) return std::nullopt;
  std::scoped_lock lock(state_->mutex);
  std::optional<Error> out;
  out.swap(state_->async_error);
  return out;
}

}  // namespace pandafly::ca
