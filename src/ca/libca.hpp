#pragma once
// PRIVATE declarations of the parts of EPICS Channel Access (libca, base
// 7.0.3.1 as shipped by Debian 12) that pandafly uses.
//
// Debian's libca-dev ships no headers, so the project declares the C API
// itself (facts of the public API, written from the reference in
// shared/reference/channel-access.md §1.4-1.7; no EPICS source is copied).
// This header is included only by src/ca/*.cpp and the ca unit tests — never
// by a public header: users of pandafly::ca see no libca type.
//
// Rules:
//   - Every struct below has the exact member order, types and padding of the
//     C struct; static_asserts pin sizes and value offsets (x86-64), and the
//     unit test ca_libca_test.cpp compares them with libca's own exported
//     dbr_size[] / dbr_value_size[] / dbr_value_offset[] tables at run time.
//   - RISC_pad members exist in the C structs; rsrv does not zero them on the
//     wire: never read them.
#include <cstdarg>
#include <cstddef>
#include <cstdint>

namespace pandafly::ca::libca {

// ---------------------------------------------------------------- handles and callbacks
struct oldChannelNotify;   // opaque: a channel
struct oldSubscription;    // opaque: a subscription
struct ca_client_context;  // opaque: a client context
using chid = oldChannelNotify*;
using evid = oldSubscription*;
using chtype = long;
using ca_real = double;
using capri = unsigned;

struct connection_handler_args {
  chid chan;
  long op;  // CA_OP_CONN_UP / CA_OP_CONN_DOWN
};
using caCh = void(connection_handler_args args);

struct event_handler_args {
  void* usr;
  chid chan;
  long type;
  long count;
  const void* dbr;
  int status;
};
using caEventCallBackFunc = void(event_handler_args args);

struct exception_handler_args {
  void* usr;
  chid chan;
  long type;
  long count;
  void* addr;
  long stat;
  long op;
  const char* ctx;
  const char* pFile;
  unsigned lineNo;
};
using caExceptionHandler = void(exception_handler_args args);
using caPrintfFunc = int(const char* pformat, va_list args);

enum channel_state { cs_never_conn, cs_prev_conn, cs_conn, cs_closed };
enum ca_preemptive_callback_select {
  ca_disable_preemptive_callback,
  ca_enable_preemptive_callback
};

static_assert(sizeof(connection_handler_args) == 16);
static_assert(sizeof(event_handler_args) == 48);

// ---------------------------------------------------------------- constants
inline constexpr long CA_OP_GET = 0;
inline constexpr long CA_OP_PUT = 1;
inline constexpr long CA_OP_CREATE_CHANNEL = 2;
inline constexpr long CA_OP_ADD_EVENT = 3;
inline constexpr long CA_OP_CLEAR_EVENT = 4;
inline constexpr long CA_OP_OTHER = 5;
inline constexpr long CA_OP_CONN_UP = 6;
inline constexpr long CA_OP_CONN_DOWN = 7;
inline constexpr short TYPENOTCONN = -1;

inline constexpr long DBE_VALUE = 1;
inline constexpr long DBE_ARCHIVE = 2;
inline constexpr long DBE_ALARM = 4;
inline constexpr long DBE_PROPERTY = 8;

inline constexpr capri CA_PRIORITY_DEFAULT = 0;
inline constexpr capri CA_PRIORITY_MAX = 99;

inline constexpr std::size_t MAX_STRING_SIZE = 40;
inline constexpr std::size_t MAX_UNITS_SIZE = 8;
inline constexpr std::size_t MAX_ENUM_STRING_SIZE = 26;
inline constexpr std::size_t MAX_ENUM_STATES = 16;

// DBR request types: value class base + native index (STRING SHORT FLOAT ENUM CHAR LONG DOUBLE).
inline constexpr chtype DBR_STRING = 0;
inline constexpr chtype DBR_SHORT = 1;
inline constexpr chtype DBR_FLOAT = 2;
inline constexpr chtype DBR_ENUM = 3;
inline constexpr chtype DBR_CHAR = 4;
inline constexpr chtype DBR_LONG = 5;
inline constexpr chtype DBR_DOUBLE = 6;
inline constexpr chtype DBR_STS_STRING = 7;
inline constexpr chtype DBR_TIME_STRING = 14;
inline constexpr chtype DBR_GR_STRING = 21;
inline constexpr chtype DBR_CTRL_STRING = 28;
inline constexpr chtype DBR_CTRL_DOUBLE = 34;
inline constexpr chtype LAST_BUFFER_TYPE = DBR_CTRL_DOUBLE;
inline constexpr chtype DBF_NO_ACCESS = 7;

/// The DBR type of value class `base` (DBR_STRING, DBR_STS_STRING, ...) for native index `t`.
constexpr chtype dbr_of(chtype base, chtype t) noexcept {
  return base + t;
}

// ---------------------------------------------------------------- status codes (caerr.h)
inline constexpr int CA_M_SUCCESS = 1;
constexpr bool succeeded(long status) noexcept {
  return (status & CA_M_SUCCESS) != 0;
}
inline constexpr int ECA_NORMAL = 1;
inline constexpr int ECA_TIMEOUT = 80;
inline constexpr int ECA_DISCONN = 192;

// ---------------------------------------------------------------- DBR value types and layouts
using dbr_string_t = char[MAX_STRING_SIZE];
using dbr_char_t = std::uint8_t;
using dbr_short_t = std::int16_t;
using dbr_enum_t = std::uint16_t;
using dbr_long_t = std::int32_t;
using dbr_float_t = float;
using dbr_double_t = double;

/// Seconds since 1990-01-01 00:00:00 UTC and nanoseconds.
struct epicsTimeStamp {
  std::uint32_t secPastEpoch;
  std::uint32_t nsec;
};
inline constexpr std::int64_t POSIX_TIME_AT_EPICS_EPOCH = 631152000;

// STS: status, severity, value.
struct dbr_sts_string {
  dbr_short_t status, severity;
  dbr_string_t value;
};
struct dbr_sts_short {
  dbr_short_t status, severity;
  dbr_short_t value;
};
struct dbr_sts_float {
  dbr_short_t status, severity;
  dbr_float_t value;
};
struct dbr_sts_enum {
  dbr_short_t status, severity;
  dbr_enum_t value;
};
struct dbr_sts_char {
  dbr_short_t status, severity;
  dbr_char_t RISC_pad;
  dbr_char_t value;
};
struct dbr_sts_long {
  dbr_short_t status, severity;
  dbr_long_t value;
};
struct dbr_sts_double {
  dbr_short_t status, severity;
  dbr_long_t RISC_pad;
  dbr_double_t value;
};

// TIME: status, severity, stamp, value.
struct dbr_time_string {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_string_t value;
};
struct dbr_time_short {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_short_t RISC_pad;
  dbr_short_t value;
};
struct dbr_time_float {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_float_t value;
};
struct dbr_time_enum {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_short_t RISC_pad;
  dbr_enum_t value;
};
struct dbr_time_char {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_short_t RISC_pad0;
  dbr_char_t RISC_pad1;
  dbr_char_t value;
};
struct dbr_time_long {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_long_t value;
};
struct dbr_time_double {
  dbr_short_t status, severity;
  epicsTimeStamp stamp;
  dbr_long_t RISC_pad;
  dbr_double_t value;
};

// GR: status, severity, [precision], units, display/alarm/warning limits, value.
// Limit order: upper_disp, lower_disp, upper_alarm, upper_warning, lower_warning, lower_alarm.
#define PANDAFLY_CA_GR_LIMITS(T)                                                \
  T upper_disp_limit, lower_disp_limit, upper_alarm_limit, upper_warning_limit, \
      lower_warning_limit, lower_alarm_limit

struct dbr_gr_short {
  dbr_short_t status, severity;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_short_t);
  dbr_short_t value;
};
struct dbr_gr_float {
  dbr_short_t status, severity;
  dbr_short_t precision;
  dbr_short_t RISC_pad0;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_float_t);
  dbr_float_t value;
};
struct dbr_gr_enum {
  dbr_short_t status, severity;
  dbr_short_t no_str;
  char strs[MAX_ENUM_STATES][MAX_ENUM_STRING_SIZE];
  dbr_enum_t value;
};
struct dbr_gr_char {
  dbr_short_t status, severity;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_char_t);
  dbr_char_t RISC_pad;
  dbr_char_t value;
};
struct dbr_gr_long {
  dbr_short_t status, severity;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_long_t);
  dbr_long_t value;
};
struct dbr_gr_double {
  dbr_short_t status, severity;
  dbr_short_t precision;
  dbr_short_t RISC_pad0;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_double_t);
  dbr_double_t value;
};

