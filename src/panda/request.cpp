#include "pandafly/panda/request.hpp"

#include <fmt/format.h>

namespace pandafly::panda {
namespace {

std::optional<std::string> line_problem(std::string_view what, std::string_view line) {
  if (line.empty()) return fmt::format("{} is empty", what);
  for (const char c : line) {
    if (c == '\n') return fmt::format("{} contains a newline", what);
    if (c == '\r') return fmt::format("{} contains a carriage return", what);
    if (c == '\0') return fmt::format("{} contains a NUL byte", what);
  }
  if (line.size() > max_line_length) {
    return fmt::format(
        "{} is {} characters long; the PandA accepts at most {} and drops the "
        "connection on longer lines",
        what, line.size(), max_line_length);
  }
  return std::nullopt;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (const char c : text.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > max) out += "...";
  return out;
}

Request Request::read(std::string_view name) {
  return {std::string(name) + "?", {}, false};
}

Request Request::write(std::string_view name, std::string_view value) {
  std::string line;
  line.reserve(name.size() + 1 + value.size());
  line.append(name).append("=").append(value);
  return {std::move(line), {}, false};
}

Request Request::write_lines(std::string_view name, std::string_view format,
                             std::vector<std::string> lines) {
  return {fmt::format("{}<{}", name, format), std::move(lines), true};
}

Request Request::raw(std::string_view line) {
  return {std::string(line), {}, false};
}

std::optional<std::string> Request::problem() const {
  if (auto p = line_problem("the command line", line)) return p;
  for (std::size_t i = 0; i < data.size(); ++i) {
    // An empty data line would end the multi-line write early.
    if (auto p = line_problem(fmt::format("data line {} of '{}'", i + 1, line), data[i])) return p;
  }
  return std::nullopt;
}

void Request::encode_to(std::string& out) const {
  out.append(line).push_back('\n');
  if (!multiline) return;
  for (const auto& d : data) out.append(d).push_back('\n');
  out.push_back('\n');
}

std::size_t Request::encoded_size() const {
  std::size_t n = line.size() + 1;
  if (!multiline) return n;
  for (const auto& d : data) n += d.size() + 1;
  return n + 1;
}

}  // namespace pandafly::panda
