#include "sim/ca/config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace pandafly::sim::ca {
namespace {

enum class Check { any, positive, non_negative, non_zero };

template <class Config>
struct NumberKey {
  std::string_view key;
  double Config::*member;
  Check check;
};

constexpr NumberKey<MotorConfig> kMotorNumbers[] = {
    {"mres", &MotorConfig::mres, Check::non_zero},
    {"velo", &MotorConfig::velo, Check::positive},
    {"vbas", &MotorConfig::vbas, Check::non_negative},
    {"vmax", &MotorConfig::vmax, Check::non_negative},
    {"accl", &MotorConfig::accl, Check::positive},
    {"hvel", &MotorConfig::hvel, Check::positive},
    {"dhlm", &MotorConfig::dhlm, Check::any},
    {"dllm", &MotorConfig::dllm, Check::any},
    {"off", &MotorConfig::off, Check::any},
    {"twv", &MotorConfig::twv, Check::any},
    {"rdbd", &MotorConfig::rdbd, Check::non_negative},
    {"dly", &MotorConfig::dly, Check::non_negative},
    {"position", &MotorConfig::position, Check::any},
    {"home", &MotorConfig::home, Check::any},
};

constexpr NumberKey<CameraConfig> kCameraNumbers[] = {
    {"acquire_time", &CameraConfig::acquire_time, Check::positive},
    {"acquire_period", &CameraConfig::acquire_period, Check::non_negative},
    {"plugin_delay", &CameraConfig::plugin_delay, Check::non_negative},
    {"readout_time", &CameraConfig::readout_time, Check::non_negative},
    {"sample_in", &CameraConfig::sample_in, Check::any},
    {"sample_out_threshold", &CameraConfig::sample_out_threshold, Check::positive},
};

constexpr NumberKey<ShutterConfig> kShutterNumbers[] = {
    {"open_time", &ShutterConfig::open_time, Check::non_negative},
    {"close_time", &ShutterConfig::close_time, Check::non_negative},
};

constexpr std::array<CameraDataType, 8> kDataTypes = {
    CameraDataType::int8,    CameraDataType::uint8,  CameraDataType::int16,
    CameraDataType::uint16,  CameraDataType::int32,  CameraDataType::uint32,
    CameraDataType::float32, CameraDataType::float64};

// Reads values out of TOML nodes; every failure names the source, the line,
// the column and the key.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const toml::source_region& at, std::string_view key,
                         std::string_view message) const {
    throw ConfigError(
        fmt::format("{}:{}:{}: {}: {}", source_, at.begin.line, at.begin.column, key, message));
  }
  void require(bool ok, const toml::node& n, std::string_view key, std::string_view message) const {
    if (!ok) fail(n.source(), key, message);
  }
  [[nodiscard]] double number(const toml::node& n, std::string_view key, Check check) const {
    require(n.is_number(), n, key, "must be a number");
    const double v = n.value<double>().value_or(0.0);
    require(std::isfinite(v), n, key, "must be a finite number");
    require(check != Check::positive || v > 0, n, key, fmt::format("must be > 0, got {}", v));
    require(check != Check::non_negative || v >= 0, n, key, fmt::format("must be >= 0, got {}", v));
    require(check != Check::non_zero || v != 0, n, key, "must not be 0");
    return v;
  }
  [[nodiscard]] std::int64_t integer(const toml::node& n, std::string_view key, std::int64_t lo,
                                     std::int64_t hi) const {
    require(n.is_integer(), n, key, "must be an integer");
    const std::int64_t v = n.value<std::int64_t>().value_or(0);
    require(v >= lo && v <= hi, n, key, fmt::format("must be in [{}, {}], got {}", lo, hi, v));
    return v;
  }
  [[nodiscard]] std::string text(const toml::node& n, std::string_view key,
                                 std::size_t max_length) const {
    require(n.is_string(), n, key, "must be a string");
    std::string v = n.value<std::string>().value_or("");
    require(v.size() <= max_length, n, key,
            fmt::format("must be at most {} characters, got {}", max_length, v.size()));
    return v;
  }
  [[nodiscard]] std::string name(const toml::node& n, std::string_view key) const {
    std::string v = text(n, key, 60);
    require(!v.empty() && std::none_of(v.begin(), v.end(), [](char c) { return c <= ' '; }), n, key,
            "must be a non-empty name without spaces");
    return v;
  }

 private:
  std::string source_;
};

