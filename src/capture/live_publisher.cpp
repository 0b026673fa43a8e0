#include "pandafly/capture/live_publisher.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <zmq.hpp>

namespace pandafly::capture {

namespace {

// '"', '\' and control bytes would break the JSON header (§3.4): replaced.
std::string json_safe(std::string s) {
  std::replace_if(
      s.begin(), s.end(),
      [](char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }, '_');
  return s;
}

AttributeValue to_value(const NDAttribute& a) {
  return std::visit(
      [](const auto& v) -> AttributeValue {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return json_safe(v);
        } else {
          return v;
        }
      },
      a.value);
}

bool is_ours(std::string_view name, const LivePublisherOptions& o) {
  return name == o.angle_attribute || name == o.start_attribute || name == o.index_attribute;
}

ArrayHeader array_header(const LiveProjection& p, const LivePublisherOptions& o) {
  if (p.frame == nullptr) throw std::invalid_argument("LiveProjection without a frame header");
  const FrameHeader& f = *p.frame;
  ArrayHeader h{.frame = f.frame, .timestamp = f.timestamp, .type = f.type, .shape = f.shape};
  h.attributes.reserve(f.attributes.size() + 3);
  for (const auto& a : f.attributes) {
    if (!is_ours(a.name, o)) h.attributes.push_back({json_safe(a.name), to_value(a)});
  }
  h.attributes.push_back({o.angle_attribute, p.angle ? AttributeValue{*p.angle} : Undefined{}});
  if (p.angle_start) h.attributes.push_back({o.start_attribute, *p.angle_start});
  h.attributes.push_back({o.index_attribute, static_cast<std::int64_t>(p.slot)});
  return h;
}

// libzmq's free function for zero-copy data: drops the owner's reference.
void release_owner(void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<const void>*>(hint);
}

zmq::message_t data_message(const LiveProjection& p) {
  if (!p.owner) return zmq::message_t(p.data.data(), p.data.size());
  auto* keep = new std::shared_ptr<const void>(p.owner);
  try {
    // cppzmq's constructor takes a non-const pointer; libzmq only reads it.
    return zmq::message_t(const_cast<std::byte*>(p.data.data()), p.data.size(), &release_owner,
                          keep);
  } catch (...) {
    delete keep;
    throw;
  }
}

}  // namespace

std::string live_header(const LiveProjection& p, const LivePublisherOptions& options) {
  return encode_adzmq_header(array_header(p, options), options.header);
}

struct LivePublisher::Impl {
  LivePublisherOptions options;
  zmq::context_t context{1};
  zmq::socket_t socket;
  std::string endpoint;
  mutable std::mutex mutex;  // guards the socket, stats and header_text
  LivePublisherStats stats;
  std::string header_text;

  bool fail(std::string why) {
    ++stats.failed;
    stats.last_error = std::move(why);
    return false;
  }
  bool send(const LiveProjection& p);
};

bool LivePublisher::Impl::send(const LiveProjection& p) {
  if (p.frame == nullptr) return fail(fmt::format("projection {}: no frame header", p.slot));
  if (p.data.size() != p.frame->byte_size()) {
    return fail(fmt::format("projection {} (frame {}): data is {} bytes, the shape needs {}",
                            p.slot, p.frame->frame, p.data.size(), p.frame->byte_size()));
  }
  encode_adzmq_header(array_header(p, options), options.header, header_text);
  zmq::message_t head(header_text.data(), header_text.size());
  // XPUB_NODROP: EAGAIN at the HWM. The HWM counts whole messages, so when
  // the header part is taken the data part is too (multipart is atomic).
  if (!socket.send(head, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
    ++stats.dropped;
    return false;
  }
  auto data = data_message(p);
  if (!socket.send(data, zmq::send_flags::dontwait)) {
    return fail(fmt::format("projection {}: data part refused after its header", p.slot));
  }
  ++stats.published;
  return true;
}

LivePublisher::LivePublisher(std::string_view endpoint, LivePublisherOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  try {
    impl_->socket = zmq::socket_t(impl_->context, zmq::socket_type::pub);
    impl_->socket.set(zmq::sockopt::linger, static_cast<int>(impl_->options.linger.count()));
    impl_->socket.set(zmq::sockopt::sndhwm, impl_->options.send_hwm);
    impl_->socket.set(zmq::sockopt::xpub_nodrop, 1);
    impl_->socket.bind(std::string(endpoint));
    impl_->endpoint = impl_->socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(fmt::format("live stream: cannot bind '{}': {}", endpoint, e.what()));
  }
}

LivePublisher::~LivePublisher() = default;  // socket closes before the context (member order)

bool LivePublisher::publish(const LiveProjection& projection) noexcept {
  std::scoped_lock lock(impl_->mutex);
  try {
    return impl_->send(projection);
  } catch (const std::exception& e) {
    return impl_->fail(fmt::format("projection {}: {}", projection.slot, e.what()));
  } catch (...) {
    return impl_->fail(fmt::format("projection {}: unknown error", projection.slot));
  }
}

LivePublisherStats LivePublisher::stats() const {
  std::scoped_lock lock(impl_->mutex);
  return impl_->stats;
}

const std::string& LivePublisher::endpoint() const noexcept {
  return impl_->endpoint;
}

}  // namespace pandafly::capture