// CTRL: GR + upper_ctrl_limit, lower_ctrl_limit before the value.
struct dbr_ctrl_short {
  dbr_short_t status, severity;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_short_t);
  dbr_short_t upper_ctrl_limit, lower_ctrl_limit;
  dbr_short_t value;
};
struct dbr_ctrl_float {
  dbr_short_t status, severity;
  dbr_short_t precision;
  dbr_short_t RISC_pad;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_float_t);
  dbr_float_t upper_ctrl_limit, lower_ctrl_limit;
  dbr_float_t value;
};
using dbr_ctrl_enum = dbr_gr_enum;
struct dbr_ctrl_char {
  dbr_short_t status, severity;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_char_t);
  dbr_char_t upper_ctrl_limit, lower_ctrl_limit;
  dbr_char_t RISC_pad;
  dbr_char_t value;
};
struct dbr_ctrl_long {
  dbr_short_t status, severity;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_long_t);
  dbr_long_t upper_ctrl_limit, lower_ctrl_limit;
  dbr_long_t value;
};
struct dbr_ctrl_double {
  dbr_short_t status, severity;
  dbr_short_t precision;
  dbr_short_t RISC_pad0;
  char units[MAX_UNITS_SIZE];
  PANDAFLY_CA_GR_LIMITS(dbr_double_t);
  dbr_double_t upper_ctrl_limit, lower_ctrl_limit;
  dbr_double_t value;
};
#undef PANDAFLY_CA_GR_LIMITS
using dbr_gr_string = dbr_sts_string;
using dbr_ctrl_string = dbr_sts_string;