template <class Config, std::size_t N>
bool read_number(const Reader& r, const NumberKey<Config> (&keys)[N], std::string_view name,
                 const toml::node& n, const std::string& key, Config& out) {
  for (const auto& k : keys) {
    if (k.key != name) continue;
    out.*k.member = r.number(n, key, k.check);
    return true;
  }
  return false;
}

void read_encoder(const Reader& r, const toml::node& node, const std::string& path,
                  MotorConfig::Encoder& e) {
  const toml::table* t = node.as_table();
  r.require(t != nullptr, node, path, "must be a table");
  for (auto&& [k, n] : *t) {
    const std::string key = fmt::format("{}.{}", path, k.str());
    if (k.str() == "counts_per_unit") {
      e.counts_per_unit = r.number(n, key, Check::non_zero);
    } else if (k.str() == "offset_counts") {
      e.offset_counts = r.number(n, key, Check::any);
    } else if (k.str() == "inenc") {
      e.inenc = static_cast<int>(r.integer(n, key, 0, 4));
    } else {
      r.fail(k.source(), key, "unknown key");
    }
  }
  r.require(e.inenc == 0 || e.counts_per_unit != 0, node, path,
            "inenc needs counts_per_unit (not 0)");
}

MotorConfig read_motor(const Reader& r, const toml::table& t, const std::string& path) {
  MotorConfig m;
  m.name.clear();
  bool have_prefix = false;
  for (auto&& [k, n] : t) {
    const std::string_view name = k.str();
    const std::string key = fmt::format("{}.{}", path, name);
    if (read_number(r, kMotorNumbers, name, n, key, m)) continue;
    if (name == "prefix") {
      m.prefix = r.name(n, key);
      have_prefix = true;
    } else if (name == "name") {
      m.name = r.name(n, key);
    } else if (name == "description") {
      m.description = r.text(n, key, 39);
    } else if (name == "egu") {
      m.egu = r.text(n, key, 15);
    } else if (name == "prec") {
      m.prec = static_cast<std::int16_t>(r.integer(n, key, 0, 15));
    } else if (name == "dir") {
      const std::string dir = r.text(n, key, 3);
      r.require(dir == "Pos" || dir == "Neg", n, key, "must be \"Pos\" or \"Neg\"");
      m.dir_negative = dir == "Neg";
    } else if (name == "high_switch" || name == "low_switch") {
      (name == "high_switch" ? m.high_switch : m.low_switch) = r.number(n, key, Check::any);
    } else if (name == "encoder") {
      read_encoder(r, n, key, m.encoder);
    } else {
      r.fail(k.source(), key, "unknown key");
    }
  }
  if (!have_prefix) r.fail(t.source(), path, "missing key \"prefix\"");
  if (m.name.empty()) m.name = m.prefix;
  const bool soft = m.dhlm != 0 || m.dllm != 0;
  r.require(!soft || m.dllm < m.dhlm, t, path, "dllm must be below dhlm (or both 0: no limits)");
  r.require(!m.low_switch || !m.high_switch || *m.low_switch < *m.high_switch, t, path,
            "low_switch must be below high_switch");
  r.require(m.vmax == 0 || m.vmax >= m.vbas, t, path, "vmax must be 0 (none) or >= vbas");
  return m;
}

CameraDataType read_data_type(const Reader& r, const toml::node& n, const std::string& key) {
  const std::string type = r.text(n, key, 10);
  const auto it = std::find_if(kDataTypes.begin(), kDataTypes.end(),
                               [&](CameraDataType d) { return to_string(d) == type; });
  r.require(it != kDataTypes.end(), n, key,
            "must be one of Int8 UInt8 Int16 UInt16 Int32 UInt32 Float32 Float64");
  return *it;
}

