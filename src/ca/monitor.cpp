#include "pandafly/ca/monitor.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "ca/dbr_codec.hpp"
#include "ca/state.hpp"

namespace pandafly::ca {
namespace detail {

void MonitorState::deliver(Update&& u) {
  std::scoped_lock lock(producer);
  ++received;
  // Consumers only ever shrink the queue, so after this the push cannot wait.
  if (queue.size() >= queue.capacity() && queue.pop_for(std::chrono::seconds(0))) ++dropped;
  (void)queue.push(std::move(u));  // false once closed: the update is not wanted
}

void on_monitor_event(libca::event_handler_args args) {
  auto* m = static_cast<MonitorState*>(args.usr);
  if (m == nullptr) return;
  std::string problem;
  if (!is_success(args.status) || args.dbr == nullptr) {
    problem = fmt::format("monitor update: {}", status_code(args.status).message());
  } else {
    try {
      const auto* p = static_cast<const std::byte*>(args.dbr);
      const std::size_t n = dbr::size_n(args.type, args.count);
      m->deliver(dbr::decode_time(args.type, args.count, {p, n}));
      return;
    } catch (const std::exception& e) {
      problem = fmt::format("monitor update: {}", e.what());
    }
  }
  {
    std::scoped_lock lock(m->producer);
    ++m->errors;
  }
  m->context->log({LogMessage::Kind::exception, status_code(args.status), m->name, problem});
}

}  // namespace detail

Monitor::Monitor() noexcept = default;

Monitor::Monitor(const Channel& channel, MonitorOptions options) {
  auto& cs = channel.state_ref();
  const FieldType t = options.type ? *options.type : channel.native_type();
  auto m = std::make_shared<detail::MonitorState>(cs.context.get(), cs.name, options.capacity);
  m->type = dbr::type_of(dbr::Class::time, t);
  auto& ctx = *cs.context;
  std::shared_lock lock(ctx.lifetime);
  if (cs.chid == nullptr) {
    throw Error(make_error_code(Errc::channel_destroyed), cs.name, "channel closed");
  }
  ctx.make_current();
  {
    std::scoped_lock cl(cs.mutex);
    cs.monitors.push_back(m.get());
  }
  libca::evid id = nullptr;
  const int status = libca::ca_create_subscription(m->type, options.count, cs.chid,
                                                   static_cast<long>(options.mask),
                                                   detail::on_monitor_event, m.get(), &id);
  if (!is_success(status)) {
    std::scoped_lock cl(cs.mutex);
    std::erase(cs.monitors, m.get());
    detail::throw_status(status, cs.name, "subscribe");
  }
  m->evid = id;
  libca::ca_flush_io();
  channel_ = channel.state_;
  state_ = std::move(m);
}

Monitor::~Monitor() {
  close();
}

Monitor::Monitor(Monitor&& other) noexcept = default;

Monitor& Monitor::operator=(Monitor&& other) noexcept {
  if (this != &other) {
    close();
    channel_ = std::move(other.channel_);
    state_ = std::move(other.state_);
  }
  return *this;
}

void Monitor::close() noexcept {
  if (!state_) return;
  auto& ctx = *channel_->context;
  std::unique_lock lock(ctx.lifetime);
  {
    std::scoped_lock cl(channel_->mutex);
    std::erase(channel_->monitors, state_.get());
  }
  if (state_->evid != nullptr && ctx.ctx != nullptr) {
    try {
      ctx.make_current();
      libca::ca_clear_subscription(state_->evid);
      libca::ca_flush_io();
    } catch (const Error& e) {
      ctx.log({LogMessage::Kind::exception, e.code(), state_->name, e.what()});
    }
  }
  state_->evid = nullptr;
  state_->queue.close();
  channel_->release_locked();  // the last user of a Channel that is gone clears it
}

std::optional<Update> Monitor::pop(Timeout timeout) {
  if (!state_) return std::nullopt;
  const double secs = timeout.count() > 0 ? std::min(timeout.count(), 1e8) : 0.0;
  return state_->queue.pop_for(Timeout(secs));
}

std::optional<Update> Monitor::try_pop() {
  return pop(Timeout(0));
}

FieldType Monitor::type() const {
  return state_ ? static_cast<FieldType>(state_->type % 7) : FieldType::float64;
}

std::uint64_t Monitor::received() const {
  if (!state_) return 0;
  std::scoped_lock lock(state_->producer);
  return state_->received;
}

std::uint64_t Monitor::dropped() const {
  if (!state_) return 0;
  std::scoped_lock lock(state_->producer);
  return state_->dropped;
}

std::uint64_t Monitor::errors() const {
  if (!state_) return 0;
  std::scoped_lock lock(state_->producer);
  return state_->errors;
}

std::size_t Monitor::queued() const {
  return state_ ? state_->queue.size() : 0;
}

bool Monitor::closed() const {
  return !state_ || state_->queue.closed();
}

}  // namespace pandafly::ca
