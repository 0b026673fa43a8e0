#pragma once
// Whole files for the simulator commands: text (design files, persistence) and
// raw float32 arrays (the phantom's true slice).
#include <fstream>
#include <optional>
#include <span>
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

/// Writes `values` as raw little-endian float32 (this machine's order); false
/// when the file cannot be written.
[[nodiscard]] inline bool write_floats(const std::string& path, std::span<const float> values) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size_bytes()));
  out.close();
  return static_cast<bool>(out);
}

}  // namespace pandafly::sim
