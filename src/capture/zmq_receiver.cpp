#include "pandafly/capture/zmq_receiver.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <zmq.hpp>

#include "pandafly/capture/frame_sequence.hpp"
#include "pandafly/util/bounded_queue.hpp"

namespace pandafly::capture {

// ------------------------------------------------------------------ serverHost

namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto start = s.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    const auto end = std::min(s.find_first_of(" \t"), s.size());
    out.push_back(s.substr(0, end));
    s.remove_prefix(end);
  }
  return out;
}

/// `address` with a wildcard host ("*", "0.0.0.0") replaced by `host`.
std::string connectable(std::string_view address, std::string_view host) {
  const auto scheme = address.find("://");
  const auto host_at = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon < host_at) return std::string(address);
  const auto old_host = address.substr(host_at, colon - host_at);
  if (old_host != "*" && old_host != "0.0.0.0") return std::string(address);
  return fmt::format("{}{}{}", address.substr(0, host_at), host, address.substr(colon));
}

}  // namespace

ReceiverSocket receiver_socket_for(std::string_view server_host, std::string_view ioc_host,
                                   std::optional<Pattern> pattern) {
  const auto w = words(server_host);
  if (w.empty()) throw std::invalid_argument("ZMQ serverHost is empty");
  std::optional<Pattern> type;
  std::optional<bool> plugin_binds;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (w[i] == "PUB" || w[i] == "SUB")
      type = Pattern::pub_sub;
    else if (w[i] == "PUSH" || w[i] == "PULL")
      type = Pattern::push_pull;
    else if (w[i] == "BIND")
      plugin_binds = true;
    else if (w[i] == "CONNECT")
      plugin_binds = false;
    else
      throw std::invalid_argument(
          fmt::format("ZMQ serverHost '{}': unknown word '{}'", server_host, w[i]));
  }
  const bool untyped = !type;
  if (untyped)
    type = w[0].find('*') != std::string_view::npos ? Pattern::pub_sub : Pattern::push_pull;
  // §3.2: an untyped PUSH connects unless told BIND; everything else binds.
  if (!plugin_binds) plugin_binds = !(untyped && *type == Pattern::push_pull);
  ReceiverSocket r;
  r.pattern = pattern.value_or(*type);
  r.bind = !*plugin_binds;
  r.address = r.bind ? std::string(w[0]) : connectable(w[0], ioc_host);
  return r;
}

// ------------------------------------------------------------------ ReceivedFrame

struct ReceivedFrame::Parts {
  zmq::message_t header;
  zmq::message_t data;
  std::vector<std::byte> owned;  // pixels not from ZMQ (empty for a ZMQ frame)
  Frame frame;
};

ReceivedFrame::ReceivedFrame(std::unique_ptr<Parts> parts) noexcept : parts_(std::move(parts)) {}
ReceivedFrame::ReceivedFrame(FrameHeader header, std::vector<std::byte> pixels)
    : parts_(std::make_unique<Parts>()) {
  parts_->owned = std::move(pixels);
  parts_->frame.header = std::move(header);
  parts_->frame.data = parts_->owned;
}
ReceivedFrame::ReceivedFrame(ReceivedFrame&&) noexcept = default;
ReceivedFrame& ReceivedFrame::operator=(ReceivedFrame&&) noexcept = default;
ReceivedFrame::~ReceivedFrame() = default;
const Frame& ReceivedFrame::frame() const noexcept {
  return parts_->frame;
}

// ------------------------------------------------------------------ ZmqReceiver

namespace {

std::span<const std::byte> bytes_of(const zmq::message_t& m) {
  return {static_cast<const std::byte*>(m.data()), m.size()};
}

}  // namespace

struct ZmqReceiver::Impl {
  Impl(std::string_view server_host, ZmqReceiverOptions opts);
  void run() noexcept;
  void receive_one();
  void handle(std::vector<zmq::message_t>&& parts);
  bool note_frame(std::uint64_t f, std::optional<double> timestamp);  // under stats_mutex

  ZmqReceiverOptions options;
  ReceiverSocket config;
  std::string endpoint;
  zmq::context_t context{1};
  zmq::socket_t socket;  // touched only by `thread` once it runs
  util::BoundedQueue<ReceivedFrame> queue;
  std::atomic<bool> stop_requested{false};
  mutable std::mutex stats_mutex;
  ZmqReceiverStats stats;
  // Frame-number bookkeeping (under stats_mutex); its counts are copied into
  // `stats` after every frame (header Rules, "Frame numbers").
  FrameSequence sequence;
  std::mutex stop_mutex;  // serialises stop() callers
  std::thread thread;
};

ZmqReceiver::Impl::Impl(std::string_view server_host, ZmqReceiverOptions opts)
    : options(std::move(opts)),
      config(receiver_socket_for(server_host, options.ioc_host, options.pattern)),
      queue(options.queue_capacity) {
  const bool sub = config.pattern == Pattern::pub_sub;
  try {
    socket = zmq::socket_t(context, sub ? zmq::socket_type::sub : zmq::socket_type::pull);
    socket.set(zmq::sockopt::linger, 0);  // never let close/terminate wait for a peer
    if (options.receive_hwm > 0) socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
    if (sub) socket.set(zmq::sockopt::subscribe, "");
    if (config.bind)
      socket.bind(config.address);
    else
      socket.connect(config.address);
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(fmt::format("ZmqReceiver: cannot {} {} socket to '{}': {}",
                                         config.bind ? "bind" : "connect", sub ? "SUB" : "PULL",
                                         config.address, e.what()));
  }
}

