#include "pandafly/capture/panda_rows.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace pandafly::capture {
namespace {

// The columns a row is made of, in PandaRows::sources_ order.
enum Role : std::size_t { mean, min, max, ts_start, ts_end, ts_trig, roles };

std::string join(const std::vector<std::string>& names) {
  return names.empty() ? std::string{"none"} : fmt::format("{}", fmt::join(names, ", "));
}

bool is_degrees(std::string_view units) {
  return units == "deg" || units == "degree" || units == "degrees" || units == "\u00b0";
}

/// The encoder field named by `encoder`: a block name means its VAL.
std::string encoder_field(const std::string& encoder) {
  return encoder.find('.') == std::string::npos ? encoder + ".VAL" : encoder;
}

/// Appends the column's values as float64 (int96 never gets here: see check_values).
void append_doubles(const panda::ColumnValues& column, std::vector<double>& out) {
  std::visit(
      [&out](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        if constexpr (std::is_arithmetic_v<T>) {
          out.reserve(out.size() + values.size());
          for (const T v : values) out.push_back(static_cast<double>(v));
        } else {
          throw std::logic_error("PandaRows: an int96 column reached append()");
        }
      },
      column);
}

/// Digits of `s` at `pos` (exactly `n` of them) as a number; -1 if not digits.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, v);
  return ec == std::errc{} && end == s.data() + pos + n ? v : -1;
}

/// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
/// (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

MissingColumns::MissingColumns(std::vector<std::string> missing, std::vector<std::string> present)
    : std::runtime_error(
          fmt::format("the PandA data header lacks {} needed for fly-scan rows; it has: {}",
                      join(missing), join(present))),
      missing_(std::move(missing)),
      present_(std::move(present)) {}

std::optional<double> panda_time_to_epics_seconds(std::string_view iso) {
  // YYYY-MM-DDThh:mm:ss[.fff…]Z
  constexpr std::int64_t epics_epoch_posix = 631152000;  // 1990-01-01T00:00:00Z
  if (iso.size() < 20 || iso.back() != 'Z' || iso[4] != '-' || iso[7] != '-' || iso[10] != 'T' ||
      iso[13] != ':' || iso[16] != ':')
    return std::nullopt;
  const int y = digits(iso, 0, 4), mo = digits(iso, 5, 2), d = digits(iso, 8, 2);
  const int h = digits(iso, 11, 2), mi = digits(iso, 14, 2), s = digits(iso, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      s < 0 || s > 60)
    return std::nullopt;
  double fraction = 0;
  const std::string_view rest = iso.substr(19, iso.size() - 20);
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2) return std::nullopt;
    double scale = 0.1;
    for (const char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      fraction += (c - '0') * scale;
      scale /= 10;
    }
  }
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t posix = days * 86400 + h * 3600 + mi * 60 + s;
  return static_cast<double>(posix - epics_epoch_posix) + fraction;
}

PandaRows::PandaRows(PandaRowOptions options) : options_(std::move(options)) {}

void PandaRows::start(const panda::StartData& start, const std::vector<panda::ColumnSpec>& columns,
                      panda::ColumnDecoder::Mode mode) {
  started_ = false;
  find_columns(columns);  // throws MissingColumns
  check_values(start, columns, mode);
  acquisition_ = {.arm_time = start.arm_time,
                  .start_time = start.start_time,
                  .start_epics_s = panda_time_to_epics_seconds(start.start_time),
                  .arm_epics_s = panda_time_to_epics_seconds(start.arm_time),
                  .hw_time_offset_ns = start.hw_time_offset_ns,
                  .missed = start.missed,
                  .columns = columns};
  table_.clear();
  if (options_.keep_table)
    for (const auto& c : columns) table_.push_back({c.name, c.units, {}});
  rows_ = 0;
  started_ = true;
}

