#pragma once
// Dataset: one HDF5 dataset — an extendible, chunked array that grows by rows
// (the PandA columns; camera frames later), or a small fixed value (end state).
//
// Rules:
//   - An extendible dataset has shape (rows, row_shape...): rows grow without
//     limit, row_shape is fixed ({} for 1-D columns, {height, width} for
//     frames). Chunks are (chunk_rows, row_shape...) rows, fixed at creation.
//   - rows() is the extent as this handle last set or read it. Writers grow
//     it with set_rows() *before* writing the rows (HDF5 1.10 rejects direct
//     chunk writes past the extent and crashes on one into an empty dataset);
//     SWMR readers see rows up to the extent after the next flush.
//   - Bytes are in the file type (see datatype.hpp: little endian, no
//     conversion). A span's size must be a whole number of rows.
//   - Scalar and string datasets are contiguous and allocated at creation, so
//     rewriting them later (under SWMR, or with a full disk) needs no new
//     file space.
//   - Errors throw h5::Error; the object is unchanged where HDF5 left it so.
//
// Example:
//   auto d = h5::Dataset::create(file.id(), "/INENC1.VAL.Mean",
//                                {.type = h5::Type::float64, .chunk_rows = 65536});
//   std::vector<double> v = {1.0, 2.0};
//   d.append(std::as_bytes(std::span(v)));    // rows() == 2
//   auto n = h5::Dataset::create_scalar(file.id(), "/end/rows", h5::Type::uint64);
//   n.write_value(std::uint64_t{2});
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/h5/datatype.hpp"

namespace pandafly::h5 {

/// A filter in a chunked dataset's pipeline (H5Pset_filter, mandatory):
/// H5Z_FILTER_DEFLATE {level}, or a plugin such as LZ4 (32004) or bitshuffle
/// (32008). Plugins load when first used; check with filter_available().
struct Filter {
  H5Z_filter_t id = H5Z_FILTER_DEFLATE;
  std::vector<unsigned> cd_values{};
};

/// True if HDF5 can apply filter `id` (built in, or a plugin it can load).
[[nodiscard]] bool filter_available(H5Z_filter_t id);

/// Layout of an extendible dataset.
struct Extendible {
  Type type = Type::float64;
  hsize_t chunk_rows = 1024;         ///< rows per chunk (> 0)
  std::vector<hsize_t> row_shape{};  ///< shape of one row; {} for a 1-D dataset
  std::vector<Filter> filters{};     ///< applied in this order on write
  /// > 0: elements are fixed-length null-padded strings of this many bytes
  /// (`type` is ignored).
  std::size_t string_bytes = 0;
  /// With string_bytes: NDFileHDF5's NUL-terminated C strings instead
  /// (make_c_string_type; the writer keeps the last byte NUL).
  bool c_string = false;
};

/// One block of a virtual dataset that concatenates sources along rows.
struct VirtualSource {
  std::string file = ".";  ///< "." = the file the virtual dataset lives in
  std::string dataset;     ///< absolute path of the source dataset in `file`
  hsize_t rows = 0;        ///< rows taken from the source's start (0: the block is skipped)
};

class Dataset {
 public:
  Dataset() = default;
  [[nodiscard]] static Dataset create(hid_t loc, const std::string& name, const Extendible& layout);
  /// A scalar of `type`, allocated now, initially 0.
  [[nodiscard]] static Dataset create_scalar(hid_t loc, const std::string& name, Type type);
  /// A scalar fixed-length string of `bytes` bytes, allocated now, initially "".
  [[nodiscard]] static Dataset create_string(hid_t loc, const std::string& name, std::size_t bytes);
  /// One element of `type`, shape (1,) as NDFileHDF5 writes single values, allocated now, 0.
  [[nodiscard]] static Dataset create_single(hid_t loc, const std::string& name, Type type);
  /// One C string of `bytes` bytes (NUL included), shape (1,), allocated now, "".
  [[nodiscard]] static Dataset create_single_string(hid_t loc, const std::string& name,
                                                    std::size_t bytes);
  /// NDFileHDF5's constant string dataset: shape (1,), a C string of
  /// text.size() + 1 bytes (make_c_string_type), holding `text`.
  [[nodiscard]] static Dataset create_c_string(hid_t loc, const std::string& name,
                                               std::string_view text);
  [[nodiscard]] static Dataset open(hid_t loc, const std::string& name);
  /// A virtual dataset (H5Pset_virtual) of shape (sum of rows, row_shape...):
  /// the sources' rows one block after another, in order. Not under SWMR.
  [[nodiscard]] static Dataset create_virtual(hid_t loc, const std::string& name, Type type,
                                              const std::vector<hsize_t>& row_shape,
                                              const std::vector<VirtualSource>& sources);

