#pragma once
// The pieces dx::Writer's file side is made of (private to src/dx):
//   - values: NDAttribute values → HDF5 element bytes of a column kind;
//   - build_tree(): the layout's tree, created before any frame (writer_tree.cpp);
//   - Columns: the per-frame NDAttribute datasets, created from the first frame
//     (writer_columns.cpp);
//   - add_closing_items() / add_nxtomo(): what finish() adds after SWMR
//     (writer_close.cpp).
// All of it runs on the thread that owns the file.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/dx/writer.hpp"
#include "pandafly/h5/dataset.hpp"

namespace pandafly::dx::detail {

// ------------------------------------------------------------------ values

/// Element kinds of NDAttribute datasets.
enum class Kind { int32, int64, uint32, float64, string };
constexpr std::size_t string_bytes = 256;  // NDFileHDF5's fixed-length string NDAttributes

[[nodiscard]] Kind kind_of(ValueType t) noexcept;
[[nodiscard]] Kind kind_of(const AttributeValue& v) noexcept;
[[nodiscard]] std::size_t size_of(Kind k) noexcept;
/// Appends `v` (nullopt: NaN, 0 or "") converted to `k` to `out`.
void encode(Kind k, const std::optional<AttributeValue>& v, std::vector<std::byte>& out);
/// A 1-D extendible dataset of `k` at `path` (chunks of `chunk_rows`).
[[nodiscard]] h5::Dataset create_value_dataset(hid_t file, const std::string& path, Kind k,
                                               hsize_t chunk_rows);
/// A 1-D dataset of one value (OnFileOpen/OnFileClose), NDFileHDF5's shape.
void write_single_value(hid_t file, const std::string& path, const AttributeValue& v,
                        std::optional<ValueType> declared);
/// Writes a layout attribute whose value is known (constant, or `value` for ndattribute).
void write_layout_attribute(hid_t loc, const Attribute& a, const AttributeValue* value);
[[nodiscard]] h5::Type pixel_type(capture::DataType t) noexcept;
/// The filter pipeline for options.compression. Throws std::runtime_error if
/// HDF5 cannot load a plugin (after also trying Debian's plugin directory).
[[nodiscard]] std::vector<h5::Filter> filters_for(const WriterOptions& o);
/// A layout constant "1, 2,3" → {"1", "2", "3"} (items trimmed).
[[nodiscard]] std::vector<std::string> split_list(const std::string& text);
/// "/a" + "b" → "/a/b"; "/" + "b" → "/b".
[[nodiscard]] std::string join(std::string_view group, std::string_view name);
[[nodiscard]] std::string parent_of(std::string_view path);

// ------------------------------------------------------------------ tree

struct Detector {
  std::string path;
  std::string theta_path;  ///< "" when the layout has no room for it
  h5::Dataset data;
  h5::Dataset theta;
  std::uint64_t committed = 0;  ///< frames in data and theta after the last good batch
  std::uint64_t stored = 0;     ///< frames in data during a batch
  std::vector<double> angles;   ///< of the current batch's stored frames