void PandaRows::find_columns(const std::vector<panda::ColumnSpec>& columns) {
  const std::string enc = encoder_field(options_.encoder);
  const std::array<std::string, roles> names = {enc + ".Mean",
                                                enc + ".Min",
                                                enc + ".Max",
                                                options_.pcap + ".TS_START.Value",
                                                options_.pcap + ".TS_END.Value",
                                                options_.pcap + ".TS_TRIG.Value"};
  std::vector<std::string> missing;
  for (std::size_t r = 0; r < roles; ++r) {
    const auto it = std::find_if(columns.begin(), columns.end(),
                                 [&](const panda::ColumnSpec& c) { return c.name == names[r]; });
    if (it == columns.end()) {
      missing.push_back(names[r]);
      continue;
    }
    sources_[r] = static_cast<std::size_t>(it - columns.begin());
  }
  if (missing.empty()) return;
  std::vector<std::string> present;
  for (const auto& c : columns) present.push_back(c.name);
  throw MissingColumns(std::move(missing), std::move(present));
}

void PandaRows::check_values(const panda::StartData& start,
                             const std::vector<panda::ColumnSpec>& columns,
                             panda::ColumnDecoder::Mode mode) const {
  if (mode == panda::ColumnDecoder::Mode::as_sent && start.processing == panda::Processing::raw)
    throw std::invalid_argument(
        "fly-scan rows need user values: a RAW stream must be decoded with scaled columns (it "
        "holds sums and clock ticks as sent)");
  for (const auto& c : columns)
    if (c.type == panda::ColumnType::int96)
      throw std::invalid_argument(fmt::format("PandA column {} is a raw int96 sum", c.name));
  if (options_.to_degrees) return;
  for (const Role r : {mean, min, max}) {
    const auto& c = columns[sources_[r]];
    if (!is_degrees(c.units))
      throw std::invalid_argument(fmt::format(
          "PandA column {} has units \"{}\", not degrees: set {}.UNITS=deg with SCALE in "
          "degrees per count, or give the rows a conversion to degrees",
          c.name, c.units, c.field));
  }
}

void PandaRows::append(const panda::ColumnBlock& block, std::vector<PandaRow>& out) {
  if (!started_) throw std::logic_error("PandaRows::append before start()");
  if (block.columns() != acquisition_.columns.size())
    throw std::invalid_argument(fmt::format("PandaRows: a block of {} columns, the header has {}",
                                            block.columns(), acquisition_.columns.size()));
  std::array<std::vector<double>, roles> v;
  for (std::size_t r = 0; r < roles; ++r) append_doubles(block.column(sources_[r]), v[r]);
  const auto to_deg = options_.to_degrees.value_or(PandaRowOptions::Linear{});
  const std::uint64_t first = acquisition_.missed + rows_;
  out.reserve(out.size() + block.rows());
  auto deg = [&to_deg](double value) { return value * to_deg.scale + to_deg.offset; };
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < block.rows(); ++i) {
    // An exposure whose gate never opened: Mean is NaN and the PandA's Min
    // and Max are 0 (reference §3.7), which are no angles.
    const bool gated = !std::isnan(v[mean][i]);
    const double a = deg(v[min][i]), b = deg(v[max][i]);
    out.push_back({.index = first + i,
                   .mean_deg = deg(v[mean][i]),
                   .min_deg = gated ? std::min(a, b) : nan,
                   .max_deg = gated ? std::max(a, b) : nan,
                   .ts_start_s = v[ts_start][i],
                   .ts_end_s = v[ts_end][i],
                   .ts_trig_s = v[ts_trig][i]});
  }
  if (!table_.empty())
    for (std::size_t c = 0; c < table_.size(); ++c)
      append_doubles(block.column(c), table_[c].values);
  rows_ += block.rows();
}

std::vector<PandaTableColumn> PandaRows::take_table() {
  auto taken = std::move(table_);
  table_.clear();
  if (options_.keep_table && started_)
    for (const auto& c : acquisition_.columns) table_.push_back({c.name, c.units, {}});
  return taken;
}

}  // namespace pandafly::capture
