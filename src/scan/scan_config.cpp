// ScanConfig from TOML (rules in include/pandafly/scan/scan_config.hpp).
#include "pandafly/scan/scan_config.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace pandafly::scan {
namespace {

constexpr std::array<std::string_view, 10> kDataTypes = {
    "Int8", "UInt8", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float32", "Float64"};

std::string at(std::string_view source, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", source, r.begin.line, r.begin.column);
}

// One TOML table read key by key. Its keys are declared once, at
// construction, where unknown ones are refused first (a typo is reported as
// itself, not as the required key it misspells); reading an undeclared key
// is a bug here (std::logic_error).
class Table {
 public:
  Table(const toml::table* t, std::string name, std::string_view source,
        std::initializer_list<std::string_view> keys)
      : t_(t), name_(std::move(name)), source_(source), known_(keys.begin(), keys.end()) {
    reject_unknown();
  }

  [[noreturn]] void fail(const toml::node& n, std::string_view key, std::string_view msg) const {
    throw ConfigError(fmt::format("{}: {}.{}: {}", at(source_, n.source()), name_, key, msg));
  }

  [[noreturn]] void missing(std::string_view key, std::string_view why = "") const {
    const std::string where = t_ ? at(source_, t_->source()) : std::string(source_);
    throw ConfigError(
        fmt::format("{}: {}.{}: missing{}{}", where, name_, key, why.empty() ? "" : " ", why));
  }

  const toml::node* get(std::string_view key) const {
    if (!known_.count(key))
      throw std::logic_error(fmt::format("scan config: {}.{} read but not declared", name_, key));
    return t_ ? t_->get(key) : nullptr;
  }

  // kRequired: must be there and non-empty; kNonEmpty: may be left out (the
  // default stays) but not given empty; kMayBeEmpty: "" means something.
  enum Need { kRequired, kNonEmpty, kMayBeEmpty };

  void text(std::string_view key, std::string& out, Need need = kNonEmpty) const {
    const toml::node* n = get(key);
    if (!n) {
      if (need == kRequired) missing(key);
      return;
    }
    const auto v = n->value<std::string>();
    if (!v || !n->is_string()) fail(*n, key, "must be a string");
    if (need != kMayBeEmpty && v->empty()) fail(*n, key, "must not be empty");
    out = *v;
  }

  // A float; integers are taken too. `min`/`strict` bound it from below.
  bool number(std::string_view key, double& out, std::optional<double> min = std::nullopt,
              bool strict = false) const {
    const toml::node* n = get(key);
    if (!n) return false;
    if (!n->is_number()) fail(*n, key, "must be a number");
    const double v =
        n->is_integer() ? static_cast<double>(*n->value<std::int64_t>()) : *n->value<double>();
    if (!std::isfinite(v)) fail(*n, key, "must be finite");
    if (min && (strict ? !(v > *min) : !(v >= *min)))
      fail(*n, key, fmt::format("must be {} {}", strict ? ">" : "≥", *min));
    out = v;
    return true;
  }

  bool integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) const {
    const toml::node* n = get(key);
    if (!n) return false;
    if (!n->is_integer()) fail(*n, key, "must be an integer");
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < min || v > max) fail(*n, key, fmt::format("must be in {}..{}", min, max));
    out = v;
    return true;
  }

  void boolean(std::string_view key, bool& out) const {
    const toml::node* n = get(key);
    if (!n) return;
    if (!n->is_boolean()) fail(*n, key, "must be true or false");
    out = *n->value<bool>();
  }

  void port(std::string_view key, std::uint16_t& out) const {
    std::int64_t v = out;
    if (integer(key, v, 1, 65535)) out = static_cast<std::uint16_t>(v);
  }

  void count(std::string_view key, std::uint64_t& out) const {
    std::int64_t v = 0;
    if (integer(key, v, 0, std::numeric_limits<std::int32_t>::max()))
      out = static_cast<std::uint64_t>(v);
  }

  /// A string naming one of `choices`; any other is an error listing them
  /// as `listed` says.
  template <class E>
  void choice(std::string_view key, E& out,
              std::initializer_list<std::pair<std::string_view, E>> choices,
              std::string_view listed) const {
    const toml::node* n = get(key);
    if (!n) return;
    std::string s;
    text(key, s);
    for (const auto& [name, value] : choices)
      if (s == name) {
        out = value;
        return;
      }
    fail(*n, key, fmt::format("\"{}\" is not {}", s, listed));
  }

