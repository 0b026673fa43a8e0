#include "pandafly/ca/error.hpp"

#include <array>
#include <string_view>

#include <fmt/format.h>

#include "ca/libca.hpp"

namespace pandafly::ca {
namespace {

// ECA_ names by message number (status >> 3), for logs and the CLI's JSON.
constexpr std::array<std::string_view, 61> eca_names = {
    "NORMAL",        "MAXIOC",       "UKNHOST",     "UKNSERV",     "SOCK",           "CONN",
    "ALLOCMEM",      "UKNCHAN",      "UKNFIELD",    "TOLARGE",     "TIMEOUT",        "NOSUPPORT",
    "STRTOBIG",      "DISCONNCHID",  "BADTYPE",     "CHIDNOTFND",  "CHIDRETRY",      "INTERNAL",
    "DBLCLFAIL",     "GETFAIL",      "PUTFAIL",     "ADDFAIL",     "BADCOUNT",       "BADSTR",
    "DISCONN",       "DBLCHNL",      "EVDISALLOW",  "BUILDGET",    "NEEDSFP",        "OVEVFAIL",
    "BADMONID",      "NEWADDR",      "NEWCONN",     "NOCACTX",     "DEFUNCT",        "EMPTYSTR",
    "NOREPEATER",    "NOCHANMSG",    "DLCKREST",    "SERVBEHIND",  "NOCAST",         "BADMASK",
    "IODONE",        "IOINPROGRESS", "BADSYNCGRP",  "PUTCBINPROG", "NORDACCESS",     "NOWTACCESS",
    "ANACHRONISM",   "NOSEARCHADDR", "NOCONVERT",   "BADCHID",     "BADFUNCPTR",     "ISATTACHED",
    "UNAVAILINSERV", "CHANDESTROY",  "BADPRIORITY", "NOTTHREADED", "16KARRAYCLIENT", "CONNSEQTMO",
    "UNRESPTMO",
};

class CaCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "epics-ca"; }

  [[nodiscard]] std::string message(int ev) const override {
    const char* text = libca::ca_message(ev);
    return text ? text : fmt::format("CA status {}", ev);
  }

  [[nodiscard]] std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<Errc>(ev)) {
      case Errc::timeout:
      case Errc::connection_sequence_timeout:
      case Errc::unresponsive_timeout:
        return std::errc::timed_out;
      case Errc::disconnected:
      case Errc::disconnected_chid:
        return std::errc::not_connected;
      case Errc::no_read_access:
      case Errc::no_write_access:
        return std::errc::permission_denied;
      case Errc::alloc_mem:
        return std::errc::not_enough_memory;
      default:
        return {ev, *this};
    }
  }
};

std::string describe(const std::string& pv, const std::string& detail) {
  return pv.empty() ? detail : fmt::format("{}: {}", pv, detail);
}

}  // namespace

const std::error_category& ca_category() noexcept {
  static const CaCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), ca_category()};
}

std::error_code status_code(long status) noexcept {
  return {static_cast<int>(status), ca_category()};
}

std::string eca_name(long status) {
  const auto n = static_cast<std::size_t>(status >> 3);
  if (status >= 0 && n < eca_names.size()) return fmt::format("ECA_{}", eca_names[n]);
  return fmt::format("ECA_{}", status);
}

Error::Error(std::error_code code, std::string pv, std::string detail)
    : std::runtime_error(describe(pv, detail)),
      code_(code),
      pv_(std::move(pv)),
      detail_(std::move(detail)) {}

}  // namespace pandafly::ca
