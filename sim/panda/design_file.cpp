#include "sim/panda/design_file.hpp"

#include <variant>

#include "sim/panda/control_connection.hpp"

namespace pandafly::sim {

Status load_design(PandaModel& model, std::string_view text) {
  PandaControlConnection conn(model, "design file");
  std::size_t line_no = 0;
  std::size_t request_line = 0;
  std::string request;
  bool in_table = false;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!in_table) {
      if (line.empty() || line.starts_with('#')) continue;
      request = std::string(line);
      request_line = line_no;
      in_table =
          line.find('<') != std::string_view::npos && line.find('=') == std::string_view::npos;
    } else if (line.empty()) {
      in_table = false;
    }
    const std::string reply = conn.receive(std::string(line) + "\n");
    if (reply.starts_with("ERR"))
      return Error{"line " + std::to_string(request_line) + ": " + request + ": " +
                   reply.substr(4, reply.size() - 5)};
  }
  if (in_table)
    return Error{"line " + std::to_string(request_line) + ": " + request +
                 ": table not ended by an empty line"};
  return Done{};
}

std::string save_design(PandaModel& model) {
  std::string out;
  auto add = [&](const std::string& line) {
    if (line.ends_with(" (error)")) return;
    out += line;
    out += '\n';
  };
  for (const auto& line : model.changes(ChangeGroup::attr, 0)) add(line);
  for (const auto& line : model.changes(ChangeGroup::config, 0)) add(line);
  for (const auto& line : model.changes(ChangeGroup::table, 0)) {
    Field* table = model.find_field(line.substr(0, line.size() - 1));
    if (table == nullptr) continue;
    const auto words = table->get();
    if (!words.ok()) continue;
    add(line);
    for (const auto& w : std::get<std::vector<std::string>>(words.value())) add(w);
    out += '\n';
  }
  for (auto& m : model.metadata()) {
    if (!m.multiline) {
      add("*METADATA." + m.key + "=" + m.value);
      continue;
    }
    add("*METADATA." + m.key + "<");
    for (const auto& l : m.lines) add(l);
    out += '\n';
  }
  return out;
}

}  // namespace pandafly::sim