// Sizes and value offsets (x86-64), as listed in the reference and libca's tables.
#define PANDAFLY_CA_LAYOUT(S, SIZE, OFFSET) \
  static_assert(sizeof(S) == (SIZE));       \
  static_assert(offsetof(S, value) == (OFFSET))
PANDAFLY_CA_LAYOUT(dbr_sts_string, 44, 4);
PANDAFLY_CA_LAYOUT(dbr_sts_short, 6, 4);
PANDAFLY_CA_LAYOUT(dbr_sts_float, 8, 4);
PANDAFLY_CA_LAYOUT(dbr_sts_enum, 6, 4);
PANDAFLY_CA_LAYOUT(dbr_sts_char, 6, 5);
PANDAFLY_CA_LAYOUT(dbr_sts_long, 8, 4);
PANDAFLY_CA_LAYOUT(dbr_sts_double, 16, 8);
PANDAFLY_CA_LAYOUT(dbr_time_string, 52, 12);
PANDAFLY_CA_LAYOUT(dbr_time_short, 16, 14);
PANDAFLY_CA_LAYOUT(dbr_time_float, 16, 12);
PANDAFLY_CA_LAYOUT(dbr_time_enum, 16, 14);
PANDAFLY_CA_LAYOUT(dbr_time_char, 16, 15);
PANDAFLY_CA_LAYOUT(dbr_time_long, 16, 12);
PANDAFLY_CA_LAYOUT(dbr_time_double, 24, 16);
PANDAFLY_CA_LAYOUT(dbr_gr_short, 26, 24);
PANDAFLY_CA_LAYOUT(dbr_gr_float, 44, 40);
PANDAFLY_CA_LAYOUT(dbr_gr_enum, 424, 422);
PANDAFLY_CA_LAYOUT(dbr_gr_char, 20, 19);
PANDAFLY_CA_LAYOUT(dbr_gr_long, 40, 36);
PANDAFLY_CA_LAYOUT(dbr_gr_double, 72, 64);
PANDAFLY_CA_LAYOUT(dbr_ctrl_short, 30, 28);
PANDAFLY_CA_LAYOUT(dbr_ctrl_float, 52, 48);
PANDAFLY_CA_LAYOUT(dbr_ctrl_char, 22, 21);
PANDAFLY_CA_LAYOUT(dbr_ctrl_long, 48, 44);
PANDAFLY_CA_LAYOUT(dbr_ctrl_double, 88, 80);
#undef PANDAFLY_CA_LAYOUT
static_assert(offsetof(dbr_time_double, stamp) == 4);
static_assert(offsetof(dbr_gr_enum, strs) == 6);

