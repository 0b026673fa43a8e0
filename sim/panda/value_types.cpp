// The value sub-types of param/read/write/time fields, one small class each.
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "sim/panda/lut.hpp"
#include "sim/panda/parse.hpp"
#include "sim/panda/time_units.hpp"
#include "sim/panda/value_type.hpp"

namespace pandafly::sim {
namespace {

constexpr std::uint32_t kUintMax = std::numeric_limits<std::uint32_t>::max();

class UintType final : public ValueType {
 public:
  explicit UintType(std::uint32_t max) : max_(max) {}
  std::string name() const override { return "uint"; }
  std::string format() const override { return std::to_string(value_); }
  Status parse(std::string_view text) override {
    auto v = parse_uint(text, max_);
    if (!v.ok()) return Error{v.error()};
    value_ = v.value();
    return {};
  }
  void set_raw(std::uint64_t raw) override { value_ = static_cast<std::uint32_t>(raw); }
  std::int64_t raw() const override { return value_; }
  std::vector<std::string> attributes() const override { return {"MAX"}; }
  Expected<ReadValue> get_attr(std::string_view) const override {
    return ReadValue{std::to_string(max_)};
  }

 private:
  std::uint32_t max_;
  std::uint32_t value_ = 0;
};

class IntType final : public ValueType {
 public:
  std::string name() const override { return "int"; }
  std::string format() const override { return std::to_string(value_); }
  Status parse(std::string_view text) override {
    auto v = parse_int(text);
    if (!v.ok()) return Error{v.error()};
    value_ = v.value();
    return {};
  }
  void set_raw(std::uint64_t raw) override {
    value_ = static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
  }
  std::int64_t raw() const override { return value_; }

 private:
  std::int32_t value_ = 0;
};

class BitType final : public ValueType {
 public:
  std::string name() const override { return "bit"; }
  std::string format() const override { return value_ ? "1" : "0"; }
  Status parse(std::string_view text) override {
    if (text.empty() || (text[0] != '0' && text[0] != '1')) return Error{"Invalid bit value"};
    if (text.size() > 1) return Error{"Unexpected character after input"};
    value_ = text[0] == '1';
    return {};
  }
  void set_raw(std::uint64_t raw) override { value_ = raw != 0; }
  std::int64_t raw() const override { return value_ ? 1 : 0; }

 private:
  bool value_ = false;
};

class EnumType final : public ValueType {
 public:
  explicit EnumType(std::vector<std::string> labels) : labels_(std::move(labels)) {}
  std::string name() const override { return "enum"; }
  std::string format() const override { return index_ < labels_.size() ? labels_[index_] : ""; }
  Status parse(std::string_view text) override {
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i] == text) {
        index_ = i;
        return {};
      }
    }
    return Error{"Invalid enumeration value"};
  }
  void set_raw(std::uint64_t raw) override { index_ = static_cast<std::size_t>(raw); }
  std::int64_t raw() const override { return static_cast<std::int64_t>(index_); }
  std::optional<std::vector<std::string>> enums() const override { return labels_; }

 private:
  std::vector<std::string> labels_;
  std::size_t index_ = 0;
};

// value = raw * scale + offset; writes round to the nearest raw count.
class ScalarType final : public ValueType {
 public:
  ScalarType(double scale, double offset, std::string units)
      : scale_(scale), offset_(offset), units_(std::move(units)) {}
  std::string name() const override { return "scalar"; }
  std::string format() const override {
    return format_double(static_cast<double>(raw_) * scale_ + offset_);
  }
  Status parse(std::string_view text) override {
    auto v = parse_double(text);
    if (!v.ok()) return Error{v.error()};
    double raw = std::round((v.value() - offset_) / scale_);
    if (!(raw >= std::numeric_limits<std::int32_t>::min() &&
          raw <= std::numeric_limits<std::int32_t>::max())) {
      return Error{"Number out of range"};
    }
    raw_ = static_cast<std::int32_t>(raw);
    return {};
  }
  void set_raw(std::uint64_t raw) override {
    raw_ = static_cast<std::int32_t>(static_cast<std::uint32_t>(raw));
  }
  std::int64_t raw() const override { return raw_; }
  std::vector<std::string> attributes() const override {
    return {"RAW", "UNITS", "SCALE", "OFFSET"};
  }
  Expected<ReadValue> get_attr(std::string_view attr) const override {
    if (attr == "RAW") return ReadValue{std::to_string(raw_)};
    if (attr == "UNITS") return ReadValue{units_};
    if (attr == "SCALE") return ReadValue{format_double(scale_)};
    return ReadValue{format_double(offset_)};
  }

 private:
  double scale_;
  double offset_;
  std::string units_;
  std::int32_t raw_ = 0;
};

