#include "sim/ca/shutter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace pandafly::sim::ca {
namespace {

Metadata states(Strings strings) {
  Metadata m;
  m.enum_strings = std::move(strings);
  return m;
}

Tick ticks_of(double seconds) {
  return std::max<Tick>(0, std::llround(seconds * static_cast<double>(kTicksPerSecond)));
}

constexpr Tick kBeginning = std::numeric_limits<Tick>::min();

}  // namespace

Shutter::Shutter(ShutterConfig config)
    : config_(std::move(config)),
      command_(std::make_shared<Pv>(config_.prefix + config_.command,
                                    Enums{config_.open ? std::uint16_t{1} : std::uint16_t{0}},
                                    states({"Close", "Open"}), true)),
      status_(
          std::make_shared<Pv>(config_.prefix + config_.status,
                               Enums{config_.open ? std::uint16_t{open} : std::uint16_t{closed}},
                               states({"Closed", "Open", "Moving"}), false)),
      target_open_(config_.open) {
  if (config_.open) open_.push_back({kBeginning, kNever});
  command_->on_put([this](Pv&, Elements value, Pv::Completion done) {
    const auto* e = std::get_if<Enums>(&value);
    if (!e || e->size() != 1 || e->front() > 1) return kEcaPutFail;
    return on_command(e->front(), std::move(done));
  });
}

Shutter::~Shutter() {
  // The PVs may outlive the shutter in a PvDatabase: refuse writes from then on.
  command_->on_put([](Pv&, Elements, Pv::Completion) { return kEcaPutFail; });
}

void Shutter::publish(PvDatabase& db) {
  db.add(command_);
  db.add(status_);
}

void Shutter::advance(Tick now, EpicsTime wall) {
  now_ = std::max(now, now_);
  wall_ = wall;
  if (arrival_ <= now_) {
    const EpicsTime at = wall_time_at(arrival_, now_, wall_);
    arrival_ = kNever;
    status_->set(Enums{target_open_ ? std::uint16_t{open} : std::uint16_t{closed}}, at);
    complete_pending();
  }
}

Tick Shutter::next_wake() const {
  return arrival_;
}

std::uint32_t Shutter::on_command(std::uint16_t command, Pv::Completion done) {
  const bool want_open = command == 1;
  command_->set(Enums{command}, wall_, true);
  if (want_open == target_open_) {  // already there or on the way
    if (arrival_ == kNever) {
      if (done) done(kEcaNormal);
    } else {
      pending_.push_back(std::move(done));
    }
    return kEcaNormal;
  }
  complete_pending();  // a reversed travel's callbacks
  target_open_ = want_open;
  const Tick travel = ticks_of(want_open ? config_.open_time : config_.close_time);
  if (want_open) {
    open_.push_back({now_ + travel, kNever});
    if (open_.size() > kHistory) open_.pop_front();
  } else if (!open_.empty() && open_.back().until == kNever) {
    // Not fully open from now on (an opening not yet arrived becomes empty).
    open_.back().until = std::max(now_, open_.back().from);
  }
  arrival_ = now_ + travel;
  status_->set(Enums{std::uint16_t{moving}}, wall_);
  pending_.push_back(std::move(done));
  if (travel == 0) advance(now_, wall_);
  return kEcaNormal;
}

void Shutter::complete_pending() {
  auto pending = std::exchange(pending_, {});
  for (auto& done : pending)
    if (done) done(kEcaNormal);
}

bool Shutter::open_throughout(Tick from, Tick to) const {
  return std::any_of(open_.begin(), open_.end(),
                     [&](const Interval& i) { return i.from <= from && to < i.until; });
}

}  // namespace pandafly::sim::ca