// ---------------------------------------------------------------- functions and data
extern "C" {
int ca_context_create(ca_preemptive_callback_select select);
void ca_context_destroy(void);
ca_client_context* ca_current_context(void);
int ca_attach_context(ca_client_context* context);
void ca_detach_context(void);
int ca_preemtive_callback_is_enabled(void);

int ca_create_channel(const char* pChanName, caCh* pConnStateCallback, void* pUserPrivate,
                      capri priority, chid* pChanID);
int ca_clear_channel(chid chanId);

int ca_array_get_callback(chtype type, unsigned long count, chid chanId, caEventCallBackFunc* pFunc,
                          void* pArg);
int ca_array_put(chtype type, unsigned long count, chid chanId, const void* pValue);
int ca_array_put_callback(chtype type, unsigned long count, chid chanId, const void* pValue,
                          caEventCallBackFunc* pFunc, void* pArg);
int ca_create_subscription(chtype type, unsigned long count, chid chanId, long mask,
                           caEventCallBackFunc* pFunc, void* pArg, evid* pEventID);
int ca_clear_subscription(evid eventID);

int ca_pend_io(ca_real timeOut);
int ca_pend_event(ca_real timeOut);
int ca_flush_io(void);

short ca_field_type(chid chan);
unsigned long ca_element_count(chid chan);
const char* ca_name(chid chan);
void* ca_puser(chid chan);
channel_state ca_state(chid chan);
unsigned ca_read_access(chid chan);
unsigned ca_write_access(chid chan);
void ca_get_host_name(chid pChan, char* pBuf, unsigned bufLength);

const char* ca_message(long ca_status);
const char* ca_version(void);
int ca_add_exception_event(caExceptionHandler* pfunc, void* pArg);
int ca_replace_printf_handler(caPrintfFunc* ca_printf_func);

extern const unsigned short dbr_size[];
extern const unsigned short dbr_value_size[];
extern const unsigned short dbr_value_offset[];
extern const char* const dbf_text[];  // [0] "TYPENOTCONN", [1 + t] "DBF_..."
extern const char* const dbr_text[];  // [t] "DBR_..."
}

/// Bytes of a DBR reply of `count` elements (count <= 0 counts as one).
inline std::size_t dbr_size_n(chtype type, long count) noexcept {
  const auto t = static_cast<std::size_t>(type);
  if (count <= 0) return dbr_size[t];
  return dbr_size[t] + static_cast<std::size_t>(count - 1) * dbr_value_size[t];
}

}  // namespace pandafly::ca::libca