  [[nodiscard]] hid_t id() const noexcept { return handle_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(handle_); }
  [[nodiscard]] hsize_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::size_t row_bytes() const noexcept { return row_bytes_; }
  /// Rows per chunk; 0 for datasets that are not chunked.
  [[nodiscard]] hsize_t chunk_rows() const noexcept { return chunk_rows_; }

  /// Grows or shrinks the extent to `rows` (H5Dset_extent).
  void set_rows(hsize_t rows);
  /// Writes whole rows starting at row `first`; they must lie within rows().
  void write_rows(hsize_t first, std::span<const std::byte> bytes);
  /// Writes one whole chunk straight to the file (H5Dwrite_chunk: no chunk
  /// cache, no copy). `first` is a multiple of chunk_rows() below rows();
  /// `bytes` holds exactly chunk_rows() rows (rows past rows() are ignored by readers).
  void write_chunk(hsize_t first, std::span<const std::byte> bytes);
  /// Writes one chunk whose bytes already went through the dataset's whole
  /// filter pipeline (e.g. compressed by the caller on other threads):
  /// H5Dwrite_chunk with filter mask 0, any size. Same `first` rule as write_chunk().
  void write_filtered_chunk(hsize_t first, std::span<const std::byte> bytes);
  /// set_rows(rows() + n) and write_rows() of the n rows in `bytes`.
  void append(std::span<const std::byte> bytes);

  /// Writes a scalar or one-element dataset.
  template <Scalar T>
  void write_value(T value) {
    write_all(std::as_bytes(std::span(&value, 1)));
  }
  /// Writes a fixed-length string dataset (scalar or one element); longer
  /// text is cut to its size (one byte less for a NUL-terminated type).
  void write_string(std::string_view text);
  /// Writes the whole dataset from `bytes` (exactly its size in the file type).
  void write_all(std::span<const std::byte> bytes);

  /// H5Dflush: this dataset's cached data and metadata to the file.
  void flush();
  /// SWMR readers: H5Drefresh, then re-reads the extent into rows().
  void refresh();

  /// The whole dataset as bytes in the file type.
  [[nodiscard]] std::vector<std::byte> read_bytes() const;
  template <Scalar T>
  [[nodiscard]] std::vector<T> read() const;
  template <Scalar T>
  [[nodiscard]] T read_value() const {
    return read<T>().at(0);
  }
  [[nodiscard]] std::string read_string() const;
  /// The extent (rows, row_shape...) as last set or read; {} for a scalar.
  [[nodiscard]] std::vector<hsize_t> shape() const;
  /// The block of count[d] elements from start[d] in each dimension (one
  /// entry per dimension), converted to T by HDF5, row-major. Throws h5::Error
  /// if the block leaves the extent or the ranks differ.
  template <Scalar T>
  [[nodiscard]] std::vector<T> read_block(const std::vector<hsize_t>& start,
                                          const std::vector<hsize_t>& count) const {
    std::size_t n = 1;
    for (hsize_t c : count) n *= static_cast<std::size_t>(c);
    std::vector<T> out(n);
    read_block_converted(type_of<T>(), start, count, out.data());
    return out;
  }

  /// Closes; throws h5::Error if HDF5 fails.
  void close() { handle_.close(); }

 private:
  Dataset(Handle handle, Handle type);
  void read_extent();
  [[nodiscard]] std::size_t elements() const noexcept;  // rows × row elements (1 for a scalar)
  void read_converted(Type type, void* out, std::size_t bytes) const;
  void read_block_converted(Type type, const std::vector<hsize_t>& start,
                            const std::vector<hsize_t>& count, void* out) const;
  [[nodiscard]] Handle row_space(hsize_t first, hsize_t count) const;
  [[nodiscard]] Handle memory_space(hsize_t count) const;

  Handle handle_;
  Handle type_;  // the file type, also used as the memory type
  hsize_t rows_ = 0;
  hsize_t chunk_rows_ = 0;
  std::vector<hsize_t> row_shape_;
  std::size_t row_bytes_ = 0;
};

template <Scalar T>
std::vector<T> Dataset::read() const {
  std::vector<T> out(elements());
  read_converted(type_of<T>(), out.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace pandafly::h5
