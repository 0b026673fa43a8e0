#include "pandafly/capture/panda_hdf_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/error.hpp"

namespace pandafly::capture {
namespace {

constexpr std::size_t reason_bytes = 256;  // fixed-length /end/reason and /end/panda_end_reason
constexpr std::string_view in_progress = "capture in progress";

h5::Type h5_type(panda::ColumnType t) {
  switch (t) {
    case panda::ColumnType::uint32:
      return h5::Type::uint32;
    case panda::ColumnType::int32:
      return h5::Type::int32;
    case panda::ColumnType::int64:
      return h5::Type::int64;
    case panda::ColumnType::float64:
      return h5::Type::float64;
    case panda::ColumnType::int96:
      return h5::Type::int96;
  }
  return h5::Type::float64;
}

// Dataset names live at the root next to the /end group.
void check_names(const std::vector<panda::ColumnSpec>& columns) {
  std::set<std::string_view> seen;
  for (const auto& c : columns) {
    if (c.name.empty() || c.name == "." || c.name == "end" ||
        c.name.find('/') != std::string::npos) {
      throw std::invalid_argument(fmt::format("PandaHdfWriter: bad column name '{}'", c.name));
    }
    if (!seen.insert(c.name).second) {
      throw std::invalid_argument(fmt::format("PandaHdfWriter: duplicate column '{}'", c.name));
    }
  }
}

bool is_disk_full(int err) {
  return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

std::string describe(const h5::Error& e) {
  const char* prefix = is_disk_full(e.os_errno()) ? "disk full" : "write error";
  std::string out = fmt::format("{}: {} failed on {}", prefix, e.operation(), e.object());
  if (e.os_errno() != 0) out += fmt::format(": {}", std::strerror(e.os_errno()));
  return out;
}

void write_root_attributes(hid_t root, const panda::StartData& start) {
  h5::write_attribute(root, "arm_time", start.arm_time);
  h5::write_attribute(root, "start_time", start.start_time);
  if (start.hw_time_offset_ns) {
    h5::write_attribute(root, "hw_time_offset_ns", std::int64_t{*start.hw_time_offset_ns});
  }
  h5::write_attribute(root, "missed", std::uint64_t{start.missed});
  h5::write_attribute(root, "processing", panda::to_string(start.processing));
  h5::write_attribute(root, "format", panda::to_string(start.format));
}

void write_column_attributes(hid_t dataset, const panda::ColumnSpec& spec) {
  h5::write_attribute(dataset, "field", spec.field);
  h5::write_attribute(dataset, "capture", spec.capture);
  h5::write_attribute(dataset, "units", spec.units);
  if (spec.scale) h5::write_attribute(dataset, "scale", *spec.scale);
  if (spec.offset) h5::write_attribute(dataset, "offset", *spec.offset);
}

std::string stop_text(const FinishInfo& info) {
  if (info.end) {
    return info.end->reason_text.empty() ? std::string(panda::to_string(info.end->reason))
                                         : info.end->reason_text;
  }
  return info.stopped_because.empty() ? "stopped without END" : info.stopped_because;
}

}  // namespace

// ------------------------------------------------------------------ FinishInfo

FinishInfo FinishInfo::from_end(panda::EndData end) {
  return {std::move(end), {}};
}

FinishInfo FinishInfo::interrupted(std::string_view signal_name) {
  return {std::nullopt, fmt::format("interrupted by {}", signal_name)};
}

FinishInfo FinishInfo::connection_lost(std::uint64_t rows) {
  return {std::nullopt, fmt::format("connection lost after {} rows", rows)};
}

FinishInfo FinishInfo::stopped(std::string reason) {
  return {std::nullopt, std::move(reason)};
}

// ------------------------------------------------------------------ start

PandaHdfWriter::PandaHdfWriter(Options options) : options_(std::move(options)) {
  if (options_.chunk_rows == 0) throw std::invalid_argument("PandaHdfWriter: chunk_rows is 0");
}

PandaHdfWriter::~PandaHdfWriter() {
  if (state_ != State::finished) finish(FinishInfo::stopped("writer closed before finish()"));
}

void PandaHdfWriter::start(const panda::StartData& start,
                           const std::vector<panda::ColumnSpec>& columns) {
  if (state_ != State::idle) throw std::logic_error("PandaHdfWriter::start: not idle");
  check_names(columns);
  // Chunks of a page or more start on a page and leave from page-aligned
  // buffers, so the direct driver writes them past the page cache.
  file_ = h5::File::create(options_.path, {.overwrite = options_.overwrite,
                                           .alignment = h5::direct_alignment,
                                           .align_threshold = h5::direct_alignment,
                                           .direct_raw_data = options_.direct_io});
  try {
    write_root_attributes(file_.id(), start);
    create_columns(columns);
    create_end_datasets();
    file_.start_swmr_write();
    if (options_.reserve_space) {
      reserve_ = h5::SpaceReserve(file_.descriptor(), {.margin = options_.reserve_margin});
    }
  } catch (...) {
    columns_.clear();
    end_ = {};
    file_ = {};
    std::error_code ignored;
    std::filesystem::remove(options_.path, ignored);  // half made, and ours: EXCL or TRUNC
    throw;
  }
  state_ = State::writing;
}

void PandaHdfWriter::create_columns(const std::vector<panda::ColumnSpec>& columns) {
  chunk_bytes_ = 0;
  for (const auto& spec : columns) {
    const h5::Extendible layout{.type = h5_type(spec.type), .chunk_rows = options_.chunk_rows};
    Column c{h5::Dataset::create(file_.id(), "/" + spec.name, layout), {}, size_of(spec.type)};
    write_column_attributes(c.dataset.id(), spec);
    c.buffer = h5::PageBuffer(options_.chunk_rows * c.value_bytes);  // touched now, reused
    chunk_bytes_ += c.buffer.size();
    columns_.push_back(std::move(c));
  }
}

void PandaHdfWriter::create_end_datasets() {
  const hid_t f = file_.id();
  end_.rows_received = h5::Dataset::create_scalar(f, "/end/rows_received", h5::Type::uint64);
  end_.rows_written = h5::Dataset::create_scalar(f, "/end/rows_written", h5::Type::uint64);
  end_.rows_lost = h5::Dataset::create_scalar(f, "/end/rows_lost", h5::Type::uint64);
  end_.reason = h5::Dataset::create_string(f, "/end/reason", reason_bytes);
  end_.panda_end_reason = h5::Dataset::create_string(f, "/end/panda_end_reason", reason_bytes);
  end_.panda_samples = h5::Dataset::create_scalar(f, "/end/panda_samples", h5::Type::int64);
  end_.complete = h5::Dataset::create_scalar(f, "/end/complete", h5::Type::uint8);
  end_.reason.write_string(in_progress);
  end_.panda_samples.write_value(std::int64_t{-1});
}

// ------------------------------------------------------------------ rows

void PandaHdfWriter::check_block(const panda::ColumnBlock& block) const {
  if (block.columns() != columns_.size()) {
    throw std::invalid_argument("PandaHdfWriter::write: block has other columns");
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (block.bytes(i).size() != block.rows() * columns_[i].value_bytes) {
      throw std::invalid_argument("PandaHdfWriter::write: column type differs from start()");
    }
  }
}

bool PandaHdfWriter::write(const panda::ColumnBlock& block) {
  if (state_ == State::writing) check_block(block);
  received_ += block.rows();
  const std::size_t chunk = options_.chunk_rows;
  for (std::size_t done = 0; state_ == State::writing && done < block.rows();) {
    if (buffered_ == 0 && block.rows() - done >= chunk) {
      // A whole chunk straight from the block: no copy through the buffers.
      if (store_chunk(chunk_first_ + chunk, [&](std::size_t i) {
            return block.bytes(i).subspan(done * columns_[i].value_bytes,
                                          chunk * columns_[i].value_bytes);
          })) {
        chunk_first_ += chunk;
      }
      done += chunk;
      continue;
    }
    const std::size_t n = std::min(block.rows() - done, chunk - buffered_);
    buffer_rows(block, done, n);
    done += n;
    if (buffered_ == chunk && store_buffered()) {
      chunk_first_ += chunk;
      buffered_ = 0;
    }
  }
  return state_ == State::writing;
}

void PandaHdfWriter::buffer_rows(const panda::ColumnBlock& block, std::size_t first,
                                 std::size_t count) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    Column& c = columns_[i];
    std::memcpy(c.buffer.data() + buffered_ * c.value_bytes,
                block.bytes(i).data() + first * c.value_bytes, count * c.value_bytes);
  }
  buffered_ += count;
}

