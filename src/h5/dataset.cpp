#include "pandafly/h5/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <stdexcept>

#include "pandafly/h5/error.hpp"

namespace pandafly::h5 {
namespace {

std::vector<hsize_t> with_rows(hsize_t rows, const std::vector<hsize_t>& row_shape) {
  std::vector<hsize_t> dims{rows};
  dims.insert(dims.end(), row_shape.begin(), row_shape.end());
  return dims;
}

hsize_t product(const std::vector<hsize_t>& v) {
  return std::accumulate(v.begin(), v.end(), hsize_t{1}, std::multiplies<>());
}

Handle simple_space(const std::vector<hsize_t>& dims, const hsize_t* max_dims) {
  hid_t id = call({"H5Screate_simple"}, H5Screate_simple, static_cast<int>(dims.size()),
                  dims.data(), max_dims);
  return {id, Kind::dataspace};
}

Handle link_creation() {
  Handle lcpl = make_property_list(H5P_LINK_CREATE);
  call({"H5Pset_create_intermediate_group"}, H5Pset_create_intermediate_group, lcpl.get(), 1U);
  return lcpl;
}

Handle create_raw(hid_t loc, const std::string& name, const Handle& type, const Handle& space,
                  const Handle& dcpl) {
  const Handle lcpl = link_creation();
  hid_t id = call({"H5Dcreate2", loc, name}, H5Dcreate2, loc, name.c_str(), type.get(), space.get(),
                  lcpl.get(), dcpl.get(), H5P_DEFAULT);
  return {id, Kind::dataset};
}

// Contiguous, allocated and zero-filled at creation (see Rules).
Handle allocated_now() {
  Handle dcpl = make_property_list(H5P_DATASET_CREATE);
  call({"H5Pset_alloc_time"}, H5Pset_alloc_time, dcpl.get(), H5D_ALLOC_TIME_EARLY);
  call({"H5Pset_fill_time"}, H5Pset_fill_time, dcpl.get(), H5D_FILL_TIME_ALLOC);
  return dcpl;
}

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

Handle element_type(const Extendible& layout) {
  if (layout.string_bytes == 0) return make_type(layout.type);
  return layout.c_string ? make_c_string_type(layout.string_bytes)
                         : make_string_type(layout.string_bytes);
}

Handle one_element_space() {
  const hsize_t one = 1;
  return simple_space({one}, nullptr);
}

void add_filters(const Handle& dcpl, const std::vector<Filter>& filters) {
  for (const auto& f : filters) {
    call({"H5Pset_filter"}, H5Pset_filter, dcpl.get(), f.id, H5Z_FLAG_MANDATORY, f.cd_values.size(),
         f.cd_values.data());
  }
}

}  // namespace

bool filter_available(H5Z_filter_t id) {
  quiet_this_thread();
  return H5Zfilter_avail(id) > 0;
}

Dataset::Dataset(Handle handle, Handle type) : handle_(std::move(handle)), type_(std::move(type)) {
  read_extent();
  const Handle dcpl{call({"H5Dget_create_plist", id()}, H5Dget_create_plist, id()),
                    Kind::property_list};
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(row_shape_.size() + 1);
    call({"H5Pget_chunk", id()}, H5Pget_chunk, dcpl.get(), static_cast<int>(chunk.size()),
         chunk.data());
    chunk_rows_ = chunk[0];
  }
}

Dataset Dataset::create(hid_t loc, const std::string& name, const Extendible& layout) {
  require(layout.chunk_rows > 0, "h5::Dataset::create: chunk_rows must be > 0");
  std::vector<hsize_t> max_dims = with_rows(H5S_UNLIMITED, layout.row_shape);
  const Handle space = simple_space(with_rows(0, layout.row_shape), max_dims.data());
  const Handle dcpl = make_property_list(H5P_DATASET_CREATE);
  const std::vector<hsize_t> chunk = with_rows(layout.chunk_rows, layout.row_shape);
  call({"H5Pset_chunk", H5I_INVALID_HID, name}, H5Pset_chunk, dcpl.get(),
       static_cast<int>(chunk.size()), chunk.data());
  add_filters(dcpl, layout.filters);
  Handle type = element_type(layout);
  Handle dset = create_raw(loc, name, type, space, dcpl);
  return {std::move(dset), std::move(type)};
}

