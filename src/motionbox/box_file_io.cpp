#include "pandafly/motionbox/box_file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pandafly::motionbox {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const char* step, int err) {
  throw FileError(fmt::format("{}: {}: {}", path.string(), step, std::strerror(err)));
}

/// Closes and (unless released) removes the temporary file.
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

void write_all(int fd, const std::string& text, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write the temporary file", errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

BoxFile load_box_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read", errno != 0 ? errno : ENOENT);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(path, "cannot read", errno);
  return BoxFile::parse(text.str(), path.string());
}

void save_box_file(const std::filesystem::path& path, const BoxFile& box) {
  const std::string text = box.dump();
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  TempFile tmp;
  tmp.path = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  tmp.fd = ::mkstemp(tmp.path.data());
  if (tmp.fd < 0) {
    tmp.path.clear();
    fail(path, "cannot create a temporary file next to it", errno);
  }
  struct stat old {};
  const mode_t mode = ::stat(path.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644;
  if (::fchmod(tmp.fd, mode) != 0) fail(path, "cannot set the temporary file's mode", errno);
  write_all(tmp.fd, text, path);
  if (::fsync(tmp.fd) != 0) fail(path, "cannot fsync the temporary file", errno);
  if (::close(tmp.fd) != 0) {
    tmp.fd = -1;
    fail(path, "cannot close the temporary file", errno);
  }
  tmp.fd = -1;
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) fail(path, "cannot rename over", errno);
  tmp.keep = true;
  // The rename is durable once the directory is on disk.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace pandafly::motionbox
