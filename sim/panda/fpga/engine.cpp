#include "sim/panda/fpga/engine.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/panda/fields.hpp"
#include "sim/panda/table_field.hpp"

namespace pandafly::sim::fpga {

// ------------------------------------------------------------ InstanceConfig

InstanceConfig::InstanceConfig(Engine& engine, Block& block, std::size_t number)
    : engine_(&engine), block_(&block), number_(number), name_(block.instance_name(number)) {}

Field& InstanceConfig::field(std::string_view name) const {
  for (auto& f : block_->instances[number_]) {
    if (f->spec().name == name) return *f;
  }
  throw std::logic_error(name_ + " has no field " + std::string(name));
}

std::int64_t InstanceConfig::param(std::string_view name) const {
  auto* f = dynamic_cast<RegisterField*>(&field(name));
  if (f == nullptr) throw std::logic_error(name_ + "." + std::string(name) + " is not a register");
  return f->raw();
}

Signal InstanceConfig::bit_in(std::string_view name) const {
  auto* f = dynamic_cast<BitMuxField*>(&field(name));
  if (f == nullptr) throw std::logic_error(name_ + "." + std::string(name) + " is not a bit_mux");
  return engine_->delayed_bit(engine_->bit_index(f->source()), f->delay());
}

Signal InstanceConfig::pos_in(std::string_view name) const {
  auto* f = dynamic_cast<PosMuxField*>(&field(name));
  if (f == nullptr) throw std::logic_error(name_ + "." + std::string(name) + " is not a pos_mux");
  return engine_->pos_index(f->source());
}

Signal InstanceConfig::bit_out(std::string_view name) const {
  return engine_->bit_index(name_ + "." + std::string(name));
}

Signal InstanceConfig::pos_out(std::string_view name) const {
  return engine_->pos_index(name_ + "." + std::string(name));
}

std::span<const std::uint32_t> InstanceConfig::table(std::string_view name) const {
  auto* f = dynamic_cast<TableField*>(&field(name));
  if (f == nullptr) throw std::logic_error(name_ + "." + std::string(name) + " is not a table");
  return f->words();
}

void InstanceConfig::set_read(std::string_view name, std::int64_t raw) const {
  auto* f = dynamic_cast<RegisterField*>(&field(name));
  if (f == nullptr) throw std::logic_error(name_ + "." + std::string(name) + " is not a register");
  if (f->raw() == raw) return;
  f->set_raw(static_cast<std::uint64_t>(raw));
  f->value_stamp = engine_->model().next_stamp();
}

// ------------------------------------------------------------ Engine

namespace {

// A bit mux's DELAY: `out` follows `in` `ticks` late (ticks >= 1).
class DelayLine final : public Behaviour {
 public:
  DelayLine(Signal in, Signal out, std::uint32_t ticks) : in_(in), out_(out), ticks_(ticks) {}
  void configure(const InstanceConfig&, Engine&) override {}
  void inputs(std::vector<Signal>& bits, std::vector<Signal>&) const override {
    bits.push_back(in_);
  }
  void on_inputs(Engine& e) override { e.set_bit(out_, e.bit(in_), e.now() + ticks_); }