Dataset Dataset::create_virtual(hid_t loc, const std::string& name, Type type,
                                const std::vector<hsize_t>& row_shape,
                                const std::vector<VirtualSource>& sources) {
  hsize_t total = 0;
  for (const auto& s : sources) total += s.rows;
  const Handle space = simple_space(with_rows(total, row_shape), nullptr);
  const Handle dcpl = make_property_list(H5P_DATASET_CREATE);
  std::vector<hsize_t> start(row_shape.size() + 1, 0);
  for (const auto& s : sources) {
    if (s.rows == 0) continue;
    const std::vector<hsize_t> count = with_rows(s.rows, row_shape);
    call({"H5Sselect_hyperslab", H5I_INVALID_HID, name}, H5Sselect_hyperslab, space.get(),
         H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    const Handle src_space = simple_space(count, nullptr);
    call({"H5Pset_virtual", H5I_INVALID_HID, s.dataset}, H5Pset_virtual, dcpl.get(), space.get(),
         s.file.c_str(), s.dataset.c_str(), src_space.get());
    start[0] += s.rows;
  }
  Handle file_type = make_type(type);
  Handle dset = create_raw(loc, name, file_type, space, dcpl);
  return {std::move(dset), std::move(file_type)};
}

Dataset Dataset::create_scalar(hid_t loc, const std::string& name, Type type) {
  const Handle space{call({"H5Screate"}, H5Screate, H5S_SCALAR), Kind::dataspace};
  Handle file_type = make_type(type);
  Handle dset = create_raw(loc, name, file_type, space, allocated_now());
  return {std::move(dset), std::move(file_type)};
}

Dataset Dataset::create_string(hid_t loc, const std::string& name, std::size_t bytes) {
  const Handle space{call({"H5Screate"}, H5Screate, H5S_SCALAR), Kind::dataspace};
  Handle file_type = make_string_type(bytes);
  Handle dset = create_raw(loc, name, file_type, space, allocated_now());
  return {std::move(dset), std::move(file_type)};
}

Dataset Dataset::create_single(hid_t loc, const std::string& name, Type type) {
  Handle file_type = make_type(type);
  Handle dset = create_raw(loc, name, file_type, one_element_space(), allocated_now());
  return {std::move(dset), std::move(file_type)};
}

Dataset Dataset::create_single_string(hid_t loc, const std::string& name, std::size_t bytes) {
  Handle file_type = make_c_string_type(bytes);
  Handle dset = create_raw(loc, name, file_type, one_element_space(), allocated_now());
  return {std::move(dset), std::move(file_type)};
}

Dataset Dataset::create_c_string(hid_t loc, const std::string& name, std::string_view text) {
  Handle file_type = make_c_string_type(text.size() + 1, is_utf8_text(text));
  Handle dset = create_raw(loc, name, file_type, one_element_space(), allocated_now());
  Dataset d{std::move(dset), std::move(file_type)};
  d.write_string(text);
  return d;
}

Dataset Dataset::open(hid_t loc, const std::string& name) {
  Handle dset{call({"H5Dopen2", loc, name}, H5Dopen2, loc, name.c_str(), H5P_DEFAULT),
              Kind::dataset};
  Handle type{call({"H5Dget_type", dset.get()}, H5Dget_type, dset.get()), Kind::datatype};
  return {std::move(dset), std::move(type)};
}

void Dataset::read_extent() {
  const Handle space{call({"H5Dget_space", id()}, H5Dget_space, id()), Kind::dataspace};
  const int rank =
      call({"H5Sget_simple_extent_ndims", id()}, H5Sget_simple_extent_ndims, space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  call({"H5Sget_simple_extent_dims", id()}, H5Sget_simple_extent_dims, space.get(), dims.data(),
       nullptr);
  rows_ = dims.empty() ? 1 : dims[0];
  row_shape_.assign(dims.empty() ? dims.end() : dims.begin() + 1, dims.end());
  row_bytes_ = H5Tget_size(type_.get()) * static_cast<std::size_t>(product(row_shape_));
}

std::size_t Dataset::elements() const noexcept {
  return static_cast<std::size_t>(rows_ * product(row_shape_));
}

void Dataset::set_rows(hsize_t rows) {
  const std::vector<hsize_t> dims = with_rows(rows, row_shape_);
  call({"H5Dset_extent", id()}, H5Dset_extent, id(), dims.data());
  rows_ = rows;
}

Handle Dataset::row_space(hsize_t first, hsize_t count) const {
  Handle space{call({"H5Dget_space", id()}, H5Dget_space, id()), Kind::dataspace};
  std::vector<hsize_t> start(row_shape_.size() + 1, 0);
  start[0] = first;
  const std::vector<hsize_t> counts = with_rows(count, row_shape_);
  call({"H5Sselect_hyperslab", id()}, H5Sselect_hyperslab, space.get(), H5S_SELECT_SET,
       start.data(), nullptr, counts.data(), nullptr);
  return space;
}

Handle Dataset::memory_space(hsize_t count) const {
  return simple_space(with_rows(count, row_shape_), nullptr);
}

void Dataset::write_rows(hsize_t first, std::span<const std::byte> bytes) {
  require(row_bytes_ > 0 && bytes.size() % row_bytes_ == 0, "h5::Dataset: not whole rows");
  const hsize_t count = bytes.size() / row_bytes_;
  if (count == 0) return;
  require(first + count <= rows_, "h5::Dataset::write_rows: rows past the extent");
  const Handle file_space = row_space(first, count);
  const Handle mem_space = memory_space(count);
  call({"H5Dwrite", id()}, H5Dwrite, id(), type_.get(), mem_space.get(), file_space.get(),
       H5P_DEFAULT, bytes.data());
}

void Dataset::write_chunk(hsize_t first, std::span<const std::byte> bytes) {
  require(chunk_rows_ > 0 && first % chunk_rows_ == 0 && first < rows_,
          "h5::Dataset::write_chunk: not the start of a chunk within the extent");
  require(bytes.size() == chunk_rows_ * row_bytes_, "h5::Dataset::write_chunk: not one chunk");
  std::vector<hsize_t> offset(row_shape_.size() + 1, 0);
  offset[0] = first;
  call({"H5Dwrite_chunk", id()}, H5Dwrite_chunk, id(), H5P_DEFAULT, 0U, offset.data(), bytes.size(),
       bytes.data());
}

void Dataset::write_filtered_chunk(hsize_t first, std::span<const std::byte> bytes) {
  require(chunk_rows_ > 0 && first % chunk_rows_ == 0 && first < rows_,
          "h5::Dataset::write_filtered_chunk: not the start of a chunk within the extent");
  std::vector<hsize_t> offset(row_shape_.size() + 1, 0);
  offset[0] = first;
  call({"H5Dwrite_chunk", id()}, H5Dwrite_chunk, id(), H5P_DEFAULT, 0U, offset.data(), bytes.size(),
       bytes.data());
}

void Dataset::append(std::span<const std::byte> bytes) {
  require(row_bytes_ > 0 && bytes.size() % row_bytes_ == 0, "h5::Dataset: not whole rows");
  const hsize_t first = rows_;
  set_rows(first + bytes.size() / row_bytes_);
  try {
    write_rows(first, bytes);
  } catch (...) {
    try {
      set_rows(first);  // keep readers from seeing rows that were never written
    } catch (const Error&) {
    }
    throw;
  }
}

void Dataset::write_string(std::string_view text) {
  std::vector<std::byte> buf(H5Tget_size(type_.get()));
  const bool nul = H5Tget_strpad(type_.get()) == H5T_STR_NULLTERM;
  const std::size_t room = nul ? buf.size() - 1 : buf.size();
  std::memcpy(buf.data(), text.data(), std::min(room, text.size()));
  write_all(buf);
}

void Dataset::write_all(std::span<const std::byte> bytes) {
  require(bytes.size() == elements() * H5Tget_size(type_.get()),
          "h5::Dataset::write_all: size differs from the dataset's");
  call({"H5Dwrite", id()}, H5Dwrite, id(), type_.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
       bytes.data());
}

void Dataset::flush() {
  call({"H5Dflush", id()}, H5Dflush, id());
}

void Dataset::refresh() {
  call({"H5Drefresh", id()}, H5Drefresh, id());
  read_extent();
}

std::vector<std::byte> Dataset::read_bytes() const {
  std::vector<std::byte> out(elements() * H5Tget_size(type_.get()));
  if (out.empty()) return out;
  call({"H5Dread", id()}, H5Dread, id(), type_.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
  return out;
}

void Dataset::read_converted(Type type, void* out, std::size_t bytes) const {
  require(bytes == elements() * size_of(type), "h5::Dataset::read: wrong size");
  if (bytes == 0) return;
  const Handle mem_type = make_type(type);
  call({"H5Dread", id()}, H5Dread, id(), mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
}

std::vector<hsize_t> Dataset::shape() const {
  if (row_shape_.empty() && rows_ == 1) {
    const Handle space{call({"H5Dget_space", id()}, H5Dget_space, id()), Kind::dataspace};
    if (H5Sget_simple_extent_ndims(space.get()) == 0) return {};
  }
  return with_rows(rows_, row_shape_);
}

void Dataset::read_block_converted(Type type, const std::vector<hsize_t>& start,
                                   const std::vector<hsize_t>& count, void* out) const {
  const std::vector<hsize_t> dims = shape();
  require(start.size() == dims.size() && count.size() == dims.size(),
          "h5::Dataset::read_block: the block's rank differs from the dataset's");
  for (std::size_t d = 0; d < dims.size(); ++d)
    require(start[d] + count[d] <= dims[d], "h5::Dataset::read_block: the block leaves the extent");
  for (hsize_t c : count)
    if (c == 0) return;
  const Handle file_space{call({"H5Dget_space", id()}, H5Dget_space, id()), Kind::dataspace};
  call({"H5Sselect_hyperslab", id()}, H5Sselect_hyperslab, file_space.get(), H5S_SELECT_SET,
       start.data(), nullptr, count.data(), nullptr);
  const Handle mem_space = simple_space(count, nullptr);
  const Handle mem_type = make_type(type);
  call({"H5Dread", id()}, H5Dread, id(), mem_type.get(), mem_space.get(), file_space.get(),
       H5P_DEFAULT, out);
}

std::string Dataset::read_string() const {
  const std::vector<std::byte> bytes = read_bytes();
  std::string out(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out.substr(0, out.find('\0'));
}

}  // namespace pandafly::h5
