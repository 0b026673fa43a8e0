// The pandafly_direct HDF5 file driver (include/pandafly/h5/direct_driver.hpp).
#include "pandafly/h5/direct_driver.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"

namespace pandafly::h5 {
namespace {

// Offsets HDF5 may use: what off_t can address.
constexpr haddr_t max_address = (haddr_t{1} << (8 * sizeof(off_t) - 1)) - 1;

// One open file. `pub` first: HDF5 sees an H5FD_t*, the driver casts back.
// `fd` second: H5Fget_vfd_handle hands out its address (sec2-compatible handle).
struct DirectFile {
  H5FD_t pub;
  int fd = -1;      // ordinary descriptor: metadata, unaligned data, reads, locks
  int direct = -1;  // O_DIRECT descriptor for whole-page raw data, or -1
  haddr_t eoa = 0;  // end of allocated space (HDF5's)
  haddr_t eof = 0;  // end of the file as written
  dev_t device = 0;
  ino_t inode = 0;
  bool paused = false;  // set_direct_writes(false): everything through the page cache
  DirectStats stats;
};

DirectFile* file_of(H5FD_t* f) {
  return reinterpret_cast<DirectFile*>(f);  // NOLINT: pub is the first member
}
const DirectFile* file_of(const H5FD_t* f) {
  return reinterpret_cast<const DirectFile*>(f);  // NOLINT: pub is the first member
}

// Pushes an error in sec2's words, so that h5::Error finds the errno.
herr_t fail(const char* function, hid_t minor, const char* what, int err) {
  H5Epush2(H5E_DEFAULT, __FILE__, function, __LINE__, H5E_ERR_CLS, H5E_VFL, minor,
           "pandafly_direct: %s, errno = %d, error message = '%s'", what, err, std::strerror(err));
  return -1;
}

bool page_aligned(std::uint64_t value) {
  return value % direct_alignment == 0;
}

H5FD_t* open_file(const char* name, unsigned flags, hid_t /*fapl*/, haddr_t maxaddr) {
  if (name == nullptr || *name == '\0' || maxaddr == 0 || maxaddr > max_address) {
    H5Epush2(H5E_DEFAULT, __FILE__, "open_file", __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_CANTOPENFILE,
             "pandafly_direct: bad file name or address range");
    return nullptr;
  }
  int o_flags = (flags & H5F_ACC_RDWR) != 0 ? O_RDWR : O_RDONLY;
  if ((flags & H5F_ACC_TRUNC) != 0) o_flags |= O_TRUNC;
  if ((flags & H5F_ACC_CREAT) != 0) o_flags |= O_CREAT;
  if ((flags & H5F_ACC_EXCL) != 0) o_flags |= O_EXCL;
  const int fd = ::open(name, o_flags | O_CLOEXEC, 0666);
  if (fd < 0) {
    fail("open_file", H5E_CANTOPENFILE, name, errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("open_file", H5E_CANTOPENFILE, name, err);
    return nullptr;
  }
  auto* f = new DirectFile{};
  f->fd = fd;
  f->eof = static_cast<haddr_t>(st.st_size);
  f->device = st.st_dev;
  f->inode = st.st_ino;
  // Not on tmpfs/ramfs: their files are the page cache, O_DIRECT there only
  // adds work (bench_capture_hdf into /dev/shm: 12 M rows/s direct, 42 M buffered).
  if ((flags & H5F_ACC_RDWR) != 0 && !on_memory_file_system(fd)) {
    f->direct = ::open(name, O_WRONLY | O_DIRECT | O_CLOEXEC);  // -1: buffered only
  }
  return &f->pub;
}

herr_t close_file(H5FD_t* file) {
  DirectFile* f = file_of(file);
  int err = 0;
  if (f->direct >= 0 && ::close(f->direct) != 0) err = errno;
  if (::close(f->fd) != 0 && err == 0) err = errno;
  delete f;
  return err == 0 ? 0 : fail("close_file", H5E_CANTCLOSEFILE, "close", err);
}

int compare(const H5FD_t* a, const H5FD_t* b) {
  const DirectFile* x = file_of(a);
  const DirectFile* y = file_of(b);
  if (x->device != y->device) return x->device < y->device ? -1 : 1;
  if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
  return 0;
}

herr_t query(const H5FD_t* /*file*/, unsigned long* flags) {
  if (flags != nullptr) {
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE |
             H5FD_FEAT_SUPPORTS_SWMR_IO | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  }
  return 0;
}

haddr_t get_eoa(const H5FD_t* file, H5FD_mem_t /*type*/) {
  return file_of(file)->eoa;
}

herr_t set_eoa(H5FD_t* file, H5FD_mem_t /*type*/, haddr_t addr) {
  file_of(file)->eoa = addr;
  return 0;
}

haddr_t get_eof(const H5FD_t* file, H5FD_mem_t /*type*/) {
  return file_of(file)->eof;
}

herr_t get_handle(H5FD_t* file, hid_t /*fapl*/, void** handle) {
  *handle = &file_of(file)->fd;
  return 0;
}

herr_t read_file(H5FD_t* file, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size,
                 void* buffer) {
  const DirectFile* f = file_of(file);
  if (addr > max_address || size > max_address - addr) {
    return fail("read_file", H5E_OVERFLOW, "address out of range", EINVAL);
  }
  auto* out = static_cast<std::byte*>(buffer);
  while (size > 0) {
    const ssize_t n = ::pread(f->fd, out, size, static_cast<off_t>(addr));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("read_file", H5E_READERROR, "pread", errno);
    }
    if (n == 0) {  // past the end of the file: zeros, as HDF5 expects
      std::memset(out, 0, size);
      break;
    }
    out += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  return 0;
}

herr_t write_file(H5FD_t* file, H5FD_mem_t type, hid_t /*dxpl*/, haddr_t addr, size_t size,
                  const void* buffer) {
  DirectFile* f = file_of(file);
  if (addr > max_address || size > max_address - addr) {
    return fail("write_file", H5E_OVERFLOW, "address out of range", EINVAL);
  }
  const auto* in = static_cast<const std::byte*>(buffer);
  while (size > 0) {
    const bool direct = type == H5FD_MEM_DRAW && f->direct >= 0 && !f->paused &&
                        page_aligned(addr) && page_aligned(size) &&
                        page_aligned(reinterpret_cast<std::uintptr_t>(in));  // NOLINT
    const ssize_t n = ::pwrite(direct ? f->direct : f->fd, in, size, static_cast<off_t>(addr));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (direct && errno == EINVAL) {  // the file system will not: page cache from now on
        ::close(f->direct);
        f->direct = -1;
        continue;
      }
      return fail("write_file", H5E_WRITEERROR, "pwrite", errno);
    }
    if (n == 0) return fail("write_file", H5E_WRITEERROR, "pwrite wrote nothing", ENOSPC);
    (direct ? f->stats.direct_bytes : f->stats.buffered_bytes) += static_cast<std::uint64_t>(n);
    in += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
    if (addr > f->eof) f->eof = addr;
  }
  return 0;
}

herr_t truncate_file(H5FD_t* file, hid_t /*dxpl*/, hbool_t /*closing*/) {
  DirectFile* f = file_of(file);
  if (f->eoa == f->eof) return 0;
  if (::ftruncate(f->fd, static_cast<off_t>(f->eoa)) != 0) {
    return fail("truncate_file", H5E_SEEKERROR, "ftruncate", errno);
  }
  f->eof = f->eoa;
  return 0;
}

herr_t lock_file(H5FD_t* file, hbool_t rw) {
  const int op = (rw != 0 ? LOCK_EX : LOCK_SH) | LOCK_NB;
  if (::flock(file_of(file)->fd, op) == 0 || errno == ENOSYS) return 0;  // no locks here: as sec2
  return fail("lock_file", H5E_CANTLOCKFILE, "flock", errno);
}

herr_t unlock_file(H5FD_t* file) {
  if (::flock(file_of(file)->fd, LOCK_UN) == 0 || errno == ENOSYS) return 0;
  return fail("unlock_file", H5E_CANTUNLOCKFILE, "flock", errno);
}

H5FD_class_t make_class() {
  H5FD_class_t c{};
  c.name = "pandafly_direct";
  c.maxaddr = max_address;
  c.fc_degree = H5F_CLOSE_WEAK;
  c.open = open_file;
  c.close = close_file;
  c.cmp = compare;
  c.query = query;
  c.get_eoa = get_eoa;
  c.set_eoa = set_eoa;
  c.get_eof = get_eof;
  c.get_handle = get_handle;
  c.read = read_file;
  c.write = write_file;
  c.truncate = truncate_file;
  c.lock = lock_file;
  c.unlock = unlock_file;
  const H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
  std::memcpy(c.fl_map, map, sizeof map);
  return c;
}

hid_t driver_id() {
  static const H5FD_class_t cls = make_class();
  static hid_t id = H5I_INVALID_HID;
  if (id < 0 || H5Iis_valid(id) <= 0) {
    id = call({"H5FDregister"}, H5FDregister, &cls);
  }
  return id;
}

}  // namespace

void use_direct_driver(hid_t fapl) {
  call({"H5Pset_driver"}, H5Pset_driver, fapl, driver_id(), nullptr);
}

namespace {

// The driver's own record of an open file; nullptr for files of other drivers.
DirectFile* direct_file(hid_t file) {
  hid_t fapl = H5Fget_access_plist(file);
  if (fapl < 0) return nullptr;
  const hid_t driver = H5Pget_driver(fapl);
  H5Pclose(fapl);
  if (driver < 0 || driver != driver_id()) return nullptr;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr) return nullptr;
  // The handle is &DirectFile::fd (get_handle above).
  return reinterpret_cast<DirectFile*>(  // NOLINT
      static_cast<std::byte*>(handle) - offsetof(DirectFile, fd));
}

}  // namespace

DirectStats direct_stats(hid_t file) {
  const DirectFile* f = direct_file(file);
  if (f == nullptr) return {};
  DirectStats s = f->stats;
  s.direct_available = f->direct >= 0;
  return s;
}

void set_direct_writes(hid_t file, bool on) {
  if (DirectFile* f = direct_file(file)) f->paused = !on;
}

}  // namespace pandafly::h5
