#include "sim/panda/fpga_runner.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "sim/fault_log.hpp"

namespace pandafly::sim {

namespace asio = boost::asio;

PandaFpga::PandaFpga(asio::io_context& io, PandaServer& server, Options options)
    : io_(io),
      server_(server),
      options_(std::move(options)),
      clock_(options_.sim_clock ? options_.sim_clock : std::make_shared<SimClock>(1.0)),
      engine_(std::make_unique<fpga::Engine>(server.model())),
      pcap_(dynamic_cast<fpga::Pcap*>(engine_->behaviour("PCAP"))),
      timer_(io),
      last_publish_(std::chrono::steady_clock::now()) {
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
  if (holding_clock_) clock_->release();
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

void PandaFpga::motion_changed(std::size_t inenc, fpga::Tick from) {
  if (io_.get_executor().running_in_this_thread() && !advancing_) {
    if (alive_->load()) apply_motion_change(inenc, from);
    return;
  }
  asio::post(io_, [this, alive = alive_, inenc, from] {
    if (alive->load()) apply_motion_change(inenc, from);
  });
}

void PandaFpga::apply_motion_change(std::size_t inenc, fpga::Tick from) {
  auto* encoder = dynamic_cast<fpga::Inenc*>(engine_->behaviour("INENC" + std::to_string(inenc)));
  if (encoder == nullptr) return;
  if (from < engine_->now()) {
    late_changes_.fetch_add(1);
    log(
        fmt::format("PandA: INENC{} followed a motion change late (planned from t={:.6f} s, "
                    "FPGA already at t={:.6f} s)",
                    inenc, static_cast<double>(from) * fpga::kSecondsPerTick,
                    static_cast<double>(engine_->now()) * fpga::kSecondsPerTick));
  }
  encoder->motion_changed(from, *engine_);
}

Subscription PandaFpga::subscribe_ttl_out(std::function<void(std::size_t, bool, fpga::Tick)> fn) {
  return engine_->subscribe_ttl_out(std::move(fn));
}

void PandaFpga::on_ttl_out(std::function<void(std::size_t, bool, fpga::Tick)> fn) {
  asio::post(io_, [this, alive = alive_, fn = std::move(fn)]() mutable {
    if (alive->load()) engine_->on_ttl_out = std::move(fn);
  });
}

void PandaFpga::log(std::string_view line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    fmt::print(stderr, "{}\n", line);
  }
}

fpga::Tick PandaFpga::wall_tick() const {
  return clock_->now();
}

std::string PandaFpga::wall_time(fpga::Tick tick) const {
  return clock_->iso_utc(tick);
}

void PandaFpga::pace_clock() {
  if (options_.hold_clock_when_behind <= 0) return;
  const fpga::Tick behind = clock_->now() - engine_->now();
  if (!holding_clock_ && behind > options_.hold_clock_when_behind) {
    clock_->hold();
    holding_clock_ = true;
  } else if (holding_clock_ && behind <= 0) {
    clock_->release();
    holding_clock_ = false;
  }
}

void PandaFpga::catch_up(fpga::Tick target) {
  if (options_.clock != Clock::real_time || !alive_->load()) return;
  // Hold before the work, not only after it: a catch-up that runs while the
  // clock runs on leaves a larger one for the next call (a runaway that froze
  // an ASan build's io thread for 20 s mid-scan).
  pace_clock();
  advance_to(std::min(target, wall_tick()));
  pace_clock();
  forward_capture();
}

void PandaFpga::advance_to(fpga::Tick target) {
  advancing_ = true;
  engine_->run_until(target);
  advancing_ = false;
  now_.store(engine_->now(), std::memory_order_relaxed);
}

void PandaFpga::schedule() {
  if (!alive_->load()) return;
  if (options_.clock == Clock::fast) {
    const bool flat_out = engine_->next_event() != fpga::kNever &&
                          server_.data_backlog_bytes() <= options_.fast_backlog_bytes;
    if (flat_out) {
      asio::post(io_, [this, alive = alive_] {
        if (alive->load()) step();
      });
      return;
    }
    timer_.expires_after(options_.period);
  } else {
    // The next event's moment on the clock, or one period from now: the
    // period also picks up control writes and motion changes made meanwhile,
    // and keeps polling while the clock is held (deadline max()).
    const auto poll = std::chrono::steady_clock::now() + options_.period;
    const auto soonest = last_step_ + options_.min_step;
    timer_.expires_at(
        std::min(poll, std::max(soonest, clock_->steady_deadline(engine_->next_event()))));
  }
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && alive->load()) step();
  });
}

void PandaFpga::step() {
  last_step_ = std::chrono::steady_clock::now();
  if (options_.clock == Clock::real_time) {
    pace_clock();             // held while behind: the step covers a bounded time
    advance_to(wall_tick());  // never beyond the clock's now()
    pace_clock();
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
        rows_ = 0;
        row_bytes_ = e.layout->raw_sample_bytes();
        server_.begin_acquisition(*e.layout, wall_time(e.arm_tick), wall_time(e.start_tick));
        break;
      case fpga::CaptureEvent::Kind::samples:
        forward_samples(std::move(e.samples));
        break;
      case fpga::CaptureEvent::Kind::end:
        server_.end_acquisition(e.reason);
        engine_->publish();
        break;
    }
  }
}

void PandaFpga::forward_samples(std::vector<std::byte> samples) {
  const std::size_t row_bytes = row_bytes_;
  const auto& at_row = options_.faults.close_data_at_row;
  if (row_bytes == 0 || !at_row || close_fired_) {
    if (row_bytes != 0) rows_ += samples.size() / row_bytes;
    server_.send_samples(std::move(samples));
    return;
  }
  const std::uint64_t rows = samples.size() / row_bytes;
  if (*at_row <= rows_ || *at_row > rows_ + rows) {
    rows_ += rows;
    server_.send_samples(std::move(samples));
    return;
  }
  // Row k is in this batch: send up to it, then close every data connection.
  const auto split = static_cast<std::ptrdiff_t>((*at_row - rows_) * row_bytes);
  std::vector<std::byte> rest(samples.begin() + split, samples.end());
  samples.resize(static_cast<std::size_t>(split));
  server_.send_samples(std::move(samples));
  server_.close_data_connections();
  close_fired_ = true;
  rows_ += rows;
  log_fault(options_.log, fmt::format("closed the PandA data connections after row {}", *at_row),
            engine_->now());
  if (!rest.empty()) server_.send_samples(std::move(rest));
}

}  // namespace pandafly::sim