// readout = [ { data_type = "UInt16", size_y = 1536, seconds = 0.0122 }, ... ]
std::vector<ReadoutEntry> read_readout(const Reader& r, const toml::node& node,
                                       const std::string& path) {
  const toml::array* entries = node.as_array();
  r.require(entries != nullptr, node, path, "must be an array of tables");
  std::vector<ReadoutEntry> out;
  for (std::size_t i = 0; i < entries->size(); ++i) {
    const toml::node& entry = *entries->get(i);
    const std::string at = fmt::format("{}[{}]", path, i);
    const toml::table* t = entry.as_table();
    r.require(t != nullptr, entry, at, "must be a table { data_type, size_y, seconds }");
    ReadoutEntry e;
    int seen = 0;
    for (auto&& [k, n] : *t) {
      const std::string key = fmt::format("{}.{}", at, k.str());
      if (k.str() == "data_type") {
        e.data_type = read_data_type(r, n, key);
      } else if (k.str() == "size_y") {
        e.size_y = static_cast<std::int32_t>(r.integer(n, key, 1, 65536));
      } else if (k.str() == "seconds") {
        e.seconds = r.number(n, key, Check::non_negative);
      } else {
        r.fail(k.source(), key, "unknown key");
      }
      ++seen;
    }
    r.require(seen == 3, entry, at, "needs data_type, size_y and seconds");
    out.push_back(e);
  }
  return out;
}

ShutterConfig read_shutter(const Reader& r, const toml::table& t, const std::string& path) {
  ShutterConfig c;
  c.name.clear();
  bool have_prefix = false;
  for (auto&& [k, n] : t) {
    const std::string_view name = k.str();
    const std::string key = fmt::format("{}.{}", path, name);
    if (read_number(r, kShutterNumbers, name, n, key, c)) continue;
    if (name == "prefix") {
      c.prefix = r.name(n, key);
      have_prefix = true;
    } else if (name == "name" || name == "command" || name == "status") {
      auto& field = name == "name" ? c.name : name == "command" ? c.command : c.status;
      field = r.name(n, key);
    } else if (name == "initial") {
      const std::string state = r.text(n, key, 6);
      r.require(state == "Open" || state == "Closed", n, key, "must be \"Open\" or \"Closed\"");
      c.open = state == "Open";
    } else {
      r.fail(k.source(), key, "unknown key");
    }
  }
  if (!have_prefix) r.fail(t.source(), path, "missing key \"prefix\"");
  if (c.name.empty()) c.name = c.prefix;
  r.require(c.command != c.status, t, path, "command and status must differ");
  return c;
}

CameraConfig read_camera(const Reader& r, const toml::table& t, const std::string& path) {
  CameraConfig c;
  c.name.clear();
  bool have_prefix = false;
  for (auto&& [k, n] : t) {
    const std::string_view name = k.str();
    const std::string key = fmt::format("{}.{}", path, name);
    if (read_number(r, kCameraNumbers, name, n, key, c)) continue;
    if (name == "prefix") {
      c.prefix = r.name(n, key);
      have_prefix = true;
    } else if (name == "name" || name == "cam" || name == "image" || name == "zmq") {
      auto& field = name == "name"    ? c.name
                    : name == "cam"   ? c.cam
                    : name == "image" ? c.image
                                      : c.zmq;
      field = r.name(n, key);
    } else if (name == "size_x" || name == "size_y") {
      (name == "size_x" ? c.size_x : c.size_y) =
          static_cast<std::int32_t>(r.integer(n, key, 1, 65536));
    } else if (name == "ttlout") {
      c.ttlout = static_cast<int>(r.integer(n, key, 0, 10));
    } else if (name == "data_type") {
      c.data_type = read_data_type(r, n, key);
    } else if (name == "readout") {
      c.readout = read_readout(r, n, key);
    } else if (name == "frame_type_pv" || name == "shutter" || name == "sample_motor") {
      auto& field = name == "frame_type_pv" ? c.frame_type_pv
                    : name == "shutter"     ? c.shutter
                                            : c.sample_motor;
      field = r.name(n, key);
    } else {
      r.fail(k.source(), key, "unknown key");
    }
  }
  if (!have_prefix) r.fail(t.source(), path, "missing key \"prefix\"");
  if (c.name.empty()) c.name = c.prefix + c.cam;
  const auto bytes = static_cast<std::int64_t>(c.size_x) * c.size_y *
                     static_cast<std::int64_t>(bytes_of(CameraDataType::float64));
  r.require(bytes <= std::numeric_limits<std::int32_t>::max(), t, path,
            "size_x * size_y is too large (at most 2^31 bytes at 8 bytes per pixel)");
  return c;
}

