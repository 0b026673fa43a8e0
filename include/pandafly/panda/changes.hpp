#pragma once
// `*CHANGES[.GROUP]?`: what changed since this connection last asked
// (reference §1.5). Change indexes are per connection and per group.
#include <string>
#include <utility>
#include <vector>

#include "pandafly/panda/command.hpp"

namespace pandafly::panda {

enum class ChangeGroup { all, config, bits, posn, read, attr, table, metadata };
/// The group's suffix in the command (`""`, `".CONFIG"`, ...).
[[nodiscard]] std::string_view group_suffix(ChangeGroup g) noexcept;
/// Parses `config`, `BITS`, `all`, ... (case-insensitive); throws std::invalid_argument.
[[nodiscard]] ChangeGroup parse_group(std::string_view name);

struct Changes {
  std::vector<std::pair<std::string, std::string>> values;  // `!F=v`, in server order
  std::vector<std::string> multiline;  // `!F<`: table or multi-line value changed
  std::vector<std::pair<std::string, std::vector<std::string>>> multiline_values;  // when fetched
  std::vector<std::string> in_error;                                               // `!F (error)`
};

/// `*CHANGES[.GROUP]?`; with `fetch_multiline`, then `F?` for every `F<`
/// (pipelined), giving multiline_values.
class GetChanges final : public Command<Changes> {
 public:
  explicit GetChanges(ChangeGroup group = ChangeGroup::all, bool fetch_multiline = false)
      : group_(group), fetch_(fetch_multiline) {}
  [[nodiscard]] Step<Changes> start() override;
  [[nodiscard]] Step<Changes> on_replies(std::span<const Exchange> ex) override;

  /// Parses the lines of a `*CHANGES` list into `into`; an error names the bad line.
  [[nodiscard]] static std::optional<std::string> parse_lines(std::span<const std::string> lines,
                                                              Changes& into);

 private:
  ChangeGroup group_;
  bool fetch_;
  bool fetching_ = false;
  Changes changes_;
};

enum class ChangeReset {
  mark_seen,   ///< `*CHANGES[.G]=`: only later changes are reported
  report_all,  ///< `*CHANGES[.G]=S`: report everything again, as on a new connection
};
class ResetChanges final : public SingleCommand<Ack> {
 public:
  explicit ResetChanges(ChangeGroup group = ChangeGroup::all,
                        ChangeReset how = ChangeReset::mark_seen)
      : group_(group), how_(how) {}

 protected:
  [[nodiscard]] Request request() const override;
  [[nodiscard]] Result<Ack> parse(const Exchange& ex) const override { return expect_ok(ex); }

 private:
  ChangeGroup group_;
  ChangeReset how_;
};

}  // namespace pandafly::panda
