#pragma once
// What made a scan report (dx::ReportOptions::generator), for the tools that
// write one: "TOOL VERSION, <UTC time now>". The tool's target defines
// PANDAFLY_VERSION (tools/CMakeLists.txt).
#include <chrono>
#include <string>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace pandafly::tools {

inline std::string report_generator(const char* tool) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{} {}, {:%Y-%m-%dT%H:%M:%SZ}", tool, PANDAFLY_VERSION, now);
}

}  // namespace pandafly::tools
