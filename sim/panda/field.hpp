#pragma once
// Field: one field of one block instance in the simulated PandA (e.g. PCOMP1.START).
// The base class holds what every kind shares (name, description, change stamps)
// and answers "not readable/writeable/a table" by default; each field kind
// (fields.hpp, table_field.hpp) overrides what it supports. make_field() in
// field_factory.cpp is the one place that maps a type string to a kind.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/panda/reply.hpp"

namespace pandafly::sim {

/// `*CHANGES` groups, in the order the server lists them.
enum class ChangeGroup : std::size_t { config, bits, posn, read, attr, table, metadata };
inline constexpr std::size_t kChangeGroupCount = 7;

/// One column of a table row (`X.TABLE.FIELDS?`: `high:low NAME subtype`).
struct TableColumn {
  unsigned high = 0;
  unsigned low = 0;
  std::string name;
  std::string subtype;  // uint | int | enum
  std::string description;
  std::vector<std::string> labels;  // enum labels by value
};

/// Static description of a field as the block definitions list it.
/// `type` uses the server's configuration syntax: `param uint 63`, `time`,
/// `read scalar 0.001 0 deg`, `ext_out bits 0`, `table`.
struct FieldSpec {
  std::string name;
  std::string type;
  std::string description;
  std::vector<std::string> labels;   // enum labels by value
  std::vector<TableColumn> columns;  // table row layout
  unsigned row_words = 0;            // table words per row
};

/// Names on the bit and position buses, in bus order; shared by the muxes.
struct Buses {
  std::vector<std::string> bits;       // every bit_out (ZERO/ONE not included)
  std::vector<std::string> positions;  // every pos_out (ZERO not included)
  [[nodiscard]] std::optional<std::size_t> bit_index(std::string_view name) const;
};

/// A multi-line write (`X<FMT` + data lines) as the field receives it.
struct TableWrite {
  bool binary = false;     // `<B`
  bool streaming = false;  // `<<` or `<<|`
  bool last = false;       // `<<|`
  const std::vector<std::string>* lines = nullptr;
};

class Field {
 public:
  Field(const FieldSpec& spec, std::string full_name)
      : spec_(spec), full_name_(std::move(full_name)) {}
  Field(const Field&) = delete;
  Field& operator=(const Field&) = delete;
  virtual ~Field() = default;

  [[nodiscard]] const FieldSpec& spec() const { return spec_; }
  /// "BLOCKn.FIELD" (no number for single-instance blocks).
  [[nodiscard]] const std::string& full_name() const { return full_name_; }

  /// The type as `BLOCK.*?` and `.INFO?` report it, e.g. `param uint`.
  [[nodiscard]] virtual std::string info() const = 0;
  /// The `*CHANGES` group of the value; nullopt when the value is never reported.
  [[nodiscard]] virtual std::optional<ChangeGroup> group() const { return std::nullopt; }
  /// True when the value is reported as `!NAME<` (tables) rather than `!NAME=v`.
  [[nodiscard]] virtual bool multiline() const { return false; }

  [[nodiscard]] virtual Expected<ReadValue> get() const { return Error{"Field not readable"}; }
  [[nodiscard]] virtual Status put(std::string_view) { return Error{"Field not writeable"}; }
  [[nodiscard]] virtual Status put_table(const TableWrite&) {
    return Error{"Field is not a table"};
  }

  /// Attribute names, INFO excluded (the model adds it).
  [[nodiscard]] virtual std::vector<std::string> attributes() const { return {}; }
  /// Only called with a name from attributes().
  [[nodiscard]] virtual Expected<ReadValue> get_attr(std::string_view) const {
    return Error{"Attribute not readable"};
  }
  [[nodiscard]] virtual Status put_attr(std::string_view, std::string_view) {
    return Error{"Attribute not writeable"};
  }
  /// True for attributes listed in `*CHANGES.ATTR`.
  [[nodiscard]] virtual bool attr_reported(std::string_view) const { return false; }
  /// True for polled attributes (table QUEUED_LINES): `*CHANGES.ATTR?` lists
  /// them once after a connection opens or resets its ATTR index, whatever
  /// the stamps say (reference §1.5: polled changes are cleared by reading).
  [[nodiscard]] virtual bool attr_polled(std::string_view) const { return false; }
  /// True when writing `attr` changes how the value reads (a time field's
  /// UNITS): the value is then reported in `*CHANGES.CONFIG` as well.
  [[nodiscard]] virtual bool attr_rescales_value(std::string_view) const { return false; }
  /// Labels for `*ENUMS.B.F?` / `*ENUMS.B.F.ATTR?`; nullopt when there are none.
  [[nodiscard]] virtual std::optional<std::vector<std::string>> enums() const {
    return std::nullopt;
  }
  [[nodiscard]] virtual std::optional<std::vector<std::string>> attr_enums(std::string_view) const {
    return std::nullopt;
  }

  // Change stamps, set by the model: a value or attribute changed after a
  // connection's index for the group when its stamp is greater.
  std::uint64_t value_stamp = 1;
  [[nodiscard]] std::uint64_t attr_stamp(std::string_view attr) const;
  void set_attr_stamp(std::string_view attr, std::uint64_t stamp);

 private:
  const FieldSpec& spec_;
  std::string full_name_;
  std::map<std::string, std::uint64_t, std::less<>> attr_stamps_;
};

/// Creates the field of kind `spec.type`. Throws std::invalid_argument on an
/// unknown type (a bug in the block definitions, not a runtime condition).
[[nodiscard]] std::unique_ptr<Field> make_field(const FieldSpec& spec, std::string full_name,
                                                std::shared_ptr<const Buses> buses);

}  // namespace pandafly::sim
