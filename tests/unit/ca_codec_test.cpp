// DBR buffers <-> ca::Value, built byte by byte at the offsets libca's own
// tables give (not from our structs), plus the value/alarm/time/environment
// helpers. No sockets, no context.
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ca/dbr_codec.hpp"
#include "ca/libca.hpp"
#include "pandafly/ca/environment.hpp"
#include "pandafly/ca/error.hpp"
#include "pandafly/ca/value.hpp"

namespace ca = pandafly::ca;
namespace libca = pandafly::ca::libca;

namespace {

// A zero-filled reply of `count` elements of `type`, sized by libca's tables.
struct Reply {
  Reply(libca::chtype t, long n) : type(t), count(n), bytes(libca::dbr_size_n(t, n)) {}
  template <class T>
  void at(std::size_t offset, T v) {
    std::memcpy(bytes.data() + offset, &v, sizeof v);
  }
  template <class T>
  void element(std::size_t i, T v) {
    at(value_offset() + i * libca::dbr_value_size[static_cast<std::size_t>(type)], v);
  }
  void text(std::size_t offset, std::string_view s) {
    std::memcpy(bytes.data() + offset, s.data(), s.size());
  }
  std::size_t value_offset() const {
    return libca::dbr_value_offset[static_cast<std::size_t>(type)];
  }
  std::span<const std::byte> span() const { return bytes; }

  libca::chtype type;
  long count;
  std::vector<std::byte> bytes;
};

constexpr libca::chtype time_of(ca::FieldType t) {
  return ca::dbr::type_of(ca::dbr::Class::time, t);
}
constexpr libca::chtype ctrl_of(ca::FieldType t) {
  return ca::dbr::type_of(ca::dbr::Class::ctrl, t);
}

}  // namespace