  // Slotted (writer.hpp Rules, "Slots"): data, theta and status are `slots` long.
  bool slotted = false;
  std::uint64_t slots = 0;
  std::string status_path;
  h5::Dataset status;
  std::vector<std::uint8_t> codes;      ///< SlotStatus per slot, claims of this batch included
  std::vector<std::int64_t> frame_ids;  ///< the frame (unique id) each slot holds
  std::vector<std::uint64_t> claimed;   ///< slots claimed by this batch
  std::vector<std::pair<std::uint64_t, double>> placed;  ///< this batch's (slot, angle)
  std::uint64_t filled = 0;                  ///< slots holding a frame after the last good batch
  std::optional<std::uint64_t> column_base;  ///< per-frame row of slot 0, once taken
};

/// The status dataset's path for slotted detector dataset `path` (writer.hpp Rules).
[[nodiscard]] std::string status_path_for(std::string_view path);
/// Sizes a slotted detector: data and theta `slots` long (theta NaN), the
/// status dataset (0 = missing) with its attributes. Before SWMR.
void make_slotted(hid_t file, Detector& d, std::uint64_t slots);
/// Writes the (row, value) pairs of a float64 dataset in runs of consecutive
/// rows (one H5Dwrite per run); sorts `values` by row.
void write_runs(h5::Dataset& d, std::vector<std::pair<std::uint64_t, double>>& values);
/// Writes codes[slot] for each slot of `slots` in runs; sorts `slots`.
void write_codes(h5::Dataset& d, const std::vector<std::uint8_t>& codes,
                 std::vector<std::uint64_t>& slots);

/// A per-frame NDAttribute dataset of the layout (or of the defaults group).
struct ColumnSpec {
  std::string path;
  std::string ndattribute;
  std::vector<Attribute> attributes;  ///< layout attributes on it
  std::optional<ValueType> declared;  ///< the layout's type= (int/float)
};

/// Layout items that need the end of the scan or objects made later.
struct Deferred {
  struct Item {
    std::string path;  ///< the dataset's path, or the attribute's object
    Dataset dataset;   ///< OnFileClose dataset (with its attributes)
    Attribute attribute;
    bool on_group = false;  ///< close attribute: `path` is a group, else a dataset
  };
  std::vector<Item> close_datasets;
  std::vector<Item> close_attributes;
  std::vector<std::pair<std::string, std::string>> hardlinks;  ///< (link path, target)
};

struct Tree {
  std::vector<Detector> detectors;
  std::size_t default_detector = 0;
  std::vector<ColumnSpec> columns;
  std::set<std::string, std::less<>> placed;  ///< NDAttributes the layout names anywhere
  std::optional<std::string> defaults_group;  ///< unplaced per-frame NDAttributes go here
  std::string destination_attribute;
  std::string angle_attribute;  ///< writer.hpp Rules, "Angles"
  Deferred deferred;
  std::vector<std::string> warnings;
};

/// Creates the layout's tree in `file` (see writer.hpp Rules). Throws.
[[nodiscard]] Tree build_tree(hid_t file, const WriterOptions& options);
/// The layout's declared type of an ndattribute dataset (type= int/float), if any.
[[nodiscard]] std::optional<ValueType> declared_type(const Dataset& d) noexcept;
/// "Undefined": the plugin's text for an NDAttribute without a value.
[[nodiscard]] bool is_undefined(const AttributeValue& v) noexcept;
/// A frame's angle (writer.hpp Rules, "Angles"): FrameRecord::angle, else the
/// numeric NDAttribute `angle_attribute`, else NaN.
[[nodiscard]] double angle_of(const FrameRecord& f, std::string_view angle_attribute) noexcept;
/// Makes the deferred hard links whose targets exist; keeps the others.
void make_hardlinks(hid_t file, Deferred& deferred);

// ------------------------------------------------------------------ columns

class Columns {
 public:
  /// Creates every per-frame dataset: the tree's, then the defaults group's
  /// for the built-ins and every NDAttribute of `first` (nullptr: no frame
  /// came) or of options.attribute_types that the layout does not place.
  /// Types as writer.hpp Rules say, looking at the frames of `batch` (the
  /// first batch; `first` is one of them) for a first defined value.
  void create(hid_t file, const Tree& tree, const WriterOptions& options, const FrameRecord* first,
              std::span<const FrameRecord> batch, std::vector<std::string>& warnings);
  [[nodiscard]] bool created() const noexcept { return created_; }
  /// Rows every column will hold after the next store(), filled or not.
  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  /// Rows the datasets hold (after the last good store()).
  [[nodiscard]] std::uint64_t stored_rows() const noexcept { return stored_rows_; }
  /// Adds `n` rows of "no value" (NaN, 0, "") at the end; returns the first.
  std::uint64_t reserve(std::uint64_t n);
  /// Buffers one value per column for `frame`, which went to `destination`,
  /// at `row` (< rows(); a row stored earlier is rewritten).
  void add(const FrameRecord& frame, const std::string& destination, std::uint64_t row);
  /// Writes the buffered values to the datasets. Throws h5::Error.
  void store();
  /// Cuts every dataset back to the last good store() (after a failure); best effort.
  void cut() noexcept;
  [[nodiscard]] std::size_t bytes_per_frame() const noexcept { return frame_bytes_; }
  /// NDAttributes that arrived but have no dataset (first seen after frame 1).
  [[nodiscard]] const std::set<std::string, std::less<>>& unwritten() const noexcept {
    return unwritten_;
  }
  void clear() noexcept { columns_.clear(); }