// Stores the buffered chunk (whole, or partial at a flush) in every column.
// Rows past `rows` in a partial chunk are stale bytes beyond the extent.
bool PandaHdfWriter::store_buffered() {
  return store_chunk(chunk_first_ + buffered_,
                     [&](std::size_t i) { return columns_[i].buffer.bytes(); });
}

// Stores the chunk starting at row chunk_first_ of every column from
// `source(i)` (one chunk of column i); the columns then hold `rows` rows.
template <class Source>
bool PandaHdfWriter::store_chunk(std::uint64_t rows, Source source) {
  try {
    if (auto ec = reserve_.ensure(file_.size(), chunk_bytes_)) {
      fail(fmt::format("disk full: no room for {} more bytes in {}: {}", chunk_bytes_,
                       options_.path.string(), ec.message()));
      return false;
    }
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      auto& c = columns_[i];
      if (c.dataset.rows() < rows) c.dataset.set_rows(rows);
      c.dataset.write_chunk(chunk_first_, source(i));
    }
  } catch (const h5::Error& e) {
    fail(describe(e));
    return false;
  }
  written_ = rows;
  return true;
}

bool PandaHdfWriter::flush() {
  if (state_ != State::writing) return false;
  if (chunk_first_ + buffered_ > written_) {
    // A partial chunk is rewritten at every flush until it fills: through the
    // page cache, which absorbs the rewrites; whole chunks go past it.
    h5::set_direct_writes(file_.id(), false);
    const bool stored = store_buffered();
    h5::set_direct_writes(file_.id(), true);
    if (!stored) return false;
  }
  try {
    end_.rows_received.write_value(std::uint64_t{received_});
    end_.rows_written.write_value(std::uint64_t{written_});
    file_.flush();
  } catch (const h5::Error& e) {
    fail(describe(e));
    return false;
  }
  flushed_ = written_;
  return true;
}

