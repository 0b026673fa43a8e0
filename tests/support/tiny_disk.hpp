#pragma once
// Small file systems mounted at `dir` for as long as they live. For
// full-disk tests: the file system fills for real.
//   TinyDisk  a tmpfs (memory): needs root, or an unprivileged user+mount
//             namespace (`unshare -Urm`)
//   TinyExt4  an ext4 image file on a loop device (a block device: what
//             O_DIRECT writes go to), made with mkfs.ext4 (e2fsprogs): needs root
// A test that cannot mount FAILS (it never passes without running). Test cases
// that use them belong to the doctest suite kNeedsMount (TinyDisk) or
// kNeedsRoot (TinyExt4): the ordinary ctest entries leave those suites out and
// the *_disk_full entries run them through tests/support/with_mounts.sh, which
// provides the privilege or reports the entry SKIPPED (exit 77).
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include <doctest/doctest.h>
#include <sys/mount.h>

namespace pandafly::test {

/// doctest suites of the tests that mount (see the header comment).
inline constexpr const char* kNeedsMount = "needs_mount";
inline constexpr const char* kNeedsRoot = "needs_root";

inline constexpr const char* kHowToMount =
    "run it through ctest (*_disk_full entries: tests/support/with_mounts.sh), as root or in "
    "`unshare -Urm`";

struct TinyDisk {
  std::filesystem::path dir;
  bool mounted = false;  ///< always true once constructed (else the test failed)
  /// `size`: tmpfs's size option, e.g. "1m".
  TinyDisk(std::filesystem::path d, const char* size) : dir(std::move(d)) {
    std::filesystem::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
    if (!mounted) {
      const std::string why = std::string("cannot mount a ") + size + " tmpfs at " + dir.string() +
                              " (" + std::strerror(errno) + "): " + kHowToMount;
      FAIL(why);
    }
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
  bool mounted = false;  ///< always true once constructed (else the test failed)
  /// `megabytes` of ext4 in `image`, mounted at `dir`.
  TinyExt4(std::filesystem::path d, std::filesystem::path img, int megabytes)
      : dir(std::move(d)), image(std::move(img)) {
    std::filesystem::create_directories(dir);
    const std::string make = "truncate -s " + std::to_string(megabytes) + "M '" + image.string() +
                             "' && mkfs.ext4 -q -F '" + image.string() + "' && mount -o loop '" +
                             image.string() + "' '" + dir.string() + "'";
    mounted = std::system(make.c_str()) == 0;
    if (!mounted) {
      const std::string why =
          "cannot make and loop-mount an ext4 image (" + make + "): needs root; " + kHowToMount;
      FAIL(why);
    }
  }
  TinyExt4(const TinyExt4&) = delete;
  TinyExt4& operator=(const TinyExt4&) = delete;
  ~TinyExt4() {
    if (mounted) ::umount(dir.c_str());
  }
};

}  // namespace pandafly::test