 private:
  struct Column {
    std::string ndattribute;
    Kind kind = Kind::float64;
    h5::Dataset dataset;
    std::vector<std::byte> tail;  ///< rows stored_rows_ … rows_ − 1
    std::vector<std::pair<std::uint64_t, std::vector<std::byte>>> patches;  ///< earlier rows
  };
  void write_patches(Column& c);
  void add_column(hid_t file, const std::string& path, const std::string& ndattribute, Kind kind,
                  const std::vector<Attribute>& attributes);
  [[nodiscard]] Kind kind_for(const std::string& ndattribute, std::optional<ValueType> declared,
                              const WriterOptions& options, const FrameRecord* first,
                              std::span<const FrameRecord> batch,
                              std::vector<std::string>& warnings) const;

  std::vector<Column> columns_;
  std::string destination_attribute_;
  std::string angle_attribute_;
  std::set<std::string, std::less<>> known_;
  std::set<std::string, std::less<>> unwritten_;
  std::size_t frame_bytes_ = 0;
  std::uint64_t rows_ = 0;
  std::uint64_t stored_rows_ = 0;
  bool created_ = false;
};

// ------------------------------------------------------------------ after SWMR

/// What finish() writes after SWMR besides the layout's items (writer.hpp
/// Rules, "Events" and "Tables").
struct LateItems {
  std::vector<SlotEvent> events;
  std::vector<TableColumn> columns;
  bool events_table = false;  ///< write the events table (a dataset is slotted)
  std::vector<std::pair<std::string, std::uint64_t>> column_bases;  ///< (status path, row)
};

inline constexpr std::string_view events_group = "/process/acquisition/projection_events";

/// Throws std::invalid_argument naming the column if its path is not an
/// absolute path of non-empty parts other than "." and "..".
void check_column_path(const TableColumn& c);
/// Bytes the columns take in the file (for the space reservation).
[[nodiscard]] std::uint64_t column_bytes(const std::vector<TableColumn>& columns);
/// The events as the events table's columns, sorted (writer.hpp Rules, "Events").
[[nodiscard]] std::vector<TableColumn> event_columns(std::vector<SlotEvent> events);
/// Writes the columns; one that cannot be made (an object in the way) is
/// left out with a warning. HDF5 errors other than that throw.
void write_columns(hid_t file, const std::vector<TableColumn>& columns,
                   std::vector<std::string>& warnings);

struct NxtomoInput {
  std::string projections, darks, flats;  ///< detector dataset paths ("" if absent)
  std::string projections_theta, darks_theta, flats_theta;
  std::uint64_t n_projections = 0, n_darks = 0, n_flats = 0;
};

/// OnFileClose datasets and attributes from `values`; missing ones → warnings.
void add_closing_items(hid_t file, const Deferred& deferred, const AttributeValues& values,
                       const std::map<std::string, ValueType, std::less<>>& types,
                       std::vector<std::string>& warnings);
/// The NXtomo view (file-formats.md §1.8) under /entry: NXtomo's required
/// fields and attributes, title/start_time/end_time from ExperimentTitle,
/// DateTimeStart and DateTimeEnd in `values` when given, NXdata links whose
/// objects carry @target. False (nothing added) when /entry exists already.
[[nodiscard]] bool add_nxtomo(hid_t file, const NxtomoInput& in, const FrameGeometry& frame,
                              const AttributeValues& values);

}  // namespace pandafly::dx::detail
