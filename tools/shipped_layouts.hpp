#pragma once
// Where the shipped layouts are, for the tools that default to them: installed
// next to the executable (<prefix>/bin/../share/pandafly/layouts) when they are
// there, else the source tree the build came from (running from the build
// tree). The tool's target defines PANDAFLY_BIN_TO_LAYOUTS and
// PANDAFLY_SOURCE_LAYOUTS_DIR (tools/CMakeLists.txt).
#include <filesystem>
#include <system_error>

namespace pandafly::tools {

inline std::filesystem::path shipped_layouts_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = (exe.parent_path() / PANDAFLY_BIN_TO_LAYOUTS).lexically_normal();
    if (std::filesystem::exists(installed / "dxfile_fly.xml", ec)) return installed;
  }
  return PANDAFLY_SOURCE_LAYOUTS_DIR;
}

}  // namespace pandafly::tools
