#include "pandafly/panda/design.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/panda/base64.hpp"

namespace pandafly::panda {
namespace {

constexpr std::string_view units_suffix = ".UNITS";
// A table's QUEUED_LINES is read-only status that *CHANGES.ATTR reports (so
// saved designs hold it, as GetState of pandablocks-client does); the PandA
// refuses a write to it, so a restore leaves it out.
constexpr std::string_view queued_lines_suffix = ".QUEUED_LINES";

bool is_base64_table(const Request& r) {
  return r.multiline && r.line.ends_with("<B");
}

// Two commands to the same target write the same thing.
bool same_content(const Request& a, const Request& b) {
  if (is_base64_table(a) && is_base64_table(b)) {
    const auto wa = base64::decode_words(a.data);
    const auto wb = base64::decode_words(b.data);
    if (wa && wb) return *wa == *wb;
  }
  return a == b;
}

}  // namespace

std::string_view Design::target(const Request& r) {
  const std::string_view line = r.line;
  return line.substr(0, line.find_first_of("=<"));
}

Design Design::parse(std::string_view text) {
  std::vector<Request> commands;
  std::size_t number = 0;
  Request* open = nullptr;  // the multi-line write being collected
  while (!text.empty()) {
    const auto lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    ++number;
    if (open) {
      if (line.empty()) {
        open = nullptr;
      } else {
        open->data.emplace_back(line);
      }
      continue;
    }
    if (line.empty()) continue;
    const auto eq = line.find('=');
    const auto lt = line.find('<');
    const auto q = line.find('?');
    if (q != std::string_view::npos && q < std::min(eq, lt)) {
      throw std::invalid_argument(
          fmt::format("line {}: '{}' is a read, not a write", number, printable(line)));
    }
    if (eq == std::string_view::npos && lt == std::string_view::npos) {
      throw std::invalid_argument(
          fmt::format("line {}: '{}' is not NAME=VALUE or NAME<", number, printable(line)));
    }
    commands.push_back(lt < eq ? Request{std::string(line), {}, true} : Request::raw(line));
    if (auto why = commands.back().problem())
      throw std::invalid_argument(fmt::format("line {}: {}", number, *why));
    if (lt < eq) open = &commands.back();
  }
  for (const auto& c : commands) {
    if (auto why = c.problem())
      throw std::invalid_argument(fmt::format("'{}': {}", printable(c.line), *why));
  }
  return Design(std::move(commands));
}

std::string Design::to_text() const {
  std::string out;
  for (const auto& c : commands_) c.encode_to(out);
  return out;
}

std::vector<Request> Design::changes_to(const Design& wanted) const {
  std::map<std::string_view, const Request*> now;
  for (const auto& c : commands_) now[target(c)] = &c;
  const auto differs = [&now](const Request& c) {
    const auto it = now.find(target(c));
    return it == now.end() || !same_content(*it->second, c);
  };
  // Fields whose UNITS this restore changes: their value text means another
  // duration now, so it is sent again even when it reads the same.
  std::set<std::string_view> rescaled;
  for (const auto& c : wanted.commands_) {
    const auto t = target(c);
    if (t.ends_with(units_suffix) && differs(c))
      rescaled.insert(t.substr(0, t.size() - units_suffix.size()));
  }
  std::vector<Request> out;
  for (const auto& c : wanted.commands_) {
    if (target(c).ends_with(queued_lines_suffix)) continue;
    if (differs(c) || rescaled.contains(target(c))) out.push_back(c);
  }
  // UNITS first: a value is converted with the UNITS in force when it arrives.
  std::stable_partition(out.begin(), out.end(),
                        [](const Request& c) { return target(c).ends_with(units_suffix); });
  return out;
}

// ---------------------------------------------------------------- GetState

Step<Design> GetState::start() {
  return Step<Design>::send({Request::write("*CHANGES", "S"), Request::read("*CHANGES.ATTR"),
                             Request::read("*CHANGES.CONFIG"), Request::read("*CHANGES.TABLE"),
                             Request::read("*CHANGES.METADATA")});
}

Step<Design> GetState::on_replies(std::span<const Exchange> ex) {
  if (fetching_) {
    for (std::size_t i = 0; i < ex.size(); ++i) {
      auto lines = expect_list(ex[i]);
      if (!lines) return Step<Design>::done(lines.error());
      const bool table = i < tables_.size();
      const auto& name = table ? tables_[i] : multiline_[i - tables_.size()];
      commands_.push_back(Request::write_lines(name, table ? "B" : "", std::move(lines.value())));
    }
    return Step<Design>::done(Design(std::move(commands_)));
  }
  if (auto err = first_error(ex)) return Step<Design>::done(std::move(*err));
  Changes attr, config, table, meta;
  Changes* parts[] = {&attr, &config, &table, &meta};
  for (std::size_t i = 0; i < 4; ++i) {
    if (auto why = GetChanges::parse_lines(ex[i + 1].reply.lines, *parts[i])) {
      return Step<Design>::done(malformed(ex[i + 1], *why));
    }
  }
  for (const Changes* c : {&attr, &config, &meta}) {
    for (const auto& [name, value] : c->values) commands_.push_back(Request::write(name, value));
  }
  tables_ = std::move(table.multiline);
  multiline_ = std::move(meta.multiline);
  std::vector<Request> more;
  for (const auto& t : tables_) more.push_back(Request::read(t + ".B"));
  for (const auto& m : multiline_) more.push_back(Request::read(m));
  if (more.empty()) return Step<Design>::done(Design(std::move(commands_)));
  fetching_ = true;
  return Step<Design>::send(std::move(more));
}

// ---------------------------------------------------------------- SetState

Step<SetStateReport> SetState::start() {
  if (commands_.empty()) return Step<SetStateReport>::done(SetStateReport{});
  return Step<SetStateReport>::send(std::move(commands_));
}

Step<SetStateReport> SetState::on_replies(std::span<const Exchange> ex) {
  SetStateReport report;
  report.sent = ex.size();
  for (const auto& e : ex) {
    if (e.reply.kind != Reply::Kind::ok) report.errors.push_back(error_from(e));
  }
  return Step<SetStateReport>::done(std::move(report));
}

}  // namespace pandafly::panda
