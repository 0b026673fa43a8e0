// load_fly_scan_config(): the file shell over parse_scan_config().
#include "pandafly/scan/scan_config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace pandafly::scan {

ScanConfig load_fly_scan_config(const std::string& path, ScanKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  return parse_scan_config(text.str(), path, kind);
}

}  // namespace pandafly::scan