SimulatorConfig read_simulator(const Reader& r, const toml::node& node) {
  const toml::table* t = node.as_table();
  r.require(t != nullptr, node, "simulator", "must be a table ([simulator])");
  SimulatorConfig s;
  for (auto&& [k, n] : *t) {
    const std::string_view name = k.str();
    const std::string key = fmt::format("simulator.{}", name);
    if (name == "speed") {
      s.speed = r.number(n, key, Check::positive);
    } else if (name == "panda_control_port" || name == "panda_data_port" || name == "ca_port" ||
               name == "ca_repeater_port") {
      auto& port = name == "panda_control_port" ? s.panda_control_port
                   : name == "panda_data_port"  ? s.panda_data_port
                   : name == "ca_port"          ? s.ca_port
                                                : s.ca_repeater_port;
      port = static_cast<std::uint16_t>(r.integer(n, key, 0, 65535));
    } else if (name == "zmq") {
      s.zmq = r.text(n, key, 200);
    } else if (name == "panda_design") {
      s.panda_design = r.text(n, key, 4096);
    } else {
      r.fail(k.source(), key, "unknown key");
    }
  }
  return s;
}

// [faults]: the keys of sim/fault_plan.hpp's table.
class FaultReader {
 public:
  FaultReader(const Reader& r, FaultPlan& plan) : r_(r), plan_(plan) {}

  void read(const toml::node& node) {
    const toml::table* faults = node.as_table();
    r_.require(faults != nullptr, node, "faults", "must be a table ([faults])");
    for (auto&& [k, n] : *faults) {
      const std::string_view name = k.str();
      const std::string key = fmt::format("faults.{}", name);
      if (name == "drop_frame" || name == "duplicate_frame" || name == "swap_frames" ||
          name == "miss_trigger") {
        auto& list = name == "drop_frame"        ? plan_.drop_frames
                     : name == "duplicate_frame" ? plan_.duplicate_frames
                     : name == "swap_frames"     ? plan_.swap_frames
                                                 : plan_.miss_triggers;
        each(n, key,
             [&](const toml::node& v, const std::string& at) { list.push_back(index(v, at)); });
      } else if (name == "close_panda_data") {
        plan_.close_panda_data_at_row = index(n, key);
      } else if (name == "stall_camera") {
        each_table(n, key, {"frame", "seconds"}, [&](const toml::table& t, const std::string& at) {
          plan_.camera_stalls.push_back(
              {index(at_key(t, at, "frame"), at + ".frame"),
               r_.number(at_key(t, at, "seconds"), at + ".seconds", Check::non_negative)});
        });
      } else if (name == "motor_stall" || name == "hard_limit") {
        auto& list = name == "motor_stall" ? plan_.motor_stalls : plan_.hard_limits;
        each_table(n, key, {"motor", "position"}, [&](const toml::table& t, const std::string& at) {
          FaultPlan::MotorAt m;
          if (const toml::node* motor = t.get("motor")) m.motor = r_.name(*motor, at + ".motor");
          m.position = r_.number(at_key(t, at, "position"), at + ".position", Check::any);
          list.push_back(std::move(m));
        });
      } else if (name == "ca_restart") {
        each_table(n, key, {"at", "downtime"}, [&](const toml::table& t, const std::string& at) {
          plan_.ca_restarts.push_back(
              {r_.number(at_key(t, at, "at"), at + ".at", Check::non_negative),
               r_.number(at_key(t, at, "downtime"), at + ".downtime", Check::non_negative)});
        });
      } else {
        r_.fail(k.source(), key, "unknown key");
      }
    }
  }

