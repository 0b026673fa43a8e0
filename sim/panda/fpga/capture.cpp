#include "sim/panda/fpga/capture.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "sim/panda/fields.hpp"
#include "sim/panda/fpga/behaviours.hpp"

namespace pandafly::sim::fpga {

// ------------------------------------------------------------ INENC

void Inenc::configure(const InstanceConfig& config, Engine&) {
  val_ = config.pos_out("VAL");
  setp_ = config.param("SETP");
}

void Inenc::on_write(std::string_view field, Engine& engine) {
  if (field != "SETP") return;
  // The counter is loaded with SETP: later counts move on from there.
  const std::int64_t count = motion_ ? motion_->count(engine.now()) : 0;
  offset_ = setp_ - count;
  held_ = static_cast<std::int32_t>(setp_);
  follow(engine);
}

void Inenc::set_motion(std::shared_ptr<const MotionSource> motion, Engine& engine) {
  if (motion && !motion_) offset_ = 0;
  if (!motion && motion_) held_ = engine.pos(val_);
  motion_ = std::move(motion);
  follow(engine);
}

void Inenc::motion_changed(Tick from, Engine& engine) {
  if (!motion_) return;
  if (from < engine.now()) ++late_changes_;
  follow(engine);
}

void Inenc::follow(Engine& engine) {
  const Tick now = engine.now();
  if (!motion_) {
    engine.set_pos(val_, held_, now);
    next_wake_ = kNever;
    return;
  }
  const MotionSource::Step step = motion_->step(now);  // the count now and its next change
  engine.set_pos(val_, static_cast<std::int32_t>(step.count + offset_), now);
  next_wake_ = step.next;
  if (next_wake_ != kNever) engine.wake(*this, next_wake_);
}

void Inenc::on_wake(Engine& engine) {
  if (engine.now() != next_wake_) return;  // superseded by set_motion()/SETP
  follow(engine);
}

// ------------------------------------------------------------ PCAP

namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t j = std::min(text.find(' ', i), text.size());
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

template <class T>
void put(std::byte* at, T v) {
  std::memcpy(at, &v, sizeof v);
}

}  // namespace

void Pcap::configure(const InstanceConfig& config, Engine&) {
  enable_ = config.bit_in("ENABLE");
  gate_ = config.bit_in("GATE");
  trig_ = config.bit_in("TRIG");
  active_ = config.bit_out("ACTIVE");
  trig_edge_ = config.param("TRIG_EDGE");
  shift_sum_ = static_cast<unsigned>(std::clamp<std::int64_t>(config.param("SHIFT_SUM"), 0, 8));
}

void Pcap::inputs(std::vector<Signal>& bits, std::vector<Signal>& positions) const {
  bits.insert(bits.end(), {enable_, gate_, trig_});
  if (state_ == State::idle) return;
  for (const auto& a : accs_) positions.push_back(a.signal);
}

std::vector<CapturedField> Pcap::captured_fields(Engine& engine) const {
  std::vector<CapturedField> out;
  engine.model().for_each_field([&](Field& f) {
    if (auto* p = dynamic_cast<PosOutField*>(&f)) {
      if (p->capture() != "No")
        out.push_back(CapturedField::pos_out(p->full_name(), words_of(p->capture()), p->scale(),
                                             p->offset(), p->units()));
    } else if (auto* x = dynamic_cast<ExtOutField*>(&f); x != nullptr && x->captured()) {
      if (x->kind() == "timestamp") out.push_back(CapturedField::timestamp(x->full_name()));
      if (x->kind() == "samples") out.push_back(CapturedField::gate_duration());
      if (x->kind() == "bits") out.push_back(CapturedField::bits(x->full_name()));
    }
  });
  return out;
}

