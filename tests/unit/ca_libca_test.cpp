// The hand-written libca declarations against libca's own exported tables,
// and the "epics-ca" error category against ca_message().
#include <cstring>
#include <string>

#include <doctest/doctest.h>

#include "ca/dbr_codec.hpp"
#include "ca/libca.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/error.hpp"
#include "pandafly/ca/value.hpp"

namespace ca = pandafly::ca;
namespace libca = pandafly::ca::libca;

TEST_CASE("every DBR struct matches libca's dbr_size, dbr_value_size and dbr_value_offset") {
  for (libca::chtype t = 0; t <= libca::LAST_BUFFER_TYPE; ++t) {
    CAPTURE(t);
    CAPTURE(std::string(libca::dbr_text[t]));
    const auto l = ca::dbr::layout(t);
    const auto i = static_cast<std::size_t>(t);
    CHECK(l.size == libca::dbr_size[i]);
    CHECK(l.value_size == libca::dbr_value_size[i]);
    CHECK(l.value_offset == libca::dbr_value_offset[i]);
    for (long n : {0L, 1L, 2L, 1000L}) {
      CHECK(ca::dbr::size_n(t, n) == libca::dbr_size_n(t, n));
    }
  }
  CHECK_THROWS_AS((void)ca::dbr::layout(35), ca::Error);
  CHECK_THROWS_AS((void)ca::dbr::layout(-1), ca::Error);
}

TEST_CASE("DBR type numbering follows libca's dbr_text") {
  CHECK(std::string(libca::dbr_text[libca::DBR_STRING]) == "DBR_STRING");
  CHECK(std::string(libca::dbr_text[libca::DBR_DOUBLE]) == "DBR_DOUBLE");
  CHECK(std::string(libca::dbr_text[libca::DBR_STS_STRING]) == "DBR_STS_STRING");
  CHECK(std::string(libca::dbr_text[libca::DBR_TIME_STRING]) == "DBR_TIME_STRING");
  CHECK(std::string(libca::dbr_text[libca::DBR_GR_STRING]) == "DBR_GR_STRING");
  CHECK(std::string(libca::dbr_text[libca::DBR_CTRL_STRING]) == "DBR_CTRL_STRING");
  CHECK(std::string(libca::dbr_text[libca::DBR_CTRL_DOUBLE]) == "DBR_CTRL_DOUBLE");
  using C = ca::dbr::Class;
  CHECK(ca::dbr::type_of(C::time, ca::FieldType::float64) == 20);
  CHECK(ca::dbr::type_of(C::ctrl, ca::FieldType::enumeration) == 31);
  CHECK(ca::dbr::type_of(C::plain, ca::FieldType::int16) == 1);
}

TEST_CASE("FieldType names are libca's dbf_text") {
  CHECK(std::string(libca::dbf_text[0]) == "TYPENOTCONN");
  for (int t = 0; t <= 6; ++t) {
    CAPTURE(t);
    CHECK(ca::to_string(static_cast<ca::FieldType>(t)) ==
          std::string(libca::dbf_text[static_cast<std::size_t>(t) + 1]));
  }
  CHECK(std::string(libca::dbf_text[libca::DBF_NO_ACCESS + 1]) == "DBF_NO_ACCESS");
}

TEST_CASE("the epics-ca category speaks libca's ca_message text") {
  const auto& cat = ca::ca_category();
  CHECK(std::string(cat.name()) == "epics-ca");
  for (int n = 0; n <= 60; ++n) {
    for (int severity : {0, 1, 2, 3, 4, 6}) {
      const int status = (n << 3) | severity;
      CAPTURE(status);
      CHECK(cat.message(status) == libca::ca_message(status));
    }
  }
  CHECK(ca::make_error_code(ca::Errc::timeout).message() ==
        "User specified timeout on IO operation expired");
  CHECK(ca::make_error_code(ca::Errc::disconnected).message() == "Virtual circuit disconnect");
  CHECK(ca::make_error_code(ca::Errc::put_fail).message() == "Channel write request failed");
}

TEST_CASE("Errc values are the ECA codes: message number and severity") {
  // Spot checks against the reference table (caerr.h values).
  CHECK(static_cast<int>(ca::Errc::normal) == 1);
  CHECK(static_cast<int>(ca::Errc::alloc_mem) == 48);
  CHECK(static_cast<int>(ca::Errc::too_large) == 72);
  CHECK(static_cast<int>(ca::Errc::timeout) == 80);
  CHECK(static_cast<int>(ca::Errc::bad_type) == 114);
  CHECK(static_cast<int>(ca::Errc::get_fail) == 152);
  CHECK(static_cast<int>(ca::Errc::put_fail) == 160);
  CHECK(static_cast<int>(ca::Errc::bad_count) == 176);
  CHECK(static_cast<int>(ca::Errc::bad_string) == 186);
  CHECK(static_cast<int>(ca::Errc::disconnected) == 192);
  CHECK(static_cast<int>(ca::Errc::io_done) == 339);
  CHECK(static_cast<int>(ca::Errc::no_read_access) == 368);
  CHECK(static_cast<int>(ca::Errc::no_write_access) == 376);
  CHECK(static_cast<int>(ca::Errc::bad_chid) == 410);
  CHECK(static_cast<int>(ca::Errc::channel_destroyed) == 440);
  CHECK(static_cast<int>(ca::Errc::unresponsive_timeout) == 480);
  CHECK(ca::is_success(static_cast<int>(ca::Errc::normal)));
  CHECK(ca::is_success(static_cast<int>(ca::Errc::io_done)));
  CHECK_FALSE(ca::is_success(static_cast<int>(ca::Errc::timeout)));
  CHECK_FALSE(ca::is_success(static_cast<int>(ca::Errc::bad_string)));
  // Each name's message number gives the message libca has for it.
  CHECK(ca::eca_name(80) == "ECA_TIMEOUT");
  CHECK(ca::eca_name(192) == "ECA_DISCONN");
  CHECK(ca::eca_name(480) == "ECA_UNRESPTMO");
  CHECK(ca::eca_name(4000) == "ECA_4000");
}

TEST_CASE("ECA codes compare equal to the portable conditions") {
  CHECK(ca::make_error_code(ca::Errc::timeout) == std::errc::timed_out);
  CHECK(ca::make_error_code(ca::Errc::unresponsive_timeout) == std::errc::timed_out);
  CHECK(ca::make_error_code(ca::Errc::disconnected) == std::errc::not_connected);
  CHECK(ca::make_error_code(ca::Errc::no_write_access) == std::errc::permission_denied);
  CHECK(ca::make_error_code(ca::Errc::alloc_mem) == std::errc::not_enough_memory);
  CHECK(ca::make_error_code(ca::Errc::put_fail) != std::errc::timed_out);
  CHECK(ca::status_code(160) == ca::Errc::put_fail);
}

TEST_CASE("ca::Error names the PV") {
  const ca::Error e(ca::make_error_code(ca::Errc::timeout), "micos:m1.VAL", "not found within 2 s");
  CHECK(std::string(e.what()) == "micos:m1.VAL: not found within 2 s");
  CHECK(e.pv() == "micos:m1.VAL");
  CHECK(e.code() == ca::Errc::timeout);
  const ca::Error bare(ca::make_error_code(ca::Errc::bad_chid), "", "empty Channel");
  CHECK(std::string(bare.what()) == "empty Channel");
}

TEST_CASE("libca is the 4.13 protocol client") {
  CHECK(ca::Context::version() == "4.13");
  CHECK(std::string(libca::ca_version()) == "4.13");
}
