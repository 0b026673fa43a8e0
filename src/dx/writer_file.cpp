// DxFile: frames into the tree, the end state, and the closing steps.
#include "writer_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "pandafly/dx/completeness.hpp"
#include "pandafly/h5/attribute.hpp"
#include "pandafly/h5/error.hpp"

namespace pandafly::dx::detail {
namespace {

constexpr std::string_view in_progress = "acquisition in progress";

bool is_disk_full(int err) {
  return err == ENOSPC || err == EDQUOT || err == EFBIG;
}

std::string describe(const std::exception& e) {
  const auto* h5e = dynamic_cast<const h5::Error*>(&e);
  if (h5e == nullptr) return fmt::format("write error: {}", e.what());
  const char* prefix = is_disk_full(h5e->os_errno()) ? "disk full" : "write error";
  std::string out = fmt::format("{}: {} failed on {}", prefix, h5e->operation(), h5e->object());
  if (h5e->os_errno() != 0) out += fmt::format(": {}", std::strerror(h5e->os_errno()));
  return out;
}

void check(const WriterOptions& o) {
  if (o.frame.height == 0 || o.frame.width == 0) {
    throw std::invalid_argument("dx::Writer: frame height and width must be > 0");
  }
  if (o.path.empty()) throw std::invalid_argument("dx::Writer: no path");
}

}  // namespace

DxFile::DxFile(WriterOptions options) : o_(std::move(options)) {
  check(o_);
  frame_bytes_ = o_.frame.bytes();
  compressed_ = o_.compression != Compression::none;
  // Frame chunks of 512 KiB and more start on 4 KiB pages (no measurable
  // change on tmpfs; whole pages and file-system blocks per frame elsewhere).
  file_ =
      h5::File::create(o_.path, {.overwrite = o_.overwrite,
                                 .alignment = 4096,
                                 .align_threshold = 512 << 10});  // outside: never remove theirs
  try {
    tree_ = build_tree(file_.id(), o_);
    create_end_datasets();
    for (std::size_t i = 0; i < tree_.detectors.size(); ++i) routes_[tree_.detectors[i].path] = i;
    for (const auto& [path, n] : o_.frames_expected)  // for validate's completeness rule
      if (auto it = routes_.find(path); it != routes_.end())
        h5::write_attribute(tree_.detectors[it->second].data.id(), "frames_expected",
                            std::uint64_t{n});
    make_slots();
    note_paths();
    fd_ = file_.descriptor();
    write_back_ = !h5::on_memory_file_system(fd_);
    if (o_.compression == Compression::bitshuffle_lz4) {
      std::string why;
      const std::size_t threads = o_.compression_threads > 0
                                      ? o_.compression_threads
                                      : std::max(1U, std::thread::hardware_concurrency());
      compressor_ =
          ChunkCompressor::make(threads, capture::element_size(o_.frame.type), frame_bytes_, &why);
      if (!compressor_) tree_.warnings.push_back(why + ": compressed in HDF5's pipeline");
    }
    if (o_.reserve_space) {
      reserve_ = h5::SpaceReserve(fd_, {.margin = o_.reserve_margin, .slack = o_.reserve_slack});
    }
  } catch (...) {
    tree_ = {};
    end_ = {};
    file_ = {};
    std::error_code ignored;
    std::filesystem::remove(o_.path, ignored);  // half made, and ours (EXCL or TRUNC)
    throw;
  }
}

DxFile::~DxFile() {
  if (!finished_) finish(Ending::interrupted_by("writer destroyed before finish()"));
}

void DxFile::create_end_datasets() {
  const hid_t f = file_.id();
  const auto at = [](std::string_view name) { return join(end_group, name); };
  // Shape (1,), as NDFileHDF5 stores single values (readers index them [0]).
  end_.complete = h5::Dataset::create_single(f, at("complete"), h5::Type::uint8);
  end_.reason = h5::Dataset::create_single_string(f, at("reason"), string_bytes);
  end_.frames_expected = h5::Dataset::create_single(f, at("frames_expected"), h5::Type::uint64);
  end_.frames_received = h5::Dataset::create_single(f, at("frames_received"), h5::Type::uint64);
  end_.frames_written = h5::Dataset::create_single(f, at("frames_written"), h5::Type::uint64);
  end_.frames_lost = h5::Dataset::create_single(f, at("frames_lost"), h5::Type::uint64);
  end_.reason.write_string(in_progress);
  std::uint64_t expected = 0;
  for (const auto& [path, n] : o_.frames_expected) expected += n;
  end_.frames_expected.write_value(expected);
}

// ------------------------------------------------------------------ frames

std::size_t DxFile::route(const FrameRecord& frame) const {
  for (const auto& a : frame.attributes) {
    if (a.name != tree_.destination_attribute) continue;
    if (const auto* s = std::get_if<std::string>(&a.value)) {
      if (auto it = routes_.find(*s); it != routes_.end()) return it->second;
    }
    break;
  }
  return tree_.default_detector;
}

// Per-frame datasets from the first frame, then links, then SWMR (writer.hpp Rules).
void DxFile::start_frames(const FrameRecord* first, std::span<const FrameRecord> batch) {
  columns_.create(file_.id(), tree_, o_, first, batch, tree_.warnings);
  make_hardlinks(file_.id(), tree_.deferred);
  file_.start_swmr_write();
}

void DxFile::write(std::vector<FrameRecord>& batch) noexcept {
  received_ += batch.size();
  to_.clear();
  const FrameRecord* first = nullptr;
  for (const auto& f : batch) {
    auto fault = check_frame(f, o_.frame);
    // Where it would go (unknown when its NDAttributes are): lost frames' events name it.
    const std::size_t routed = fault == FrameFault::attributes ? no_route : route(f);
    if (fault == FrameFault::none) fault = claim_slot(f, tree_.detectors[routed]);
    const std::size_t to = fault == FrameFault::none ? routed : no_route;
    if (fault != FrameFault::none) {
      faults_.add(fault, f, routed == no_route ? std::string_view() : tree_.detectors[routed].path);
      refusal_event(fault, f, routed);
    }
    to_.push_back(to);
    if (to != no_route && first == nullptr) first = &f;
  }
  if (failed_ || first == nullptr) return release_claims();
  try {
    if (!columns_.created()) start_frames(first, batch);
    const std::uint64_t n = batch.size();
    std::uint64_t bytes = n * (frame_bytes_ + columns_.bytes_per_frame() + sizeof(double));
    for (const auto& d : tree_.detectors) {  // a slotted dataset's rows of every per-frame dataset
      if (d.slotted && !d.column_base) bytes += d.slots * columns_.bytes_per_frame();
    }
    if (auto ec = reserve_.ensure(file_.size(), bytes)) {  // writer.hpp Rules, "Full disk"
      return fail(fmt::format("disk full: no room for {} more bytes in {}: {}", bytes,
                              o_.path.string(), ec.message()));
    }
    store(batch, to_);
    start_write_back();
  } catch (const std::exception& e) {
    fail(describe(e));
  }
}

void DxFile::store(const std::vector<FrameRecord>& batch, const std::vector<std::size_t>& to) {
  std::vector<std::uint64_t> grow(tree_.detectors.size(), 0);
  for (auto i : to) {
    if (i != no_route && !tree_.detectors[i].slotted) ++grow[i];
  }
  for (std::size_t i = 0; i < grow.size(); ++i) {
    auto& d = tree_.detectors[i];
    if (grow[i] > 0) d.data.set_rows(d.committed + grow[i]);
  }
  // The workers read the frames until drained: before the batch is released, even on errors.
  struct Drain {
    ChunkCompressor* c;
    ~Drain() {
      if (c != nullptr) c->drain();
    }
  } drain{compressor_.get()};
  start_compressing(batch, to);
  std::uint64_t stored = 0;
  std::uint64_t unsure_angles = 0;
  for (std::size_t k = 0; k < batch.size(); ++k) {
    if (to[k] == no_route) continue;
    auto& d = tree_.detectors[to[k]];
    const double angle = angle_of(batch[k], tree_.angle_attribute);
    const std::uint64_t row = d.slotted ? *batch[k].slot : d.stored;
    store_pixels(d, batch[k], row, stored);
    if (d.slotted) {
      d.placed.emplace_back(row, angle);
      d.codes[row] =
          static_cast<std::uint8_t>(std::isfinite(angle) ? SlotStatus::ok : SlotStatus::no_angle);
    } else {
      d.angles.push_back(angle);
      ++d.stored;
    }
    if (!std::isfinite(angle) && is_projection_stack(d.path)) ++unsure_angles;
    columns_.add(batch[k], d.path, column_row(batch[k], d));
    ++stored;
  }
  for (auto& d : tree_.detectors) {
    if (d.theta && !d.angles.empty()) d.theta.append(std::as_bytes(std::span(d.angles)));
    d.angles.clear();
  }
  store_slots();
  columns_.store();
  for (auto& d : tree_.detectors) {
    if (!d.slotted) d.committed = d.stored;
  }
  commit_claims();
  written_ += stored;
  projections_without_angle_ += unsure_angles;
}

void DxFile::start_compressing(const std::vector<FrameRecord>& batch,
                               const std::vector<std::size_t>& to) {
  if (!compressor_) return;
  to_compress_.clear();
  for (std::size_t k = 0; k < batch.size(); ++k) {
    if (to[k] != no_route) to_compress_.push_back(batch[k].pixels);
  }
  compressor_->start(to_compress_);
}

// `row`: where in `d`; `index`: the frame's place among the batch's stored
// frames (the compressor's job).
void DxFile::store_pixels(Detector& d, const FrameRecord& frame, std::uint64_t row,
                          std::size_t index) {
  if (compressor_) {
    d.data.write_filtered_chunk(row, compressor_->wait(index));
  } else if (compressed_) {
    d.data.write_rows(row, frame.pixels);  // through the filter pipeline
  } else {
    d.data.write_chunk(row, frame.pixels);  // one frame = one chunk, no copy
  }
}

// Stops writing; cuts every dataset back to the last good batch.
void DxFile::fail(std::string why) noexcept {
  failed_ = true;
  failure_ = std::move(why);
  release_claims();
  for (auto& d : tree_.detectors) {
    if (d.column_base && *d.column_base >= columns_.stored_rows()) d.column_base.reset();
    d.stored = d.committed;
    d.angles.clear();
    try {
      if (d.data.rows() != d.committed) d.data.set_rows(d.committed);
      if (d.theta && d.theta.rows() != d.committed) d.theta.set_rows(d.committed);
    } catch (const std::exception&) {  // the extent may stay longer; frames_written says the truth
    }
  }
  columns_.cut();
}

// The disk starts writing what the batch stored while the next frames arrive,
// so finish()'s fdatasync waits only for the tail (writer.hpp Rules, "Durable").
void DxFile::start_write_back() noexcept {
  if (write_back_) (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void DxFile::record_counts() {
  end_.frames_received.write_value(std::uint64_t{received_});
  end_.frames_written.write_value(std::uint64_t{written_});
  end_.frames_lost.write_value(std::uint64_t{received_ - written_});
}

void DxFile::flush() noexcept {
  if (failed_ || finished_) return;
  try {
    record_counts();
    file_.flush();
  } catch (const std::exception& e) {
    fail(describe(e));
  }
}

// ------------------------------------------------------------------ finish

EndState DxFile::finish(const Ending& ending) noexcept {
  if (finished_) return *finished_;
  if (!failed_ && !columns_.created()) {
    try {
      start_frames(nullptr, {});  // no frame came: the per-frame datasets exist, empty
    } catch (const std::exception& e) {
      fail(describe(e));
    }
  }
  EndState end = end_state(ending);
  try {
    record_end(end);
  } catch (const std::exception& e) {
    end.close_error = fmt::format("recording the end state: {}", e.what());
  }
  const NxtomoInput nx = nxtomo_input();
  for (const auto& d : tree_.detectors) {
    if (d.slotted && d.column_base) late_.column_bases.emplace_back(d.status_path, *d.column_base);
  }
  close(end);
  if (end.close_error.empty()) complete_file(end, ending, nx);
  if (reserved_end_ > 0) h5::SpaceReserve::release(o_.path, reserved_end_);
  make_durable(end);
  finished_ = end;
  return end;
}

EndState DxFile::end_state(const Ending& ending) const {
  EndState end;
  for (const auto& [path, n] : o_.frames_expected) end.frames_expected += n;
  end.frames_received = received_;
  end.frames_written = written_;
  end.frames_lost = received_ - written_;
  for (const auto& d : tree_.detectors) {
    if (d.slotted) end.slots_missing += d.slots - d.filled;
  }
  end.reason = failed_ ? fmt::format("{} (scan: {})", failure_, ending.reason) : ending.reason;
  const Completeness verdict = judge_completeness(facts(ending, end.frames_lost));
  end.complete = verdict.complete;
  if (!verdict.complete && !failed_ && !ending.interrupted)  // say why a "completed" scan is not
    end.reason = fmt::format("{}; incomplete: {}", end.reason, fmt::join(verdict.reasons, "; "));
  end.warnings = tree_.warnings;
  for (auto& w : faults_.warnings(o_.frame)) end.warnings.push_back(std::move(w));
  for (const auto& name : columns_.unwritten()) {
    end.warnings.push_back(
        fmt::format("NDAttribute {} first seen after frame 1: not written", name));
  }
  return end;
}

CompletenessFacts DxFile::facts(const Ending& ending, std::uint64_t lost) const {
  CompletenessFacts f{.interrupted = ending.interrupted,
                      .write_failed = failed_,
                      .frames_lost = lost,
                      .expected = o_.frames_expected,
                      .stored = {},
                      .projections_without_angle = projections_without_angle_,
                      .missing_slots = {},
                      .faults = ending.faults};
  for (const auto& d : tree_.detectors) {
    f.stored[d.path] = d.slotted ? d.filled : d.committed;
    if (!d.slotted) continue;
    auto& missing = f.missing_slots[d.path];
    for (std::uint64_t k = 0; k < d.slots && missing.size() < missing_slots_named; ++k) {
      if (d.codes[k] == static_cast<std::uint8_t>(SlotStatus::missing)) missing.push_back(k);
    }
  }
  return f;
}

void DxFile::record_end(const EndState& end) {
  record_counts();
  end_.reason.write_string(end.reason);
  end_.complete.write_value(std::uint8_t{end.complete});
}

NxtomoInput DxFile::nxtomo_input() const {
  NxtomoInput in;
  const std::string group = parent_of(tree_.detectors[tree_.default_detector].path);
  const auto take = [&](std::string_view name, std::string& path, std::string& theta,
                        std::uint64_t& rows) {
    const auto it = routes_.find(join(group, name));
    if (it == routes_.end()) return;
    const auto& d = tree_.detectors[it->second];
    path = d.path;
    theta = d.theta_path;
    rows = d.committed;
  };
  take("data", in.projections, in.projections_theta, in.n_projections);
  take("data_dark", in.darks, in.darks_theta, in.n_darks);
  take("data_white", in.flats, in.flats_theta, in.n_flats);
  return in;
}

void DxFile::close(EndState& end) noexcept {
  columns_.clear();
  tree_.detectors.clear();  // datasets closed; nxtomo_input() was taken before
  end_ = {};
  reserved_end_ = reserve_.reserved_end();
  try {
    file_.close();
  } catch (const std::exception& e) {
    if (!end.close_error.empty()) end.close_error += "; ";
    end.close_error += fmt::format("closing: {}", e.what());
  }
}

// The file on the disk before finish() reports: a scan called complete must
// survive a power cut. An error is a close error (the data may not be on disk).
void DxFile::make_durable(EndState& end) const noexcept {
  const int fd = ::open(o_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && ::fdatasync(fd) == 0) {
    ::close(fd);
    return;
  }
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!end.close_error.empty()) end.close_error += "; ";
  end.close_error += fmt::format("fdatasync {}: {}", o_.path.string(), std::strerror(err));
}

AttributeValues DxFile::close_values(const EndState& end, const Ending& ending) const {
  AttributeValues v = ending.attributes;
  const auto put = [&](const char* name, AttributeValue value) { v.try_emplace(name, value); };
  put("AcquisitionComplete", std::int64_t{end.complete});
  put("EndReason", end.reason);
  put("FramesExpected", static_cast<std::int64_t>(end.frames_expected));
  put("FramesReceived", static_cast<std::int64_t>(end.frames_received));
  put("FramesWritten", static_cast<std::int64_t>(end.frames_written));
  put("FramesLost", static_cast<std::int64_t>(end.frames_lost));
  return v;
}

// After SWMR: reopened read-write for what SWMR forbids (writer.hpp Rules).
void DxFile::complete_file(EndState& end, const Ending& ending, const NxtomoInput& nx) noexcept {
  try {
    auto f = h5::File::open(o_.path, h5::File::Access::read_write);
    const std::uint64_t frames = nx.n_projections + nx.n_darks + nx.n_flats;
    const std::uint64_t bytes = frames * 16 + (std::uint64_t{64} << 10) +
                                column_bytes(late_.columns) + late_.events.size() * 512;
    h5::SpaceReserve reserve;  // as during the scan: reserving once the disk came near full
    if (o_.reserve_space) {
      reserve = h5::SpaceReserve(
          f.descriptor(),
          {.margin = o_.reserve_margin, .slack = reserve_.near_full() ? 0 : o_.reserve_slack});
    }
    if (auto ec = reserve.ensure(f.size(), bytes)) {
      end.warnings.push_back(
          fmt::format("closing items and NXtomo view left out: {}", ec.message()));
      if (late_.events_table || !late_.columns.empty())
        end.warnings.push_back(fmt::format("events and table columns left out: {}", ec.message()));
      f.close();
      reserved_end_ = std::max(reserved_end_, reserve.reserved_end());
      return;
    }
    add_closing_items(f.id(), tree_.deferred, close_values(end, ending), o_.attribute_types,
                      end.warnings);
    write_late(f.id(), end.warnings);  // first: a layout hard link may point at a table
    make_hardlinks(f.id(), tree_.deferred);
    for (const auto& [link, target] : tree_.deferred.hardlinks) {
      end.warnings.push_back(fmt::format("hard link {}: no object {}", link, target));
    }
    if (o_.nxtomo && nx.projections.empty()) {
      end.warnings.push_back("NXtomo view left out: no <group>/data detector dataset");
    } else if (o_.nxtomo) {
      AttributeValues known = close_values(end, ending);  // DateTimeEnd, ...
      known.insert(o_.open_attributes.begin(), o_.open_attributes.end());
      end.nxtomo = add_nxtomo(f.id(), nx, o_.frame, known);
      if (!end.nxtomo) end.warnings.push_back("NXtomo view left out: /entry exists");
    }
    f.close();
    reserved_end_ = std::max(reserved_end_, reserve.reserved_end());
  } catch (const std::exception& e) {
    end.close_error = fmt::format("completing the closed file: {}", e.what());
  }
}

// Events, tables and the slotted datasets' per-frame row (writer.hpp Rules).
void DxFile::write_late(hid_t file, std::vector<std::string>& warnings) {
  for (const auto& [status, row] : late_.column_bases)
    h5::write_attribute(h5::Dataset::open(file, status).id(), "ndattribute_row_first", row);
  if (late_.events_table || !late_.events.empty())
    write_columns(file, event_columns(std::move(late_.events)), warnings);
  write_columns(file, late_.columns, warnings);
}

}  // namespace pandafly::dx::detail
