#pragma once
// The process variables of the Channel Access simulator: what a simulated
// device (motor record, camera) publishes and what the CA server serves.
//
// Rules
//   * A Pv has a native type (the DBF type a CA client sees from
//     ca_field_type(): STRING SHORT FLOAT ENUM CHAR LONG DOUBLE), a maximum
//     element count (NELM) and a current value of 0..NELM elements (NORD),
//     metadata (units, precision, display/alarm/control limits, enum strings),
//     an alarm (status, severity) and the time it last processed (EPICS epoch).
//   * Device side: set() / set_alarm() / set_metadata() change the state and
//     notify observers with the DBE_* mask of what changed (VALUE|LOG for a
//     value change, ALARM, PROPERTY). Setting an equal value notifies nothing
//     unless `force` (a record that processes posts even without a change —
//     e.g. DMOV's 1→0→1 pulse is two set() calls).
//   * Client side (the server): put() takes a value already converted to the
//     native type. A PV may refuse it with an ECA status (not writable:
//     ECA_NOWTACCESS; the device's own checks: ECA_PUTFAIL). When put()
//     returns ECA_NORMAL the completion is called exactly once, at once or
//     later (a motor calls it when the move is done) — that is what
//     put-with-completion (WRITE_NOTIFY) waits for.
//   * Sans-IO: no threads or clocks; times come in as arguments. One owner
//     thread (the CA server's io_context) calls everything.
//
// Example:
//   auto velo = std::make_shared<Pv>("micos:m1.VELO", Doubles{10.0}, Metadata{.units = "deg"});
//   auto id = velo->observe([](const Pv& pv, unsigned mask) { … });
//   velo->set(Doubles{5.0}, now);             // observers get DBE_VALUE | DBE_LOG
//   velo->put(Doubles{7.5}, [](std::uint32_t eca) { … });   // default handler: set + complete
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pandafly::sim::ca {

/// DBF/DBR value types, numbered as CA numbers them.
enum class DbrType : std::uint16_t {
  string = 0,
  short_ = 1,
  float_ = 2,
  enum_ = 3,
  char_ = 4,
  long_ = 5,
  double_ = 6
};

using Strings = std::vector<std::string>;  // each at most 39 characters on the wire
using Shorts = std::vector<std::int16_t>;
using Floats = std::vector<float>;
using Enums = std::vector<std::uint16_t>;
using Chars = std::vector<std::uint8_t>;
using Longs = std::vector<std::int32_t>;
using Doubles = std::vector<double>;
/// Elements of one of the seven types; the variant index is the DbrType.
using Elements = std::variant<Strings, Shorts, Floats, Enums, Chars, Longs, Doubles>;

[[nodiscard]] inline DbrType type_of(const Elements& e) {
  return static_cast<DbrType>(e.index());
}
[[nodiscard]] std::size_t size_of(const Elements& e);

/// DBE_* event mask bits.
inline constexpr unsigned kDbeValue = 1, kDbeLog = 2, kDbeAlarm = 4, kDbeProperty = 8;

/// ECA status codes a PV or the server reports (caerr.h values).
inline constexpr std::uint32_t kEcaNormal = 1, kEcaPutFail = 160, kEcaNoWriteAccess = 376,
                               kEcaBadType = 114, kEcaBadCount = 176, kEcaNoConvert = 400,
                               kEcaGetFail = 152, kEcaDisconnected = 192;

/// Seconds and nanoseconds since 1990-01-01 UTC (the EPICS epoch).
struct EpicsTime {
  std::uint32_t sec = 0;
  std::uint32_t nsec = 0;
  /// From Unix nanoseconds.
  [[nodiscard]] static EpicsTime from_unix_ns(std::int64_t ns);
  friend bool operator==(const EpicsTime&, const EpicsTime&) = default;
};

struct Metadata {
  std::string units;  // at most 7 characters on the wire
  std::int16_t precision = 0;
  double upper_disp = 0, lower_disp = 0;
  double upper_alarm = 0, upper_warning = 0, lower_warning = 0, lower_alarm = 0;
  double upper_ctrl = 0, lower_ctrl = 0;
  Strings enum_strings;  // ENUM PVs: at most 16, each at most 25 characters
  friend bool operator==(const Metadata&, const Metadata&) = default;
};

/// menuAlarmStat / menuAlarmSevr values.
struct Alarm {
  std::uint16_t status = 0;
  std::uint16_t severity = 0;
  friend bool operator==(const Alarm&, const Alarm&) = default;
};

class Pv {
 public:
  /// Called with the ECA status when a put has been processed.
  using Completion = std::function<void(std::uint32_t eca)>;
  /// A device's handling of a client put: return an ECA status; on
  /// kEcaNormal, call (or keep and call later) `done` exactly once. For a
  /// plain write (CA_PROTO_WRITE) the server passes &plain_write_done (see
  /// is_callback()).
  using PutHandler = std::function<std::uint32_t(Pv&, Elements value, Completion done)>;
  using Observer = std::function<void(const Pv&, unsigned mask)>;

  /// `initial` gives the native type; `max_count` (NELM) defaults to its size (at least 1).
  Pv(std::string name, Elements initial, Metadata metadata = {}, bool writable = true,
     std::size_t max_count = 0);
  Pv(const Pv&) = delete;
  Pv& operator=(const Pv&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] DbrType native_type() const { return type_of(value_); }
  [[nodiscard]] std::size_t max_count() const { return max_count_; }
  [[nodiscard]] std::size_t count() const { return size_of(value_); }
  [[nodiscard]] const Elements& value() const { return value_; }
  [[nodiscard]] const Metadata& metadata() const { return metadata_; }
  [[nodiscard]] const Alarm& alarm() const { return alarm_; }
  [[nodiscard]] EpicsTime stamp() const { return stamp_; }
  [[nodiscard]] bool writable() const { return writable_; }

  // ---- device side
  /// Sets the value (its type must be the native type and its size at most
  /// max_count(); std::invalid_argument otherwise) and the process time.
  void set(Elements value, EpicsTime when, bool force = false);
  void set_alarm(Alarm alarm);
  void set_metadata(Metadata metadata);
  /// Replaces the default put handling (set + complete at once).
  void on_put(PutHandler handler) { put_handler_ = std::move(handler); }
  /// The time the default handler stamps a put with (the device keeps it current).
  void set_put_time(EpicsTime when) { put_time_ = when; }

  // ---- client side
  /// A client write, converted to the native type by the caller.
  [[nodiscard]] std::uint32_t put(Elements value, Completion done);

  // ---- observers (the server's subscriptions)
  std::uint64_t observe(Observer observer);
  void unobserve(std::uint64_t id);

 private:
  void notify(unsigned mask);

  std::string name_;
  Elements value_;
  Metadata metadata_;
  Alarm alarm_;
  EpicsTime stamp_;
  EpicsTime put_time_;
  bool writable_;
  std::size_t max_count_;
  PutHandler put_handler_;
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 1;
};

/// The PVs a server serves, by name. A name without a field (`micos:m1`)
/// finds the `.VAL` PV (`micos:m1.VAL`).
class PvDatabase {
 public:
  /// Adds a PV; std::invalid_argument if the name is taken.
  void add(std::shared_ptr<Pv> pv);
  [[nodiscard]] std::shared_ptr<Pv> find(std::string_view name) const;
  [[nodiscard]] std::size_t size() const { return pvs_.size(); }
  [[nodiscard]] std::vector<std::string> names() const;

 private:
  std::map<std::string, std::shared_ptr<Pv>, std::less<>> pvs_;
};

/// The completion the server passes for a plain write (CA_PROTO_WRITE): does nothing.
void plain_write_done(std::uint32_t eca);
/// Whether a put asked for a callback (CA_PROTO_WRITE_NOTIFY): `done` is set
/// and is not &plain_write_done — for devices that treat the two differently
/// (a motor record queues a put-callback while another is pending).
[[nodiscard]] bool is_callback(const Pv::Completion& done);

}  // namespace pandafly::sim::ca