  void when(std::string_view key, When& out) const {
    choice(key, out,
           {{"none", When::none},
            {"before", When::before},
            {"after", When::after},
            {"both", When::both}},
           "\"before\", \"after\", \"both\" or \"none\"");
  }

  void reject_unknown() const {
    if (!t_) return;
    for (const auto& [k, v] : *t_)
      if (!known_.count(k.str()))
        throw ConfigError(
            fmt::format("{}: {}.{}: unknown key", at(source_, k.source()), name_, k.str()));
  }

 private:
  const toml::table* t_;
  std::string name_;
  std::string_view source_;
  std::set<std::string_view, std::less<>> known_;
};

// `path` relative to the folder of `source` (string work: no file system here).
std::string resolve(std::string_view source, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const auto slash = source.rfind('/');
  if (slash == std::string_view::npos) return path;
  return std::string(source.substr(0, slash + 1)) + path;
}

const toml::table* table_of(const toml::table& doc, std::string_view name,
                            std::string_view source) {
  const toml::node* n = doc.get(name);
  if (!n) return nullptr;
  if (!n->is_table())
    throw ConfigError(fmt::format("{}: {}: must be a table", at(source, n->source()), name));
  return n->as_table();
}

void read_panda(const Table& t, PandaConfig& p, std::string_view source, bool required) {
  t.text("host", p.host);
  t.port("control_port", p.control_port);
  t.port("data_port", p.data_port);
  t.text("design", p.design, required ? Table::kRequired : Table::kNonEmpty);
  if (!p.design.empty()) p.design = resolve(source, p.design);
  t.number("timeout", p.timeout_s, 0.0, true);
}

void read_rotation(const Table& t, RotationConfig& r) {
  t.text("motor", r.motor);
  t.text("encoder", r.encoder);
  t.number("counts_per_degree", r.counts_per_degree, 0.0, true);
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  t.integer("encoder_offset_counts", r.encoder_offset_counts, -kMax - 1, kMax);
  t.boolean("encoder_is_motor", r.encoder_is_motor);
  t.number("rbv_stamp_lag", r.rbv_stamp_lag_s, 0.0);
}

ReadoutEntry read_readout_row(const toml::node& n, std::size_t i, std::string_view source) {
  const std::string name = fmt::format("camera.readout[{}]", i);
  if (!n.is_table())
    throw ConfigError(fmt::format("{}: {}: must be a table {{data_type, size_y, readout_time}}",
                                  at(source, n.source()), name));
  const Table t(n.as_table(), name, source, {"data_type", "size_y", "readout_time"});
  ReadoutEntry e;
  t.text("data_type", e.data_type, Table::kRequired);
  if (std::find(kDataTypes.begin(), kDataTypes.end(), e.data_type) == kDataTypes.end())
    t.fail(
        *t.get("data_type"), "data_type",
        fmt::format("\"{}\" is not an NDDataType ({})", e.data_type, fmt::join(kDataTypes, " ")));
  if (!t.integer("size_y", e.size_y, 1, std::numeric_limits<std::int32_t>::max()))
    t.missing("size_y");
  if (!t.number("readout_time", e.readout_time_s, 0.0)) t.missing("readout_time");
  return e;
}

// camera.timestamp: one of capture::StampMeaning's names.
void read_timestamp(const Table& t, CameraConfig& c) {
  const toml::node* n = t.get("timestamp");
  if (!n) return;
  std::string s;
  t.text("timestamp", s);
  const auto m = capture::stamp_meaning_from(s);
  if (!m)
    t.fail(*n, "timestamp",
           fmt::format("\"{}\" is not \"readout_end\", \"exposure_end\" or \"exposure_start\"", s));
  c.timestamp = *m;
}

