#include "pandafly/ca/context.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "ca/state.hpp"

namespace pandafly::ca {
namespace detail {
namespace {

// Live contexts, for libca's printf handler (which gets no user argument).
// Deliberately never destroyed: Contexts with static storage may outlive it.
struct Registry {
  std::mutex mutex;
  std::vector<ContextState*> live;
};
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

void default_logger(const LogMessage& m) {
  if (m.channel.empty()) {
    fmt::print(stderr, "pandafly::ca: {}\n", m.text);
  } else {
    fmt::print(stderr, "pandafly::ca: {}: {}\n", m.channel, m.text);
  }
}

std::string_view op_name(long op) {
  switch (op) {
    case libca::CA_OP_GET:
      return "get";
    case libca::CA_OP_PUT:
      return "put";
    case libca::CA_OP_CREATE_CHANNEL:
      return "create channel";
    case libca::CA_OP_ADD_EVENT:
      return "add subscription";
    case libca::CA_OP_CLEAR_EVENT:
      return "clear subscription";
    default:
      return "other";
  }
}

// libca's exception handler: one line to the logger; an exception about one
// of our channels is also kept for Channel::take_async_error().
void on_exception(libca::exception_handler_args a) {
  auto* ctx = static_cast<ContextState*>(a.usr);
  try {
    LogMessage m;
    m.kind = LogMessage::Kind::exception;
    m.code = status_code(a.stat);
    m.text = fmt::format("{} ({}{}{})", m.code.message(), op_name(a.op), a.ctx ? ": " : "",
                         a.ctx ? a.ctx : "");
    if (a.chan) {
      m.channel = libca::ca_name(a.chan);
      if (auto* ch = static_cast<ChannelState*>(libca::ca_puser(a.chan))) {
        std::scoped_lock lock(ch->mutex);
        ch->async_error.emplace(m.code, ch->name, m.text);
      }
    }
    ctx->log(std::move(m));
  } catch (...) {
    // Out of memory while formatting: nothing sensible left to report with.
  }
}

Logger logger_for_current_thread() {
  auto* current = libca::ca_current_context();
  auto& r = registry();
  std::scoped_lock lock(r.mutex);
  for (auto* s : r.live) {
    if (s->ctx == current) return s->logger;
  }
  if (r.live.size() == 1) return r.live.front()->logger;
  return default_logger;
}

// libca's printf handler (no user argument: the logger is found by context).
int on_printf(const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  try {
    std::string text(static_cast<std::size_t>(n), '\0');
    std::vsnprintf(text.data(), text.size() + 1, format, args);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty()) logger_for_current_thread()({LogMessage::Kind::message, {}, {}, text});
  } catch (...) {
    // A throwing logger must not unwind into libca.
  }
  return n;
}

}  // namespace

void throw_status(long status, const std::string& pv, std::string_view operation) {
  const auto code = status_code(status);
  throw Error(code, pv, fmt::format("{}: {}", operation, code.message()));
}

void check(long status, const std::string& pv, std::string_view operation) {
  if (!is_success(status)) throw_status(status, pv, operation);
}

void ContextState::make_current() const {
  if (ctx == nullptr) {
    throw Error(make_error_code(Errc::channel_destroyed), "", "the CA context was destroyed");
  }
  auto* current = libca::ca_current_context();
  if (current == ctx) return;
  if (current != nullptr) libca::ca_detach_context();
  check(libca::ca_attach_context(ctx), "", "ca_attach_context");
}

void ContextState::log(LogMessage m) const noexcept {
  try {
    logger(m);
  } catch (...) {
    // The logger's own failure cannot be reported anywhere better.
  }
}

}  // namespace detail

Context::Context(Logger logger)
    : state_(std::make_shared<detail::ContextState>(logger ? std::move(logger)
                                                           : Logger(detail::default_logger))) {
  std::unique_lock lock(state_->lifetime);
  // ca_context_create() does nothing when the thread already has a context.
  if (libca::ca_current_context() != nullptr) libca::ca_detach_context();
  detail::check(libca::ca_context_create(libca::ca_enable_preemptive_callback), "",
                "ca_context_create");
  state_->ctx = libca::ca_current_context();
  detail::check(libca::ca_add_exception_event(detail::on_exception, state_.get()), "",
                "ca_add_exception_event");
  detail::check(libca::ca_replace_printf_handler(detail::on_printf), "",
                "ca_replace_printf_handler");
  auto& r = detail::registry();
  std::scoped_lock reg(r.mutex);
  r.live.push_back(state_.get());
}

Context::~Context() {
  destroy();
}

Context::Context(Context&& other) noexcept : state_(std::move(other.state_)) {}

Context& Context::operator=(Context&& other) noexcept {
  if (this != &other) {
    destroy();
    state_ = std::move(other.state_);
  }
  return *this;
}

void Context::destroy() noexcept {
  if (!state_) return;
  // Channels and Monitors may keep the state (not the libca context) alive;
  // the lock must be released before this Context lets go of it.
  const auto state = std::move(state_);
  auto& s = *state;
  std::unique_lock lock(s.lifetime);
  if (s.ctx == nullptr) return;
  try {
    s.make_current();
  } catch (const Error& e) {
    s.log({LogMessage::Kind::exception, e.code(), {}, e.what()});
    return;  // cannot reach the context: leave it rather than destroy another one
  }
  std::vector<detail::ChannelState*> channels;
  {
    std::scoped_lock cl(s.channels_mutex);
    channels.swap(s.channels);
  }
  for (auto* ch : channels) ch->close_locked();
  libca::ca_context_destroy();
  {
    auto& r = detail::registry();
    std::scoped_lock reg(r.mutex);
    std::erase(r.live, &s);
  }
  s.ctx = nullptr;
}

void Context::attach() const {
  if (!state_) throw Error(make_error_code(Errc::channel_destroyed), "", "moved-from Context");
  std::shared_lock lock(state_->lifetime);
  state_->make_current();
}

void Context::detach() noexcept {
  if (libca::ca_current_context() != nullptr) libca::ca_detach_context();
}

void Context::flush() const {
  if (!state_) return;
  std::shared_lock lock(state_->lifetime);
  state_->make_current();
  detail::check(libca::ca_flush_io(), "", "ca_flush_io");
}

std::size_t Context::channel_count() const {
  if (!state_) return 0;
  std::scoped_lock lock(state_->channels_mutex);
  return state_->channels.size();
}

std::string Context::version() {
  return libca::ca_version();
}

std::string_view to_string(ConnectionState s) noexcept {
  switch (s) {
    case ConnectionState::never_connected:
      return "never connected";
    case ConnectionState::disconnected:
      return "disconnected";
    case ConnectionState::connected:
      return "connected";
    case ConnectionState::closed:
      return "closed";
  }
  return "?";
}

}  // namespace pandafly::ca
