// CA simulator, wire level: the captured libca ↔ rsrv exchange and the
// extended-header examples of reference channel-access.md §3.1/§3.4 byte for
// byte, DBR sizes and layouts against the §1.6 table, conversions, and
// reassembly of a stream split at every index.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/ca/circuit.hpp"
#include "sim/ca/dbr_codec.hpp"
#include "sim/ca/protocol.hpp"
#include "sim/ca/search.hpp"
#include "sim_ca_test_util.hpp"

namespace {

using namespace pandafly::sim::ca;
using namespace sim_ca_test;

// §1.6, written out independently of the codec: struct sizes and value
// offsets per class (plain, STS, TIME, GR, CTRL) and value type (STRING,
// SHORT, FLOAT, ENUM, CHAR, LONG, DOUBLE).
constexpr int kTableSize[5][7] = {{40, 2, 4, 2, 1, 4, 8},
                                  {44, 6, 8, 6, 6, 8, 16},
                                  {52, 16, 16, 16, 16, 16, 24},
                                  {44, 26, 44, 424, 20, 40, 72},
                                  {44, 30, 52, 424, 22, 48, 88}};
constexpr int kTableOffset[5][7] = {{0, 0, 0, 0, 0, 0, 0},
                                    {4, 4, 4, 4, 5, 4, 8},
                                    {12, 14, 12, 14, 15, 12, 16},
                                    {4, 24, 40, 422, 19, 36, 64},
                                    {4, 28, 48, 422, 21, 44, 80}};
constexpr int kTableValueSize[7] = {40, 2, 4, 2, 1, 4, 8};

// libca's dbr_size_n.
std::size_t libca_dbr_size_n(int type, int count) {
  const int size = kTableSize[type / 7][type % 7];
  return static_cast<std::size_t>(count <= 0 ? size
                                             : size + (count - 1) * kTableValueSize[type % 7]);
}

Parsed read(const Pv& pv, std::uint16_t type, std::uint32_t count) {
  Bytes out;
  (void)append_dbr_message(out, Command::read_notify, type, count, 99, pv);
  auto messages = split(out);
  REQUIRE(messages.size() == 1);
  return messages.front();
}

Metadata precision(std::int16_t digits) {
  Metadata m;
  m.precision = digits;
  return m;
}

std::string text_at(const Bytes& payload, std::size_t offset) {
  return std::string(payload_string(std::span(payload).subspan(offset)));
}

std::uint32_t write(Pv& pv, std::uint16_t type, std::uint32_t count, const Bytes& payload,
                    Elements& value) {
  return decode_put(type, count, payload, pv, value);
}

}  // namespace

TEST_CASE("§3.1 extended header: the CREATE_CHAN reply of a 307 200-element image channel") {
  Bytes out;
  append_create_chan(out, 1, 307200, 1, 0x11);
  CHECK(to_hex(out) ==
        to_hex(hex("00 12 FF FF 00 01 00 00 | 00 00 00 01 | 00 00 00 11 | 00 00 00 00 | "
                   "00 04 B0 00")));
}

TEST_CASE("§3.1 extended header: its READ_NOTIFY reply carries 614 400 data bytes") {
  Pv image("cam:image1:ArrayData", Shorts(307200, 7));
  Bytes out;
  CHECK(append_dbr_message(out, Command::read_notify, 1, 307200, 1, image) == kEcaNormal);
  REQUIRE(out.size() == 24 + 614400);
  CHECK(to_hex(std::span(out).first(24)) ==
        to_hex(hex("00 0F FF FF 00 01 00 00 | 00 00 00 01 | 00 00 00 01 | 00 09 60 00 | "
                   "00 04 B0 00")));
  CHECK(get_u16(out.data() + 24) == 7);
  CHECK(get_u16(out.data() + out.size() - 2) == 7);
}

TEST_CASE("the extended header is used iff the aligned payload or the count reaches 0xFFFF") {
  const auto header_size = [](std::size_t payload, std::uint32_t count) {
    Bytes out;
    const std::size_t at = append_message(out, Command::write, payload, 4, count, 1, 2);
    return at;
  };
  CHECK(header_size(0xFFF8, 1) == 16);
  CHECK(header_size(0xFFF9, 1) == 24);  // aligns to 0x10000
  CHECK(header_size(0, 0xFFFE) == 16);
  CHECK(header_size(0, 0xFFFF) == 24);  // even without payload
  Bytes out;
  (void)append_message(out, Command::write, 3, 4, 3, 1, 2);
  CHECK(out.size() == 24);  // payload padded to 8 with zeros
}

