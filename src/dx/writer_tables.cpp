// Extra tables and the events table (writer.hpp Rules, "Events" and
// "Tables"): 1-D columns written after SWMR, when finish() reopens the file.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include <fmt/format.h>

#include "h5_probe.hpp"
#include "pandafly/h5/attribute.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx::detail {
namespace {

constexpr hsize_t max_chunk_rows = 65536;

hsize_t chunk_rows(std::size_t n) {
  return std::clamp<hsize_t>(n, 1, max_chunk_rows);
}

template <class T>
void write_numbers(hid_t file, const std::string& path, const std::vector<T>& v) {
  auto d = h5::Dataset::create(file, path,
                               {.type = h5::type_of<T>(), .chunk_rows = chunk_rows(v.size())});
  if (!v.empty()) d.append(std::as_bytes(std::span(v)));
}

// Fixed-length NUL-terminated strings of the longest + 1 bytes (NDFileHDF5's kind).
void write_strings(hid_t file, const std::string& path, const std::vector<std::string>& v) {
  std::size_t bytes = 1;
  for (const auto& s : v) bytes = std::max(bytes, s.size() + 1);
  auto d = h5::Dataset::create(
      file, path, {.chunk_rows = chunk_rows(v.size()), .string_bytes = bytes, .c_string = true});
  if (v.empty()) return;
  std::vector<std::byte> out(v.size() * bytes, std::byte{0});
  for (std::size_t i = 0; i < v.size(); ++i)
    std::memcpy(out.data() + i * bytes, v[i].data(), v[i].size());
  d.append(out);
}

// Why the column cannot go at its path ("" when it can).
std::string in_the_way(hid_t file, const std::string& path) {
  const H5Probe probe(file);
  for (auto slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string parent = path.substr(0, slash);
    const auto kind = probe.kind(parent);
    if (kind != ObjectKind::missing && kind != ObjectKind::group)
      return fmt::format("{} is not a group", parent);
  }
  if (probe.kind(path) != ObjectKind::missing) return "an object is there already";
  return {};
}

std::size_t rows_of(const ColumnValues& v) {
  return std::visit([](const auto& x) { return x.size(); }, v);
}

}  // namespace

void check_column_path(const TableColumn& c) {
  const auto bad = [&](std::string_view why) {
    throw std::invalid_argument(fmt::format("table column '{}': {}", c.path, why));
  };
  if (c.path.empty() || c.path.front() != '/') bad("not an absolute path");
  if (c.path == "/") bad("the root group is not a column");
  for (std::size_t from = 1;;) {
    const auto slash = c.path.find('/', from);
    const std::string_view part =
        std::string_view(c.path).substr(from, slash == std::string::npos ? slash : slash - from);
    if (part.empty()) bad("an empty part");
    if (part == "." || part == "..") bad("a '.' or '..' part");
    if (slash == std::string::npos) return;
    from = slash + 1;
  }
}

std::uint64_t column_bytes(const std::vector<TableColumn>& columns) {
  std::uint64_t n = 0;
  for (const auto& c : columns) {
    n += 1024;  // object header, attributes
    if (const auto* s = std::get_if<std::vector<std::string>>(&c.values)) {
      std::size_t longest = 1;
      for (const auto& t : *s) longest = std::max(longest, t.size() + 1);
      n += s->size() * longest;
    } else {
      n += rows_of(c.values) * 8;
    }
  }
  return n;
}

std::vector<TableColumn> event_columns(std::vector<SlotEvent> events) {
  std::stable_sort(events.begin(), events.end(), [](const SlotEvent& a, const SlotEvent& b) {
    return std::tie(a.dataset, a.slot) < std::tie(b.dataset, b.slot);
  });
  std::vector<std::string> dataset, what;
  std::vector<std::uint64_t> slot;
  std::vector<std::int64_t> row, frame;
  for (auto& e : events) {
    dataset.push_back(std::move(e.dataset));
    slot.push_back(e.slot);
    row.push_back(e.row);
    frame.push_back(e.frame);
    what.push_back(std::move(e.what));
  }
  const auto at = [](std::string_view name) { return join(events_group, name); };
  std::vector<TableColumn> out;
  out.push_back({at("dataset"), std::move(dataset), "", "the detector dataset of the slot"});
  out.push_back(
      {at("slot"), std::move(slot), "", "the index in that dataset (the planned projection)"});
  out.push_back({at("row"), std::move(row), "", "the PandA row (-1: none)"});
  out.push_back(
      {at("frame"), std::move(frame), "", "the camera frame number, NDArrayUniqueId (-1: none)"});
  out.push_back({at("what"), std::move(what), "", "what happened"});
  return out;
}

void write_columns(hid_t file, const std::vector<TableColumn>& columns,
                   std::vector<std::string>& warnings) {
  for (const auto& c : columns) {
    if (const auto why = in_the_way(file, c.path); !why.empty()) {
      warnings.push_back(fmt::format("table column {}: {}: left out", c.path, why));
      continue;
    }
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            write_strings(file, c.path, v);
          } else {
            write_numbers(file, c.path, v);
          }
        },
        c.values);
    const auto d = h5::Dataset::open(file, c.path);
    if (!c.units.empty()) h5::write_c_string_attribute(d.id(), "units", c.units);
    if (!c.description.empty()) h5::write_c_string_attribute(d.id(), "description", c.description);
  }
}

}  // namespace pandafly::dx::detail