 private:
  Signal in_, out_;
  std::uint32_t ticks_;
};

}  // namespace

Engine::Engine(PandaModel& model, BehaviourRegistry registry) : model_(model) {
  const Buses& buses = model.buses();
  bus_bits_ = buses.bits.size();
  bits_.assign(bus_bits_ + 2, 0);
  bits_[one_bit()] = 1;
  positions_.assign(buses.positions.size() + 1, 0);
  bit_fields_.assign(buses.bits.size(), nullptr);
  pos_fields_.assign(buses.positions.size(), nullptr);
  model.for_each_field([&](Field& f) {
    if (auto* b = dynamic_cast<BitOutField*>(&f)) bit_fields_[b->bus_index()] = b;
    if (auto* p = dynamic_cast<PosOutField*>(&f)) pos_fields_[pos_index(p->full_name())] = p;
  });
  for (auto& block : model.blocks()) {
    auto maker = registry.find(block.spec->name);
    for (std::size_t n = 0; n < block.instances.size(); ++n) {
      for (auto& f : block.instances[n]) field_owner_[f.get()] = instances_.size();
      InstanceConfig config(*this, block, n);
      by_name_[config.name()] = instances_.size();
      instances_.push_back({&block, n, maker == registry.end() ? nullptr : maker->second(config)});
    }
  }
  for (auto& i : instances_) {
    if (i.behaviour) i.behaviour->configure(InstanceConfig(*this, *i.block, i.number), *this);
  }
  rewire();
  model_.on_field_written = [this](Field& f) { field_written(f); };
}

Engine::~Engine() {
  model_.on_field_written = nullptr;
}

Signal Engine::bit_index(std::string_view name) const {
  const auto& names = model_.buses().bits;
  if (name == "ZERO") return zero_bit();
  if (name == "ONE") return one_bit();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw std::invalid_argument("no bit on the bus called " + std::string(name));
  return static_cast<Signal>(it - names.begin());
}

Signal Engine::pos_index(std::string_view name) const {
  const auto& names = model_.buses().positions;
  if (name == "ZERO") return zero_pos();
  auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw std::invalid_argument("no position on the bus called " + std::string(name));
  return static_cast<Signal>(it - names.begin());
}

Signal Engine::delayed_bit(Signal source, std::uint32_t ticks) {
  if (ticks == 0) return source;
  auto [it, fresh] = delayed_.try_emplace({source, ticks}, static_cast<Signal>(bits_.size()));
  if (!fresh) return it->second;
  const Signal out = it->second;
  bits_.push_back(bits_.at(source));
  delay_lines_.push_back(std::make_unique<DelayLine>(source, out, ticks));
  return out;  // listened to from the next rewire(), which follows every configure()
}

std::uint32_t Engine::bit_word(std::size_t word) const {
  std::uint32_t w = 0;
  const std::size_t n = bus_bits_;
  for (std::size_t b = 0; b < 32 && word * 32 + b < n; ++b) {
    if (bits_[word * 32 + b] != 0) w |= std::uint32_t{1} << b;
  }
  return w;
}

Behaviour* Engine::behaviour(std::string_view instance) {
  auto it = by_name_.find(instance);
  return it == by_name_.end() ? nullptr : instances_[it->second].behaviour.get();
}

Tick Engine::earliest(Tick at) const {
  return std::max(at, reacting_ ? now_ + 1 : now_);
}

void Engine::push(Event e) {
  e.seq = seq_++;
  queue_.push(e);
}

void Engine::change(Event::Kind kind, Signal out, std::int32_t value, Tick at) {
  const Event e{earliest(at), 0, kind, out, value, nullptr};
  // A change due now, asked for during the event phase of this tick (from an
  // on_wake()) while no other event of the tick waits, is the very next event
  // run_until() would take from the queue: apply it straight away (the encoder
  // does this at every count, so it saves a push and a pop per count).
  if (applying_ && e.at == now_ && (queue_.empty() || queue_.top().at > now_)) {
    ++processed_;
    apply(e);
    return;
  }
  push(e);
}

void Engine::set_bit(Signal out, bool value, Tick at) {
  change(Event::Kind::bit, out, value ? 1 : 0, at);
}

void Engine::set_pos(Signal out, std::int32_t value, Tick at) {
  change(Event::Kind::pos, out, value, at);
}

void Engine::wake(Behaviour& who, Tick at) {
  push({earliest(at), 0, Event::Kind::wake, 0, 0, &who});
}

void Engine::poke(Behaviour& who) {
  push({now_ + 1, 0, Event::Kind::poke, 0, 0, &who});
}

Tick Engine::next_event() const {
  return queue_.empty() ? kNever : queue_.top().at;
}

void Engine::mark(Behaviour* who) {
  if (who->dirty_) return;
  who->dirty_ = true;
  dirty_.push_back(who);
}

void Engine::apply(const Event& e) {
  switch (e.kind) {
    case Event::Kind::bit:
      if (bits_[e.index] != e.value) {
        bits_[e.index] = static_cast<std::uint8_t>(e.value);
        for (Behaviour* b : bit_listeners_[e.index]) mark(b);
        if (on_bit_change) on_bit_change(e.index, e.value != 0, now_);
      }
      break;
    case Event::Kind::pos:
      if (positions_[e.index] != e.value) {
        positions_[e.index] = e.value;
        for (Behaviour* b : pos_listeners_[e.index]) mark(b);
      }
      break;
    case Event::Kind::wake:
      e.who->on_wake(*this);
      break;
    case Event::Kind::poke:
      mark(e.who);
      break;
  }
}

std::size_t Engine::run_until(Tick end) {
  processed_ = 0;
  while (!queue_.empty() && queue_.top().at <= end) {
    now_ = queue_.top().at;
    applying_ = true;
    while (!queue_.empty() && queue_.top().at == now_) {
      const Event e = queue_.top();
      queue_.pop();
      ++processed_;
      apply(e);
    }
    applying_ = false;
    reacting_ = true;
    // on_inputs() may mark no one (its outputs land at now_ + 1 or later), so
    // the list is stable while it runs.
    for (Behaviour* b : dirty_) {
      b->dirty_ = false;
      b->on_inputs(*this);
    }
    dirty_.clear();
    reacting_ = false;
  }
  now_ = std::max(now_, end);
  return processed_;
}

void Engine::rewire() {
  bit_listeners_.assign(bits_.size(), {});
  pos_listeners_.assign(positions_.size(), {});
  std::vector<Signal> bits, positions;
  for (auto& i : instances_) {
    if (!i.behaviour) continue;
    bits.clear();
    positions.clear();
    i.behaviour->inputs(bits, positions);
    for (Signal s : bits) bit_listeners_.at(s).push_back(i.behaviour.get());
    for (Signal s : positions) pos_listeners_.at(s).push_back(i.behaviour.get());
  }
  for (auto& line : delay_lines_) {
    bits.clear();
    positions.clear();
    line->inputs(bits, positions);
    for (Signal s : bits) bit_listeners_.at(s).push_back(line.get());
  }
}

void Engine::field_written(Field& field) {
  auto it = field_owner_.find(&field);
  if (it == field_owner_.end()) return;
  Instance& i = instances_[it->second];
  if (!i.behaviour) return;
  const InstanceConfig config(*this, *i.block, i.number);
  i.behaviour->configure(config, *this);
  i.behaviour->on_write(field.spec().name, *this);
  rewire();
  poke(*i.behaviour);
}

void Engine::publish() {
  for (std::size_t i = 0; i < bit_fields_.size(); ++i) {
    BitOutField* f = bit_fields_[i];
    if (f == nullptr || f->value() == (bits_[i] != 0)) continue;
    f->set(bits_[i] != 0);
    f->value_stamp = model_.next_stamp();
  }
  for (std::size_t i = 0; i < pos_fields_.size(); ++i) {
    PosOutField* f = pos_fields_[i];
    if (f == nullptr || f->value() == positions_[i]) continue;
    f->set(positions_[i]);
    f->value_stamp = model_.next_stamp();
  }
  for (auto& i : instances_) {
    if (i.behaviour) i.behaviour->publish(InstanceConfig(*this, *i.block, i.number));
  }
}

}  // namespace pandafly::sim::fpga
