#pragma once
// Design: a PandA's saved state (the `.sav` text of reference §2) — the write
// commands that recreate it, in order: attributes, configuration values,
// single-line metadata, tables (`T<B` + base64 + empty line), multi-line
// metadata (`M<` + lines + empty line).
//
// Example:
//   Design wanted = Design::parse(read_file("flyscan.sav"));
//   Design now = client.run(GetState{}, 5s);
//   client.run(SetState{now.changes_to(wanted)}, 5s);  // only what differs
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/panda/changes.hpp"
#include "pandafly/panda/command.hpp"

namespace pandafly::panda {

class Design {
 public:
  Design() = default;
  explicit Design(std::vector<Request> commands) : commands_(std::move(commands)) {}

  /// Parses `.sav` text. A line whose part before the first `=` contains `<`
  /// starts a multi-line write running to the next empty line (or the end of
  /// the text); any other non-empty line is one write. Throws
  /// std::invalid_argument naming the line number for a read (`X?`), a line
  /// without `=` or `<`, or a line the PandA would refuse (too long, NUL).
  [[nodiscard]] static Design parse(std::string_view text);
  /// The `.sav` text; parse(to_text()) gives the same design.
  [[nodiscard]] std::string to_text() const;

  [[nodiscard]] const std::vector<Request>& commands() const noexcept { return commands_; }
  [[nodiscard]] bool empty() const noexcept { return commands_.empty(); }

  /// The commands of `wanted` that would change this design: those whose
  /// target is not here or holds something else (tables compared by their
  /// words, not their line breaks), plus `X=v` whenever `X.UNITS` is among
  /// them (changing a time field's UNITS rescales its value on the PandA, so
  /// an equal text no longer means an equal duration). Every `*.UNITS`
  /// command comes first, so each value is read in its saved units; the rest
  /// keep `wanted`'s order. A table's `X.QUEUED_LINES=` (read-only status
  /// that `*CHANGES.ATTR` reports, so saved designs hold it) is never among
  /// them. `Design{}.changes_to(d)` is all of `d` in that restore order.
  [[nodiscard]] std::vector<Request> changes_to(const Design& wanted) const;

  /// What a command writes to: the text before its first `=` or `<`.
  [[nodiscard]] static std::string_view target(const Request& r);

  friend bool operator==(const Design&, const Design&) = default;

 private:
  std::vector<Request> commands_;
};

/// Reads the whole design: `*CHANGES=S` (so earlier polling on this
/// connection does not hide anything), then `*CHANGES.ATTR?`, `.CONFIG?`,
/// `.TABLE?`, `.METADATA?` pipelined, then `T.B?` for each table and `M?` for
/// each multi-line metadata value. Fields reported `(error)` are skipped.
class GetState final : public Command<Design> {
 public:
  [[nodiscard]] Step<Design> start() override;
  [[nodiscard]] Step<Design> on_replies(std::span<const Exchange> ex) override;

 private:
  bool fetching_ = false;
  std::vector<Request> commands_;
  std::vector<std::string> tables_;
  std::vector<std::string> multiline_;
};

struct SetStateReport {
  std::size_t sent = 0;              // commands sent
  std::vector<CommandError> errors;  // those the PandA refused, in order
};

/// Sends every command pipelined and reports each refusal (the design is
/// applied as far as the PandA accepts it; an ERR does not stop the rest).
class SetState final : public Command<SetStateReport> {
 public:
  explicit SetState(std::vector<Request> commands) : commands_(std::move(commands)) {}
  explicit SetState(const Design& design) : commands_(design.commands()) {}
  [[nodiscard]] Step<SetStateReport> start() override;
  [[nodiscard]] Step<SetStateReport> on_replies(std::span<const Exchange> ex) override;

 private:
  std::vector<Request> commands_;
};

}  // namespace pandafly::panda
