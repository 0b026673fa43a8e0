// Columns: the per-frame NDAttribute datasets — the layout's, and the
// defaults group's (NDFileHDF5's ndattr_default) — buffered per batch.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx::detail {
namespace {

// 8 KiB chunks of numbers; strings (256 bytes each) in 16 KiB chunks.
constexpr hsize_t column_chunk_rows = 1024;
constexpr hsize_t string_chunk_rows = 64;

struct Builtin {
  std::string_view name;
  Kind kind;
  std::string_view description;
};

// NDFileHDF5 writes these for every frame (file-formats.md §1.6).
constexpr Builtin builtins[] = {
    {"NDArrayUniqueId", Kind::int32, "The unique ID of the NDArray"},
    {"NDArrayTimeStamp", Kind::float64, "The timestamp of the NDArray as float64"},
    {"NDArrayEpicsTSSec", Kind::uint32, "The NDArray EPICS timestamp seconds past epoch"},
    {"NDArrayEpicsTSnSec", Kind::uint32, "The NDArray EPICS timestamp nanoseconds"},
};

// NDAttributes areaDetector drivers add themselves, as NDAttrInt32 (written
// only when a frame carries them).
constexpr Builtin driver_attributes[] = {
    {"ColorMode", Kind::int32, "Color mode"},
    {"BayerPattern", Kind::int32, "Bayer Pattern"},
};

const Builtin* builtin(std::string_view name) {
  for (const auto& b : builtins) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const Builtin* driver_attribute(std::string_view name) {
  for (const auto& b : driver_attributes) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::int32:
      return "int32";
    case Kind::int64:
      return "int64";
    case Kind::uint32:
      return "uint32";
    case Kind::float64:
      return "float64";
    case Kind::string:
      return "string";
  }
  return "?";
}

const capture::NDAttribute* find(const FrameRecord& f, std::string_view name) {
  for (const auto& a : f.attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::uint32_t epics_seconds(const FrameRecord& f) {
  if (f.epics_sec) return *f.epics_sec;
  if (!(f.timestamp >= 0) || f.timestamp > std::numeric_limits<std::uint32_t>::max()) return 0;
  return static_cast<std::uint32_t>(f.timestamp);
}

std::uint32_t epics_nanoseconds(const FrameRecord& f) {
  if (f.epics_nsec) return *f.epics_nsec;
  if (!(f.timestamp >= 0)) return 0;
  const double frac = f.timestamp - std::floor(f.timestamp);
  return static_cast<std::uint32_t>(std::min(frac * 1e9, 999999999.0));
}

std::optional<AttributeValue> builtin_value(const FrameRecord& f, std::string_view name) {
  if (name == "NDArrayUniqueId") return f.unique_id;
  if (name == "NDArrayTimeStamp") return f.timestamp;
  if (name == "NDArrayEpicsTSSec") return std::int64_t{epics_seconds(f)};
  if (name == "NDArrayEpicsTSnSec") return std::int64_t{epics_nanoseconds(f)};
  return std::nullopt;
}

void write_ndattr_attributes(hid_t dataset, const std::string& name) {
  const Builtin* b = builtin(name);
  if (b == nullptr) b = driver_attribute(name);
  h5::write_c_string_attribute(dataset, "NDAttrName", name);
  h5::write_c_string_attribute(dataset, "NDAttrDescription",
                               b ? b->description : std::string_view());
  h5::write_c_string_attribute(dataset, "NDAttrSourceType",
                               b ? "NDAttrSourceDriver" : "NDAttrSourceUndefined");
  h5::write_c_string_attribute(dataset, "NDAttrSource", b ? "Driver" : "");
}

}  // namespace

Kind Columns::kind_for(const std::string& name, std::optional<ValueType> declared,
                       const WriterOptions& o, const FrameRecord* first,
                       std::span<const FrameRecord> batch,
                       std::vector<std::string>& warnings) const {
  if (auto it = o.attribute_types.find(name); it != o.attribute_types.end()) {
    return kind_of(it->second);
  }
  if (declared) return kind_of(*declared);
  if (const Builtin* b = builtin(name)) return b->kind;
  if (const Builtin* b = driver_attribute(name)) return b->kind;
  if (name == destination_attribute_) return Kind::string;
  if (name == angle_attribute_) return Kind::float64;
  // The wire keeps no attribute type, and the plugin writes a float64 0.0 as
  // "0": a first integral value says nothing. Numbers are therefore float64
  // (as ADZMQ's own receiver makes them) unless declared otherwise. The first
  // DEFINED value decides between string and number.
  if (first == nullptr) return Kind::float64;
  bool undefined_first = false;
  std::optional<Kind> kind;
  for (const auto& f : batch) {
    const auto* a = find(f, name);
    if (a == nullptr) continue;
    if (is_undefined(a->value)) {
      undefined_first = undefined_first || &f == first;
      continue;
    }
    kind = std::holds_alternative<std::string>(a->value) ? Kind::string : Kind::float64;
    break;
  }
  if (undefined_first) {
    warnings.push_back(fmt::format(
        "NDAttribute {} was Undefined on the first frame: stored as {} ({})", name,
        kind_name(kind.value_or(Kind::float64)),
        kind ? "the type of its first defined value" : "no defined value in the first frames"));
  }
  return kind.value_or(Kind::float64);
}

void Columns::create(hid_t file, const Tree& tree, const WriterOptions& o, const FrameRecord* first,
                     std::span<const FrameRecord> batch, std::vector<std::string>& warnings) {
  destination_attribute_ = tree.destination_attribute;
  angle_attribute_ = tree.angle_attribute;
  if (first == nullptr) batch = {};
  for (const auto& spec : tree.columns) {
    add_column(file, spec.path, spec.ndattribute,
               kind_for(spec.ndattribute, spec.declared, o, first, batch, warnings),
               spec.attributes);
  }
  known_ = tree.placed;
  if (tree.defaults_group) {
    std::vector<std::string> names;
    for (const auto& b : builtins) names.emplace_back(b.name);
    names.push_back(destination_attribute_);
    if (first != nullptr) {
      for (const auto& a : first->attributes) names.push_back(a.name);
    }
    for (const auto& [name, type] : o.attribute_types) names.push_back(name);
    for (const auto& name : names) {
      if (known_.count(name) != 0) continue;
      if (name.empty() || name.find('/') != std::string::npos) {
        warnings.push_back(fmt::format("NDAttribute '{}': not a dataset name, not written", name));
        known_.insert(name);
        continue;
      }
      add_column(file, join(*tree.defaults_group, name), name,
                 kind_for(name, std::nullopt, o, first, batch, warnings), {});
      known_.insert(name);
    }
  }
  created_ = true;
}

void Columns::add_column(hid_t file, const std::string& path, const std::string& ndattribute,
                         Kind kind, const std::vector<Attribute>& attributes) {
  Column c{ndattribute,
           kind,
           create_value_dataset(file, path, kind,
                                kind == Kind::string ? string_chunk_rows : column_chunk_rows),
           {},
           {}};
  for (const auto& a : attributes) {
    if (a.source == Source::constant) write_layout_attribute(c.dataset.id(), a, nullptr);
  }
  write_ndattr_attributes(c.dataset.id(), ndattribute);
  c.tail.reserve(size_of(kind) * 256);
  frame_bytes_ += size_of(kind);
  columns_.push_back(std::move(c));
}

std::uint64_t Columns::reserve(std::uint64_t n) {
  const std::uint64_t first = rows_;
  for (auto& c : columns_) {
    for (std::uint64_t i = 0; i < n; ++i) encode(c.kind, std::nullopt, c.tail);
  }
  rows_ += n;
  return first;
}

void Columns::add(const FrameRecord& frame, const std::string& destination, std::uint64_t row) {
  std::vector<std::byte> one;
  for (auto& c : columns_) {
    std::optional<AttributeValue> v;
    if (c.ndattribute == destination_attribute_) {
      v = destination;
    } else if (c.ndattribute == angle_attribute_) {
      v = angle_of(frame, angle_attribute_);  // one angle per frame (writer.hpp Rules)
    } else if (const auto* a = find(frame, c.ndattribute)) {
      v = a->value;
    } else {
      v = builtin_value(frame, c.ndattribute);
    }
    one.clear();
    encode(c.kind, v, one);
    if (row >= stored_rows_) {
      std::copy(one.begin(), one.end(),
                c.tail.begin() + static_cast<std::ptrdiff_t>((row - stored_rows_) * one.size()));
    } else {
      c.patches.emplace_back(row, one);
    }
  }
  for (const auto& a : frame.attributes) {
    if (known_.count(a.name) == 0) unwritten_.insert(a.name);
  }
}

// Rows stored earlier (a slot filled late), one write per run of rows.
void Columns::write_patches(Column& c) {
  std::sort(c.patches.begin(), c.patches.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::byte> run;
  for (std::size_t i = 0; i < c.patches.size();) {
    const std::uint64_t first = c.patches[i].first;
    std::uint64_t n = 0;
    run.clear();
    while (i < c.patches.size() && c.patches[i].first == first + n) {
      run.insert(run.end(), c.patches[i].second.begin(), c.patches[i].second.end());
      ++n;
      ++i;
    }
    c.dataset.write_rows(first, run);
  }
  c.patches.clear();
}

void Columns::store() {
  for (auto& c : columns_) {
    write_patches(c);
    if (c.tail.empty()) continue;
    c.dataset.append(c.tail);
    c.tail.clear();
  }
  stored_rows_ = rows_;
}

void Columns::cut() noexcept {
  rows_ = stored_rows_;
  for (auto& c : columns_) {
    c.tail.clear();
    c.patches.clear();
    try {
      if (c.dataset.rows() > stored_rows_) c.dataset.set_rows(stored_rows_);
    } catch (const std::exception&) {  // the length may stay longer; frames_written says the truth
    }
  }
}

}  // namespace pandafly::dx::detail
