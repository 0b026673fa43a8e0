#pragma once
// ValueType: the sub-type of a param/read/write/time field (reference §1.6) —
// uint, int, bit, enum, scalar, lut, action, time. It owns the value, parses
// writes, formats reads and serves the sub-type's attributes. One class per
// sub-type lives in value_types.cpp.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/panda/field.hpp"
#include "sim/panda/reply.hpp"

namespace pandafly::sim {

class ValueType {
 public:
  ValueType() = default;
  ValueType(const ValueType&) = delete;
  ValueType& operator=(const ValueType&) = delete;
  virtual ~ValueType() = default;

  /// Sub-type name as `BLOCK.*?` shows it after the class (`uint`, `time`, …).
  [[nodiscard]] virtual std::string name() const = 0;
  [[nodiscard]] virtual std::string format() const = 0;
  /// Parses and stores `text`; the value is unchanged on error.
  [[nodiscard]] virtual Status parse(std::string_view text) = 0;
  /// Sets the stored value from a raw register value (simulation side).
  virtual void set_raw(std::uint64_t raw) = 0;
  /// The stored value as the FPGA register holds it: the number, the enum
  /// index, the bit, the LUT word, the time in ticks (simulation side).
  [[nodiscard]] virtual std::int64_t raw() const = 0;

  [[nodiscard]] virtual std::vector<std::string> attributes() const { return {}; }
  [[nodiscard]] virtual Expected<ReadValue> get_attr(std::string_view) const {
    return Error{"Attribute not readable"};
  }
  [[nodiscard]] virtual Status put_attr(std::string_view, std::string_view) {
    return Error{"Attribute not writeable"};
  }
  [[nodiscard]] virtual bool attr_reported(std::string_view) const { return false; }
  [[nodiscard]] virtual bool attr_rescales_value(std::string_view) const { return false; }
  [[nodiscard]] virtual std::optional<std::vector<std::string>> enums() const {
    return std::nullopt;
  }
  [[nodiscard]] virtual std::optional<std::vector<std::string>> attr_enums(std::string_view) const {
    return std::nullopt;
  }
};

/// The sub-type named by `words` (e.g. {"uint", "63"} or {"scalar", "0.001", "0", "deg"});
/// enum labels come from `spec`. Throws std::invalid_argument on an unknown sub-type.
[[nodiscard]] std::unique_ptr<ValueType> make_value_type(const std::vector<std::string>& words,
                                                         const FieldSpec& spec);

}  // namespace pandafly::sim
