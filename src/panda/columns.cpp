#include "pandafly/panda/columns.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

namespace pandafly::panda {

Int128 Int96::value() const noexcept {
  const auto high = static_cast<std::int32_t>(word[2]);  // sign-extends
  const auto low = (static_cast<std::uint64_t>(word[1]) << 32) | word[0];
  return static_cast<Int128>(static_cast<std::uint64_t>(static_cast<std::int64_t>(high))) << 64 |
         static_cast<Int128>(low);
}

Int96 Int96::from(Int128 v) noexcept {
  __extension__ typedef unsigned __int128 UInt128;
  const auto u = static_cast<UInt128>(v);
  return Int96{{static_cast<std::uint32_t>(u), static_cast<std::uint32_t>(u >> 32),
                static_cast<std::uint32_t>(u >> 64)}};
}

std::size_t size_of(ColumnType t) noexcept {
  switch (t) {
    case ColumnType::uint32:
    case ColumnType::int32:
      return 4;
    case ColumnType::int64:
    case ColumnType::float64:
      return 8;
    case ColumnType::int96:
      return 12;
  }
  return 0;
}

// ------------------------------------------------------------------ ColumnBlock

std::span<const std::byte> ColumnBlock::bytes(std::size_t i) const {
  return std::visit([](const auto& v) { return std::as_bytes(std::span{v}); }, values_.at(i));
}

void ColumnBlock::clear() noexcept {
  for (auto& v : values_) std::visit([](auto& c) { c.clear(); }, v);
  rows_ = 0;
}

void ColumnBlock::reserve(std::size_t rows) {
  for (auto& v : values_) std::visit([rows](auto& c) { c.reserve(rows); }, v);
}

// ------------------------------------------------------------------ planning

namespace {

ColumnValues values_of(ColumnType t) {
  switch (t) {
    case ColumnType::uint32:
      return Column<std::uint32_t>{};
    case ColumnType::int32:
      return Column<std::int32_t>{};
    case ColumnType::int64:
      return Column<std::int64_t>{};
    case ColumnType::float64:
      return Column<double>{};
    case ColumnType::int96:
      return Column<Int96>{};
  }
  return Column<double>{};
}

ColumnType column_type_of(FieldType t) {
  switch (t) {
    case FieldType::uint32:
      return ColumnType::uint32;
    case FieldType::int32:
      return ColumnType::int32;
    case FieldType::int64:
      return ColumnType::int64;
    case FieldType::float64:
      return ColumnType::float64;
    case FieldType::int96:
      return ColumnType::int96;
  }
  return ColumnType::float64;
}

ColumnSpec spec_of(const Field& f, ColumnType type) {
  return ColumnSpec{f.column_name(), f.name, f.capture, type, f.scale, f.offset, f.units};
}

bool is_identity(const Field& f) {
  return f.scale.value_or(1.0) == 1.0 && f.offset.value_or(0.0) == 0.0;
}

/// RAW: each StdDev comes right after one int64 Mean of the same field (its sum).
bool has_std_dev_sum(const std::vector<Field>& fields, std::size_t i) {
  return i > 0 && fields[i - 1].mode == CaptureMode::mean &&
         fields[i - 1].type == FieldType::int64 && fields[i - 1].name == fields[i].name;
}

const Field* gate_ticks_field(const std::vector<Field>& fields) {
  for (const char* name : {"PCAP.GATE_DURATION", "PCAP.SAMPLES"}) {
    for (const auto& f : fields) {
      if (f.name == name && f.mode == CaptureMode::value && size_of(f.type) == 4) return &f;
    }
  }
  return nullptr;
}

DataError plan_error(std::string message) {
  return DataError{make_error_code(DataErrc::bad_header), std::move(message), 0, 0};
}

}  // namespace

/// Index by FieldType: the step that copies a field as sent / scales it.
constexpr ColumnDecoder::Op copy_of[] = {ColumnDecoder::Op::copy_u32, ColumnDecoder::Op::copy_i32,
                                         ColumnDecoder::Op::copy_i64, ColumnDecoder::Op::copy_f64,
                                         ColumnDecoder::Op::copy_i96};

std::variant<ColumnDecoder, DataError> ColumnDecoder::make(const StartData& start, Mode mode) {
  ColumnDecoder d;
  d.sample_bytes_ = start.sample_bytes;
  d.tile_rows_ =
      std::max<std::size_t>(1, tile_bytes / std::max<std::size_t>(1, start.sample_bytes));
  const bool client_scaling = mode == Mode::scaled && start.processing == Processing::raw;
  const auto& fields = start.fields;
  const Field* ticks = client_scaling ? gate_ticks_field(fields) : nullptr;
  if (ticks != nullptr) d.ticks_src_ = ticks->byte_offset;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const Field& f = fields[i];
    const double scale = f.scale.value_or(1.0);
    const double offset = f.offset.value_or(0.0);
    if (!client_scaling) {
      d.specs_.push_back(spec_of(f, column_type_of(f.type)));
      d.steps_.push_back({copy_of[static_cast<int>(f.type)], f.byte_offset, 0, 1, 0});
      continue;
    }
    if ((f.mode == CaptureMode::mean || f.mode == CaptureMode::std_dev) && ticks == nullptr) {
      return plan_error(
          fmt::format("{} needs the gate tick count to be scaled, but the header has neither "
                      "PCAP.GATE_DURATION nor PCAP.SAMPLES",
                      f.column_name()));
    }
    if (f.mode == CaptureMode::std_dev) {
      if (!has_std_dev_sum(fields, i) || f.type != FieldType::int96) {
        return plan_error(fmt::format("{} (RAW) must be an int96 preceded by its int64 Mean sum",
                                      f.column_name()));
      }
      d.specs_.push_back(spec_of(f, ColumnType::float64));
      d.steps_.push_back({Op::std_dev, fields[i - 1].byte_offset, f.byte_offset, scale, offset});
      continue;
    }
    if (f.mode == CaptureMode::mean && f.type == FieldType::int64) {
      d.specs_.push_back(spec_of(f, ColumnType::float64));
      d.steps_.push_back({Op::mean, f.byte_offset, 0, scale, offset});
      continue;
    }
    if (!f.scale || is_identity(f) || f.type == FieldType::float64 || f.type == FieldType::int96) {
      d.specs_.push_back(spec_of(f, column_type_of(f.type)));
      d.steps_.push_back({copy_of[static_cast<int>(f.type)], f.byte_offset, 0, 1, 0});
      continue;
    }
    static constexpr Op scale_of[] = {Op::scale_u32, Op::scale_i32, Op::scale_i64};
    d.specs_.push_back(spec_of(f, ColumnType::float64));
    d.steps_.push_back({scale_of[static_cast<int>(f.type)], f.byte_offset, 0, scale, offset});
  }
  std::unordered_set<std::string> names;
  for (const auto& s : d.specs_) {
    if (!names.insert(s.name).second)
      return plan_error(fmt::format("column {} appears twice", s.name));
  }
  return d;
}

