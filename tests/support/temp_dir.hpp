#pragma once
// A scratch directory under the system temp dir, emptied on creation and
// removed with everything in it when the test ends.
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace pandafly::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("pandafly_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace pandafly::test
