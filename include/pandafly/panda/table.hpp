#pragma once
// TableLayout: how a PandA table's rows are packed into uint32 words
// (`X.TABLE.FIELDS?` lines `high:low NAME subtype`, reference §1.7), and the
// conversion between words and rows of named fields.
//
// Example:
//   auto layout = TableLayout::parse(fields_lines, 4);        // SEQ1.TABLE.FIELDS?
//   TableRow row = layout.parse_row("REPEATS=10 TRIGGER=POSA>=POSITION OUTA1=1 POSITION=-2000");
//   std::vector<std::uint32_t> words = layout.pack({&row, 1});
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::panda {

struct TableField {
  std::string name;
  unsigned high = 0;  // bit numbers over the concatenated row words
  unsigned low = 0;
  std::string subtype;              // uint | int | enum
  std::vector<std::string> labels;  // enum labels (index = value)
  std::string description;

  [[nodiscard]] unsigned width() const noexcept { return high - low + 1; }
};

/// One row: the value of each field, in layout order (enums as their index,
/// int fields sign-extended).
using TableRow = std::vector<std::int64_t>;

class TableLayout {
 public:
  TableLayout() = default;
  /// Parses `FIELDS?` lines. `row_words` = ROW_WORDS? when the server has it,
  /// else 0 to compute it from the highest bit. Throws std::invalid_argument
  /// naming the bad line.
  [[nodiscard]] static TableLayout parse(std::span<const std::string> fields_lines,
                                         unsigned row_words = 0);

  [[nodiscard]] unsigned row_words() const noexcept { return row_words_; }
  [[nodiscard]] const std::vector<TableField>& fields() const noexcept { return fields_; }
  [[nodiscard]] std::vector<TableField>& fields() noexcept { return fields_; }
  /// Index of the field called `name`, or -1.
  [[nodiscard]] int find(std::string_view name) const noexcept;

  /// Packs rows into words. Throws std::invalid_argument when a value does not
  /// fit its field (naming row and field).
  [[nodiscard]] std::vector<std::uint32_t> pack(std::span<const TableRow> rows) const;
  /// Unpacks words into rows. Throws std::invalid_argument when the word count
  /// is not a whole number of rows.
  [[nodiscard]] std::vector<TableRow> unpack(std::span<const std::uint32_t> words) const;

  /// Parses `NAME=VALUE` pairs separated by spaces (enum by label or number;
  /// numbers decimal or 0x hex; unnamed fields are 0). Labels containing
  /// spaces are not used by PandA tables. Throws std::invalid_argument.
  [[nodiscard]] TableRow parse_row(std::string_view text) const;
  /// The inverse of parse_row: every field as `NAME=VALUE`, enums by label.
  [[nodiscard]] std::string format_row(const TableRow& row) const;
  /// Table words from text, one row per line, either `NAME=VALUE` pairs
  /// (parse_row) or raw uint32 words (decimal or 0x hex, any number per line,
  /// e.g. what `X.TABLE?` printed). Blank lines and `#` comments are skipped.
  /// Throws std::invalid_argument naming the line.
  [[nodiscard]] std::vector<std::uint32_t> words_from_text(std::string_view text) const;
  /// The value of field `i` as text (enum label when known).
  [[nodiscard]] std::string format_value(std::size_t i, std::int64_t v) const;
  /// Parses the text of field `i` (label or number); throws std::invalid_argument.
  [[nodiscard]] std::int64_t parse_value(std::size_t i, std::string_view text) const;

 private:
  std::vector<TableField> fields_;
  unsigned row_words_ = 0;
};

}  // namespace pandafly::panda