TEST_CASE("§3.4 captured exchange, byte for byte through a circuit") {
  auto db = std::make_shared<PvDatabase>();
  auto velo = std::make_shared<Pv>("micos:m1.VELO", Doubles{10.0});
  velo->set(Doubles{10.0}, EpicsTime{0x45645BDC, 0x07B78ECD});
  db->add(velo);
  CircuitConnection c(db, "test");
  Bytes out;
  c.take_output(out);
  CHECK(to_hex(out) == to_hex(hex("0000 0000 0000 000D 00000000 00000000")));  // VERSION on open

  // cid 1, sid 1 (the first), ioid 2, subid 3.
  c.receive(
      hex("0000 0000 0000 000D 00000000 00000000"                    // VERSION
          "0014 0008 0000 0000 00000000 00000000 726F6F74 00000000"  // CLIENT_NAME
          "0015 0008 0000 0000 00000000 00000000 686F7374 00000000"  // HOST_NAME
          "0012 0010 0000 0000 00000001 0000000D 6D69636F733A6D312E56454C4F000000"));
  c.take_output(out);
  CHECK(to_hex(out) == to_hex(hex("0016 0000 0000 0000 00000001 00000003"      // ACCESS_RIGHTS
                                  "0012 0000 0006 0001 00000001 00000001")));  // CREATE_CHAN
  CHECK(c.client_name() == "root");
  CHECK(c.host_name() == "host");

  c.receive(hex("000F 0000 0014 0001 00000001 00000002"));  // READ_NOTIFY DBR_TIME_DOUBLE
  c.take_output(out);
  // The capture's RISC_pad bytes (00000084) are garbage from rsrv; ours are zero.
  CHECK(to_hex(out) == to_hex(hex("000F 0018 0014 0001 00000001 00000002"
                                  "0000 0000 45645BDC 07B78ECD 00000000 4024000000000000")));

  c.receive(
      hex("0001 0010 0006 0001 00000001 00000003"  // EVENT_ADD DBE_VALUE|DBE_ALARM
          "00000000 00000000 00000000 0005 0000"));
  c.take_output(out);
  CHECK(to_hex(out) == to_hex(hex("0001 0008 0006 0001 00000001 00000003 4024000000000000")));

  c.receive(hex("0013 0008 0006 0001 00000001 00000002 4014000000000000"));  // WRITE_NOTIFY 5.0
  c.take_output(out);
  CHECK(to_hex(out) == to_hex(hex("0013 0000 0006 0001 00000001 00000002"  // WRITE_NOTIFY
                                  "0001 0008 0006 0001 00000001 00000003"  // the monitor
                                  "4014000000000000")));

  c.receive(hex("0002 0000 0006 0001 00000001 00000003"));  // EVENT_CANCEL
  c.take_output(out);
  CHECK(to_hex(out) == to_hex(hex("0001 0000 0006 0001 00000001 00000003")));

  c.receive(hex("000C 0000 0000 0000 00000001 00000001"));  // CLEAR_CHANNEL
  c.take_output(out);
  CHECK(to_hex(out) == to_hex(hex("000C 0000 0000 0000 00000001 00000001")));
  CHECK(c.channel_count() == 0);
  CHECK(!c.closed());
}

