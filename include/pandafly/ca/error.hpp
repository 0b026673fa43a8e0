#pragma once
// Errors of the Channel Access client.
//
// Rules:
//   - Codes are libca's own ECA_* status values (caerr.h), as `Errc`; the
//     category "epics-ca" gives libca's text for them (ca_message()), so
//     `code.message()` reads exactly as EPICS tools print it.
//   - Equivalences for portable checks: the timeouts compare equal to
//     std::errc::timed_out, ECA_DISCONN to std::errc::not_connected, the
//     access errors to std::errc::permission_denied, ECA_ALLOCMEM to
//     std::errc::not_enough_memory.
//   - `ca::Error` is what the client throws: the code, the PV it concerns and
//     a one-line what() such as "micos:m1.VAL: not found within 2 s" or
//     "cam1:TriggerMode: put-callback: Channel write request failed".
//
// Example:
//   try { ch.put_wait(5.0, 10s); }
//   catch (const ca::Error& e) { if (e.code() == std::errc::timed_out) ...; }
#include <stdexcept>
#include <string>
#include <system_error>

namespace pandafly::ca {

/// libca status codes: value = (message number << 3) | severity (bit 0 set = success).
enum class Errc : int {
  normal = 1,                         ///< ECA_NORMAL
  max_ioc = 10,                       ///< ECA_MAXIOC
  unknown_host = 18,                  ///< ECA_UKNHOST
  unknown_service = 26,               ///< ECA_UKNSERV
  socket = 34,                        ///< ECA_SOCK
  conn = 40,                          ///< ECA_CONN
  alloc_mem = 48,                     ///< ECA_ALLOCMEM
  unknown_channel = 56,               ///< ECA_UKNCHAN
  unknown_field = 64,                 ///< ECA_UKNFIELD
  too_large = 72,                     ///< ECA_TOLARGE
  timeout = 80,                       ///< ECA_TIMEOUT
  no_support = 88,                    ///< ECA_NOSUPPORT
  string_too_big = 96,                ///< ECA_STRTOBIG
  disconnected_chid = 106,            ///< ECA_DISCONNCHID
  bad_type = 114,                     ///< ECA_BADTYPE
  chid_not_found = 123,               ///< ECA_CHIDNOTFND
  chid_retry = 131,                   ///< ECA_CHIDRETRY
  internal = 142,                     ///< ECA_INTERNAL
  double_clear_fail = 144,            ///< ECA_DBLCLFAIL
  get_fail = 152,                     ///< ECA_GETFAIL
  put_fail = 160,                     ///< ECA_PUTFAIL
  add_fail = 168,                     ///< ECA_ADDFAIL
  bad_count = 176,                    ///< ECA_BADCOUNT
  bad_string = 186,                   ///< ECA_BADSTR
  disconnected = 192,                 ///< ECA_DISCONN
  duplicate_channel = 200,            ///< ECA_DBLCHNL
  event_disallowed = 210,             ///< ECA_EVDISALLOW
  build_get = 216,                    ///< ECA_BUILDGET
  needs_fp = 224,                     ///< ECA_NEEDSFP
  overflow_event_fail = 232,          ///< ECA_OVEVFAIL
  bad_monitor_id = 242,               ///< ECA_BADMONID
  new_address = 248,                  ///< ECA_NEWADDR
  new_connection = 259,               ///< ECA_NEWCONN
  no_ca_context = 264,                ///< ECA_NOCACTX
  defunct = 278,                      ///< ECA_DEFUNCT
  empty_string = 280,                 ///< ECA_EMPTYSTR
  no_repeater = 288,                  ///< ECA_NOREPEATER
  no_channel_message = 296,           ///< ECA_NOCHANMSG
  dead_connection_reset = 304,        ///< ECA_DLCKREST
  server_behind = 312,                ///< ECA_SERVBEHIND
  no_cast = 320,                      ///< ECA_NOCAST
  bad_mask = 330,                     ///< ECA_BADMASK
  io_done = 339,                      ///< ECA_IODONE
  io_in_progress = 347,               ///< ECA_IOINPROGRESS
  bad_sync_group = 354,               ///< ECA_BADSYNCGRP
  put_callback_in_progress = 362,     ///< ECA_PUTCBINPROG
  no_read_access = 368,               ///< ECA_NORDACCESS
  no_write_access = 376,              ///< ECA_NOWTACCESS
  anachronism = 386,                  ///< ECA_ANACHRONISM
  no_search_address = 392,            ///< ECA_NOSEARCHADDR
  no_convert = 400,                   ///< ECA_NOCONVERT
  bad_chid = 410,                     ///< ECA_BADCHID
  bad_function_pointer = 418,         ///< ECA_BADFUNCPTR
  is_attached = 424,                  ///< ECA_ISATTACHED
  unavailable_in_service = 432,       ///< ECA_UNAVAILINSERV
  channel_destroyed = 440,            ///< ECA_CHANDESTROY
  bad_priority = 450,                 ///< ECA_BADPRIORITY
  not_threaded = 458,                 ///< ECA_NOTTHREADED
  array_16k_client = 464,             ///< ECA_16KARRAYCLIENT
  connection_sequence_timeout = 472,  ///< ECA_CONNSEQTMO
  unresponsive_timeout = 480,         ///< ECA_UNRESPTMO
};

/// The "epics-ca" category: message(v) is libca's ca_message(v).
[[nodiscard]] const std::error_category& ca_category() noexcept;
[[nodiscard]] std::error_code make_error_code(Errc e) noexcept;
/// A libca status as an error code of ca_category() (any value, known or not).
[[nodiscard]] std::error_code status_code(long status) noexcept;
/// True for statuses with the success bit (ECA_NORMAL, ECA_IODONE, ...).
[[nodiscard]] constexpr bool is_success(long status) noexcept {
  return (status & 1) != 0;
}
/// The name of a code, e.g. "ECA_TIMEOUT" ("ECA_<value>" for unknown ones).
[[nodiscard]] std::string eca_name(long status);

/// What the client throws. what() is "<pv>: <detail>" (or "<detail>" without a PV).
class Error : public std::runtime_error {
 public:
  Error(std::error_code code, std::string pv, std::string detail);

  [[nodiscard]] std::error_code code() const noexcept { return code_; }
  /// The PV concerned ("" for context-wide errors).
  [[nodiscard]] const std::string& pv() const noexcept { return pv_; }
  /// The text after "<pv>: ".
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }

 private:
  std::error_code code_;
  std::string pv_;
  std::string detail_;
};

}  // namespace pandafly::ca

template <>
struct std::is_error_code_enum<pandafly::ca::Errc> : std::true_type {};
