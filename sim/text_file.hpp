#pragma once
// Whole text files for the simulator commands (design files, persistence).
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace pandafly::sim {

/// The file's contents; nullopt when it cannot be opened.
[[nodiscard]] inline std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pandafly::sim