// Keeps the expression as written; RAW is the compiled truth table.
class LutType final : public ValueType {
 public:
  std::string name() const override { return "lut"; }
  std::string format() const override { return text_; }
  Status parse(std::string_view text) override {
    auto table = compile_lut(text);
    if (!table.ok()) return Error{table.error()};
    text_ = std::string(text);
    raw_ = table.value();
    return {};
  }
  void set_raw(std::uint64_t raw) override {
    raw_ = static_cast<std::uint32_t>(raw);
    text_ = hex(raw_);
  }
  std::int64_t raw() const override { return raw_; }
  std::vector<std::string> attributes() const override { return {"RAW"}; }
  Expected<ReadValue> get_attr(std::string_view) const override { return ReadValue{hex(raw_)}; }

 private:
  static std::string hex(std::uint32_t v) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "0x%08X", v);
    return buffer;
  }
  std::string text_ = "0x00000000";
  std::uint32_t raw_ = 0;
};

// Write-only trigger: any value is accepted and ignored.
class ActionType final : public ValueType {
 public:
  std::string name() const override { return "action"; }
  std::string format() const override { return ""; }
  Status parse(std::string_view) override { return {}; }
  void set_raw(std::uint64_t) override {}
  std::int64_t raw() const override { return 0; }
};

// Ticks at 125 MHz, shown in UNITS; changing UNITS keeps the ticks.
class TimeType final : public ValueType {
 public:
  std::string name() const override { return "time"; }
  std::string format() const override { return ticks_to_time(ticks_, unit_); }
  Status parse(std::string_view text) override {
    auto ticks = time_to_ticks(text, unit_);
    if (!ticks.ok()) return Error{ticks.error()};
    ticks_ = ticks.value();
    return {};
  }
  void set_raw(std::uint64_t raw) override { ticks_ = raw & kMaxTicks; }
  std::int64_t raw() const override { return static_cast<std::int64_t>(ticks_); }
  std::vector<std::string> attributes() const override { return {"UNITS", "RAW"}; }
  Expected<ReadValue> get_attr(std::string_view attr) const override {
    if (attr == "UNITS") return ReadValue{std::string(time_unit_label(unit_))};
    return ReadValue{std::to_string(ticks_)};
  }
  Status put_attr(std::string_view attr, std::string_view value) override {
    if (attr == "UNITS") return put_units(value);
    auto raw = parse_raw_ticks(value);
    if (!raw.ok()) return Error{raw.error()};
    if (raw.value() > kMaxTicks) return Error{"Number out of range"};
    ticks_ = raw.value();
    return {};
  }
  bool attr_reported(std::string_view attr) const override { return attr == "UNITS"; }
  // The server stamps the value too when UNITS is written (the same ticks now
  // read as another number), so *CHANGES.CONFIG reports the rescaled value.
  bool attr_rescales_value(std::string_view attr) const override { return attr == "UNITS"; }
  std::optional<std::vector<std::string>> attr_enums(std::string_view attr) const override {
    if (attr != "UNITS") return std::nullopt;
    return std::vector<std::string>(kTimeUnitLabels.begin(), kTimeUnitLabels.end());
  }

 private:
  Status put_units(std::string_view value) {
    auto unit = time_unit_from(value);
    if (!unit) return Error{"Invalid time units"};
    unit_ = *unit;
    return {};
  }
  std::uint64_t ticks_ = 0;
  TimeUnit unit_ = TimeUnit::s;
};

double number_or(const std::vector<std::string>& words, std::size_t i, double fallback) {
  return i < words.size() ? std::stod(words[i]) : fallback;
}

}  // namespace

std::unique_ptr<ValueType> make_value_type(const std::vector<std::string>& words,
                                           const FieldSpec& spec) {
  const std::string sub = words.empty() ? "uint" : words[0];
  if (sub == "uint") {
    auto max = static_cast<std::uint32_t>(number_or(words, 1, kUintMax));
    return std::make_unique<UintType>(max);
  }
  if (sub == "int") return std::make_unique<IntType>();
  if (sub == "bit") return std::make_unique<BitType>();
  if (sub == "enum") return std::make_unique<EnumType>(spec.labels);
  if (sub == "lut") return std::make_unique<LutType>();
  if (sub == "action") return std::make_unique<ActionType>();
  if (sub == "time") return std::make_unique<TimeType>();
  if (sub == "scalar") {
    std::string units = words.size() > 3 ? words[3] : "";
    return std::make_unique<ScalarType>(number_or(words, 1, 1.0), number_or(words, 2, 0.0), units);
  }
  throw std::invalid_argument("unknown field sub-type " + sub + " for " + spec.name);
}

}  // namespace pandafly::sim
