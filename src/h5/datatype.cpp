#include "pandafly/h5/datatype.hpp"

#include <bit>

#include "pandafly/h5/error.hpp"

namespace pandafly::h5 {

static_assert(std::endian::native == std::endian::little,
              "file types double as memory types: little-endian hosts only");

std::size_t size_of(Type t) noexcept {
  switch (t) {
    case Type::uint8:
    case Type::int8:
      return 1;
    case Type::int16:
    case Type::uint16:
      return 2;
    case Type::float32:
    case Type::uint32:
    case Type::int32:
      return 4;
    case Type::uint64:
    case Type::int64:
    case Type::float64:
      return 8;
    case Type::int96:
      return 12;
  }
  return 0;
}

std::string_view to_string(Type t) noexcept {
  switch (t) {
    case Type::uint8:
      return "uint8";
    case Type::uint32:
      return "uint32";
    case Type::int32:
      return "int32";
    case Type::uint64:
      return "uint64";
    case Type::int64:
      return "int64";
    case Type::float64:
      return "float64";
    case Type::int96:
      return "int96";
    case Type::int8:
      return "int8";
    case Type::int16:
      return "int16";
    case Type::uint16:
      return "uint16";
    case Type::float32:
      return "float32";
  }
  return "?";
}

namespace {

hid_t predefined(Type t) noexcept {
  switch (t) {
    case Type::uint8:
      return H5T_STD_U8LE;
    case Type::uint32:
      return H5T_STD_U32LE;
    case Type::int32:
      return H5T_STD_I32LE;
    case Type::uint64:
      return H5T_STD_U64LE;
    case Type::int64:
    case Type::int96:  // a compound, made in make_type()
      return H5T_STD_I64LE;
    case Type::float64:
      return H5T_IEEE_F64LE;
    case Type::int8:
      return H5T_STD_I8LE;
    case Type::int16:
      return H5T_STD_I16LE;
    case Type::uint16:
      return H5T_STD_U16LE;
    case Type::float32:
      return H5T_IEEE_F32LE;
  }
  return H5T_STD_I64LE;
}

Handle copy_type(hid_t type) {
  return {call({"H5Tcopy"}, H5Tcopy, type), Kind::datatype};
}

}  // namespace

Handle make_type(Type t) {
  if (t == Type::int96) {  // see datatype.hpp: {lo uint64, hi int32}, 12 bytes packed
    Handle type{call({"H5Tcreate"}, H5Tcreate, H5T_COMPOUND, std::size_t{12}), Kind::datatype};
    call({"H5Tinsert", type.get(), "lo"}, H5Tinsert, type.get(), "lo", std::size_t{0},
         H5T_STD_U64LE);
    call({"H5Tinsert", type.get(), "hi"}, H5Tinsert, type.get(), "hi", std::size_t{8},
         H5T_STD_I32LE);
    return type;
  }
  return copy_type(predefined(t));
}

Handle make_string_type(std::size_t bytes) {
  Handle type = copy_type(H5T_C_S1);
  call({"H5Tset_size"}, H5Tset_size, type.get(), bytes == 0 ? 1 : bytes);
  call({"H5Tset_strpad"}, H5Tset_strpad, type.get(), H5T_STR_NULLPAD);
  return type;
}

Handle make_c_string_type(std::size_t bytes, bool utf8) {
  Handle type = copy_type(H5T_C_S1);
  call({"H5Tset_size"}, H5Tset_size, type.get(), bytes == 0 ? 1 : bytes);
  call({"H5Tset_strpad"}, H5Tset_strpad, type.get(), H5T_STR_NULLTERM);
  call({"H5Tset_cset"}, H5Tset_cset, type.get(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
  return type;
}

bool is_utf8_text(std::string_view text) noexcept {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

Handle make_vlen_string_type() {
  Handle type = copy_type(H5T_C_S1);
  call({"H5Tset_size"}, H5Tset_size, type.get(), H5T_VARIABLE);
  call({"H5Tset_cset"}, H5Tset_cset, type.get(), H5T_CSET_UTF8);
  return type;
}

}  // namespace pandafly::h5
