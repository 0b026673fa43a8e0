#pragma once
// DBR payloads without I/O: a Pv's state encoded as any request type 0–34
// (plain / STS / TIME / GR / CTRL of the seven value types) with any count,
// and a client's WRITE payload of a plain type decoded into the Pv's native
// type (reference channel-access.md §1.5–1.6, §3.6–3.7).
//
// Rules
//   * Layouts are the C structs of §1.6 in network byte order: every numeric
//     member byte-swapped, strings as-is, pad members zero, the payload
//     zero-padded to a multiple of 8.
//   * Count 0 ("autosize") means the current number of valid elements (NORD,
//     possibly 0); a count up to the element count (NELM) gives a zero-filled
//     tail; a larger count is ECA_BADCOUNT.
//   * Conversions: numeric ↔ numeric (floating → integer truncates toward zero
//     and saturates, NaN → 0; integer → integer wraps like a C cast);
//     numeric → string formatted (floating with the PV's precision); ENUM →
//     string is the state string; string → number parses (empty → 0), else
//     the read fails (ECA_GETFAIL) or the write fails (ECA_PUTFAIL); a write
//     to an ENUM PV takes a state string, else an index below the number of
//     states (any index when the PV has no state strings), else ECA_PUTFAIL.
//   * A failed read still produces a well-formed message: zero-filled
//     payload, the ECA status in p1.
//
// Example:
//   std::vector<std::byte> out;
//   auto status = append_dbr_message(out, Command::read_notify, 20, 1, ioid, pv);
//   Elements value;
//   auto eca = decode_put(6, 1, payload, pv, value);   // then pv.put(std::move(value), …)
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/ca/protocol.hpp"
#include "sim/ca/pv.hpp"

namespace pandafly::sim::ca {

/// Request types (db_access.h): classes of seven, then the specials.
inline constexpr std::uint16_t kDbrStsBase = 7, kDbrTimeBase = 14, kDbrGrBase = 21,
                               kDbrCtrlBase = 28, kDbrLastEncodable = 34, kDbrPutAckt = 35,
                               kDbrPutAcks = 36, kDbrStsackString = 37, kDbrClassName = 38,
                               kDbrLastType = 38;
inline constexpr std::size_t kMaxStringSize = 40, kMaxUnitsSize = 8, kMaxEnumStringSize = 26,
                             kMaxEnumStates = 16;

/// Size of the struct for one element, offset and size of the value.
struct DbrLayout {
  std::uint16_t size;
  std::uint16_t value_offset;
  std::uint16_t value_size;
};
/// The layout of request type 0–34; nullopt for anything else.
[[nodiscard]] std::optional<DbrLayout> dbr_layout(std::uint16_t type);
/// libca's dbr_size_n: bytes of `count` elements (count 0 counts as 1).
[[nodiscard]] std::size_t dbr_size_n(const DbrLayout& layout, std::size_t count);

/// Appends `command`(payload, type, n, status, p2) + the DBR payload of `pv`
/// as request `type` with `requested_count` elements (0: autosize). Returns
/// the status written in p1: ECA_NORMAL, ECA_BADTYPE (type 35–38 or > 38),
/// ECA_BADCOUNT (more than NELM) or ECA_GETFAIL (a string not convertible).
std::uint32_t append_dbr_message(std::vector<std::byte>& out, Command command, std::uint16_t type,
                                 std::uint32_t requested_count, std::uint32_t p2, const Pv& pv);

/// Decodes a WRITE / WRITE_NOTIFY payload of plain `type` (0–6) and `count`
/// into `value`, of the PV's native type. Returns ECA_NORMAL, ECA_BADTYPE
/// (not a plain type), ECA_BADCOUNT (0, above NELM, or more than the payload
/// holds) or ECA_PUTFAIL (a string that does not convert, an enum index out
/// of range). A single DBR_STRING may be shorter than 40 bytes (libca sends
/// strlen + 1).
[[nodiscard]] std::uint32_t decode_put(std::uint16_t type, std::uint32_t count,
                                       std::span<const std::byte> payload, const Pv& pv,
                                       Elements& value);

/// The text of a floating value with `precision` digits after the point (as
/// a record's PREC), switching to exponent form for very large or small
/// magnitudes; at most 39 characters.
[[nodiscard]] std::string format_floating(double v, int precision);
/// A number from the text of a DBR_STRING (surrounding blanks allowed; empty → 0).
[[nodiscard]] std::optional<double> parse_number(std::string_view text);

}  // namespace pandafly::sim::ca
