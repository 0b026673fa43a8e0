#include "pandafly/h5/file.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include "pandafly/h5/direct_driver.hpp"
#include "pandafly/h5/error.hpp"

namespace pandafly::h5 {
namespace {

Handle file_access_for_writing() {
  Handle fapl = make_property_list(H5P_FILE_ACCESS);
  call({"H5Pset_libver_bounds"}, H5Pset_libver_bounds, fapl.get(), H5F_LIBVER_LATEST,
       H5F_LIBVER_LATEST);
  call({"H5Pset_fclose_degree"}, H5Pset_fclose_degree, fapl.get(), H5F_CLOSE_STRONG);
  return fapl;
}

unsigned open_flags(File::Access access) {
  switch (access) {
    case File::Access::read_only:
      return H5F_ACC_RDONLY;
    case File::Access::read_write:
      return H5F_ACC_RDWR;
    case File::Access::swmr_read:
      return H5F_ACC_RDONLY | H5F_ACC_SWMR_READ;
  }
  return H5F_ACC_RDONLY;
}

}  // namespace

bool on_memory_file_system(int fd) noexcept {
  struct statfs fs {};
  return ::fstatfs(fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

File File::create(const std::filesystem::path& path, CreateOptions options) {
  const Handle fapl = file_access_for_writing();
  if (options.alignment > 1) {
    call({"H5Pset_alignment"}, H5Pset_alignment, fapl.get(), options.align_threshold,
         options.alignment);
  }
  if (options.direct_raw_data) use_direct_driver(fapl.get());
  const unsigned flags = options.overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL;
  const std::string name = path.string();
  hid_t id = call({"H5Fcreate", H5I_INVALID_HID, name}, H5Fcreate, name.c_str(), flags, H5P_DEFAULT,
                  fapl.get());
  return {Handle(id, Kind::file), path};
}

File File::open(const std::filesystem::path& path, Access access) {
  const Handle fapl = make_property_list(H5P_FILE_ACCESS);
  call({"H5Pset_fclose_degree"}, H5Pset_fclose_degree, fapl.get(), H5F_CLOSE_STRONG);
  const std::string name = path.string();
  hid_t id = call({"H5Fopen", H5I_INVALID_HID, name}, H5Fopen, name.c_str(), open_flags(access),
                  fapl.get());
  return {Handle(id, Kind::file), path};
}

bool File::clear_status_flags(const std::filesystem::path& path) {
  const std::string name = path.string();
  {
    const Handle fapl = make_property_list(H5P_FILE_ACCESS);
    hbool_t clear = 1;
    call({"H5Pset clear_status_flags", H5I_INVALID_HID, name}, H5Pset, fapl.get(),
         "clear_status_flags", static_cast<void*>(&clear));
    call({"H5Pset_libver_bounds"}, H5Pset_libver_bounds, fapl.get(), H5F_LIBVER_LATEST,
         H5F_LIBVER_LATEST);
    const Handle f(
        call({"H5Fopen", H5I_INVALID_HID, name}, H5Fopen, name.c_str(), H5F_ACC_RDWR, fapl.get()),
        Kind::file);
  }
  try {
    (void)open(path, Access::read_only);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void File::start_swmr_write() {
  call({"H5Fstart_swmr_write", id()}, H5Fstart_swmr_write, id());
}

void File::flush() {
  call({"H5Fflush", id()}, H5Fflush, id(), H5F_SCOPE_LOCAL);
}

std::uint64_t File::size() const {
  hsize_t bytes = 0;
  call({"H5Fget_filesize", id()}, H5Fget_filesize, id(), &bytes);
  return bytes;
}

int File::descriptor() const {
  void* handle = nullptr;
  call({"H5Fget_vfd_handle", id()}, H5Fget_vfd_handle, id(), H5P_DEFAULT, &handle);
  return handle ? *static_cast<int*>(handle) : -1;
}

void File::close() {
  handle_.close();
}

Handle create_group(hid_t loc, const std::string& name) {
  const Handle lcpl = make_property_list(H5P_LINK_CREATE);
  call({"H5Pset_create_intermediate_group"}, H5Pset_create_intermediate_group, lcpl.get(), 1U);
  hid_t id = call({"H5Gcreate2", loc, name}, H5Gcreate2, loc, name.c_str(), lcpl.get(), H5P_DEFAULT,
                  H5P_DEFAULT);
  return {id, Kind::group};
}

Handle open_group(hid_t loc, const std::string& name) {
  return {call({"H5Gopen2", loc, name}, H5Gopen2, loc, name.c_str(), H5P_DEFAULT), Kind::group};
}

bool exists(hid_t loc, const std::string& name) {
  return call({"H5Lexists", loc, name}, H5Lexists, loc, name.c_str(), H5P_DEFAULT) > 0;
}

bool path_exists(hid_t loc, const std::string& path) {
  for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (prefix != "/" && !prefix.empty() && !exists(loc, prefix)) return false;
    if (end == std::string::npos) return true;
  }
}

void create_hard_link(hid_t loc, const std::string& target, const std::string& name) {
  const Handle lcpl = make_property_list(H5P_LINK_CREATE);
  call({"H5Pset_create_intermediate_group"}, H5Pset_create_intermediate_group, lcpl.get(), 1U);
  call({"H5Lcreate_hard", loc, name}, H5Lcreate_hard, loc, target.c_str(), loc, name.c_str(),
       lcpl.get(), H5P_DEFAULT);
}

}  // namespace pandafly::h5
