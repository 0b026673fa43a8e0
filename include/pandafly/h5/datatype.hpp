#pragma once
// Element types of pandafly datasets and attributes, and their HDF5 types.
//
// Rules:
//   - File types are little endian. pandafly runs on little-endian hosts only
//     (static_assert in datatype.cpp), so the file type is also the memory
//     type and writes need no conversion.
//   - int96 (a PandA RAW StdDev sum of squares, 12 bytes little endian two's
//     complement) is stored as an HDF5 compound of 12 bytes, packed:
//       lo  uint64 at offset 0  (bits 0..63)
//       hi  int32  at offset 8  (bits 64..95, the sign)
//     value = hi·2^64 + lo, exactly. The bytes are the int96's own bytes (no
//     conversion on write); h5py reads it as the structured dtype
//     [("lo", "<u8"), ("hi", "<i4")], h5dump prints {lo, hi}:
//       d = f["INENC1.VAL.StdDev"][()]
//       v = [int(r["hi"]) * 2**64 + int(r["lo"]) for r in d]
//     (An HDF5 integer of precision 96 is legal but numpy has no such dtype,
//     so h5py refused it: "'<i12' not understood".)
//   - Strings in datasets are fixed length (written under SWMR without heap
//     allocation); string attributes are variable-length UTF-8 (what h5py
//     writes and reads as `str`) — except the C strings of areaDetector's
//     NDFileHDF5 (make_c_string_type, write_c_string_attribute): fixed length
//     including a terminating NUL (H5T_STR_NULLTERM), which h5py reads as
//     numpy.bytes_ and readers written for NDFileHDF5 files (dxchange) decode.
//
// Example:
//   h5::Handle t = h5::make_type(h5::Type::float64);  // a copy of H5T_IEEE_F64LE
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "pandafly/h5/handle.hpp"

namespace pandafly::h5 {

enum class Type {
  uint8,
  uint32,
  int32,
  uint64,
  int64,
  float64,
  int96,
  int8,
  int16,
  uint16,
  float32
};

[[nodiscard]] std::size_t size_of(Type t) noexcept;
[[nodiscard]] std::string_view to_string(Type t) noexcept;

/// A new datatype id for `t`, owned by the caller.
[[nodiscard]] Handle make_type(Type t);
/// A fixed-length, null-padded ASCII string of `bytes` bytes (at least 1).
[[nodiscard]] Handle make_string_type(std::size_t bytes);
/// NDFileHDF5's C string: `bytes` bytes (at least 1) holding the text and its
/// terminating NUL (H5T_STR_NULLTERM); ASCII, or UTF-8 when `utf8`.
[[nodiscard]] Handle make_c_string_type(std::size_t bytes, bool utf8 = false);
/// True if `text` has a byte outside 7-bit ASCII (then its C string type is UTF-8).
[[nodiscard]] bool is_utf8_text(std::string_view text) noexcept;
/// A variable-length UTF-8 string.
[[nodiscard]] Handle make_vlen_string_type();

/// The Type of a C++ arithmetic type (uint8_t, uint32_t, int32_t, uint64_t, int64_t, double;
/// int8_t, int16_t, uint16_t, float for camera pixels).
template <class T>
constexpr Type type_of() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return Type::uint8;
  if constexpr (std::is_same_v<T, std::int8_t>) return Type::int8;
  if constexpr (std::is_same_v<T, std::int16_t>) return Type::int16;
  if constexpr (std::is_same_v<T, std::uint16_t>) return Type::uint16;
  if constexpr (std::is_same_v<T, float>) return Type::float32;
  if constexpr (std::is_same_v<T, std::uint32_t>) return Type::uint32;
  if constexpr (std::is_same_v<T, std::int32_t>) return Type::int32;
  if constexpr (std::is_same_v<T, std::uint64_t>) return Type::uint64;
  if constexpr (std::is_same_v<T, std::int64_t>) return Type::int64;
  if constexpr (std::is_same_v<T, double>) return Type::float64;
}

template <class T>
concept Scalar = std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint32_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint64_t> ||
    std::is_same_v<T, std::int64_t> || std::is_same_v<T, double> ||
    std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::int16_t> ||
    std::is_same_v<T, std::uint16_t> || std::is_same_v<T, float>;

}  // namespace pandafly::h5