TEST_CASE("every DBR type 0-34 has libca's dbr_size_n and the §1.6 value offset, counts 1 and 5") {
  Metadata meta;
  meta.precision = 2;
  Pv pv("x", Doubles{1.5, 2.5, 3.5, 4.5, 5.5}, meta);
  for (std::uint16_t type = 0; type <= 34; ++type) {
    const auto layout = dbr_layout(type);
    REQUIRE(layout);
    CHECK(layout->size == kTableSize[type / 7][type % 7]);
    CHECK(layout->value_offset == kTableOffset[type / 7][type % 7]);
    for (std::uint32_t count : {1u, 5u}) {
      CAPTURE(type);
      CAPTURE(count);
      const Parsed m = read(pv, type, count);
      CHECK(m.header.p1 == kEcaNormal);
      CHECK(m.header.count == count);
      CHECK(m.payload.size() == align8(libca_dbr_size_n(type, static_cast<int>(count))));
      // The last element sits at value_offset + (count-1)·value_size.
      const std::size_t at = static_cast<std::size_t>(kTableOffset[type / 7][type % 7]) +
                             (count - 1) * static_cast<std::size_t>(kTableValueSize[type % 7]);
      const double expected = count == 1 ? 1.5 : 5.5;
      const std::byte* p = m.payload.data() + at;
      switch (type % 7) {
        case 0:
          CHECK(text_at(m.payload, at) == (count == 1 ? "1.50" : "5.50"));
          break;
        case 1:
          CHECK(static_cast<std::int16_t>(get_u16(p)) == static_cast<int>(expected));
          break;
        case 2:
          CHECK(get_f32(p) == static_cast<float>(expected));
          break;
        case 3:
          CHECK(get_u16(p) == static_cast<unsigned>(expected));
          break;
        case 4:
          CHECK(std::to_integer<int>(*p) == static_cast<int>(expected));
          break;
        case 5:
          CHECK(static_cast<std::int32_t>(get_u32(p)) == static_cast<int>(expected));
          break;
        default:
          CHECK(get_f64(p) == expected);
          break;
      }
    }
  }
  CHECK(!dbr_layout(35));
  CHECK(read(pv, 35, 1).header.p1 == kEcaBadType);
  CHECK(read(pv, 38, 1).header.p1 == kEcaBadType);
}

TEST_CASE("GR/CTRL members: status, precision, units, limits in order, enum strings") {
  Metadata m;
  m.units = "mmmmmmmmmm";  // truncated to 7 + NUL
  m.precision = 3;
  m.upper_disp = 1, m.lower_disp = 2, m.upper_alarm = 3, m.upper_warning = 4;
  m.lower_warning = 5, m.lower_alarm = 6, m.upper_ctrl = 7, m.lower_ctrl = 8;
  Pv pv("x", Doubles{2.5}, m);
  pv.set_alarm({4, 1});

  const Parsed d = read(pv, 34, 1);  // DBR_CTRL_DOUBLE
  const std::byte* p = d.payload.data();
  CHECK(get_u16(p) == 4);
  CHECK(get_u16(p + 2) == 1);
  CHECK(get_u16(p + 4) == 3);
  CHECK(text_at(d.payload, 8) == "mmmmmmm");
  for (int i = 0; i < 8; ++i) CHECK(get_f64(p + 16 + 8 * i) == i + 1);
  CHECK(get_f64(p + 80) == 2.5);

  const Parsed s = read(pv, 29, 1);  // DBR_CTRL_SHORT
  CHECK(text_at(s.payload, 4) == "mmmmmmm");
  for (int i = 0; i < 8; ++i) CHECK(get_u16(s.payload.data() + 12 + 2 * i) == i + 1);
  CHECK(get_u16(s.payload.data() + 28) == 2);

  const Parsed c = read(pv, 32, 1);  // DBR_CTRL_CHAR
  for (int i = 0; i < 8; ++i)
    CHECK(std::to_integer<int>(c.payload[12 + static_cast<unsigned>(i)]) == i + 1);
  CHECK(std::to_integer<int>(c.payload[20]) == 0);  // RISC_pad
  CHECK(std::to_integer<int>(c.payload[21]) == 2);

  const Parsed f = read(pv, 23, 1);  // DBR_GR_FLOAT: precision, pad, units, 6 limits, value
  CHECK(get_u16(f.payload.data() + 4) == 3);
  CHECK(get_f32(f.payload.data() + 16 + 4 * 5) == 6.0f);
  CHECK(get_f32(f.payload.data() + 40) == 2.5f);

  Metadata e;
  e.enum_strings = {"Off", "On", "A name longer than twenty-five chars"};
  Pv mode("mode", Enums{1}, e);
  const Parsed g = read(mode, 31, 1);  // DBR_CTRL_ENUM
  CHECK(get_u16(g.payload.data() + 4) == 3);
  CHECK(text_at(g.payload, 6) == "Off");
  CHECK(text_at(g.payload, 6 + 26) == "On");
  CHECK(text_at(g.payload, 6 + 52) == "A name longer than twenty");
  CHECK(get_u16(g.payload.data() + 422) == 1);
  CHECK(get_u16(read(pv, 24, 1).payload.data() + 4) == 0);  // GR_ENUM of a DOUBLE: no strings

  Pv str("s", Strings{std::string(45, 'x')});
  str.set(Strings{std::string(45, 'x')}, EpicsTime{7, 9});
  const Parsed t = read(str, 14, 1);  // DBR_TIME_STRING
  CHECK(get_u32(t.payload.data() + 4) == 7);
  CHECK(get_u32(t.payload.data() + 8) == 9);
  CHECK(text_at(t.payload, 12) == std::string(39, 'x'));
}

