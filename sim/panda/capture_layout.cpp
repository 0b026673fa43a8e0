// Rules: see capture_layout.hpp (wire order by class, RAW extras, scaling).
#include "sim/panda/capture_layout.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace pandafly::sim {

static_assert(std::endian::native == std::endian::little, "samples are decoded in place");

namespace {

using Kind = CapturedField::Kind;
using panda::FieldType;

constexpr std::array<std::string_view, 7> kPosOutCaptures{"Value", "Diff", "Min",   "Max",
                                                          "Sum",   "Mean", "StdDev"};
constexpr std::array<std::string_view, 4> kWord32Captures{"Value", "Diff", "Min", "Max"};

bool captures(const CapturedField& f, std::string_view capture) {
  return std::find(f.captures.begin(), f.captures.end(), capture) != f.captures.end();
}

// Throws when `f` lists a capture its kind does not offer.
void validate(const CapturedField& f) {
  for (const auto& c : f.captures) {
    bool ok = f.kind == Kind::pos_out ? std::find(kPosOutCaptures.begin(), kPosOutCaptures.end(),
                                                  c) != kPosOutCaptures.end()
                                      : c == "Value";
    if (!ok) throw std::invalid_argument(f.name + ": capture \"" + c + "\" is not valid here");
  }
}

// What the header announces besides name, type and capture.
struct Announce {
  std::optional<double> scale;
  std::optional<double> offset;
  std::string units;
};

Announce announce_of(const CapturedField& f) {
  switch (f.kind) {
    case Kind::bits:
      return {};
    case Kind::timestamp:
    case Kind::samples:
      return {CaptureLayout::tick_seconds, 0.0, "s"};
    case Kind::pos_out:
      break;
  }
  return {f.scale, f.offset, f.units};
}

panda::Field make_field(const std::string& name, std::string_view capture, FieldType type,
                        const Announce& a) {
  panda::Field field;
  field.name = name;
  field.capture = std::string(capture);
  field.mode = panda::capture_mode_from(capture);
  field.type = type;
  field.scale = a.scale;
  field.offset = a.offset;
  field.units = a.units;
  return field;
}

template <class T>
T load(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A little-endian two's-complement 96-bit integer, as long double (64-bit mantissa).
long double load_int96(const std::byte* p) noexcept {
  auto lo = static_cast<long double>(load<std::uint32_t>(p));
  auto mid = static_cast<long double>(load<std::uint32_t>(p + 4));
  auto hi = static_cast<long double>(load<std::int32_t>(p + 8));
  return std::ldexp(hi, 64) + std::ldexp(mid, 32) + lo;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

CapturedField CapturedField::pos_out(std::string name, std::vector<std::string> captures,
                                     double scale, double offset, std::string units) {
  return {std::move(name), Kind::pos_out, std::move(captures), scale, offset, std::move(units)};
}

CapturedField CapturedField::timestamp(std::string name) {
  return {std::move(name), Kind::timestamp, {"Value"}, CaptureLayout::tick_seconds, 0, "s"};
}

CapturedField CapturedField::gate_duration() {
  return {"PCAP.GATE_DURATION", Kind::samples, {"Value"}, CaptureLayout::tick_seconds, 0, "s"};
}

CapturedField CapturedField::bits(std::string name) {
  return {std::move(name), Kind::bits, {"Value"}, 1, 0, ""};
}

CaptureLayout::CaptureLayout(std::vector<CapturedField> fields) : fields_(std::move(fields)) {
  for (const auto& f : fields_) validate(f);
  add_gate_extra();
  for (Group g : {Group::bits, Group::word32, Group::word64, Group::mean, Group::std_dev})
    add_group(g);
  if (scaled_.empty()) throw std::invalid_argument("Nothing configured for capture");
  resolve_offsets();
  if (raw_bytes_ / 4 > max_raw_words) throw std::invalid_argument("Too many captures for PCAP");
}

// Class 1: the RAW-only gate tick count that Mean/StdDev need when the user
// did not capture PCAP.GATE_DURATION.
void CaptureLayout::add_gate_extra() {
  bool averaged = false;
  bool counted = false;
  for (const auto& f : fields_) {
    averaged |= f.kind == Kind::pos_out && (captures(f, "Mean") || captures(f, "StdDev"));
    counted |= f.kind == Kind::samples && !f.captures.empty();
  }
  if (!averaged || counted) return;
  ticks_src_ = raw_.size();
  has_ticks_ = true;
  raw_.push_back(make_field("PCAP.GATE_DURATION", "Value", FieldType::int32,
                            announce_of(CapturedField::gate_duration())));
}

void CaptureLayout::add_group(Group group) {
  for (const auto& f : fields_) {
    if (f.captures.empty()) continue;
    const bool pos = f.kind == Kind::pos_out;
    switch (group) {
      case Group::bits:
        if (f.kind == Kind::bits) add(f, "Value", FieldType::uint32, Op::copy_u32);
        break;
      case Group::word32:
        if (f.kind == Kind::samples) add(f, "Value", FieldType::int32, Op::scale_ticks);
        for (auto c : kWord32Captures)
          if (pos && captures(f, c)) add(f, c, FieldType::int32, Op::scale_i32);
        break;
      case Group::word64:
        if (pos && captures(f, "Sum")) add(f, "Sum", FieldType::int64, Op::scale_i64);
        if (f.kind == Kind::timestamp) add(f, "Value", FieldType::int64, Op::scale_i64);
        break;
      case Group::mean:  // a Mean beside a StdDev goes with it (class 6)
        if (pos && captures(f, "Mean") && !captures(f, "StdDev"))
          add(f, "Mean", FieldType::int64, Op::mean);
        break;
      case Group::std_dev:
        if (pos && captures(f, "StdDev")) add_std_dev(f);
        break;
    }
  }
}

void CaptureLayout::add(const CapturedField& f, std::string_view capture, FieldType raw_type,
                        Op op) {
  Announce a = announce_of(f);
  if (op == Op::scale_ticks && !has_ticks_) {
    ticks_src_ = raw_.size();
    has_ticks_ = true;
  }
  steps_.push_back({op, raw_.size(), 0, a.scale.value_or(1), a.offset.value_or(0)});
  raw_.push_back(make_field(f.name, capture, raw_type, a));
  FieldType scaled_type = op == Op::copy_u32 ? FieldType::uint32 : FieldType::float64;
  scaled_.push_back(make_field(f.name, capture, scaled_type, a));
}

// RAW: one int64 sum (announced as Mean, whether or not Mean was asked for)
// then the int96 sum of squares. SCALED: the Mean only when asked for, then
// the StdDev. Never a second Mean.
void CaptureLayout::add_std_dev(const CapturedField& f) {
  Announce a = announce_of(f);
  const std::size_t sum = raw_.size();
  raw_.push_back(make_field(f.name, "Mean", FieldType::int64, a));
  raw_.push_back(make_field(f.name, "StdDev", FieldType::int96, a));
  if (captures(f, "Mean")) {
    steps_.push_back({Op::mean, sum, 0, a.scale.value_or(1), a.offset.value_or(0)});
    scaled_.push_back(make_field(f.name, "Mean", FieldType::float64, a));
  }
  steps_.push_back({Op::std_dev, sum, sum + 1, f.scale, f.offset});
  scaled_.push_back(make_field(f.name, "StdDev", FieldType::float64, a));
}

void CaptureLayout::resolve_offsets() {
  raw_bytes_ = panda::assign_offsets(raw_);
  scaled_bytes_ = panda::assign_offsets(scaled_);
  for (auto& step : steps_) {
    step.src = raw_[step.src].byte_offset;
    if (step.op == Op::std_dev) step.src2 = raw_[step.src2].byte_offset;
  }
  if (has_ticks_) ticks_src_ = raw_[ticks_src_].byte_offset;
}

panda::StartData CaptureLayout::raw_header() const {
  panda::StartData start;
  start.fields = raw_;
  start.processing = panda::Processing::raw;
  start.sample_bytes = raw_bytes_;
  return start;
}

panda::StartData CaptureLayout::scaled_header() const {
  panda::StartData start;
  start.fields = scaled_;
  start.processing = panda::Processing::scaled;
  start.sample_bytes = scaled_bytes_;
  return start;
}

void CaptureLayout::scale(std::span<const std::byte> raw,
                          std::vector<std::byte>& scaled_out) const {
  const std::size_t n = raw.size() / raw_bytes_;
  scaled_out.resize(n * scaled_bytes_);
  for (std::size_t i = 0; i < n; ++i) {
    const std::byte* in = raw.data() + i * raw_bytes_;
    std::byte* out = scaled_out.data() + i * scaled_bytes_;
    for (std::size_t k = 0; k < steps_.size(); ++k) {
      std::byte* at = out + scaled_[k].byte_offset;
      if (steps_[k].op == Op::copy_u32) {
        std::memcpy(at, in + steps_[k].src, 4);
        continue;
      }
      double v = apply(steps_[k], in);
      std::memcpy(at, &v, sizeof v);
    }
  }
}

double CaptureLayout::apply(const Step& s, const std::byte* sample) const {
  const double ticks = has_ticks_ ? load<std::uint32_t>(sample + ticks_src_) : 0.0;
  switch (s.op) {
    case Op::scale_i32:
      return static_cast<double>(load<std::int32_t>(sample + s.src)) * s.scale + s.offset;
    case Op::scale_i64:
      return static_cast<double>(load<std::int64_t>(sample + s.src)) * s.scale + s.offset;
    case Op::scale_ticks:
      return static_cast<double>(load<std::uint32_t>(sample + s.src)) * s.scale + s.offset;
    case Op::mean: {
      if (ticks == 0) return kNaN;
      auto sum = static_cast<double>(load<std::int64_t>(sample + s.src));
      return sum * s.scale / ticks + s.offset;
    }
    case Op::std_dev: {
      if (ticks == 0) return kNaN;
      auto sum = static_cast<long double>(load<std::int64_t>(sample + s.src));
      long double n = ticks;
      long double var = (load_int96(sample + s.src2) - sum * sum / n) / n;
      return s.scale * static_cast<double>(std::sqrt(std::max(var, 0.0L)));
    }
    case Op::copy_u32:
      break;
  }
  return 0;
}

}  // namespace pandafly::sim
