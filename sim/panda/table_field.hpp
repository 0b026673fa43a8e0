#pragma once
// TableField: a `table` field (reference §1.7) — a flat array of uint32 words,
// whole rows of `row_words`, at most `max_length` words. Writes are ASCII
// (strtoul base 0, negatives wrapped) or base64 lines; a failed write leaves
// the table as it was. Streaming writes are not supported, as on servers
// without DMA-table support.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/panda/field.hpp"

namespace pandafly::sim {

inline constexpr std::size_t kTableMaxLength = 1048576;  // words, current firmware

class TableField final : public Field {
 public:
  TableField(const FieldSpec& spec, std::string full_name) : Field(spec, std::move(full_name)) {}

  std::string info() const override { return "table"; }
  std::optional<ChangeGroup> group() const override { return ChangeGroup::table; }
  bool multiline() const override { return true; }
  Expected<ReadValue> get() const override;
  Status put_table(const TableWrite& write) override;
  std::vector<std::string> attributes() const override;
  Expected<ReadValue> get_attr(std::string_view attr) const override;
  bool attr_polled(std::string_view attr) const override { return attr == "QUEUED_LINES"; }

  [[nodiscard]] std::span<const std::uint32_t> words() const { return words_; }
  [[nodiscard]] const TableColumn* column(std::string_view name) const;

 private:
  std::vector<std::uint32_t> words_;
  std::string mode_ = "INIT";
};

/// Words from ASCII table lines; `Number missing` on a non-number.
[[nodiscard]] Expected<std::vector<std::uint32_t>> parse_ascii_words(
    const std::vector<std::string>& lines);
/// Words from base64 table lines; `Malformed base64 string`, `Invalid data length`.
[[nodiscard]] Expected<std::vector<std::uint32_t>> parse_base64_words(
    const std::vector<std::string>& lines);

}  // namespace pandafly::sim