TEST_CASE("reads convert: numeric ↔ numeric, numeric → string with PREC, enum → state") {
  Metadata m;
  m.precision = 3;
  Pv d("d", Doubles{3.14159, -3.7, 1e10, -1e10, std::nan(""), 300.0, 1e300, 1e20}, m);
  const auto shorts = read(d, 1, 8);
  CHECK(static_cast<std::int16_t>(get_u16(shorts.payload.data())) == 3);
  CHECK(static_cast<std::int16_t>(get_u16(shorts.payload.data() + 2)) == -3);
  CHECK(static_cast<std::int16_t>(get_u16(shorts.payload.data() + 4)) == 32767);
  CHECK(static_cast<std::int16_t>(get_u16(shorts.payload.data() + 6)) == -32768);
  CHECK(get_u16(shorts.payload.data() + 8) == 0);  // NaN
  const auto longs = read(d, 5, 8);
  CHECK(static_cast<std::int32_t>(get_u32(longs.payload.data() + 12)) ==
        std::numeric_limits<std::int32_t>::min());
  CHECK(std::to_integer<int>(read(d, 4, 8).payload[5]) == 255);
  CHECK(std::isinf(get_f32(read(d, 2, 8).payload.data() + 24)));
  const auto strings = read(d, 0, 8);
  CHECK(text_at(strings.payload, 0) == "3.142");
  CHECK(text_at(strings.payload, 40) == "-3.700");
  CHECK(text_at(strings.payload, 7 * 40) == "1.000e+20");
  CHECK(format_floating(2.5, 0) == "2");
  CHECK(format_floating(1.25, 1) == "1.2");

  Pv l("l", Longs{70000});
  CHECK(get_u16(read(l, 1, 1).payload.data()) == 4464);  // wraps as a C cast
  CHECK(get_f64(read(l, 6, 1).payload.data()) == 70000.0);
  CHECK(text_at(read(l, 0, 1).payload, 0) == "70000");

  Metadata e;
  e.enum_strings = {"Off", "On"};
  Pv en("en", Enums{1}, e);
  CHECK(text_at(read(en, 0, 1).payload, 0) == "On");
  CHECK(get_f64(read(en, 6, 1).payload.data()) == 1.0);
  en.set(Enums{5}, {});
  CHECK(text_at(read(en, 0, 1).payload, 0) == "5");

  Pv s("s", Strings{"42"});
  CHECK(get_u32(read(s, 5, 1).payload.data()) == 42);
  s.set(Strings{""}, {});
  CHECK(get_f64(read(s, 6, 1).payload.data()) == 0.0);
  s.set(Strings{"abc"}, {});
  const auto failed = read(s, 20, 1);
  CHECK(failed.header.p1 == kEcaGetFail);
  CHECK(failed.payload == Bytes(24));
}

TEST_CASE("count 0 is autosize (NORD), a count up to NELM zero-fills, above NELM fails") {
  Pv w("w", Doubles{1, 2, 3}, {}, true, 10);
  auto m = read(w, 6, 0);
  CHECK(m.header.count == 3);
  CHECK(m.payload.size() == 24);
  m = read(w, 6, 5);
  CHECK(m.header.count == 5);
  CHECK(get_f64(m.payload.data() + 16) == 3.0);
  CHECK(get_f64(m.payload.data() + 24) == 0.0);
  CHECK(get_f64(m.payload.data() + 32) == 0.0);
  m = read(w, 6, 11);
  CHECK(m.header.p1 == kEcaBadCount);
  w.set(Doubles{}, {});
  m = read(w, 6, 0);
  CHECK(m.header.p1 == kEcaNormal);
  CHECK(m.header.count == 0);
  CHECK(m.payload == Bytes(8));  // dbr_size_n(DOUBLE, 0) = dbr_size
  CHECK(read(w, 20, 0).payload.size() == 24);
}

