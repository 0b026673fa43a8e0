#include "pandafly/h5/handle.hpp"

#include <string>
#include <utility>

#include "pandafly/h5/error.hpp"

namespace pandafly::h5 {
namespace {

struct Closer {
  const char* name;
  herr_t (*fn)(hid_t);
};

Closer closer_for(Kind kind) noexcept {
  switch (kind) {
    case Kind::file:
      return {"H5Fclose", H5Fclose};
    case Kind::group:
      return {"H5Gclose", H5Gclose};
    case Kind::dataset:
      return {"H5Dclose", H5Dclose};
    case Kind::dataspace:
      return {"H5Sclose", H5Sclose};
    case Kind::datatype:
      return {"H5Tclose", H5Tclose};
    case Kind::attribute:
      return {"H5Aclose", H5Aclose};
    case Kind::property_list:
      return {"H5Pclose", H5Pclose};
  }
  return {"H5Oclose", H5Oclose};
}

// The file an object lives in, "" for ids that live in no file.
std::string file_name_of(hid_t id, Kind kind) {
  if (kind == Kind::dataspace || kind == Kind::datatype || kind == Kind::property_list) return {};
  const ssize_t n = H5Fget_name(id, nullptr, 0);
  if (n <= 0) return {};
  std::string name(static_cast<std::size_t>(n) + 1, '\0');
  H5Fget_name(id, name.data(), name.size());
  name.resize(static_cast<std::size_t>(n));
  return name;
}

}  // namespace

Handle::Handle(Handle&& other) noexcept : id_(other.release()), kind_(other.kind_) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    kind_ = other.kind_;
    id_ = other.release();
  }
  return *this;
}

void Handle::reset() noexcept {
  if (id_ < 0) return;
  quiet_this_thread();
  closer_for(kind_).fn(std::exchange(id_, H5I_INVALID_HID));
}

void Handle::close() {
  if (id_ < 0) return;
  quiet_this_thread();
  // Named before closing: afterwards the id means nothing.
  const std::string name = file_name_of(id_, kind_);
  const auto closer = closer_for(kind_);
  if (closer.fn(std::exchange(id_, H5I_INVALID_HID)) < 0) {
    throw_error({closer.name, H5I_INVALID_HID, name});
  }
}

hid_t Handle::release() noexcept {
  return std::exchange(id_, H5I_INVALID_HID);
}

Handle make_property_list(hid_t cls) {
  return {call({"H5Pcreate"}, H5Pcreate, cls), Kind::property_list};
}

}  // namespace pandafly::h5
