#pragma once
// Small file systems mounted at `dir` for as long as they live (tests run as
// root); `mounted` is false, with a doctest MESSAGE saying why, where the
// test may not mount. For full-disk tests: the file system fills for real.
//   TinyDisk  a tmpfs (memory)
//   TinyExt4  an ext4 image file on a loop device (a block device: what
//             O_DIRECT writes go to), made with mkfs.ext4 (e2fsprogs)
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include <doctest/doctest.h>
#include <sys/mount.h>

namespace pandafly::test {

struct TinyDisk {
  std::filesystem::path dir;
  bool mounted = false;
  /// `size`: tmpfs's size option, e.g. "1m".
  TinyDisk(std::filesystem::path d, const char* size) : dir(std::move(d)) {
    std::filesystem::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
    if (!mounted) MESSAGE("skipped: cannot mount a tmpfs (" << std::strerror(errno) << ")");
  }
  TinyDisk(const TinyDisk&) = delete;
  TinyDisk& operator=(const TinyDisk&) = delete;
  ~TinyDisk() {
    if (mounted) ::umount(dir.c_str());
  }
};

struct TinyExt4 {
  std::filesystem::path dir;
  std::filesystem::path image;
  bool mounted = false;
  /// `megabytes` of ext4 in `image`, mounted at `dir`.
  TinyExt4(std::filesystem::path d, std::filesystem::path img, int megabytes)
      : dir(std::move(d)), image(std::move(img)) {
    std::filesystem::create_directories(dir);
    const std::string make = "truncate -s " + std::to_string(megabytes) + "M '" + image.string() +
                             "' && mkfs.ext4 -q -F '" + image.string() + "' && mount -o loop '" +
                             image.string() + "' '" + dir.string() + "'";
    mounted = std::system(make.c_str()) == 0;
    if (!mounted) MESSAGE("skipped: cannot make and loop-mount an ext4 image (" << make << ")");
  }
  TinyExt4(const TinyExt4&) = delete;
  TinyExt4& operator=(const TinyExt4&) = delete;
  ~TinyExt4() {
    if (mounted) ::umount(dir.c_str());
  }
};

}  // namespace pandafly::test