TEST_CASE("writes decode any plain type into the native type") {
  Elements v;
  Pv d("d", Doubles{0}, precision(2));
  CHECK(write(d, 0, 1, padded(" 12.5 "), v) == kEcaNormal);
  CHECK(v == Elements{Doubles{12.5}});
  CHECK(write(d, 0, 1, padded("abc"), v) == kEcaPutFail);
  Bytes l(8);
  put_u32(l.data(), 7);
  CHECK(write(d, 5, 1, l, v) == kEcaNormal);
  CHECK(v == Elements{Doubles{7.0}});
  CHECK(write(d, 7, 1, l, v) == kEcaBadType);
  CHECK(write(d, 6, 0, l, v) == kEcaBadCount);
  CHECK(write(d, 6, 2, l, v) == kEcaBadCount);

  Metadata e;
  e.enum_strings = {"Off", "On"};
  Pv en("en", Enums{0}, e);
  CHECK(write(en, 0, 1, padded("On"), v) == kEcaNormal);
  CHECK(v == Elements{Enums{1}});
  CHECK(write(en, 0, 1, padded("1"), v) == kEcaNormal);
  CHECK(v == Elements{Enums{1}});
  CHECK(write(en, 0, 1, padded("NoSuchChoice"), v) == kEcaPutFail);
  CHECK(write(en, 0, 1, padded("2"), v) == kEcaPutFail);
  Bytes s(8);
  put_u16(s.data(), 1);
  CHECK(write(en, 1, 1, s, v) == kEcaNormal);
  put_u16(s.data(), 2);
  CHECK(write(en, 1, 1, s, v) == kEcaPutFail);

  Pv str("s", Strings{""}, precision(2));
  Bytes dbl(8);
  put_f64(dbl.data(), 2.5);
  CHECK(write(str, 6, 1, dbl, v) == kEcaNormal);
  CHECK(v == Elements{Strings{"2.50"}});
  CHECK(write(str, 0, 1, padded("hello"), v) ==
        kEcaNormal);  // 8 bytes: libca's short single string
  CHECK(v == Elements{Strings{"hello"}});

  Pv arr("a", Longs{}, {}, true, 4);
  Bytes shorts(8);
  for (unsigned i = 0; i < 3; ++i)
    put_u16(shorts.data() + 2 * i, static_cast<std::uint16_t>(i + 1));
  CHECK(write(arr, 1, 3, shorts, v) == kEcaNormal);
  CHECK(v == Elements{Longs{1, 2, 3}});
  CHECK(write(arr, 1, 5, shorts, v) == kEcaBadCount);
  CHECK(write(arr, 6, 4, shorts, v) == kEcaBadCount);  // payload shorter than 4 doubles

  Pv c("c", Chars{0});
  CHECK(write(c, 0, 1, padded("65"), v) == kEcaNormal);
  CHECK(v == Elements{Chars{65}});
  CHECK(parse_number("0x1F") == 31.0);
  CHECK(!parse_number("1.5x"));
}

TEST_CASE("MessageReader: the same messages whole, byte by byte and split at every index") {
  const Bytes stream = cat({
      msg(Command::version, 0, 13, 0, 0),
      msg(Command::client_name, 0, 0, 0, 0, padded("root")),
      msg(Command::create_chan, 0, 0, 1, 13, padded("micos:m1.VELO")),
      msg(Command::read_notify, 1, 70000, 1, 2),  // extended although without payload
      msg(Command::write, 6, 1, 1, 1, hex("4014000000000000")),
  });
  const auto take_all = [](MessageReader& r, std::vector<Parsed>& into) {
    std::error_code ec;
    while (auto m = r.next(ec))
      into.push_back({m->header, Bytes(m->payload.begin(), m->payload.end())});
    REQUIRE(!ec);
  };
  std::vector<Parsed> whole;
  MessageReader r0;
  r0.feed(stream);
  take_all(r0, whole);
  REQUIRE(whole.size() == 5);
  CHECK(whole[3].header.count == 70000);
  CHECK(whole[3].header.payload_size == 0);
  CHECK(whole[2].payload == padded("micos:m1.VELO"));

  std::vector<Parsed> bytewise;
  MessageReader r1;
  for (std::byte b : stream) {
    r1.feed(std::span(&b, 1));
    take_all(r1, bytewise);
  }
  CHECK(bytewise.size() == whole.size());
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    CAPTURE(cut);
    std::vector<Parsed> parts;
    MessageReader r;
    r.feed(std::span(stream).first(cut));
    take_all(r, parts);
    r.feed(std::span(stream).subspan(cut));
    take_all(r, parts);
    REQUIRE(parts.size() == whole.size());
    for (std::size_t i = 0; i < parts.size(); ++i) {
      CHECK(parts[i].header == whole[i].header);
      CHECK(parts[i].payload == whole[i].payload);
    }
    CHECK(r.buffered() == 0);
  }
}