 private:
  std::uint64_t index(const toml::node& n, const std::string& key) const {
    return static_cast<std::uint64_t>(
        r_.integer(n, key, 1, std::numeric_limits<std::int64_t>::max()));
  }
  template <class Read>
  void each(const toml::node& n, const std::string& key, Read read) const {
    const toml::array* a = n.as_array();
    r_.require(a != nullptr, n, key, "must be an array, e.g. [5, 9]");
    for (std::size_t i = 0; i < a->size(); ++i) read(*a->get(i), fmt::format("{}[{}]", key, i));
  }
  template <class Read>
  void each_table(const toml::node& n, const std::string& key,
                  std::initializer_list<std::string_view> keys, Read read) const {
    each(n, key, [&](const toml::node& v, const std::string& at) {
      const toml::table* t = v.as_table();
      r_.require(t != nullptr, v, at, "must be an inline table, e.g. { frame = 5, seconds = 2.0 }");
      for (auto&& [k, _] : *t)
        if (std::find(keys.begin(), keys.end(), k.str()) == keys.end())
          r_.fail(k.source(), fmt::format("{}.{}", at, k.str()), "unknown key");
      read(*t, at);
    });
  }
  const toml::node& at_key(const toml::table& t, const std::string& at, std::string_view k) const {
    const toml::node* n = t.get(k);
    if (n == nullptr) r_.fail(t.source(), at, fmt::format("missing key \"{}\"", k));
    return *n;
  }

  const Reader& r_;
  FaultPlan& plan_;
};

// Calls `read` for every table of the array `node` ([[motor]] / [[camera]]).
template <class Read>
void each_table(const Reader& r, const toml::node& node, std::string_view what, Read read) {
  const toml::array* tables = node.as_array();
  r.require(tables != nullptr && tables->is_array_of_tables(), node, what,
            fmt::format("must be an array of tables ([[{}]])", what));
  for (std::size_t i = 0; i < tables->size(); ++i)
    read(*tables->get(i)->as_table(), fmt::format("{}[{}]", what, i));
}

// [[phantom.ellipsoid]] keys: semi-axes positive; a, b, c and mu required.
struct EllipsoidKey {
  std::string_view key;
  double physics::Ellipsoid::*member;
  Check check;
  bool required;
};
constexpr EllipsoidKey kEllipsoidKeys[] = {
    {"x", &physics::Ellipsoid::x, Check::any, false},
    {"y", &physics::Ellipsoid::y, Check::any, false},
    {"z", &physics::Ellipsoid::z, Check::any, false},
    {"a", &physics::Ellipsoid::a, Check::positive, true},
    {"b", &physics::Ellipsoid::b, Check::positive, true},
    {"c", &physics::Ellipsoid::c, Check::positive, true},
    {"phi_deg", &physics::Ellipsoid::phi_deg, Check::any, false},
    {"mu", &physics::Ellipsoid::mu, Check::any, true},
};

physics::Ellipsoid read_ellipsoid(const Reader& r, const toml::table& t, const std::string& path) {
  physics::Ellipsoid e;
  std::set<std::string_view> seen;
  for (auto&& [k, n] : t) {
    const std::string_view name = k.str();  // (clang 14 cannot capture a structured binding)
    const std::string key = fmt::format("{}.{}", path, name);
    const auto* it = std::find_if(std::begin(kEllipsoidKeys), std::end(kEllipsoidKeys),
                                  [&](const EllipsoidKey& ek) { return ek.key == name; });
    if (it == std::end(kEllipsoidKeys)) r.fail(k.source(), key, "unknown key");
    e.*(it->member) = r.number(n, key, it->check);
    seen.insert(it->key);
  }
  for (const auto& ek : kEllipsoidKeys) {
    if (ek.required && !seen.contains(ek.key))
      r.fail(t.source(), path, fmt::format("missing key \"{}\"", ek.key));
  }
  return e;
}

