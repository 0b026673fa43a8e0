#pragma once
// Columns: whole samples (FrameData) decoded into one typed vector per column.
//
// A ColumnDecoder is built from the StartData of an acquisition and reused for
// every frame of it. Two modes:
//   as_sent — one column per header field, named NAME.CAPTURE as the header
//             says, in the wire type (RAW int96 sums of squares as Int96);
//   scaled  — what a user wants in a file, the same values whether the
//             stream was SCALED (the server scaled) or RAW (scaled here, as
//             pandablocks-client does; a RAW stream also carries the gate
//             count the server adds for Mean/StdDev, kept as a column of
//             seconds like any captured field): bit words stay uint32; fields with
//             scale 1 and offset 0 stay integers; others become
//             raw·scale + offset as float64; Mean = sum·scale/ticks + offset
//             and StdDev = scale·√((Σx² − (Σx)²/N)/N) with N the RAW gate
//             tick count (PCAP.GATE_DURATION, else PCAP.SAMPLES) — NaN when
//             N = 0.
// Mean and StdDev (reference §3.3): each StdDev field comes right after one
// Mean field of the same name — in RAW always (the sum StdDev needs), in
// SCALED only when Mean was captured. That Mean is a Mean column like any
// other (in RAW it is there for `StdDev` alone too, and kept, as
// pandablocks-client keeps it), so every captured quantity is one column. A
// header naming a column twice is refused.
// Pure computation: no I/O; one owner per decoder and per block.
//
// Example:
//   auto dec = ColumnDecoder::make(start, ColumnDecoder::Mode::scaled).value();
//   ColumnBlock block = dec.make_block();
//   dec.append(frame, block);                  // for every FrameData
//   std::span<const double> theta = block.values<double>(0);
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "pandafly/panda/data.hpp"

namespace pandafly::panda {

__extension__ typedef __int128 Int128;  // GNU extension (g++ and clang): exact sums

/// A 96-bit little-endian two's-complement integer (RAW StdDev sum of squares).
struct Int96 {
  std::uint32_t word[3] = {0, 0, 0};
  [[nodiscard]] Int128 value() const noexcept;
  [[nodiscard]] static Int96 from(Int128 v) noexcept;
  friend bool operator==(const Int96&, const Int96&) = default;
};

enum class ColumnType { uint32, int32, int64, float64, int96 };
[[nodiscard]] std::size_t size_of(ColumnType t) noexcept;

/// What one output column holds.
struct ColumnSpec {
  std::string name;     ///< "INENC1.VAL.Mean" (unique within a decoder)
  std::string field;    ///< "INENC1.VAL"
  std::string capture;  ///< "Mean"
  ColumnType type = ColumnType::float64;
  std::optional<double> scale;  ///< as the header gave it (informational once scaled)
  std::optional<double> offset;
  std::string units;
  friend bool operator==(const ColumnSpec&, const ColumnSpec&) = default;
};

/// An allocator that leaves new elements uninitialised: a column grows by a
/// frame's rows and every new value is written right after, so zero-filling
/// first would only cost time. Allocations of 64 KiB and more start on a
/// 4096-byte page, so that a whole HDF5 chunk taken from a column can be
/// written past the page cache (h5/direct_driver.hpp).
template <class T>
struct UninitializedAllocator : std::allocator<T> {
  static constexpr std::size_t page = 4096;
  static constexpr std::size_t page_aligned_from = std::size_t{64} << 10;
  template <class U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  using std::allocator<T>::allocator;
  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    if (n * sizeof(T) < page_aligned_from) return std::allocator<T>::allocate(n);
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{page}));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < page_aligned_from) return std::allocator<T>::deallocate(p, n);
    ::operator delete (p, n * sizeof(T), std::align_val_t{page});
  }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialisation: no zeroing
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// The values of one column.
template <class T>
using Column = std::vector<T, UninitializedAllocator<T>>;

using ColumnValues = std::variant<Column<std::uint32_t>, Column<std::int32_t>, Column<std::int64_t>,
                                  Column<double>, Column<Int96>>;

/// Rows of an acquisition, column by column. Columns are index-aligned with
/// the decoder's specs(); every column has rows() values.
class ColumnBlock {
 public:
  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t columns() const noexcept { return values_.size(); }
  [[nodiscard]] const ColumnValues& column(std::size_t i) const { return values_.at(i); }
  /// Column `i` as T; throws std::bad_variant_access if it holds another type.
  template <class T>
  [[nodiscard]] std::span<const T> values(std::size_t i) const {
    return std::get<Column<T>>(values_.at(i));
  }
  /// The bytes of column `i` (rows() × size_of(type)).
  [[nodiscard]] std::span<const std::byte> bytes(std::size_t i) const;
  /// Drops the rows, keeps the capacity.
  void clear() noexcept;
  /// Reserves room for `rows` rows in every column.
  void reserve(std::size_t rows);

 private:
  friend class ColumnDecoder;
  std::vector<ColumnValues> values_;
  std::size_t rows_ = 0;
};

class ColumnDecoder {
 public:
  enum class Mode { as_sent, scaled };

  /// Plans the columns for `start`. Fails (DataErrc::bad_header, message
  /// saying why) when scaling RAW Mean/StdDev without a gate-count field, a
  /// RAW StdDev not right after its int64 Mean, or a column named twice.
  [[nodiscard]] static std::variant<ColumnDecoder, DataError> make(const StartData& start,
                                                                   Mode mode);

  [[nodiscard]] const std::vector<ColumnSpec>& specs() const noexcept { return specs_; }
  [[nodiscard]] std::size_t sample_bytes() const noexcept { return sample_bytes_; }
  /// An empty block with one column per spec.
  [[nodiscard]] ColumnBlock make_block() const;
  /// Decodes every sample of `frame` and appends them to `block` (made by
  /// make_block() of this decoder). `frame.sample_bytes` must equal sample_bytes().
  void append(const FrameData& frame, ColumnBlock& block) const;

 public:  // the plan is visible to the implementation's tables
  enum class Op : std::uint8_t {
    copy_u32,
    copy_i32,
    copy_i64,
    copy_f64,
    copy_i96,  // as sent
    scale_i32,
    scale_u32,
    scale_i64,  // raw·scale + offset → f64
    mean,
    std_dev,  // divided by the gate ticks
  };
  struct Step {
    Op op;
    std::size_t src;   // byte offset in the sample
    std::size_t src2;  // std_dev: offset of the int96 (src: of the int64 sum)
    double scale, offset;
  };

 private:
  ColumnDecoder() = default;
  /// append() for `n` whole samples at `base`, at most tile_rows_ of them.
  void append_samples(const std::byte* base, std::size_t n, ColumnBlock& block) const;

  std::vector<ColumnSpec> specs_;
  std::vector<Step> steps_;
  std::size_t sample_bytes_ = 0;
  std::size_t ticks_src_ = 0;  // byte offset of the raw gate tick count (read as uint32)
  // Every column reads the frame with a stride of one sample. Going column by
  // column over a whole 64 KiB frame would stream it from L2 once per column;
  // tiles of rows that fit in L1 read each sample's cache line from L2 once.
  static constexpr std::size_t tile_bytes = 16 * 1024;
  std::size_t tile_rows_ = 1;
};

}  // namespace pandafly::panda
