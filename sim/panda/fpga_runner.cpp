#include "sim/panda/fpga_runner.hpp"

#include <string>
#include <utility>

#include <boost/asio/post.hpp>

#include "sim/panda/iso_time.hpp"

namespace pandafly::sim {

namespace asio = boost::asio;

PandaFpga::PandaFpga(asio::io_context& io, PandaServer& server, Options options)
    : io_(io),
      server_(server),
      options_(options),
      engine_(std::make_unique<fpga::Engine>(server.model())),
      pcap_(dynamic_cast<fpga::Pcap*>(engine_->behaviour("PCAP"))),
      timer_(io),
      t0_(std::chrono::steady_clock::now()),
      t0_wall_(std::chrono::system_clock::now()),
      last_publish_(t0_) {
  PandaModel& model = server.model();
  model.on_arm = [this]() -> Status {
    if (options_.clock == Clock::real_time) advance_to(wall_tick());
    if (server_.data_backlog_bytes() > 0) return Error{"Data clients still taking data"};
    if (pcap_ == nullptr) return Error{"PCAP not supported with this configuration"};
    Status status = pcap_->arm(*engine_);
    if (status.ok()) engine_->publish();
    return status;
  };
  model.on_disarm = [this] {
    if (options_.clock == Clock::real_time) advance_to(wall_tick());
    if (pcap_ != nullptr) pcap_->disarm(*engine_);
    forward_capture();
  };
  schedule();
}

PandaFpga::~PandaFpga() {
  stop();
  server_.model().on_arm = nullptr;
  server_.model().on_disarm = nullptr;
}

void PandaFpga::stop() {
  // Every handler checks the flag (its own copy of it) before touching `this`.
  alive_->store(false);
}

void PandaFpga::set_motion(std::size_t inenc, std::shared_ptr<const fpga::MotionSource> motion) {
  asio::post(io_, [this, alive = alive_, inenc, motion = std::move(motion)]() mutable {
    if (!alive->load()) return;
    auto* encoder = dynamic_cast<fpga::Inenc*>(engine_->behaviour("INENC" + std::to_string(inenc)));
    if (encoder != nullptr) encoder->set_motion(std::move(motion), *engine_);
  });
}

void PandaFpga::on_ttl_out(std::function<void(std::size_t, bool, fpga::Tick)> fn) {
  asio::post(io_, [this, alive = alive_, fn = std::move(fn)]() mutable {
    if (alive->load()) engine_->on_ttl_out = std::move(fn);
  });
}

fpga::Tick PandaFpga::wall_tick() const {
  const auto elapsed = std::chrono::steady_clock::now() - t0_;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count() / 8;
}

std::string PandaFpga::wall_time(fpga::Tick tick) const {
  const auto since = std::chrono::nanoseconds(tick * 8);
  return iso_utc(t0_wall_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(since),
                 9);
}

void PandaFpga::advance_to(fpga::Tick target) {
  engine_->run_until(target);
  now_.store(engine_->now(), std::memory_order_relaxed);
}

void PandaFpga::schedule() {
  if (!alive_->load()) return;
  const bool flat_out = options_.clock == Clock::fast && engine_->next_event() != fpga::kNever &&
                        server_.data_backlog_bytes() <= options_.fast_backlog_bytes;
  if (flat_out) {
    asio::post(io_, [this, alive = alive_] {
      if (alive->load()) step();
    });
    return;
  }
  timer_.expires_after(options_.period);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && alive->load()) step();
  });
}

void PandaFpga::step() {
  if (options_.clock == Clock::real_time) {
    advance_to(wall_tick());
  } else if (engine_->next_event() != fpga::kNever &&
             server_.data_backlog_bytes() <= options_.fast_backlog_bytes) {
    advance_to(engine_->now() + options_.fast_slice);
  }
  forward_capture();
  const auto wall = std::chrono::steady_clock::now();
  if (wall - last_publish_ >= options_.publish_period) {
    engine_->publish();
    last_publish_ = wall;
  }
  schedule();
}

void PandaFpga::forward_capture() {
  if (pcap_ == nullptr) return;
  for (auto& e : pcap_->take_events()) {
    switch (e.kind) {
      case fpga::CaptureEvent::Kind::start:
        server_.begin_acquisition(*e.layout, wall_time(e.arm_tick), wall_time(e.start_tick));
        break;
      case fpga::CaptureEvent::Kind::samples:
        server_.send_samples(std::move(e.samples));
        break;
      case fpga::CaptureEvent::Kind::end:
        server_.end_acquisition(e.reason);
        engine_->publish();
        break;
    }
  }
}

}  // namespace pandafly::sim
