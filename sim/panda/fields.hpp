#pragma once
// The field kinds of the simulated PandA (reference §1.6), one class each:
//   RegisterField  param/read/write <sub-type> and time (value in a ValueType)
//   BitOutField    bit_out (BITS group; CAPTURE_WORD, OFFSET)
//   PosOutField    pos_out (POSN group; CAPTURE, OFFSET, SCALE, UNITS, SCALED)
//   ExtOutField    ext_out timestamp|samples|bits (CAPTURE, BITS)
//   BitMuxField    bit_mux (CONFIG; DELAY, MAX_DELAY)
//   PosMuxField    pos_mux (CONFIG)
// Tables are in table_field.hpp.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/panda/field.hpp"
#include "sim/panda/value_type.hpp"

namespace pandafly::sim {

class RegisterField final : public Field {
 public:
  enum class Access { param, read, write, time };
  RegisterField(const FieldSpec& spec, std::string full_name, Access access,
                std::unique_ptr<ValueType> type);

  std::string info() const override;
  std::optional<ChangeGroup> group() const override;
  Expected<ReadValue> get() const override;
  Status put(std::string_view value) override;
  std::vector<std::string> attributes() const override { return type_->attributes(); }
  Expected<ReadValue> get_attr(std::string_view attr) const override {
    return type_->get_attr(attr);
  }
  Status put_attr(std::string_view attr, std::string_view value) override {
    return type_->put_attr(attr, value);
  }
  bool attr_reported(std::string_view attr) const override { return type_->attr_reported(attr); }
  bool attr_rescales_value(std::string_view attr) const override {
    return type_->attr_rescales_value(attr);
  }
  std::optional<std::vector<std::string>> enums() const override { return type_->enums(); }
  std::optional<std::vector<std::string>> attr_enums(std::string_view attr) const override {
    return type_->attr_enums(attr);
  }
  /// Simulation side: sets the register value (e.g. a read field's status).
  void set_raw(std::uint64_t raw) { type_->set_raw(raw); }
  /// Simulation side: the register value (see ValueType::raw()).
  [[nodiscard]] std::int64_t raw() const { return type_->raw(); }

 private:
  Access access_;
  std::unique_ptr<ValueType> type_;
};

class BitOutField final : public Field {
 public:
  BitOutField(const FieldSpec& spec, std::string full_name, std::size_t bus_index)
      : Field(spec, std::move(full_name)), bus_index_(bus_index) {}
  std::string info() const override { return "bit_out"; }
  std::optional<ChangeGroup> group() const override { return ChangeGroup::bits; }
  Expected<ReadValue> get() const override { return ReadValue{value_ ? "1" : "0"}; }
  std::vector<std::string> attributes() const override { return {"CAPTURE_WORD", "OFFSET"}; }
  Expected<ReadValue> get_attr(std::string_view attr) const override;
  [[nodiscard]] bool value() const { return value_; }
  void set(bool value) { value_ = value; }
  [[nodiscard]] std::size_t bus_index() const { return bus_index_; }

 private:
  std::size_t bus_index_;
  bool value_ = false;
};

/// Capture options of a pos_out in canonical order (`*CAPTURE.OPTIONS?`).
[[nodiscard]] const std::vector<std::string>& capture_options();
/// The backwards-compatible option combinations (`*CAPTURE.ENUMS?`).
[[nodiscard]] const std::vector<std::string>& capture_enums();

class PosOutField final : public Field {
 public:
  using Field::Field;
  std::string info() const override { return "pos_out"; }
  std::optional<ChangeGroup> group() const override { return ChangeGroup::posn; }
  Expected<ReadValue> get() const override { return ReadValue{std::to_string(value_)}; }
  std::vector<std::string> attributes() const override;
  Expected<ReadValue> get_attr(std::string_view attr) const override;
  Status put_attr(std::string_view attr, std::string_view value) override;
  bool attr_reported(std::string_view attr) const override { return attr != "SCALED"; }
  std::optional<std::vector<std::string>> attr_enums(std::string_view attr) const override;
  [[nodiscard]] std::int32_t value() const { return value_; }
  void set(std::int32_t value) { value_ = value; }
  /// CAPTURE as written: `No` or space-separated options (`Min Max Mean`).
  [[nodiscard]] const std::string& capture() const { return capture_; }
  [[nodiscard]] double scale() const { return scale_; }
  [[nodiscard]] double offset() const { return offset_; }
  [[nodiscard]] const std::string& units() const { return units_; }