void ZmqReceiver::Impl::run() noexcept {
  // The header promises stopped() once `failure` is set: the queue closes in
  // the same critical section (lock order stats → queue, as in handle()), so
  // no thread sees the failure without stopped(), or stopped() and then a
  // stats() without the failure.
  const auto ended = [&](const char* what) {
    std::scoped_lock lock(stats_mutex);
    stats.failure = fmt::format("receive thread ended: {}", what);
    stats.last_error = stats.failure;
    queue.close();
  };
  while (!stop_requested.load(std::memory_order_relaxed)) {
    try {
      if (options.fault_injection) options.fault_injection();
      receive_one();
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      ended(e.what());
      break;
    } catch (const std::exception& e) {  // bad_alloc: end rather than terminate
      ended(e.what());
      break;
    }
  }
  socket.close();
  queue.close();  // a consumer learns the stream has ended, whatever the reason
}

/// Waits up to poll_interval for a message and takes all its frames: libzmq
/// delivers a multipart message atomically, so once the first frame is here the
/// rest are too, and taking them all is what resynchronises after a bad one.
void ZmqReceiver::Impl::receive_one() {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, options.poll_interval) == 0) return;
  std::vector<zmq::message_t> parts;
  do {
    zmq::message_t m;
    if (!socket.recv(m, zmq::recv_flags::dontwait)) break;
    parts.push_back(std::move(m));
  } while (parts.back().more());
  if (!parts.empty()) handle(std::move(parts));
}

void ZmqReceiver::Impl::handle(std::vector<zmq::message_t>&& parts) {
  if (parts.size() != 2) {
    std::scoped_lock lock(stats_mutex);
    ++stats.bad;
    stats.last_error =
        fmt::format("message has {} frame{}, expected 2 (JSON header, data); dropped", parts.size(),
                    parts.size() == 1 ? "" : "s");
    return;
  }
  // Decode only once the messages sit at their final address: a small message
  // keeps its bytes inside zmq_msg_t, so moving it would move the data.
  auto owned = std::make_unique<ReceivedFrame::Parts>();
  owned->header = std::move(parts[0]);
  owned->data = std::move(parts[1]);
  auto decoded = decode_adzmq(bytes_of(owned->header), bytes_of(owned->data));
  std::scoped_lock lock(stats_mutex);
  if (auto* e = std::get_if<FrameError>(&decoded)) {
    ++stats.bad;
    stats.last_error = e->message;
    if (e->frame) (void)note_frame(*e->frame, std::nullopt);
    return;
  }
  owned->frame = std::move(std::get<Frame>(decoded));
  ++stats.received;
  const bool first_copy = note_frame(owned->frame.header.frame, owned->frame.header.timestamp);
  if (!first_copy && !options.hand_out_duplicates) return;  // a duplicate, counted and dropped
  // Single producer: only this thread pushes, so a queue with room now still
  // has room at push() — push never blocks here.
  if (queue.size() >= queue.capacity()) {
    ++stats.overruns;
    return;
  }
  (void)queue.push(ReceivedFrame(std::move(owned)));
}

// Header Rules, "Frame numbers" (FrameSequence). `timestamp` is nullopt for a
// bad message, which only moves the sequence on. Returns false for a
// duplicate (dropped).
bool ZmqReceiver::Impl::note_frame(std::uint64_t f, std::optional<double> timestamp) {
  const auto verdict = sequence.feed(f, timestamp);
  const auto& c = sequence.counts();
  stats.missing = c.missing;
  stats.duplicates = c.duplicates;
  stats.reorders = c.reorders;
  stats.restarts = c.restarts;
  stats.last_frame = c.last;
  return verdict.kind != FrameVerdict::Kind::duplicate;
}

ZmqReceiver::ZmqReceiver(std::string_view server_host, ZmqReceiverOptions options)
    : impl_(std::make_unique<Impl>(server_host, std::move(options))) {
  // Starting the thread is the memory barrier libzmq asks for when a socket
  // moves to another thread.
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

ZmqReceiver::~ZmqReceiver() {
  stop();
}

std::optional<ReceivedFrame> ZmqReceiver::pop(std::chrono::milliseconds timeout) {
  return impl_->queue.pop_for(timeout);
}

void ZmqReceiver::stop() {
  std::scoped_lock lock(impl_->stop_mutex);
  impl_->stop_requested = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->queue.close();  // the thread did already, unless it never started
}

bool ZmqReceiver::stopped() const {
  return impl_->queue.closed();
}

ZmqReceiverStats ZmqReceiver::stats() const {
  std::scoped_lock lock(impl_->stats_mutex);
  return impl_->stats;
}

const ReceiverSocket& ZmqReceiver::socket() const noexcept {
  return impl_->config;
}
const std::string& ZmqReceiver::endpoint() const noexcept {
  return impl_->endpoint;
}

}  // namespace pandafly::capture
