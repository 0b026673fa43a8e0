#pragma once
// Table commands: write (`<`, `<B`, append `<<`, last append `<<|`), read
// (`X?` decimal or `X.B?` base64) and the row layout of a table field.
#include <cstdint>
#include <string>
#include <vector>

#include "pandafly/panda/command.hpp"
#include "pandafly/panda/table.hpp"

namespace pandafly::panda {

enum class TableMode {
  replace,      ///< `X<`: the table becomes these words (no words: the table is cleared)
  append,       ///< `X<<`: streaming append (server ≥ 4.0 with DMA tables)
  append_last,  ///< `X<<|`: the last streaming append
};
enum class TableEncoding {
  base64,  ///< `<B`, 48 bytes per line (what the server emits; compact)
  ascii,   ///< decimal words, several per line (never zero-padded: the server reads octal)
};

/// Writes uint32 words to a table field.
class TablePut final : public SingleCommand<Ack> {
 public:
  TablePut(std::string name, std::vector<std::uint32_t> words, TableMode mode = TableMode::replace,
           TableEncoding encoding = TableEncoding::base64)
      : name_(std::move(name)), words_(std::move(words)), mode_(mode), encoding_(encoding) {}

 protected:
  [[nodiscard]] Request request() const override;
  [[nodiscard]] Result<Ack> parse(const Exchange& ex) const override { return expect_ok(ex); }

 private:
  std::string name_;
  std::vector<std::uint32_t> words_;
  TableMode mode_;
  TableEncoding encoding_;
};

/// Reads a table field's words.
class TableGet final : public SingleCommand<std::vector<std::uint32_t>> {
 public:
  explicit TableGet(std::string name, TableEncoding encoding = TableEncoding::base64)
      : name_(std::move(name)), encoding_(encoding) {}

 protected:
  [[nodiscard]] Request request() const override;
  [[nodiscard]] Result<std::vector<std::uint32_t>> parse(const Exchange& ex) const override;

 private:
  std::string name_;
  TableEncoding encoding_;
};

/// The row layout of a table field: `X.FIELDS?` and `X.ROW_WORDS?` (computed
/// from the highest bit on servers without it), then the labels of every enum
/// sub-field (`*ENUMS.X[].F?`) and, if asked, every description
/// (`*DESC.X[].F?`, a missing description is empty).
class GetTableLayout final : public Command<TableLayout> {
 public:
  explicit GetTableLayout(std::string name, bool descriptions = false)
      : name_(std::move(name)), descriptions_(descriptions) {}

  [[nodiscard]] Step<TableLayout> start() override;
  [[nodiscard]] Step<TableLayout> on_replies(std::span<const Exchange> exchanges) override;

 private:
  std::string name_;
  bool descriptions_;
  std::optional<TableLayout> layout_;
};

}  // namespace pandafly::panda