ColumnBlock ColumnDecoder::make_block() const {
  ColumnBlock b;
  for (const auto& s : specs_) b.values_.push_back(values_of(s.type));
  return b;
}

// ------------------------------------------------------------------ decoding

namespace {

template <class T>
T load(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Grows `col` by `n` and returns where the new values go.
template <class T>
T* grow(ColumnValues& col, std::size_t rows, std::size_t n) {
  auto& v = std::get<Column<T>>(col);
  v.resize(rows + n);
  return v.data() + rows;
}

template <class T>
void gather(const std::byte* src, std::size_t stride, std::size_t n, T* out) noexcept {
  for (std::size_t r = 0; r < n; ++r) std::memcpy(out + r, src + r * stride, sizeof(T));
}

template <class T>
void gather_scaled(const std::byte* src, std::size_t stride, std::size_t n, double scale,
                   double offset, double* out) noexcept {
  for (std::size_t r = 0; r < n; ++r) {
    out[r] = static_cast<double>(load<T>(src + r * stride)) * scale + offset;
  }
}

double std_dev(std::int64_t sum, Int128 sum_sq, std::uint32_t n) noexcept {
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  // N·Σx² − (Σx)² exactly when it fits in 128 bits (it does for any real
  // capture; garbage input may not, then long double).
  Int128 n_sum_sq = 0;
  Int128 diff = 0;
  const Int128 sum2 = static_cast<Int128>(sum) * sum;
  long double var = 0;
  if (!__builtin_mul_overflow(sum_sq, static_cast<Int128>(n), &n_sum_sq) &&
      !__builtin_sub_overflow(n_sum_sq, sum2, &diff)) {
    var = static_cast<long double>(diff) / (static_cast<long double>(n) * n);
  } else {
    var = (static_cast<long double>(sum_sq) - static_cast<long double>(sum2) / n) / n;
  }
  return var <= 0 ? 0.0 : static_cast<double>(std::sqrt(var));
}

}  // namespace

void ColumnDecoder::append(const FrameData& frame, ColumnBlock& block) const {
  const std::size_t n = frame.samples;
  for (std::size_t first = 0; first < n; first += tile_rows_) {
    append_samples(frame.bytes.data() + first * sample_bytes_, std::min(tile_rows_, n - first),
                   block);
  }
}

void ColumnDecoder::append_samples(const std::byte* base, std::size_t n, ColumnBlock& block) const {
  const std::size_t rows = block.rows_;
  const std::size_t stride = sample_bytes_;
  for (std::size_t c = 0; c < steps_.size(); ++c) {
    const Step& s = steps_[c];
    ColumnValues& col = block.values_[c];
    const std::byte* src = base + s.src;
    switch (s.op) {
      case Op::copy_u32:
        gather(src, stride, n, grow<std::uint32_t>(col, rows, n));
        break;
      case Op::copy_i32:
        gather(src, stride, n, grow<std::int32_t>(col, rows, n));
        break;
      case Op::copy_i64:
        gather(src, stride, n, grow<std::int64_t>(col, rows, n));
        break;
      case Op::copy_f64:
        gather(src, stride, n, grow<double>(col, rows, n));
        break;
      case Op::copy_i96:
        gather(src, stride, n, grow<Int96>(col, rows, n));
        break;
      case Op::scale_u32:
        gather_scaled<std::uint32_t>(src, stride, n, s.scale, s.offset, grow<double>(col, rows, n));
        break;
      case Op::scale_i32:
        gather_scaled<std::int32_t>(src, stride, n, s.scale, s.offset, grow<double>(col, rows, n));
        break;
      case Op::scale_i64:
        gather_scaled<std::int64_t>(src, stride, n, s.scale, s.offset, grow<double>(col, rows, n));
        break;
      case Op::mean: {
        double* out = grow<double>(col, rows, n);
        for (std::size_t r = 0; r < n; ++r) {
          const auto ticks = load<std::uint32_t>(base + r * stride + ticks_src_);
          const auto sum = static_cast<double>(load<std::int64_t>(src + r * stride));
          out[r] = ticks == 0 ? std::numeric_limits<double>::quiet_NaN()
                              : sum * s.scale / ticks + s.offset;
        }
        break;
      }
      case Op::std_dev: {
        double* out = grow<double>(col, rows, n);
        for (std::size_t r = 0; r < n; ++r) {
          const std::byte* sample = base + r * stride;
          out[r] = s.scale * std_dev(load<std::int64_t>(sample + s.src),
                                     load<Int96>(sample + s.src2).value(),
                                     load<std::uint32_t>(sample + ticks_src_));
        }
        break;
      }
    }
  }
  block.rows_ = rows + n;
}

}  // namespace pandafly::panda
