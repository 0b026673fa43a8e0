#include "sim/ca/pv.hpp"

#include <stdexcept>

namespace pandafly::sim::ca {

std::size_t size_of(const Elements& e) {
  return std::visit([](const auto& v) { return v.size(); }, e);
}

EpicsTime EpicsTime::from_unix_ns(std::int64_t ns) {
  constexpr std::int64_t epics_epoch_unix_s = 631152000;  // 1990-01-01 UTC
  const std::int64_t s = ns / 1'000'000'000 - epics_epoch_unix_s;
  if (s < 0) return {};
  return {static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(ns % 1'000'000'000)};
}

Pv::Pv(std::string name, Elements initial, Metadata metadata, bool writable, std::size_t max_count)
    : name_(std::move(name)),
      value_(std::move(initial)),
      metadata_(std::move(metadata)),
      writable_(writable),
      max_count_(max_count == 0 ? std::max<std::size_t>(1, size_of(value_)) : max_count) {
  if (size_of(value_) > max_count_)
    throw std::invalid_argument(name_ + ": initial value longer than its element count");
}

void Pv::set(Elements value, EpicsTime when, bool force) {
  if (value.index() != value_.index())
    throw std::invalid_argument(name_ + ": set() with a value of another type");
  if (size_of(value) > max_count_)
    throw std::invalid_argument(name_ + ": set() with more elements than its element count");
  const bool changed = value != value_;
  value_ = std::move(value);
  stamp_ = when;
  if (changed || force) notify(kDbeValue | kDbeLog);
}

void Pv::set_alarm(Alarm alarm) {
  if (alarm == alarm_) return;
  alarm_ = alarm;
  notify(kDbeAlarm);
}

void Pv::set_metadata(Metadata metadata) {
  if (metadata == metadata_) return;
  metadata_ = std::move(metadata);
  notify(kDbeProperty);
}

std::uint32_t Pv::put(Elements value, Completion done) {
  if (!writable_) return kEcaNoWriteAccess;
  if (value.index() != value_.index() || size_of(value) > max_count_) return kEcaBadType;
  if (put_handler_) return put_handler_(*this, std::move(value), std::move(done));
  set(std::move(value), put_time_, true);
  if (done) done(kEcaNormal);
  return kEcaNormal;
}

std::uint64_t Pv::observe(Observer observer) {
  const std::uint64_t id = next_observer_++;
  observers_.emplace(id, std::move(observer));
  return id;
}

void Pv::unobserve(std::uint64_t id) {
  observers_.erase(id);
}

void Pv::notify(unsigned mask) {
  // An observer may unobserve itself (or others) while being called: iterate a copy of the ids.
  std::vector<std::uint64_t> ids;
  ids.reserve(observers_.size());
  for (const auto& [id, fn] : observers_) ids.push_back(id);
  for (auto id : ids) {
    auto it = observers_.find(id);
    if (it != observers_.end()) it->second(*this, mask);
  }
}

void PvDatabase::add(std::shared_ptr<Pv> pv) {
  if (!pv) throw std::invalid_argument("null PV");
  const std::string name = pv->name();
  if (!pvs_.emplace(name, std::move(pv)).second)
    throw std::invalid_argument("PV " + name + " defined twice");
}

std::shared_ptr<Pv> PvDatabase::find(std::string_view name) const {
  if (auto it = pvs_.find(name); it != pvs_.end()) return it->second;
  if (name.find('.') == std::string_view::npos) {
    if (auto it = pvs_.find(std::string(name) + ".VAL"); it != pvs_.end()) return it->second;
  }
  return nullptr;
}

std::vector<std::string> PvDatabase::names() const {
  std::vector<std::string> out;
  out.reserve(pvs_.size());
  for (const auto& [name, pv] : pvs_) out.push_back(name);
  return out;
}

void plain_write_done(std::uint32_t) {}

bool is_callback(const Pv::Completion& done) {
  if (!done) return false;
  const auto* fn = done.target<void (*)(std::uint32_t)>();
  return fn == nullptr || *fn != &plain_write_done;
}

}  // namespace pandafly::sim::ca
