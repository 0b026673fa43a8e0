#pragma once
// DBR buffers <-> pandafly::ca values (private to the ca module and its tests).
//
// Rules:
//   - Decoders read a copy of the buffer libca handed to a callback (`bytes`,
//     exactly dbr_size_n(type, count) long) with memcpy: no alignment is
//     assumed and RISC_pad members are never read.
//   - A count of 0 (an empty array from an autosized request) decodes to an
//     empty Value; the metadata in front of the value is still valid.
//   - Buffers shorter than the layout says throw ca::Error(bad_count).
//   - The encoder produces the bytes of a plain DBR_* array for a put; strings
//     longer than 39 bytes throw ca::Error(string_too_big) naming the PV.
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "ca/libca.hpp"
#include "pandafly/ca/value.hpp"

namespace pandafly::ca::dbr {

/// Size, element size and value offset of a DBR type (0..34), from the
/// struct declarations in libca.hpp (the unit tests compare them with libca).
struct Layout {
  std::size_t size = 0;
  std::size_t value_size = 0;
  std::size_t value_offset = 0;
};
[[nodiscard]] Layout layout(libca::chtype type);
/// Bytes of a reply of `count` elements (count 0 counts as one), like dbr_size_n.
[[nodiscard]] std::size_t size_n(libca::chtype type, long count);

/// Value class offsets of the DBR types.
enum class Class : libca::chtype { plain = 0, sts = 7, time = 14, gr = 21, ctrl = 28 };
[[nodiscard]] constexpr libca::chtype type_of(Class c, FieldType t) noexcept {
  return static_cast<libca::chtype>(c) + static_cast<libca::chtype>(t);
}

/// The elements of a reply of any class (plain, STS, TIME, GR, CTRL).
[[nodiscard]] Value decode_value(libca::chtype type, long count, std::span<const std::byte> bytes);
/// A DBR_TIME_* reply: value, time stamp, alarm.
[[nodiscard]] Timed<Value> decode_time(libca::chtype type, long count,
                                       std::span<const std::byte> bytes);
/// A DBR_CTRL_* reply: metadata and first value.
[[nodiscard]] Control decode_control(libca::chtype type, std::span<const std::byte> bytes);

/// A put request: plain DBR type, element count and the data.
struct Encoded {
  libca::chtype type = 0;
  unsigned long count = 0;
  std::vector<std::byte> bytes;
};
[[nodiscard]] Encoded encode(const Value& v, std::string_view pv);

}  // namespace pandafly::ca::dbr