void read_camera(const Table& t, CameraConfig& c, std::string_view source) {
  for (auto [key, field] : {std::pair{"prefix", &c.prefix},
                            {"zmq", &c.zmq},
                            {"ioc_host", &c.ioc_host},
                            {"trigger_source", &c.trigger_source}})
    t.text(key, *field);
  // "" is meaningful: no cam/image/plugin part of the PV names, no FrameType
  // record, the readout table not tied to a model.
  for (auto [key, field] : {std::pair{"cam", &c.cam},
                            {"image", &c.image},
                            {"zmq_plugin", &c.zmq_plugin},
                            {"frame_type_pv", &c.frame_type_pv},
                            {"model", &c.model}})
    t.text(key, *field, Table::kMayBeEmpty);
  t.choice("frames", c.frames, {{"zmq", FrameSource::zmq}, {"ca", FrameSource::ca}}, "zmq or ca");
  t.choice("step_trigger", c.step_trigger,
           {{"software", StepTrigger::software}, {"single", StepTrigger::single}},
           "software or single");
  t.number("readout_margin", c.readout_margin_s, 0.0);
  t.number("readout_time", c.readout_time_s, 0.0);
  read_timestamp(t, c);
  if (const toml::node* n = t.get("readout")) {
    const toml::array* a = n->as_array();
    if (!a) t.fail(*n, "readout", "must be an array of tables ([[camera.readout]])");
    for (std::size_t i = 0; i < a->size(); ++i)
      c.readout.push_back(read_readout_row(*a->get(i), i, source));
  }
}

// projections or step → both (rules in the header).
void fill_range(const Table& t, ScanRange& s, std::optional<std::int64_t> projections,
                std::optional<double> step) {
  const double span = s.end_deg - s.start_deg;
  if (projections && step) t.fail(*t.get("step"), "step", "give projections or step, not both");
  if (!projections && !step) t.missing("projections", "(or scan.step)");
  if (projections) {
    if (span == 0) t.fail(*t.get("end"), "end", "equals scan.start: nothing to scan");
    s.projections = static_cast<std::uint64_t>(*projections);
    s.step_deg = span / static_cast<double>(*projections - 1);
    return;
  }
  if (*step == 0) t.fail(*t.get("step"), "step", "must not be 0");
  if (span == 0 || (span > 0) != (*step > 0))
    t.fail(*t.get("step"), "step",
           fmt::format("{} does not lead from start {} to end {}", *step, s.start_deg, s.end_deg));
  const double n = std::round(span / *step) + 1;
  if (n < 2 || n > std::numeric_limits<std::int32_t>::max())
    t.fail(*t.get("step"), "step", fmt::format("gives {} projections (2 or more needed)", n));
  s.projections = static_cast<std::uint64_t>(n);
  s.step_deg = *step;
}

void read_scan(const Table& t, ScanRange& s) {
  if (!t.number("start", s.start_deg)) t.missing("start");
  if (!t.number("end", s.end_deg)) t.missing("end");
  std::int64_t n = 0;
  std::optional<std::int64_t> projections;
  if (t.integer("projections", n, 2, std::numeric_limits<std::int32_t>::max())) projections = n;
  double step = 0;
  std::optional<double> step_given;
  if (t.number("step", step)) step_given = step;
  if (!t.number("exposure", s.exposure_s, 0.0, true)) t.missing("exposure");
  t.boolean("return_to_start", s.return_to_start);
  t.number("settle", s.settle_s, 0.0);
  fill_range(t, s, projections, step_given);
}

void read_darks(const Table& t, DarksConfig& d) {
  t.count("count", d.count);
  t.when("when", d.when);
}

void read_flats(const Table& t, FlatsConfig& f) {
  t.count("count", f.count);
  t.when("when", f.when);
  t.text("sample_motor", f.sample_motor);
  const bool has_out = t.number("sample_out", f.sample_out);
  f.has_sample_in = t.number("sample_in", f.sample_in);
  const bool taken = f.count > 0 && f.when != When::none;
  if (!has_out && taken)
    t.missing("sample_out", "(flats are taken: where the sample goes out of the beam)");
  if (taken && f.has_sample_in && f.sample_in == f.sample_out)
    t.fail(
        *t.get("sample_out"), "sample_out",
        fmt::format("equals flats.sample_in {}: the sample would stay in the beam", f.sample_in));
}

void read_shutter(const Table& t, ShutterConfig& s) {
  t.text("command", s.command, Table::kMayBeEmpty);  // "": the beamline has none
  t.text("status", s.status);
  t.text("open", s.open);
  t.text("close", s.close);
}

