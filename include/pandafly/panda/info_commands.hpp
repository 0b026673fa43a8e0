#pragma once
// Introspection: the blocks of the running firmware and the fields of a block
// with every attribute a user needs (reference §1.3, §1.6).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "pandafly/panda/command.hpp"
#include "pandafly/panda/table.hpp"

namespace pandafly::panda {

struct BlockInfo {
  std::string name;         // e.g. "PCOMP"
  unsigned count = 0;       // instances (PCOMP1, PCOMP2)
  std::string description;  // empty when the server has none
};

/// `*BLOCKS?`, then `*DESC.<B>?` for every block (pipelined). A block without
/// a description (`ERR No description set for block`) gets an empty one.
/// Blocks are returned sorted by name (the server's order is hash order).
class GetBlocks final : public Command<std::vector<BlockInfo>> {
 public:
  explicit GetBlocks(bool descriptions = true) : descriptions_(descriptions) {}
  [[nodiscard]] Step<std::vector<BlockInfo>> start() override;
  [[nodiscard]] Step<std::vector<BlockInfo>> on_replies(std::span<const Exchange> ex) override;

 private:
  bool descriptions_;
  std::vector<BlockInfo> blocks_;
};

/// One line of `BLOCK.*?`: `NAME index type [subtype [extra…]]`.
struct FieldListing {
  std::string name;
  int index = 0;     // UI ordering
  std::string type;  // param, read, write, time, bit_out, pos_out, ext_out, bit_mux, pos_mux, table
  std::string subtype;  // uint, int, scalar, bit, action, lut, enum, time, timestamp, samples, bits
  std::vector<std::string> extra;  // e.g. uint max, scalar scale/offset/units, bits N
};

/// `BLOCK.*?`, sorted by index.
class GetFieldList final : public SingleCommand<std::vector<FieldListing>> {
 public:
  explicit GetFieldList(std::string block) : block_(std::move(block)) {}

 protected:
  [[nodiscard]] Request request() const override { return Request::read(block_ + ".*"); }
  [[nodiscard]] Result<std::vector<FieldListing>> parse(const Exchange& ex) const override;

 private:
  std::string block_;
};

/// A field and the attributes its type has (absent ones stay empty).
struct FieldInfo {
  FieldListing listing;
  std::string description;
  std::optional<std::uint64_t> max;         // uint: MAX
  std::optional<std::string> units;         // scalar, pos_out: UNITS; time: current UNITS
  std::optional<double> scale;              // scalar, pos_out
  std::optional<double> offset;             // scalar, pos_out
  std::vector<std::string> labels;          // enum labels; bit_mux/pos_mux choices
  std::vector<std::string> units_labels;    // time: the UNITS choices
  std::vector<std::string> capture_labels;  // pos_out, ext_out: the CAPTURE choices
  std::optional<std::string> capture_word;  // bit_out: e.g. PCAP.BITS0
  std::optional<unsigned> bit_offset;       // bit_out: bit index in that word
  std::optional<std::uint64_t> max_delay;   // bit_mux: MAX_DELAY
  std::vector<std::string> bits;            // ext_out bits: the 32 bit names ("" = unused)
  std::optional<std::uint64_t> max_length;  // table: MAX_LENGTH in words
  std::optional<TableLayout> table;         // table: the row layout with enum labels
};

/// `BLOCK.*?`, then for every field — pipelined in one batch — its
/// description and the attributes of its type (uint MAX; scalar
/// UNITS/SCALE/OFFSET; time UNITS and its labels; enum and mux labels;
/// bit_out CAPTURE_WORD/OFFSET; bit_mux MAX_DELAY; pos_out
/// UNITS/SCALE/OFFSET and CAPTURE labels; ext_out CAPTURE labels and BITS;
/// table MAX_LENGTH/FIELDS/ROW_WORDS), then the table sub-field labels. A
/// missing description is left empty; any other ERR fails the command.
class GetFieldInfo final : public Command<std::vector<FieldInfo>> {
 public:
  explicit GetFieldInfo(std::string block, bool descriptions = true)
      : block_(std::move(block)), descriptions_(descriptions) {}
  [[nodiscard]] Step<std::vector<FieldInfo>> start() override;
  [[nodiscard]] Step<std::vector<FieldInfo>> on_replies(std::span<const Exchange> ex) override;

 private:
  // Applies one reply to the field it was asked for; an error fails the command.
  using Handler = std::function<std::optional<CommandError>(const Exchange&)>;
  void ask(Request r, Handler h);
  void ask_attributes(FieldInfo& f);
  [[nodiscard]] Step<std::vector<FieldInfo>> run_handlers(std::span<const Exchange> ex);

  std::string block_;
  bool descriptions_;
  int phase_ = 0;
  std::vector<FieldInfo> fields_;
  std::vector<Request> batch_;
  std::vector<Handler> handlers_;
};

}  // namespace pandafly::panda