void Pcap::plan(const CaptureLayout& layout, Engine& engine) {
  slots_.clear();
  accs_.clear();
  const panda::StartData raw = layout.raw_header();
  for (const panda::Field& f : raw.fields) {
    Slot s{Source::value, 0, 0, 0, f.byte_offset, panda::size_of(f.type)};
    if (f.name == "PCAP.TS_START") {
      s.source = Source::ts_start;
    } else if (f.name == "PCAP.TS_END") {
      s.source = Source::ts_end;
    } else if (f.name == "PCAP.TS_TRIG") {
      s.source = Source::ts_trig;
    } else if (f.name == "PCAP.GATE_DURATION" || f.name == "PCAP.SAMPLES") {
      s.source = Source::gate_ticks;
    } else if (f.name.rfind("PCAP.BITS", 0) == 0) {
      s.source = Source::bits;
      s.word = static_cast<std::size_t>(f.name.back() - '0');
    } else {
      s.signal = engine.pos_index(f.name);
      auto it = std::find_if(accs_.begin(), accs_.end(),
                             [&](const Acc& a) { return a.signal == s.signal; });
      if (it == accs_.end()) it = accs_.insert(accs_.end(), Acc{s.signal});
      s.acc = static_cast<std::size_t>(it - accs_.begin());
      if (f.capture == "Diff") s.source = Source::diff;
      if (f.capture == "Sum" || f.capture == "Mean") s.source = Source::sum;
      if (f.capture == "Min") s.source = Source::min;
      if (f.capture == "Max") s.source = Source::max;
      if (f.capture == "StdDev") s.source = Source::sum_sq;
    }
    slots_.push_back(s);
  }
  words_ = layout.raw_sample_bytes() / 4;
}

Status Pcap::arm(Engine& engine) {
  if (state_ != State::idle) return Error{"Data capture already in progress"};
  try {
    layout_ = std::make_shared<const CaptureLayout>(captured_fields(engine));
  } catch (const std::invalid_argument& e) {
    return Error{e.what()};
  }
  plan(*layout_, engine);
  state_ = State::armed;
  arm_tick_ = engine.now();
  produced_ = 0;
  health_ = 0;
  pending_.clear();
  pending_ticks_.clear();
  engine.set_bit(active_, true, engine.now() + 1);
  engine.rewire();
  engine.poke(*this);  // ENABLE already high starts at the next tick
  return Done{};
}

void Pcap::disarm(Engine& engine) {
  if (state_ == State::idle) return;
  if (state_ == State::armed) start(engine);
  finish(engine, "Disarmed");
}

std::vector<CaptureEvent> Pcap::take_events() {
  std::vector<CaptureEvent> out;
  out.swap(events_);
  return out;
}

void Pcap::reset_period() {
  for (auto& a : accs_) {
    a.sum = 0;
    a.sum_sq = 0;
    a.min = a.max = a.diff = 0;
    a.gated = false;
  }
  gate_ticks_ = 0;
  ts_start_ = gate_level_ ? last_tick_ - start_tick_ : -1;
  ts_end_ = -1;
}

void Pcap::integrate(Tick to) {
  const Tick dt = to - last_tick_;
  last_tick_ = to;
  if (dt <= 0 || !gate_level_) return;
  gate_ticks_ += dt;
  for (auto& a : accs_) {
    a.sum += static_cast<std::int64_t>(a.value) * dt;
    a.sum_sq += static_cast<Int128>(static_cast<std::int64_t>(a.value) * a.value) * dt;
    a.min = a.gated ? std::min(a.min, a.value) : a.value;
    a.max = a.gated ? std::max(a.max, a.value) : a.value;
    a.gated = true;
  }
}

void Pcap::start(Engine& engine) {
  state_ = State::running;
  start_tick_ = last_tick_ = engine.now();
  any_trigger_ = false;
  gate_level_ = engine.bit(gate_) && engine.bit(enable_);
  for (auto& a : accs_) a.value = engine.pos(a.signal);
  reset_period();
  CaptureEvent e{CaptureEvent::Kind::start, layout_, arm_tick_, start_tick_, {}, {}};
  events_.push_back(std::move(e));
}

void Pcap::trigger(Engine& engine) {
  const Tick t = engine.now();
  if (any_trigger_ && t - last_trigger_ < static_cast<Tick>(words_)) {
    health_ = 1;
    // Firmware flags this in pcap_buffer once the too-close trigger reaches it,
    // ~4 ticks on, after the earlier samples' words went out (pcap.timing.ini
    // "Capture too close together": both earlier samples whole, then HEALTH=1).
    commit(t);
    finish(engine, "Framing error");
    return;
  }
  any_trigger_ = true;
  last_trigger_ = t;
  auto& bytes = pending_;  // the sample leaves the pipeline kCaptureLatency later
  pending_ticks_.push_back(t);
  engine.wake(*this, t + latency());
  const std::size_t at = bytes.size();
  bytes.resize(at + layout_->raw_sample_bytes());
  std::byte* sample = bytes.data() + at;
  const std::int64_t rel = t - start_tick_;
  for (const Slot& s : slots_) {
    std::byte* p = sample + s.offset;
    const Acc* a = s.acc < accs_.size() ? &accs_[s.acc] : nullptr;
    switch (s.source) {
      case Source::value:
        put(p, engine.pos(s.signal));
        break;
      case Source::diff:
        put(p, a->diff);
        break;
      case Source::sum:
        put(p, a->sum >> shift_sum_);
        break;
      case Source::min:
        put(p, a->min);
        break;
      case Source::max:
        put(p, a->max);
        break;
      case Source::sum_sq:
        std::memcpy(p, &a->sum_sq, 12);  // the low 96 bits, little endian
        break;
      case Source::ts_start:
        put(p, ts_start_);
        break;
      case Source::ts_end:
        put(p, gate_level_ ? rel : ts_end_);
        break;
      case Source::ts_trig:
        put(p, rel);
        break;
      case Source::gate_ticks:
        put(p, static_cast<std::uint32_t>(gate_ticks_ >> shift_sum_));
        break;
      case Source::bits:
        put(p, engine.bit_word(s.word));
        break;
    }
  }
  reset_period();
}