PhantomConfig read_phantom(const Reader& r, const toml::node& node) {
  const toml::table* t = node.as_table();
  r.require(t != nullptr, node, "phantom", "must be a table ([phantom])");
  PhantomConfig p;
  for (auto&& [k, n] : *t) {
    const std::string key = fmt::format("phantom.{}", k.str());
    if (k.str() == "pixel_mm") {
      p.pixel_mm = r.number(n, key, Check::positive);
    } else if (k.str() == "axis_offset_px") {
      p.axis_offset_px = r.number(n, key, Check::any);
    } else if (k.str() == "ellipsoid") {
      each_table(r, n, "phantom.ellipsoid", [&](const toml::table& et, const std::string& path) {
        p.ellipsoids.push_back(read_ellipsoid(r, et, path));
      });
    } else {
      r.fail(k.source(), key, "unknown key");
    }
  }
  return p;
}

// The sample translation, the shutter and the camera's readout table of the
// built-in beamline (beamline.toml has the same).
void add_default_beamline_state(BeamlineConfig& config, CameraConfig& camera) {
  MotorConfig sample;
  sample.name = "sample_x";
  sample.prefix = "micos:m2";
  sample.description = "Sample translation";
  sample.egu = "mm";
  sample.mres = 0.001;
  sample.prec = 3;
  sample.velo = 5.0;
  sample.vmax = 10.0;
  sample.accl = 0.2;
  sample.hvel = 1.0;
  sample.dhlm = 50.0;
  sample.dllm = -50.0;
  sample.rdbd = 0.001;
  sample.encoder = {0.0, 0.0, 0};
  config.motors.push_back(sample);
  config.shutters.push_back(ShutterConfig{});
  camera.readout_time = 0.01234;
  camera.readout = {{CameraDataType::uint8, 1536, 0.00618},
                    {CameraDataType::uint16, 1536, 0.01234},
                    {CameraDataType::uint8, 768, 0.00309},
                    {CameraDataType::uint16, 768, 0.00617}};
  camera.shutter = "shutter";
  camera.sample_motor = "sample_x";
  camera.sample_in = 0.0;
  camera.sample_out_threshold = 1.0;
}

}  // namespace

BeamlineConfig default_config() {
  BeamlineConfig config;
  MotorConfig motor;
  motor.description = "MICOS rotation stage";
  motor.encoder = {10000.0, 0.0, 1};
  config.motors.push_back(motor);
  CameraConfig camera;
  camera.ttlout = 1;
  add_default_beamline_state(config, camera);
  config.cameras.push_back(camera);
  return config;
}

namespace {

// A camera's `shutter` and `sample_motor` name a [[shutter]] / [[motor]] of
// the file (checked once every table is read: TOML tables have no order).
void check_camera_references(const Reader& r, const toml::table& root,
                             const BeamlineConfig& config) {
  for (std::size_t i = 0; i < config.cameras.size(); ++i) {
    const CameraConfig& c = config.cameras[i];
    const toml::node* table = root["camera"][i].node();
    const auto check = [&](std::string_view key, const std::string& name, bool found,
                           std::string_view what) {
      if (name.empty() || found) return;
      const toml::node* n = table && table->as_table() ? table->as_table()->get(key) : nullptr;
      r.fail(n ? n->source() : root.source(), fmt::format("camera[{}].{}", i, key),
             fmt::format("no {} named \"{}\"", what, name));
    };
    check("shutter", c.shutter,
          std::any_of(config.shutters.begin(), config.shutters.end(),
                      [&](const ShutterConfig& s) { return s.name == c.shutter; }),
          "[[shutter]]");
    check("sample_motor", c.sample_motor,
          std::any_of(config.motors.begin(), config.motors.end(),
                      [&](const MotorConfig& m) { return m.name == c.sample_motor; }),
          "[[motor]]");
  }
}

}  // namespace

