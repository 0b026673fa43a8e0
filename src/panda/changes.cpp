#include "pandafly/panda/changes.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>

namespace pandafly::panda {
namespace {

constexpr std::array<std::pair<ChangeGroup, std::string_view>, 8> groups{{
    {ChangeGroup::all, ""},
    {ChangeGroup::config, ".CONFIG"},
    {ChangeGroup::bits, ".BITS"},
    {ChangeGroup::posn, ".POSN"},
    {ChangeGroup::read, ".READ"},
    {ChangeGroup::attr, ".ATTR"},
    {ChangeGroup::table, ".TABLE"},
    {ChangeGroup::metadata, ".METADATA"},
}};

}  // namespace

std::string_view group_suffix(ChangeGroup g) noexcept {
  for (const auto& [group, suffix] : groups) {
    if (group == g) return suffix;
  }
  return "";
}

ChangeGroup parse_group(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "ALL" || upper.empty()) return ChangeGroup::all;
  for (const auto& [group, suffix] : groups) {
    if (!suffix.empty() && suffix.substr(1) == upper) return group;
  }
  throw std::invalid_argument(fmt::format(
      "unknown change group '{}' (expected all, config, bits, posn, read, attr, table or metadata)",
      name));
}

std::optional<std::string> GetChanges::parse_lines(std::span<const std::string> lines,
                                                   Changes& into) {
  for (const auto& line : lines) {
    // Names never contain '=', '<' or ' ': the name is the longest prefix without them.
    const auto cut = line.find_first_of("=< ");
    if (cut == 0 || cut == std::string::npos) return "bad *CHANGES line '" + printable(line) + "'";
    std::string name = line.substr(0, cut);
    const std::string_view rest = std::string_view(line).substr(cut);
    if (rest[0] == '=') {
      into.values.emplace_back(std::move(name), std::string(rest.substr(1)));
    } else if (rest == "<") {
      into.multiline.push_back(std::move(name));
    } else if (rest == " (error)") {
      into.in_error.push_back(std::move(name));
    } else {
      return "bad *CHANGES line '" + printable(line) + "'";
    }
  }
  return std::nullopt;
}

Step<Changes> GetChanges::start() {
  return Step<Changes>::send(Request::read(fmt::format("*CHANGES{}", group_suffix(group_))));
}

Step<Changes> GetChanges::on_replies(std::span<const Exchange> ex) {
  if (fetching_) {
    for (std::size_t i = 0; i < ex.size(); ++i) {
      auto lines = expect_list(ex[i]);
      if (!lines) return Step<Changes>::done(lines.error());
      changes_.multiline_values.emplace_back(changes_.multiline[i], std::move(lines.value()));
    }
    return Step<Changes>::done(std::move(changes_));
  }
  auto lines = expect_list(ex[0]);
  if (!lines) return Step<Changes>::done(lines.error());
  if (auto why = parse_lines(lines.value(), changes_))
    return Step<Changes>::done(malformed(ex[0], *why));
  if (!fetch_ || changes_.multiline.empty()) return Step<Changes>::done(std::move(changes_));
  fetching_ = true;
  std::vector<Request> more;
  for (const auto& name : changes_.multiline) more.push_back(Request::read(name));
  return Step<Changes>::send(std::move(more));
}

Request ResetChanges::request() const {
  return Request::write(fmt::format("*CHANGES{}", group_suffix(group_)),
                        how_ == ChangeReset::report_all ? "S" : "");
}

}  // namespace pandafly::panda
