#include "pandafly/h5/space_reserve.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace pandafly::h5 {
namespace {

bool unsupported(int err) noexcept {
  return err == EOPNOTSUPP || err == ENOSYS || err == EINVAL;
}

}  // namespace

int SpaceReserve::allocate(std::uint64_t from, std::uint64_t to) const noexcept {
  for (;;) {
    const int r = ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                              static_cast<off_t>(to - from));
    if (r == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

std::error_code SpaceReserve::ensure(std::uint64_t end, std::uint64_t bytes) {
  if (!enabled_) return {};
  if (!near_full_ && options_.slack > 0) {
    struct statvfs st {};
    if (::fstatvfs(fd_, &st) == 0 && st.f_bavail * st.f_frsize > options_.slack + bytes) return {};
    near_full_ = true;
  }
  const std::uint64_t need = end + bytes + options_.margin;
  if (need <= reserved_end_) return {};
  // Ask for a step more first (fewer calls); with less room left, for exactly `need`.
  int err = allocate(reserved_end_, need + options_.step);
  if (err == 0) {
    reserved_end_ = need + options_.step;
    return {};
  }
  if (!unsupported(err)) err = allocate(reserved_end_, need);
  if (err == 0) {
    reserved_end_ = need;
    return {};
  }
  if (unsupported(err)) {
    enabled_ = false;
    return {};
  }
  return {err, std::generic_category()};
}

void SpaceReserve::release(const std::filesystem::path& path, std::uint64_t reserved_end) noexcept {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  // Partial blocks at the ends of a punched range are zeroed, not freed: end on
  // a boundary past the reserve (nothing lies beyond it).
  const auto end = static_cast<off_t>((reserved_end + 0xffff) & ~std::uint64_t{0xffff});
  if (::fstat(fd, &st) == 0 && st.st_size < end) {
    ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size, end - st.st_size);
  }
  ::close(fd);
}

}  // namespace pandafly::h5
