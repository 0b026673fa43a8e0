#include "output.hpp"

#include <fmt/format.h>

namespace pandactl {

using nlohmann::json;
namespace panda = pandafly::panda;

json to_json(const panda::Identity& id) {
  return {{"idn", id.text},
          {"sw", id.sw},
          {"fpga", id.fpga},
          {"rootfs", id.rootfs},
          {"api", fmt::format("{}.{}", id.api_major, id.api_minor)}};
}

json to_json(const panda::BlockInfo& b) {
  return {{"name", b.name}, {"count", b.count}, {"description", b.description}};
}

json to_json(const panda::FieldInfo& f) {
  json j{{"name", f.listing.name},
         {"index", f.listing.index},
         {"type", f.listing.type},
         {"subtype", f.listing.subtype},
         {"description", f.description}};
  if (!f.listing.extra.empty()) j["extra"] = f.listing.extra;
  if (f.max) j["max"] = *f.max;
  if (f.units) j["units"] = *f.units;
  if (f.scale) j["scale"] = *f.scale;
  if (f.offset) j["offset"] = *f.offset;
  if (!f.labels.empty()) j["labels"] = f.labels;
  if (!f.units_labels.empty()) j["units_labels"] = f.units_labels;
  if (!f.capture_labels.empty()) j["capture_labels"] = f.capture_labels;
  if (f.capture_word) j["capture_word"] = *f.capture_word;
  if (f.bit_offset) j["bit_offset"] = *f.bit_offset;
  if (f.max_delay) j["max_delay"] = *f.max_delay;
  if (!f.bits.empty()) j["bits"] = f.bits;
  if (f.max_length) j["max_length"] = *f.max_length;
  if (f.table) {
    json fields = json::array();
    for (const auto& tf : f.table->fields()) {
      fields.push_back({{"name", tf.name},
                        {"bits", fmt::format("{}:{}", tf.high, tf.low)},
                        {"subtype", tf.subtype},
                        {"labels", tf.labels},
                        {"description", tf.description}});
    }
    j["table"] = {{"row_words", f.table->row_words()}, {"fields", fields}};
  }
  return j;
}

json to_json(const panda::TableLayout& t, const std::vector<panda::TableRow>& rows) {
  json out = json::array();
  for (const auto& row : rows) {
    json r = json::object();
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (t.fields()[i].labels.empty()) {
        r[t.fields()[i].name] = row[i];
      } else {
        r[t.fields()[i].name] = t.format_value(i, row[i]);
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string field_text(const panda::FieldInfo& f) {
  std::vector<std::string> kind{f.listing.type, f.listing.subtype};
  kind.insert(kind.end(), f.listing.extra.begin(), f.listing.extra.end());
  std::string line =
      fmt::format("{:<16} {:>3} {}", f.listing.name, f.listing.index, fmt::join(kind, " "));
  if (f.units && !f.units->empty()) line += fmt::format("  units={}", *f.units);
  if (f.scale) line += fmt::format("  scale={}", *f.scale);
  if (f.offset) line += fmt::format("  offset={}", *f.offset);
  if (f.max) line += fmt::format("  max={}", *f.max);
  if (f.capture_word)
    line += fmt::format("  capture={}[{}]", *f.capture_word, f.bit_offset.value_or(0));
  if (!f.labels.empty() && f.labels.size() <= 8)
    line += fmt::format("  [{}]", fmt::join(f.labels, "|"));
  if (!f.labels.empty() && f.labels.size() > 8)
    line += fmt::format("  [{} choices]", f.labels.size());
  if (f.table)
    line += fmt::format("  rows of {} words, max {} words", f.table->row_words(),
                        f.max_length.value_or(0));
  if (!f.description.empty()) line += "  # " + f.description;
  return line;
}

}  // namespace pandactl