TEST_CASE("MessageReader: a large payload fed in pieces; broken framing is an error") {
  Bytes big(0x20000, std::byte{0x5A});
  const Bytes stream = msg(Command::write, 4, 0x20000, 1, 1, big);
  MessageReader r;
  std::error_code ec;
  for (std::size_t at = 0; at < stream.size(); at += 1000) {
    r.feed(std::span(stream).subspan(at, std::min<std::size_t>(1000, stream.size() - at)));
    if (at + 1000 < stream.size()) CHECK(!r.next(ec));
  }
  auto m = r.next(ec);
  REQUIRE(m);
  CHECK(m->payload.size() == 0x20000);
  CHECK(m->header.count == 0x20000);

  MessageReader unaligned;
  unaligned.feed(hex("0004 0005 0006 0001 00000001 00000001 0000000000"));
  CHECK(!unaligned.next(ec));
  CHECK(ec == ProtocolError::unaligned_payload);
  CHECK(!unaligned.next(ec));
  CHECK(ec == ProtocolError::unaligned_payload);  // stays broken

  MessageReader small(64);
  small.feed(msg(Command::write, 4, 72, 1, 1, Bytes(72)));
  CHECK(!small.next(ec));
  CHECK(ec == ProtocolError::payload_too_large);
}

TEST_CASE("datagrams: every message handled; a truncated one reported") {
  const Bytes d = cat({msg(Command::version, 1, 13, 5, 0),
                       msg(Command::search, 5, 13, 7, 7, padded("a")), hex("0006 0008 0005 000D")});
  int n = 0;
  const auto ec = for_each_message(d, [&](const Message&) { ++n; });
  CHECK(n == 2);
  CHECK(ec == ProtocolError::truncated_datagram);
}

TEST_CASE("search: VERSION + a SEARCH reply per served name, nothing for unknown names") {
  auto db = std::make_shared<PvDatabase>();
  db->add(std::make_shared<Pv>("micos:m1.VAL", Doubles{0}));
  db->add(std::make_shared<Pv>("test:x", Longs{0}));
  SearchResponder search(db, 15064);
  Bytes reply;
  const Bytes request = cat({msg(Command::version, 1, 13, 0x1234, 0),
                             msg(Command::search, 5, 13, 7, 7, padded("micos:m1")),
                             msg(Command::search, 5, 13, 8, 8, padded("nobody")),
                             msg(Command::search, 5, 13, 9, 9, padded("test:x"))});
  CHECK(!search.answer(request, reply));
  CHECK(to_hex(reply) == to_hex(hex("0000 0000 0001 000D 00001234 00000000"
                                    "0006 0008 3AD8 0000 FFFFFFFF 00000007 000D000000000000"
                                    "0006 0008 3AD8 0000 FFFFFFFF 00000009 000D000000000000")));
  CHECK(search.names_found() == 2);
  CHECK(!search.answer(cat({msg(Command::version, 1, 13, 1, 0),
                            msg(Command::search, 5, 13, 8, 8, padded("nobody"))}),
                       reply));
  CHECK(reply.empty());
  CHECK(!search.answer(msg(Command::search, kSearchDoReply, 13, 8, 8, padded("nobody")), reply));
  CHECK(to_hex(reply) == to_hex(hex("0000 0000 0001 000D 00000000 00000000"
                                    "000E 0000 000A 000D 00000008 00000008")));
}

TEST_CASE("repeater: a zero-length datagram or REPEATER_REGISTER is confirmed with the client IP") {
  Bytes reply;
  CHECK(answer_repeater({}, 0x7F000001, reply));
  CHECK(to_hex(reply) == to_hex(hex("0011 0000 0000 0000 00000000 7F000001")));
  CHECK(answer_repeater(msg(Command::repeater_register, 0, 0, 0, 0x7F000001), 0x7F000001, reply));
  CHECK(reply.size() == 16);
  CHECK(!answer_repeater(msg(Command::version, 0, 13, 0, 0), 0x7F000001, reply));
  CHECK(reply.empty());
}
