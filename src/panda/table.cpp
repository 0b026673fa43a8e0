#include "pandafly/panda/table.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/panda/commands.hpp"

namespace pandafly::panda {
namespace {

std::uint64_t get_bits(std::span<const std::uint32_t> row, unsigned low, unsigned width) {
  std::uint64_t v = 0;
  for (unsigned b = 0; b < width; ++b) {
    const unsigned bit = low + b;
    v |= static_cast<std::uint64_t>((row[bit / 32] >> (bit % 32)) & 1U) << b;
  }
  return v;
}

void set_bits(std::span<std::uint32_t> row, unsigned low, unsigned width, std::uint64_t v) {
  for (unsigned b = 0; b < width; ++b) {
    const unsigned bit = low + b;
    if ((v >> b) & 1U) row[bit / 32] |= 1U << (bit % 32);
  }
}

std::optional<std::int64_t> parse_number(std::string_view text) {
  int base = 10;
  bool negative = false;
  if (text.starts_with('-')) {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.starts_with("0x") || text.starts_with("0X")) {
    base = 16;
    text.remove_prefix(2);
  }
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v, base);
  if (text.empty() || r.ec != std::errc{} || r.ptr != end || v > (1ULL << 63)) return std::nullopt;
  return negative ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
}

// The values a field of `width` bits and `subtype` can hold.
std::pair<std::int64_t, std::int64_t> value_range(const TableField& f) {
  const unsigned width = f.width();
  if (f.subtype == "int")
    return {-(std::int64_t{1} << (width - 1)), (std::int64_t{1} << (width - 1)) - 1};
  return {0, (std::int64_t{1} << width) - 1};
}

}  // namespace

TableLayout TableLayout::parse(std::span<const std::string> fields_lines, unsigned row_words) {
  TableLayout t;
  unsigned highest = 0;
  for (const auto& line : fields_lines) {
    const auto w = split_words(line);
    const auto colon = w.empty() ? std::string::npos : w[0].find(':');
    // Plain values (not optionals) keep g++ 12 -O2 from a false
    // -Wmaybe-uninitialized on the comparisons below.
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    bool bits_ok = false;
    if (colon != std::string::npos) {
      const auto h = parse_uint(std::string_view(w[0]).substr(0, colon));
      const auto l = parse_uint(std::string_view(w[0]).substr(colon + 1));
      bits_ok = h.has_value() && l.has_value();
      high = h.value_or(0);
      low = l.value_or(0);
    }
    if (w.size() < 2 || !bits_ok || low > high || high >= 4096 || high - low >= 64) {
      throw std::invalid_argument(
          fmt::format("bad table field line '{}' (expected 'high:low NAME subtype')", line));
    }
    TableField f;
    f.high = static_cast<unsigned>(high);
    f.low = static_cast<unsigned>(low);
    f.name = w[1];
    f.subtype = w.size() > 2 ? w[2] : "uint";
    highest = std::max(highest, f.high);
    t.fields_.push_back(std::move(f));
  }
  std::sort(t.fields_.begin(), t.fields_.end(),
            [](const TableField& a, const TableField& b) { return a.low < b.low; });
  t.row_words_ = row_words != 0 ? row_words : highest / 32 + 1;
  if (t.row_words_ * 32 <= highest) {
    throw std::invalid_argument(
        fmt::format("table ROW_WORDS {} is too small for bit {}", t.row_words_, highest));
  }
  return t;
}

int TableLayout::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::uint32_t> TableLayout::pack(std::span<const TableRow> rows) const {
  std::vector<std::uint32_t> words(rows.size() * row_words_, 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != fields_.size()) {
      throw std::invalid_argument(
          fmt::format("row {} has {} values for {} fields", r + 1, rows[r].size(), fields_.size()));
    }
    std::span<std::uint32_t> row(words.data() + r * row_words_, row_words_);
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      const auto& f = fields_[i];
      const std::int64_t v = rows[r][i];
      const unsigned width = f.width();
      const auto [lo, hi] = value_range(f);
      if (v < lo || v > hi) {
        throw std::invalid_argument(
            fmt::format("row {}: {}={} does not fit ({}..{})", r + 1, f.name, v, lo, hi));
      }
      set_bits(row, f.low, width,
               static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << width) - 1));
    }
  }
  return words;
}

