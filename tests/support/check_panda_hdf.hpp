#pragma once
// Runs tests/integration/check_panda_hdf.py (/usr/bin/python3 + h5py: a second,
// independent reader) on a capture file and returns its key=value lines.
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include <doctest/doctest.h>

namespace pandafly::test {

/// key → value of every `key=value` line, plus "output" (everything printed)
/// and "status" (the exit status).
using HdfReport = std::map<std::string, std::string>;

inline HdfReport check_panda_hdf(const std::filesystem::path& file, const std::string& flags = "") {
  const std::string cmd = "/usr/bin/python3 " PANDAFLY_TEST_SCRIPTS "/check_panda_hdf.py '" +
                          file.string() + "' " + flags + " 2>&1";
  HdfReport report;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char line[4096];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string s(line);
    report["output"] += s;
    if (!s.empty() && s.back() == '\n') s.pop_back();
    const auto eq = s.find('=');
    if (eq != std::string::npos) report[s.substr(0, eq)] = s.substr(eq + 1);
  }
  report["status"] = std::to_string(::pclose(pipe));
  return report;
}

}  // namespace pandafly::test