TEST_CASE("DBR_TIME_DOUBLE: value, Unix time stamp, alarm") {
  Reply r(time_of(ca::FieldType::float64), 1);
  r.at<std::int16_t>(0, 3);  // HIHI
  r.at<std::int16_t>(2, 2);  // MAJOR
  r.at<std::uint32_t>(4, 1'000'000'000u);
  r.at<std::uint32_t>(8, 123'456'789u);
  r.at<std::int32_t>(12, 0x5a5a5a5a);  // RISC_pad garbage, as rsrv sends it
  r.element(0, 10.0);
  const auto t = ca::dbr::decode_time(r.type, r.count, r.span());
  CHECK(std::get<std::vector<double>>(t.value) == std::vector<double>{10.0});
  CHECK(t.alarm == ca::Alarm{ca::AlarmStatus::hihi, ca::AlarmSeverity::major});
  CHECK(t.stamp.seconds == 1'000'000'000 + 631'152'000);
  CHECK(t.stamp.nanoseconds == 123'456'789u);
  CHECK(t.stamp.unix_seconds() == doctest::Approx(1'631'152'000.123456789));
}

TEST_CASE("DBR_TIME arrays of every element type") {
  SUBCASE("short") {
    Reply r(time_of(ca::FieldType::int16), 3);
    for (std::size_t i = 0; i < 3; ++i)
      r.element<std::int16_t>(i, static_cast<std::int16_t>(static_cast<int>(i) - 7));
    const auto v = ca::dbr::decode_time(r.type, 3, r.span()).value;
    CHECK(std::get<std::vector<std::int16_t>>(v) == std::vector<std::int16_t>{-7, -6, -5});
  }
  SUBCASE("char (RISC_pad0, RISC_pad1 before the value)") {
    Reply r(time_of(ca::FieldType::uint8), 4);
    r.at<std::uint8_t>(14, 0xEE);
    for (std::size_t i = 0; i < 4; ++i)
      r.element<std::uint8_t>(i, static_cast<std::uint8_t>(250 + i));
    const auto v = ca::dbr::decode_time(r.type, 4, r.span()).value;
    CHECK(std::get<std::vector<std::uint8_t>>(v) == std::vector<std::uint8_t>{250, 251, 252, 253});
  }
  SUBCASE("enum, long, float") {
    Reply e(time_of(ca::FieldType::enumeration), 1);
    e.element<std::uint16_t>(0, 2);
    CHECK(std::get<std::vector<std::uint16_t>>(
              ca::dbr::decode_time(e.type, 1, e.span()).value)[0] == 2);
    Reply l(time_of(ca::FieldType::int32), 2);
    l.element<std::int32_t>(0, -100000);
    l.element<std::int32_t>(1, 7);
    CHECK(std::get<std::vector<std::int32_t>>(ca::dbr::decode_time(l.type, 2, l.span()).value) ==
          std::vector<std::int32_t>{-100000, 7});
    Reply f(time_of(ca::FieldType::float32), 1);
    f.element(0, 0.25f);
    CHECK(std::get<std::vector<float>>(ca::dbr::decode_time(f.type, 1, f.span()).value)[0] ==
          0.25f);
  }
  SUBCASE("strings: NUL-terminated and a full 40 bytes without NUL") {
    Reply r(time_of(ca::FieldType::string), 2);
    r.text(r.value_offset(), "Move");
    const std::string full(40, 'x');
    r.text(r.value_offset() + 40, full);
    const auto v = ca::dbr::decode_time(r.type, 2, r.span()).value;
    CHECK(std::get<std::vector<std::string>>(v) == std::vector<std::string>{"Move", full});
  }
}

TEST_CASE("count 0 (an empty autosized array) decodes to no elements, metadata intact") {
  Reply r(time_of(ca::FieldType::int16), 0);
  r.at<std::int16_t>(0, 17);  // UDF
  r.at<std::int16_t>(2, 3);   // INVALID
  const auto t = ca::dbr::decode_time(r.type, 0, r.span());
  CHECK(ca::size(t.value) == 0);
  CHECK(ca::type_of(t.value) == ca::FieldType::int16);
  CHECK(t.alarm == ca::Alarm{ca::AlarmStatus::udf, ca::AlarmSeverity::invalid});
}

TEST_CASE("malformed buffers and types are errors, not crashes") {
  Reply r(time_of(ca::FieldType::float64), 2);
  const auto short_span = r.span().first(r.bytes.size() - 1);
  CHECK_THROWS_AS((void)ca::dbr::decode_time(r.type, 2, short_span), ca::Error);
  CHECK_THROWS_AS((void)ca::dbr::decode_time(r.type, -1, r.span()), ca::Error);
  try {
    (void)ca::dbr::decode_time(libca::DBR_DOUBLE, 1, r.span());
    FAIL("expected bad_type");
  } catch (const ca::Error& e) {
    CHECK(e.code() == ca::Errc::bad_type);
  }
  CHECK_THROWS_AS((void)ca::dbr::decode_control(time_of(ca::FieldType::float64), r.span()),
                  ca::Error);
  CHECK_THROWS_AS((void)ca::dbr::decode_value(99, 1, r.span()), ca::Error);
}

TEST_CASE("plain and STS replies decode through decode_value") {
  Reply plain(libca::DBR_DOUBLE, 3);
  for (std::size_t i = 0; i < 3; ++i) plain.element(i, 1.5 * static_cast<double>(i));
  CHECK(std::get<std::vector<double>>(ca::dbr::decode_value(plain.type, 3, plain.span())) ==
        std::vector<double>{0.0, 1.5, 3.0});
  Reply sts(ca::dbr::type_of(ca::dbr::Class::sts, ca::FieldType::float64), 1);
  sts.element(0, -2.0);
  CHECK(std::get<std::vector<double>>(ca::dbr::decode_value(sts.type, 1, sts.span()))[0] == -2.0);
}

TEST_CASE("DBR_CTRL_DOUBLE: units, precision, all four limit pairs") {
  Reply r(ctrl_of(ca::FieldType::float64), 1);
  r.at<std::int16_t>(4, 3);  // precision
  r.text(8, "deg");
  const double limits[] = {360, -360, 350, 340, -340, -350, 180, -180};  // GR order, then ctrl
  for (std::size_t i = 0; i < 8; ++i) r.at(16 + 8 * i, limits[i]);
  r.element(0, 12.5);
  const auto c = ca::dbr::decode_control(r.type, r.span());
  CHECK(c.native == ca::FieldType::float64);
  CHECK(c.units == "deg");
  CHECK(c.precision == 3);
  CHECK(c.display_limits == ca::Limits{-360, 360});
  CHECK(c.alarm_limits == ca::Limits{-350, 350});
  CHECK(c.warning_limits == ca::Limits{-340, 340});
  CHECK(c.control_limits == ca::Limits{-180, 180});
  CHECK(std::get<std::vector<double>>(c.value)[0] == 12.5);
}

TEST_CASE("DBR_CTRL_LONG and DBR_CTRL_CHAR have no precision") {
  Reply l(ctrl_of(ca::FieldType::int32), 1);
  l.text(4, "counts");
  l.at<std::int32_t>(12, 1000);  // upper_disp_limit
  l.at<std::int32_t>(40, -5);    // lower_ctrl_limit
  l.element<std::int32_t>(0, 42);
  const auto c = ca::dbr::decode_control(l.type, l.span());
  CHECK_FALSE(c.precision.has_value());
  CHECK(c.units == "counts");
  CHECK(c.display_limits.upper == 1000);
  CHECK(c.control_limits.lower == -5);
  CHECK(std::get<std::vector<std::int32_t>>(c.value)[0] == 42);

  Reply ch(ctrl_of(ca::FieldType::uint8), 1);
  ch.text(4, "12345678");        // 8 bytes, no NUL
  ch.at<std::uint8_t>(18, 200);  // upper_ctrl_limit
  ch.element<std::uint8_t>(0, 9);
  const auto cc = ca::dbr::decode_control(ch.type, ch.span());
  CHECK(cc.units == "12345678");
  CHECK(cc.control_limits.upper == 200);
  CHECK(std::get<std::vector<std::uint8_t>>(cc.value)[0] == 9);
}

TEST_CASE("DBR_CTRL_ENUM: the state strings, clamped to 16") {
  Reply r(ctrl_of(ca::FieldType::enumeration), 1);
  r.at<std::int16_t>(4, 4);
  const char* names[] = {"Stop", "Pause", "Move", "Go"};
  for (std::size_t i = 0; i < 4; ++i) r.text(6 + 26 * i, names[i]);
  r.element<std::uint16_t>(0, 3);
  auto c = ca::dbr::decode_control(r.type, r.span());
  CHECK(c.enum_strings == std::vector<std::string>{"Stop", "Pause", "Move", "Go"});
  CHECK(std::get<std::vector<std::uint16_t>>(c.value)[0] == 3);

  r.at<std::int16_t>(4, 99);
  r.text(6, std::string(26, 'A'));
  c = ca::dbr::decode_control(r.type, r.span());
  CHECK(c.enum_strings.size() == 16);
  CHECK(c.enum_strings[0] == std::string(26, 'A'));
}

TEST_CASE("encode: plain DBR arrays for puts") {
  auto d = ca::dbr::encode(std::vector<double>{1.0, 2.0}, "pv");
  CHECK(d.type == libca::DBR_DOUBLE);
  CHECK(d.count == 2);
  REQUIRE(d.bytes.size() == 16);
  double second = 0;
  std::memcpy(&second, d.bytes.data() + 8, 8);
  CHECK(second == 2.0);

  auto e = ca::dbr::encode(std::vector<std::uint16_t>{2}, "pv");
  CHECK(e.type == libca::DBR_ENUM);
  auto s = ca::dbr::encode(std::vector<std::string>{"Multiple", std::string(39, 'y')}, "pv");
  CHECK(s.type == libca::DBR_STRING);
  REQUIRE(s.bytes.size() == 80);
  CHECK(std::string(reinterpret_cast<const char*>(s.bytes.data())) == "Multiple");
  CHECK(s.bytes[39] == std::byte{0});
  CHECK(s.bytes[79] == std::byte{0});

  try {
    (void)ca::dbr::encode(std::vector<std::string>{std::string(40, 'z')}, "cam1:FileName");
    FAIL("expected string_too_big");
  } catch (const ca::Error& err) {
    CHECK(err.code() == ca::Errc::string_too_big);
    CHECK(err.pv() == "cam1:FileName");
  }
  CHECK_THROWS_AS((void)ca::dbr::encode(std::vector<double>{}, "pv"), ca::Error);
}

TEST_CASE("Value helpers") {
  CHECK(ca::make_value(ca::FieldType::enumeration).index() == 3);
  for (int t = 0; t <= 6; ++t) {
    CHECK(ca::type_of(ca::make_value(static_cast<ca::FieldType>(t))) ==
          static_cast<ca::FieldType>(t));
  }
  CHECK(ca::field_type_of<double> == ca::FieldType::float64);
  CHECK(ca::field_type_of<std::uint16_t> == ca::FieldType::enumeration);
  CHECK(ca::field_type_of<std::string> == ca::FieldType::string);
  const ca::Value d = std::vector<double>{0.1, 5.0, -3.25e-7};
  CHECK(ca::format_element(d, 0) == "0.1");
  CHECK(ca::format_element(d, 1) == "5");
  CHECK(ca::format_element(d, 2) == "-3.25e-07");
  CHECK(ca::format_element(ca::Value(std::vector<float>{0.1f}), 0) == "0.1");
  CHECK(ca::format_element(ca::Value(std::vector<std::uint8_t>{200}), 0) == "200");
  CHECK(ca::format_element(ca::Value(std::vector<std::string>{"On"}), 0) == "On");
  CHECK(ca::to_double(ca::Value(std::vector<std::int16_t>{-4}), 0) == -4.0);
  CHECK_FALSE(ca::to_double(ca::Value(std::vector<std::string>{"x"}), 0).has_value());
  CHECK(ca::size(d) == 3);
}

TEST_CASE("field type names parse in the spellings people use") {
  CHECK(ca::parse_field_type("double") == ca::FieldType::float64);
  CHECK(ca::parse_field_type("DBF_DOUBLE") == ca::FieldType::float64);
  CHECK(ca::parse_field_type("DBR_ENUM") == ca::FieldType::enumeration);
  CHECK(ca::parse_field_type("Short") == ca::FieldType::int16);
  CHECK(ca::parse_field_type("char") == ca::FieldType::uint8);
  CHECK(ca::parse_field_type("long") == ca::FieldType::int32);
  CHECK_FALSE(ca::parse_field_type("quad").has_value());
  CHECK(ca::to_string(ca::FieldType::enumeration) == "DBF_ENUM");
}

TEST_CASE("alarm names and time stamps") {
  CHECK(ca::to_string(ca::AlarmSeverity::minor) == "MINOR");
  CHECK(ca::to_string(static_cast<ca::AlarmSeverity>(9)) == "SEVERITY_9");
  CHECK(ca::to_string(ca::AlarmStatus::hw_limit) == "HWLIMIT");
  CHECK(ca::to_string(ca::AlarmStatus::write_access) == "WRITE_ACCESS");
  CHECK(ca::to_string(static_cast<ca::AlarmStatus>(22)) == "STATUS_22");
  const auto t = ca::Timestamp::from_epics(0, 0);
  CHECK(t.seconds == 631152000);  // 1990-01-01T00:00:00Z
  CHECK(std::chrono::system_clock::to_time_t(t.time_point()) == 631152000);
}

TEST_CASE("Environment: libca's defaults and overrides") {
  std::map<std::string, std::string, std::less<>> vars;
  const auto lookup = [&](std::string_view n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto e = ca::Environment::from(lookup);
  CHECK(e.auto_addr_list);
  CHECK(e.addr_list.empty());
  CHECK(e.server_port == 5064);
  CHECK(e.repeater_port == 5065);
  CHECK(e.conn_tmo == 30.0);
  CHECK(e.auto_array_bytes);
  vars = {{"EPICS_CA_ADDR_LIST", " 127.0.0.1:15064\t127.0.0.1:15066 "},
          {"EPICS_CA_AUTO_ADDR_LIST", "NO"},
          {"EPICS_CA_SERVER_PORT", "15064"},
          {"EPICS_CA_REPEATER_PORT", "junk"},
          {"EPICS_CA_MAX_SEARCH_PERIOD", "5"},
          {"EPICS_CA_CONN_TMO", "2.5"}};
  e = ca::Environment::from(lookup);
  CHECK(e.addr_list == std::vector<std::string>{"127.0.0.1:15064", "127.0.0.1:15066"});
  CHECK_FALSE(e.auto_addr_list);
  CHECK(e.server_port == 15064);
  CHECK(e.repeater_port == 5065);
  CHECK(e.max_search_period == 60.0);
  CHECK(e.conn_tmo == 2.5);
}