 private:
  Status put_capture(std::string_view value);
  std::int32_t value_ = 0;
  std::string capture_ = "No";
  double scale_ = 1.0;
  double offset_ = 0.0;
  std::string units_;
};

class ExtOutField final : public Field {
 public:
  /// `kind` is timestamp, samples or bits; `word` is N of `bits N`.
  ExtOutField(const FieldSpec& spec, std::string full_name, std::string kind, std::size_t word,
              std::shared_ptr<const Buses> buses);
  std::string info() const override { return "ext_out " + kind_; }
  std::vector<std::string> attributes() const override;
  Expected<ReadValue> get_attr(std::string_view attr) const override;
  Status put_attr(std::string_view attr, std::string_view value) override;
  bool attr_reported(std::string_view attr) const override { return attr == "CAPTURE"; }
  std::optional<std::vector<std::string>> attr_enums(std::string_view attr) const override;
  /// timestamp, samples or bits.
  [[nodiscard]] const std::string& kind() const { return kind_; }
  [[nodiscard]] bool captured() const { return captured_; }

 private:
  std::string kind_;
  std::size_t word_;
  std::shared_ptr<const Buses> buses_;
  bool captured_ = false;
};

inline constexpr std::uint32_t kMaxBitMuxDelay = 31;

class BitMuxField final : public Field {
 public:
  BitMuxField(const FieldSpec& spec, std::string full_name, std::shared_ptr<const Buses> buses)
      : Field(spec, std::move(full_name)), buses_(std::move(buses)) {}
  std::string info() const override { return "bit_mux"; }
  std::optional<ChangeGroup> group() const override { return ChangeGroup::config; }
  Expected<ReadValue> get() const override { return ReadValue{value_}; }
  Status put(std::string_view value) override;
  std::vector<std::string> attributes() const override { return {"DELAY", "MAX_DELAY"}; }
  Expected<ReadValue> get_attr(std::string_view attr) const override;
  Status put_attr(std::string_view attr, std::string_view value) override;
  bool attr_reported(std::string_view attr) const override { return attr == "DELAY"; }
  std::optional<std::vector<std::string>> enums() const override;
  /// The selected bus bit: `ZERO`, `ONE` or a bit_out name.
  [[nodiscard]] const std::string& source() const { return value_; }
  /// DELAY: ticks by which the block sees its input late.
  [[nodiscard]] std::uint32_t delay() const { return delay_; }

 private:
  std::shared_ptr<const Buses> buses_;
  std::string value_ = "ZERO";
  std::uint32_t delay_ = 0;
};

class PosMuxField final : public Field {
 public:
  PosMuxField(const FieldSpec& spec, std::string full_name, std::shared_ptr<const Buses> buses)
      : Field(spec, std::move(full_name)), buses_(std::move(buses)) {}
  std::string info() const override { return "pos_mux"; }
  std::optional<ChangeGroup> group() const override { return ChangeGroup::config; }
  Expected<ReadValue> get() const override { return ReadValue{value_}; }
  Status put(std::string_view value) override;
  std::optional<std::vector<std::string>> enums() const override;
  /// The selected bus position: `ZERO` or a pos_out name.
  [[nodiscard]] const std::string& source() const { return value_; }

 private:
  std::shared_ptr<const Buses> buses_;
  std::string value_ = "ZERO";
};

}  // namespace pandafly::sim