Tick Pcap::latency() const {
  return words_ == 1 ? kCaptureLatency - 1 : kCaptureLatency;
}

void Pcap::commit(Tick tick, bool drop_rest) {
  const std::size_t size = layout_->raw_sample_bytes();
  std::size_t n = 0;
  while (n < pending_ticks_.size() && pending_ticks_[n] <= tick) ++n;
  if (n > 0) {
    if (events_.empty() || events_.back().kind != CaptureEvent::Kind::samples)
      events_.push_back({CaptureEvent::Kind::samples, nullptr, 0, 0, {}, {}});
    auto& out = events_.back().samples;
    const auto end = pending_.begin() + static_cast<std::ptrdiff_t>(n * size);
    out.insert(out.end(), pending_.begin(), end);
    pending_.erase(pending_.begin(), end);
    pending_ticks_.erase(pending_ticks_.begin(),
                         pending_ticks_.begin() + static_cast<std::ptrdiff_t>(n));
    produced_ += n;
  }
  if (drop_rest) {
    pending_.clear();
    pending_ticks_.clear();
  }
}

void Pcap::on_wake(Engine& engine) {
  if (state_ == State::running) commit(engine.now() - latency());
}

void Pcap::finish(Engine& engine, const std::string& reason) {
  // Samples still in the pipeline are lost with the reset that ends it.
  commit(engine.now() - latency(), true);
  state_ = State::idle;
  engine.set_bit(active_, false, engine.now() + 1);
  events_.push_back({CaptureEvent::Kind::end, nullptr, 0, 0, {}, reason});
  auto& model_pcap = engine.model().pcap();
  model_pcap.armed = false;
  model_pcap.captured = produced_;
  model_pcap.completion = reason;
  engine.rewire();
}

void Pcap::on_inputs(Engine& engine) {
  const Tick t = engine.now();
  const bool en = engine.bit(enable_);
  const bool gate = engine.bit(gate_) && en;  // firmware: GATE and TRIG are masked by ENABLE
  const bool trig = engine.bit(trig_) && en;
  if (state_ == State::running) {
    integrate(t);
    for (auto& a : accs_) {
      const std::int32_t v = engine.pos(a.signal);
      if (gate_level_) a.diff += v - a.value;
      a.value = v;
    }
    if (!gate_level_ && gate && ts_start_ < 0) ts_start_ = t - start_tick_;
    if (gate_level_ && !gate) ts_end_ = t - start_tick_;
    gate_level_ = gate;
  } else if (state_ == State::armed && en) {
    start(engine);
  }
  const bool ending = state_ == State::running && enable_level_ && !en;
  // A trigger in the ending tick (ENABLE falling while TRIG is high is one)
  // never leaves the pipeline.
  if (state_ == State::running && !ending) {
    const bool rising = !trig_level_ && trig, falling = trig_level_ && !trig;
    if ((trig_edge_ == 0 && rising) || (trig_edge_ == 1 && falling) ||
        (trig_edge_ == 2 && (rising || falling)))
      trigger(engine);
  }
  if (ending) finish(engine, "Ok");
  trig_level_ = trig;
  enable_level_ = en;
  if (state_ != State::running) gate_level_ = gate;
}

void Pcap::publish(const InstanceConfig& config) const {
  config.set_read("HEALTH", health_);
}

void add_capture_behaviours(BehaviourRegistry& registry) {
  registry["INENC"] = [](const InstanceConfig&) { return std::make_unique<Inenc>(); };
  registry["PCAP"] = [](const InstanceConfig&) { return std::make_unique<Pcap>(); };
}

}  // namespace pandafly::sim::fpga