std::vector<TableRow> TableLayout::unpack(std::span<const std::uint32_t> words) const {
  if (row_words_ == 0 || words.size() % row_words_ != 0) {
    throw std::invalid_argument(fmt::format("{} table words are not a whole number of {}-word rows",
                                            words.size(), row_words_));
  }
  std::vector<TableRow> rows;
  for (std::size_t r = 0; r < words.size() / row_words_; ++r) {
    std::span<const std::uint32_t> row(words.data() + r * row_words_, row_words_);
    TableRow values;
    for (const auto& f : fields_) {
      const std::uint64_t raw = get_bits(row, f.low, f.width());
      const bool negative = f.subtype == "int" && ((raw >> (f.width() - 1)) & 1U);
      values.push_back(negative ? static_cast<std::int64_t>(raw) - (std::int64_t{1} << f.width())
                                : static_cast<std::int64_t>(raw));
    }
    rows.push_back(std::move(values));
  }
  return rows;
}

std::string TableLayout::format_value(std::size_t i, std::int64_t v) const {
  const auto& labels = fields_.at(i).labels;
  if (v >= 0 && static_cast<std::size_t>(v) < labels.size())
    return labels[static_cast<std::size_t>(v)];
  return std::to_string(v);
}

std::int64_t TableLayout::parse_value(std::size_t i, std::string_view text) const {
  const auto& f = fields_.at(i);
  const auto label = std::find(f.labels.begin(), f.labels.end(), text);
  if (label != f.labels.end()) return label - f.labels.begin();
  if (auto n = parse_number(text)) {
    const auto [lo, hi] = value_range(f);
    if (*n < lo || *n > hi)
      throw std::invalid_argument(fmt::format("{}={} does not fit ({}..{})", f.name, *n, lo, hi));
    return *n;
  }
  throw std::invalid_argument(
      fmt::format("{}: '{}' is neither a number nor one of its labels", f.name, text));
}

TableRow TableLayout::parse_row(std::string_view text) const {
  TableRow row(fields_.size(), 0);
  for (const auto& pair : split_words(text)) {
    const auto eq = pair.find('=');
    const int i = eq == std::string::npos ? -1 : find(std::string_view(pair).substr(0, eq));
    if (i < 0) {
      throw std::invalid_argument(
          fmt::format("'{}' does not name a table field (expected NAME=VALUE)", pair));
    }
    row[static_cast<std::size_t>(i)] =
        parse_value(static_cast<std::size_t>(i), std::string_view(pair).substr(eq + 1));
  }
  return row;
}

std::string TableLayout::format_row(const TableRow& row) const {
  std::string out;
  for (std::size_t i = 0; i < fields_.size() && i < row.size(); ++i) {
    if (!out.empty()) out.push_back(' ');
    out += fields_[i].name + "=" + format_value(i, row[i]);
  }
  return out;
}

}  // namespace pandafly::panda

namespace pandafly::panda {

std::vector<std::uint32_t> TableLayout::words_from_text(std::string_view text) const {
  std::vector<std::uint32_t> words;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    ++number;
    line = line.substr(0, line.find('#'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (split_words(line).empty()) continue;
    try {
      if (line.find('=') != std::string_view::npos) {
        const TableRow row = parse_row(line);
        const auto packed = pack({&row, 1});
        words.insert(words.end(), packed.begin(), packed.end());
        continue;
      }
      for (const auto& w : split_words(line)) {
        const auto v = parse_number(w);
        if (!v || *v < -0x80000000LL || *v > 0xFFFFFFFFLL)
          throw std::invalid_argument("'" + w + "' is not a 32-bit word");
        words.push_back(static_cast<std::uint32_t>(*v));
      }
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("line {}: {}", number, e.what()));
    }
  }
  if (row_words_ != 0 && words.size() % row_words_ != 0) {
    throw std::invalid_argument(
        fmt::format("{} words are not a whole number of {}-word rows", words.size(), row_words_));
  }
  return words;
}

}  // namespace pandafly::panda