BeamlineConfig parse_config(std::string_view text, std::string_view source) {
  const Reader r(source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    r.fail(e.source(), "syntax error", e.description());
  }
  BeamlineConfig config;
  std::set<std::string> names, prefixes;
  std::set<int> inencs;
  for (auto&& [k, n] : root) {
    if (k.str() == "motor") {
      each_table(r, n, "motor", [&](const toml::table& t, const std::string& path) {
        MotorConfig m = read_motor(r, t, path);
        r.require(names.insert(m.name).second, t, path, "name \"" + m.name + "\" used twice");
        r.require(prefixes.insert(m.prefix + ".").second, t, path,
                  "prefix \"" + m.prefix + "\" used twice");
        r.require(m.encoder.inenc == 0 || inencs.insert(m.encoder.inenc).second, t, path,
                  fmt::format("INENC{} drawn by two motors", m.encoder.inenc));
        config.motors.push_back(std::move(m));
      });
    } else if (k.str() == "camera") {
      each_table(r, n, "camera", [&](const toml::table& t, const std::string& path) {
        CameraConfig c = read_camera(r, t, path);
        r.require(names.insert(c.name).second, t, path, "name \"" + c.name + "\" used twice");
        r.require(prefixes.insert(c.prefix + c.cam).second, t, path,
                  "prefix \"" + c.prefix + c.cam + "\" used twice");
        config.cameras.push_back(std::move(c));
      });
    } else if (k.str() == "simulator") {
      config.simulator = read_simulator(r, n);
    } else if (k.str() == "faults") {
      FaultReader(r, config.faults).read(n);
    } else if (k.str() == "phantom") {
      config.phantom = read_phantom(r, n);
    } else if (k.str() == "shutter") {
      each_table(r, n, "shutter", [&](const toml::table& t, const std::string& path) {
        ShutterConfig c = read_shutter(r, t, path);
        r.require(names.insert(c.name).second, t, path, "name \"" + c.name + "\" used twice");
        r.require(prefixes.insert(c.prefix + c.command).second &&
                      prefixes.insert(c.prefix + c.status).second,
                  t, path, "PV \"" + c.prefix + c.command + "\" or its status used twice");
        config.shutters.push_back(std::move(c));
      });
    } else {
      r.fail(k.source(), k.str(),
             "unknown key (expected [simulator], [faults], [phantom], [[motor]], [[camera]] or "
             "[[shutter]] tables)");
    }
  }
  check_camera_references(r, root, config);
  return config;
}

BeamlineConfig load_config(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw ConfigError(fmt::format("{}: cannot read: is a directory", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ConfigError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file.string());
}

std::optional<physics::Phantom> PhantomConfig::phantom() const {
  if (ellipsoids.empty()) return std::nullopt;
  physics::Phantom p;
  for (const auto& e : ellipsoids) p.add(e);
  return p;
}

std::vector<std::shared_ptr<Device>> Beamline::devices() const {
  std::vector<std::shared_ptr<Device>> out(motors.begin(), motors.end());
  out.insert(out.end(), cameras.begin(), cameras.end());
  out.insert(out.end(), shutters.begin(), shutters.end());
  return out;
}

Beamline build_beamline(const BeamlineConfig& config) {
  Beamline beamline;
  for (const auto& m : config.motors) beamline.motors.push_back(std::make_shared<MotorRecord>(m));
  for (const auto& c : config.cameras) beamline.cameras.push_back(std::make_shared<Camera>(c));
  for (const auto& s : config.shutters) beamline.shutters.push_back(std::make_shared<Shutter>(s));
  return beamline;
}

std::vector<std::shared_ptr<Device>> load_devices(
    const std::optional<std::filesystem::path>& file) {
  return build_beamline(file ? load_config(*file) : default_config()).devices();
}

}  // namespace pandafly::sim::ca