// Stops writing; cuts every column back to the rows all of them hold.
void PandaHdfWriter::fail(std::string why) noexcept {
  state_ = State::failed;
  failure_ = std::move(why);
  for (auto& c : columns_) {
    if (c.dataset.rows() == written_) continue;
    try {
      c.dataset.set_rows(written_);
    } catch (const h5::Error&) {  // the extent may stay longer; rows_written says the truth
    }
  }
}

// ------------------------------------------------------------------ finish

EndState PandaHdfWriter::finish(const FinishInfo& info) noexcept {
  if (finished_) return *finished_;
  if (state_ == State::writing) (void)flush();
  EndState end = end_state(info);
  if (file_.is_open()) {
    try {
      record_end(end, info);
    } catch (const std::exception& e) {
      end.close_error = fmt::format("recording the end state: {}", e.what());
    }
    close_file(end);
  } else {
    end.close_error = "no file: start() was not called";
  }
  state_ = State::finished;
  finished_ = end;
  return end;
}

EndState PandaHdfWriter::end_state(const FinishInfo& info) const {
  EndState end;
  end.rows_received = received_;
  end.rows_written = written_;
  end.rows_lost = received_ - written_;
  if (info.end) end.panda_reason = info.end->reason;
  end.reason = state_ == State::failed ? failure_ : stop_text(info);
  // Stopped on request, and the PandA still sent its END (e.g. after a disarm).
  if (state_ != State::failed && info.end && !info.stopped_because.empty()) {
    end.reason = info.stopped_because + "; END " + stop_text(info);
  }
  end.complete = state_ == State::writing && info.end && info.end->reason == panda::EndReason::ok &&
                 end.rows_lost == 0 && info.end->samples == received_;
  return end;
}

void PandaHdfWriter::record_end(const EndState& end, const FinishInfo& info) {
  end_.rows_received.write_value(std::uint64_t{end.rows_received});
  end_.rows_written.write_value(std::uint64_t{end.rows_written});
  end_.rows_lost.write_value(std::uint64_t{end.rows_lost});
  end_.reason.write_string(end.reason);
  end_.complete.write_value(std::uint8_t{end.complete});
  if (!info.end) return;
  end_.panda_end_reason.write_string(stop_text(info));
  end_.panda_samples.write_value(static_cast<std::int64_t>(info.end->samples));
}

void PandaHdfWriter::close_file(EndState& end) noexcept {
  columns_.clear();  // closes the datasets (errors ignored: the file close reports)
  end_ = {};
  try {
    file_.close();
  } catch (const std::exception& e) {
    if (!end.close_error.empty()) end.close_error += "; ";
    end.close_error += fmt::format("closing: {}", e.what());
  }
  if (reserve_.reserved_end() > 0)
    h5::SpaceReserve::release(options_.path, reserve_.reserved_end());
}

}  // namespace pandafly::capture
