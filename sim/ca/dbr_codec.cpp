#include "sim/ca/dbr_codec.hpp"

// Why the shape: a request type is (class, value type); the class decides the
// members before the value (status, stamp, units, limits, enum strings), the
// value type their sizes. Values are converted element by element straight
// into the output buffer (strings through a 40-byte slot), so a 1M-element
// array costs no allocation beyond the output buffer's growth.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

namespace pandafly::sim::ca {

namespace {

enum DbrClass : unsigned { kPlain = 0, kSts = 1, kTime = 2, kGr = 3, kCtrl = 4 };

constexpr std::array<std::uint16_t, 7> kValueSize = {40, 2, 4, 2, 1, 4, 8};
// Offset of the value in each class, per value type (§1.6).
constexpr std::array<std::array<std::uint16_t, 7>, 5> kValueOffset = {{
    {0, 0, 0, 0, 0, 0, 0},
    {4, 4, 4, 4, 5, 4, 8},
    {12, 14, 12, 14, 15, 12, 16},
    {4, 24, 40, 422, 19, 36, 64},
    {4, 28, 48, 422, 21, 44, 80},
}};
constexpr unsigned kString = 0, kFloat = 2, kEnum = 3, kDouble = 6;

// What conversions need of the PV.
struct Ctx {
  int precision;
  const Strings& states;
};

template <class T>
struct Tag {
  using type = T;
};

// Calls fn(Tag<W>) for the C++ type of wire value type `vt` (0–6).
template <class Fn>
decltype(auto) with_wire_type(unsigned vt, Fn&& fn) {
  switch (vt) {
    case 0:
      return fn(Tag<std::string>{});
    case 1:
      return fn(Tag<std::int16_t>{});
    case 2:
      return fn(Tag<float>{});
    case 3:
      return fn(Tag<std::uint16_t>{});
    case 4:
      return fn(Tag<std::uint8_t>{});
    case 5:
      return fn(Tag<std::int32_t>{});
    default:
      return fn(Tag<double>{});
  }
}

// ---------------------------------------------------------------- numbers

// Floating → integer truncates and saturates (NaN → 0); double → float
// overflows to ±inf; integer → integer wraps as a C cast does.
template <class To, class From>
To number_cast(From v) {
  if constexpr (std::is_floating_point_v<To> && std::is_floating_point_v<From>) {
    if constexpr (sizeof(To) < sizeof(From)) {
      if (v > static_cast<From>(std::numeric_limits<To>::max()))
        return std::numeric_limits<To>::infinity();
      if (v < -static_cast<From>(std::numeric_limits<To>::max()))
        return -std::numeric_limits<To>::infinity();
    }
    return static_cast<To>(v);
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else if constexpr (std::is_floating_point_v<From>) {
    if (std::isnan(v)) return To{0};
    if (v <= static_cast<From>(std::numeric_limits<To>::min()))
      return std::numeric_limits<To>::min();
    if (v >= static_cast<From>(std::numeric_limits<To>::max()))
      return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

template <class W>
void write_wire(std::byte* p, W v) {
  if constexpr (std::is_same_v<W, std::int16_t>) {
    put_u16(p, static_cast<std::uint16_t>(v));
  } else if constexpr (std::is_same_v<W, std::uint16_t>) {
    put_u16(p, v);
  } else if constexpr (std::is_same_v<W, std::int32_t>) {
    put_u32(p, static_cast<std::uint32_t>(v));
  } else if constexpr (std::is_same_v<W, std::uint8_t>) {
    p[0] = static_cast<std::byte>(v);
  } else if constexpr (std::is_same_v<W, float>) {
    put_f32(p, v);
  } else {
    static_assert(std::is_same_v<W, double>);
    put_f64(p, v);
  }
}

template <class W>
W read_wire(const std::byte* p) {
  if constexpr (std::is_same_v<W, std::int16_t>) {
    return static_cast<std::int16_t>(get_u16(p));
  } else if constexpr (std::is_same_v<W, std::uint16_t>) {
    return get_u16(p);
  } else if constexpr (std::is_same_v<W, std::int32_t>) {
    return static_cast<std::int32_t>(get_u32(p));
  } else if constexpr (std::is_same_v<W, std::uint8_t>) {
    return std::to_integer<std::uint8_t>(p[0]);
  } else if constexpr (std::is_same_v<W, float>) {
    return get_f32(p);
  } else {
    static_assert(std::is_same_v<W, double>);
    return get_f64(p);
  }
}

// Copies at most `cap - 1` characters and a NUL into a zeroed slot.
void write_text(std::byte* p, std::string_view s, std::size_t cap) {
  std::memcpy(p, s.data(), std::min(s.size(), cap - 1));
}

std::size_t format_floating_to(char* buf, std::size_t cap, double v, int precision) {
  const int prec = std::clamp(precision, 0, 17);
  const bool exponent = std::isfinite(v) && std::fabs(v) >= 1e15;
  const auto r = exponent ? fmt::format_to_n(buf, cap, "{:.{}e}", v, prec)
                          : fmt::format_to_n(buf, cap, "{:.{}f}", v, prec);
  return std::min(r.size, cap);
}

// One element as text into a 40-byte slot (numbers formatted, enum → state).
template <class N>
void format_element(std::byte* slot, const N& v, const Ctx& ctx) {
  std::array<char, kMaxStringSize> buf{};
  std::size_t n = 0;
  if constexpr (std::is_same_v<N, std::string>) {
    return write_text(slot, v, kMaxStringSize);
  } else if constexpr (std::is_same_v<N, std::uint16_t>) {  // the native ENUM type
    if (v < ctx.states.size()) return write_text(slot, ctx.states[v], kMaxStringSize);
    n = fmt::format_to_n(buf.data(), buf.size() - 1, "{}", unsigned{v}).size;
  } else if constexpr (std::is_floating_point_v<N>) {
    n = format_floating_to(buf.data(), buf.size() - 1, static_cast<double>(v), ctx.precision);
  } else {
    n = fmt::format_to_n(buf.data(), buf.size() - 1, "{}", static_cast<long long>(v)).size;
  }
  write_text(slot, std::string_view(buf.data(), std::min(n, buf.size() - 1)), kMaxStringSize);
}

template <class W, class N>
std::optional<W> to_number(const N& v) {
  if constexpr (std::is_same_v<N, std::string>) {
    auto d = parse_number(v);
    if (!d) return std::nullopt;
    return number_cast<W>(*d);
  } else {
    return number_cast<W>(v);
  }
}

// ---------------------------------------------------------------- encoding

// Writes elements [0, min(n, NORD)) of `src` as wire type W; the tail stays zero.
template <class W, class N>
bool encode_values(std::byte* dst, const std::vector<N>& src, std::size_t n, const Ctx& ctx) {
  const std::size_t valid = std::min(n, src.size());
  for (std::size_t i = 0; i < valid; ++i) {
    if constexpr (std::is_same_v<W, std::string>) {
      format_element(dst + i * kMaxStringSize, src[i], ctx);
    } else {
      auto w = to_number<W>(src[i]);
      if (!w) return false;
      write_wire<W>(dst + i * sizeof(W), *w);
    }
  }
  return true;
}

void write_enum_strings(std::byte* p, const Strings& states) {
  const std::size_t n = std::min(states.size(), kMaxEnumStates);
  put_u16(p, static_cast<std::uint16_t>(n));
  for (std::size_t i = 0; i < n; ++i)
    write_text(p + 2 + i * kMaxEnumStringSize, states[i], kMaxEnumStringSize);
}

// GR/CTRL members of a numeric value type: [precision, pad,] units, limits.
void write_graphics(std::byte* p, unsigned vt, bool ctrl, const Metadata& m) {
  const bool floating = vt == kFloat || vt == kDouble;
  if (floating) put_u16(p, static_cast<std::uint16_t>(m.precision));
  std::byte* units = p + (floating ? 4 : 0);
  write_text(units, m.units, kMaxUnitsSize);
  const std::array<double, 8> limits = {m.upper_disp,    m.lower_disp,    m.upper_alarm,
                                        m.upper_warning, m.lower_warning, m.lower_alarm,
                                        m.upper_ctrl,    m.lower_ctrl};
  with_wire_type(vt, [&](auto tag) {
    using W = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<W, std::string>) {
      std::byte* at = units + kMaxUnitsSize;
      for (std::size_t i = 0; i < (ctrl ? 8u : 6u); ++i)
        write_wire<W>(at + i * sizeof(W), number_cast<W>(limits[i]));
    }
  });
}

// The members before the value; `p` is the start of the zeroed struct.
void write_members(std::byte* p, unsigned cls, unsigned vt, const Pv& pv) {
  if (cls == kPlain) return;
  put_u16(p, pv.alarm().status);
  put_u16(p + 2, pv.alarm().severity);
  if (cls == kSts) return;
  if (cls == kTime) {
    put_u32(p + 4, pv.stamp().sec);
    put_u32(p + 8, pv.stamp().nsec);
    return;
  }
  if (vt == kString) return;  // GR/CTRL string = STS string
  if (vt == kEnum) return write_enum_strings(p + 4, pv.metadata().enum_strings);
  write_graphics(p + 4, vt, cls == kCtrl, pv.metadata());
}

bool encode_value(std::byte* dst, unsigned vt, std::size_t n, const Pv& pv) {
  const Ctx ctx{pv.metadata().precision, pv.metadata().enum_strings};
  return with_wire_type(vt, [&](auto tag) {
    using W = typename decltype(tag)::type;
    return std::visit([&](const auto& src) { return encode_values<W>(dst, src, n, ctx); },
                      pv.value());
  });
}

// ---------------------------------------------------------------- decoding

template <class W>
W wire_element(std::span<const std::byte> payload, std::size_t i) {
  if constexpr (std::is_same_v<W, std::string>) {
    const std::size_t from = std::min(payload.size(), i * kMaxStringSize);
    const std::size_t to = std::min(payload.size(), from + kMaxStringSize);
    return std::string(payload_string(payload.subspan(from, to - from)));
  } else {
    return read_wire<W>(payload.data() + i * sizeof(W));
  }
}

// An enum index from a wire value: a state string, else a number below the
// number of states (any u16 when the PV has none).
template <class W>
std::optional<std::uint16_t> to_enum_index(const W& w, const Ctx& ctx) {
  double d = 0;
  if constexpr (std::is_same_v<W, std::string>) {
    const auto it = std::find(ctx.states.begin(), ctx.states.end(), w);
    if (it != ctx.states.end()) return static_cast<std::uint16_t>(it - ctx.states.begin());
    const auto parsed = parse_number(w);
    if (!parsed || *parsed != std::floor(*parsed)) return std::nullopt;
    d = *parsed;
  } else {
    d = static_cast<double>(w);
  }
  const double limit = ctx.states.empty() ? 65536.0 : static_cast<double>(ctx.states.size());
  if (!(d >= 0 && d < limit)) return std::nullopt;
  return static_cast<std::uint16_t>(d);
}

template <class N, class W>
std::optional<N> from_wire(const W& w, const Ctx& ctx) {
  if constexpr (std::is_same_v<N, std::uint16_t>) {  // the native ENUM type
    return to_enum_index(w, ctx);
  } else if constexpr (std::is_same_v<N, std::string>) {
    if constexpr (std::is_same_v<W, std::string>) {
      return w.substr(0, kMaxStringSize - 1);
    } else {
      std::array<std::byte, kMaxStringSize> slot{};
      format_element(slot.data(), w, Ctx{ctx.precision, {}});
      return std::string(payload_string(slot));
    }
  } else {
    return to_number<N>(w);
  }
}

template <class W, class N>
bool decode_values(std::span<const std::byte> payload, std::size_t count, std::vector<N>& dst,
                   const Ctx& ctx) {
  dst.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto v = from_wire<N>(wire_element<W>(payload, i), ctx);
    if (!v) return false;
    dst.push_back(std::move(*v));
  }
  return true;
}

Elements empty_of(DbrType t) {
  switch (t) {
    case DbrType::string:
      return Strings{};
    case DbrType::short_:
      return Shorts{};
    case DbrType::float_:
      return Floats{};
    case DbrType::enum_:
      return Enums{};
    case DbrType::char_:
      return Chars{};
    case DbrType::long_:
      return Longs{};
    case DbrType::double_:
      break;
  }
  return Doubles{};
}

}  // namespace

std::optional<DbrLayout> dbr_layout(std::uint16_t type) {
  if (type > kDbrLastEncodable) return std::nullopt;
  const unsigned cls = type / 7u, vt = type % 7u;
  const std::uint16_t offset = kValueOffset[cls][vt];
  const std::uint16_t size = kValueSize[vt];
  return DbrLayout{static_cast<std::uint16_t>(offset + size), offset, size};
}

std::size_t dbr_size_n(const DbrLayout& layout, std::size_t count) {
  return count == 0 ? layout.size : layout.size + (count - 1) * layout.value_size;
}

std::uint32_t append_dbr_message(std::vector<std::byte>& out, Command command, std::uint16_t type,
                                 std::uint32_t requested_count, std::uint32_t p2, const Pv& pv) {
  const auto layout = dbr_layout(type);
  if (!layout) {
    (void)append_message(out, command, 0, type, requested_count, kEcaBadType, p2);
    return kEcaBadType;
  }
  std::uint32_t status = kEcaNormal;
  std::size_t n = requested_count == 0 ? pv.count() : requested_count;
  if (requested_count > pv.max_count()) {
    status = kEcaBadCount;
    n = 0;
  }
  const std::size_t start = out.size();
  const std::size_t at = append_message(out, command, dbr_size_n(*layout, n), type,
                                        static_cast<std::uint32_t>(n), status, p2);
  if (status != kEcaNormal) return status;
  const unsigned cls = type / 7u, vt = type % 7u;
  write_members(out.data() + at, cls, vt, pv);
  if (!encode_value(out.data() + at + layout->value_offset, vt, n, pv)) {
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(at), out.end(), std::byte{0});
    put_u32(out.data() + start + 8, kEcaGetFail);  // p1 is at offset 8 of either header
    return kEcaGetFail;
  }
  return status;
}

std::uint32_t decode_put(std::uint16_t type, std::uint32_t count,
                         std::span<const std::byte> payload, const Pv& pv, Elements& value) {
  if (type > kDouble) return kEcaBadType;
  if (count == 0 || count > pv.max_count()) return kEcaBadCount;
  const bool single_string = type == kString && count == 1;
  if (!single_string && payload.size() / kValueSize[type] < count) return kEcaBadCount;
  const Ctx ctx{pv.metadata().precision, pv.metadata().enum_strings};
  value = empty_of(pv.native_type());
  const bool ok = with_wire_type(type, [&](auto tag) {
    using W = typename decltype(tag)::type;
    return std::visit([&](auto& dst) { return decode_values<W>(payload, count, dst, ctx); }, value);
  });
  return ok ? kEcaNormal : kEcaPutFail;
}

std::string format_floating(double v, int precision) {
  std::array<char, kMaxStringSize> buf{};
  const std::size_t n = format_floating_to(buf.data(), buf.size() - 1, v, precision);
  return std::string(buf.data(), n);
}

std::optional<double> parse_number(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  if (text.empty()) return 0.0;
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  // Hexadecimal integers as EPICS' string conversions accept them (0x1F).
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    unsigned long long u = 0;
    const auto r = std::from_chars(text.data() + 2, text.data() + text.size(), u, 16);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size()) return std::nullopt;
    return static_cast<double>(u);
  }
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc{} || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace pandafly::sim::ca