void read_output(const Table& t, OutputConfig& o, std::string_view source) {
  t.text("file", o.file, Table::kRequired);
  t.text("layout", o.layout, Table::kMayBeEmpty);
  o.layout = resolve(source, o.layout);
  t.boolean("overwrite", o.overwrite);
  t.choice("compression", o.compression,
           {{"none", Compression::none},
            {"gzip", Compression::gzip},
            {"lz4", Compression::lz4},
            {"bitshuffle-lz4", Compression::bitshuffle_lz4}},
           "none, gzip, lz4 or bitshuffle-lz4");
}

// [attributes]: NAME = value (string, integer or float), by name (toml++ keeps
// a table's keys sorted).
void read_attributes(const toml::table* t, std::vector<NamedValue>& out, std::string_view source) {
  if (!t) return;
  for (const auto& [k, v] : *t) {
    if (const auto* i = v.as_integer())
      out.push_back({std::string(k.str()), i->get()});
    else if (const auto* f = v.as_floating_point())
      out.push_back({std::string(k.str()), f->get()});
    else if (const auto* str = v.as_string())
      out.push_back({std::string(k.str()), str->get()});
    else
      throw ConfigError(fmt::format("{}: attributes.{}: must be a string or a number",
                                    at(source, v.source()), k.str()));
  }
}

}  // namespace

ScanConfig parse_scan_config(std::string_view text, std::string_view source, ScanKind kind) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}: {}", at(source, e.source()), e.description()));
  }
  static constexpr std::array<std::string_view, 10> kTables = {
      "panda", "rotation", "camera", "scan",     "darks",
      "flats", "shutter",  "output", "metadata", "attributes"};
  for (const auto& [k, v] : doc)
    if (std::find(kTables.begin(), kTables.end(), k.str()) == kTables.end())
      throw ConfigError(fmt::format("{}: {}: unknown table (known: {})", at(source, k.source()),
                                    k.str(), fmt::join(kTables, " ")));
  ScanConfig c;
  c.source = std::string(source);
  const auto table = [&](std::string_view name, std::initializer_list<std::string_view> keys) {
    return Table(table_of(doc, name, source), std::string(name), source, keys);
  };
  read_panda(table("panda", {"host", "control_port", "data_port", "design", "timeout"}), c.panda,
             source, kind == ScanKind::fly);
  read_rotation(table("rotation", {"motor", "encoder", "counts_per_degree", "encoder_offset_counts",
                                   "encoder_is_motor", "rbv_stamp_lag"}),
                c.rotation);
  read_camera(table("camera", {"prefix", "cam", "image", "zmq_plugin", "zmq", "ioc_host",
                               "trigger_source", "frame_type_pv", "model", "frames", "step_trigger",
                               "readout_margin", "readout_time", "readout", "timestamp"}),
              c.camera, source);
  read_scan(table("scan",
                  {"start", "end", "projections", "step", "exposure", "return_to_start", "settle"}),
            c.scan);
  read_darks(table("darks", {"count", "when"}), c.darks);
  read_flats(table("flats", {"count", "when", "sample_motor", "sample_out", "sample_in"}), c.flats);
  read_shutter(table("shutter", {"command", "status", "open", "close"}), c.shutter);
  read_output(table("output", {"file", "layout", "overwrite", "compression"}), c.output, source);
  read_attributes(table_of(doc, "attributes", source), c.attributes, source);
  try {
    c.metadata = dx::parse_metadata(text, source);
  } catch (const dx::MetadataError& e) {
    throw ConfigError(e.what());
  }
  return c;
}

std::uint64_t frames_before(std::uint64_t count, When when) {
  return when == When::before || when == When::both ? count : 0;
}

std::uint64_t frames_after(std::uint64_t count, When when) {
  return when == When::after || when == When::both ? count : 0;
}

std::string_view to_string(When when) {
  switch (when) {
    case When::none:
      return "none";
    case When::before:
      return "before";
    case When::after:
      return "after";
    case When::both:
      return "both";
  }
  return "?";
}

std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::lz4:
      return "lz4";
    case Compression::bitshuffle_lz4:
      return "bitshuffle-lz4";
  }
  return "?";
}

}  // namespace pandafly::scan
