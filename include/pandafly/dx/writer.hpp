#pragma once
// dx::Writer: camera frames of one scan into one DXfile (HDF5 Data Exchange,
// file-formats.md §1) laid out by an NDFileHDF5 layout tree (§2), readable
// while it is written (SWMR) and after any ending — the end of the scan,
// Ctrl-C, an error or a full disk.
//
// Rules:
//   - Threads: the constructor creates the file on the caller's thread, then
//     starts the writer thread, which owns the file from then on. push(),
//     note(), add_columns() and finish() may be called from any thread.
//     Nothing else touches HDF5.
//   - The tree (constructor): every group, attribute, constant dataset and
//     OnFileOpen dataset of the layout (values from WriterOptions::open_attributes;
//     an OnFileOpen NDAttribute with no value is left out and named in
//     EndState::warnings), each detector dataset (frames × height × width,
//     one frame per chunk, the pixel type, optional compression), and next to
//     each `<group>/data<suffix>` detector dataset its angles
//     `<group>/theta<suffix>` (float64, @units "degrees"). The end state
//     datasets /process/acquisition/pandafly_end/{complete, reason,
//     frames_expected, frames_received, frames_written, frames_lost}.
//   - Per-frame NDAttribute datasets (layout ndattribute datasets with no
//     OnFileOpen/OnFileClose, and — when auto_ndattr_default — one per
//     NDAttribute not placed elsewhere in the ndattr_default group, or the
//     root without one) are created from the FIRST batch of frames, as
//     NDFileHDF5 does from its first frame: their types come from
//     WriterOptions::attribute_types, else the layout dataset's type= (int →
//     int32, float → float64), else the driver's own type for ColorMode and
//     BayerPattern (int32, as areaDetector drivers add them), else the first
//     DEFINED value among the batch's frames: a string → 256-byte
//     NUL-terminated string, a number → float64 (the wire keeps no type and
//     the plugin writes a float64 0.0 as "0", so an integral first value says
//     nothing; ADZMQ's own receiver does the same). "Undefined" (the plugin's
//     text for an undefined NDAttribute) is not a value: it is stored as NaN
//     (0 in integer columns, "Undefined" in string ones); an NDAttribute
//     undefined on the first frame is named in EndState::warnings, with the
//     type it got. Then the layout's
//     hard links whose targets exist are made and SWMR writing starts. An
//     NDAttribute first seen on a later frame is not written (counted in
//     EndState::warnings once). Built-in per-frame values: NDArrayUniqueId
//     (int32), NDArrayTimeStamp (float64), NDArrayEpicsTSSec/nSec (uint32),
//     the routing attribute (HDF5FrameLocation: 256-byte string holding the
//     path the frame went to) and the angle attribute (below).
//   - Angles: one source. The angle NDAttribute A is
//     WriterOptions::angle_attribute, else the one the layout places at
//     /process/acquisition/image_theta, else "PandaTheta". A frame's angle is
//     FrameRecord::angle when set (the caller's measurement OF A, e.g. the
//     PandA encoder angle the merger paired with the frame), else the frame's
//     numeric NDAttribute A, else NaN. That one value goes to A's per-frame
//     dataset (e.g. image_theta) and to the theta dataset of the detector
//     dataset the frame went to; each theta dataset says so in
//     @description. A layout whose image_theta holds another NDAttribute
//     than A is named in EndState::warnings.
//   - Routing: a frame goes to the detector dataset whose full path equals
//     its NDAttribute named by the layout's destination_attribute (default
//     "HDF5FrameLocation"), else to the default detector dataset. A frame's
//     angle (degrees; NaN when it has none) is appended to the theta dataset
//     of the dataset it went to (see "Angles"), or written at its slot in
//     a slotted one (see "Slots").
//   - push() blocks while the queue is full: back-pressure, never a silent
//     drop. Upstream, the ZMQ receiver then drops the newest frames and counts
//     them with their frame numbers — one place where loss is counted and
//     identified. A frame whose size is not height × width × pixel size,
//     whose declared shape or pixel type is not the file's, or whose
//     NDAttributes could not be read (FrameRecord::attribute_error: routing
//     and angle unknown) is counted received and lost, with a warning naming
//     the first such frame. After a write error or a full disk frames
//     are still accepted (the producer never stalls) and counted lost.
//   - Writing: the thread takes up to max_batch queued frames at a time;
//     uncompressed frames go to disk with H5Dwrite_chunk straight from the
//     caller's bytes (zero copy); bitshuffle/LZ4 frames are compressed by
//     `compression_threads` workers in the filter's own chunk format and
//     stored with H5Dwrite_chunk while later frames are still compressing
//     (src/dx/writer_compress.hpp); gzip and LZ4 go through HDF5's filter
//     pipeline on the writer thread. Every flush_period the end state is
//     rewritten and the file flushed, so SWMR readers see every frame
//     written before it.
//   - Durable: on a disk file system (not tmpfs/ramfs) each batch is handed
//     to the kernel's write-back as soon as it is stored
//     (sync_file_range(SYNC_FILE_RANGE_WRITE), which does not wait), so the
//     disk writes while later frames arrive and finish()'s fdatasync waits
//     only for the tail. Without it nothing reaches the disk before the
//     fdatasync here (dirty_background_ratio 10 % of 24 GiB): ZMQ → DXfile
//     measured 0.33–0.85 × write+fdatasync on ext4, with it 0.97–1.50
//     (bench_dx_writer BM_zmq_to_dxfile, PANDAFLY_BENCH_DIR on ext4).
//   - Full disk: before each batch the writer reserves disk space for it plus
//     `reserve_margin` (h5::SpaceReserve, as capture::PandaHdfWriter); on
//     "no room" or any HDF5 error it stops writing, cuts every dataset back
//     to what was stored, and counts later frames lost. The file stays readable.
//     Reserving costs: fallocate'd blocks are zero-filled pages on tmpfs and
//     unwritten extents to convert on ext4 (bench_dx_writer BM_writer_vs on
//     /dev/shm: 0.85 of plain write() speed reserving before every batch,
//     0.97–0.99 without). So while fstatvfs reports more than
//     `reserve_slack` free beyond the batch, the writer does not reserve;
//     below that it reserves before every batch, for good (the closing
//     step likewise). Only another process filling the last `reserve_slack`
//     bytes faster than one batch is written can slip past (then HDF5's own
//     error stops the writer, which cannot promise a readable file).
//     reserve_slack = 0: always reserve.
//   - finish(ending) never throws; any thread; later calls return the same
//     EndState. It closes the queue (push() returns false from then on),
//     the writer thread writes every frame still queued, records the end
//     state, closes the SWMR file, reopens it read-write and adds what SWMR
//     forbids: OnFileClose datasets and attributes (values from
//     Ending::attributes, plus the built-ins AcquisitionComplete (int32 0/1),
//     EndReason, FramesExpected, FramesReceived, FramesWritten, FramesLost
//     unless given there), the remaining layout hard links, and the NXtomo
//     view (§1.8: /entry with a virtual dataset concatenating data_dark,
//     data_white, data, image_key 2/1/0, rotation_angle, NXdata links).
//     complete = dx::judge_completeness (completeness.hpp): the ending was
//     not an interruption, nothing was lost, no write failed, every
//     frames_expected count was met exactly and every projection (frames
//     stored in a `.../data` dataset) has a finite angle and the ending
//     names no faults (Ending::faults); otherwise the
//     reason names what failed. Each detector dataset with an expectation
//     carries it as @frames_expected (uint64), so validate applies the
//     same rule to the file.
//     Last, the file is fdatasync'ed: when finish() returns, what it reports
//     is on the disk (a failure is a close_error).
//   - Slots (the fly scan: projection k is planned slot k): each detector
//     dataset named in WriterOptions::slotted (it needs a frames_expected
//     entry N) is made N frames long at construction, pixels 0 (HDF5's fill
//     value: unwritten chunks take no disk space), its theta N × NaN, and
//     beside it a status dataset (below) of N × 0 = missing. A frame with
//     FrameRecord::slot = k routed there is written at index k, its angle
//     into theta[k], status[k] = 1 ok (finite angle) or 2 no_angle; its
//     per-frame NDAttribute values go to the row b + k of every per-frame
//     dataset, where b is the row where the dataset's first slotted frame
//     arrived: the N rows b … b + N − 1 are taken then, "no value" (NaN, 0,
//     "") until their frames come, and frames appended later follow them;
//     b is kept in the status dataset's @ndattribute_row_first at finish.
//     Refused and counted lost, with a warning naming the first and a row
//     in the events table: a frame for a slot that already holds one (never
//     overwritten), a slot ≥ N, a frame without a slot for a slotted dataset
//     and a slot for a dataset that is not slotted. Frames without a slot
//     append to the other detector datasets as always (darks, flats).
//     Completeness counts the slots holding a frame: a missing slot makes
//     the scan incomplete and the reason names the first missing slots;
//     unfilled slots' NaN theta is not "a projection without an angle".
//   - Status dataset of slotted `<g>/data<suffix>`:
//     /process/acquisition/projection_status<suffix> when g is /exchange,
//     else /process/acquisition/<g without the '/', '/' → '_'>_projection_status<suffix>;
//     uint8, one per slot, written as frames are stored (SWMR readers see
//     it): 0 missing, 1 ok, 2 no_angle (@legend says so; @detector names the
//     dataset; the detector dataset's @slot_status names the status dataset,
//     which is how validate finds it).
//   - Events: /process/acquisition/projection_events, a group of equal-length
//     columns dataset (string), slot (uint64), row (int64, the PandA row;
//     -1 none), frame (int64, the camera frame number; -1 none), what
//     (string): the caller's note() calls and the writer's own refusals and
//     losses of frames that carried a slot (dataset "" when the frame's
//     NDAttributes could not be read), sorted by (dataset, slot); within a
//     slot the writer's own first, then the caller's in the order noted.
//     Written at finish() (present, maybe empty, whenever a dataset is
//     slotted).
//   - Tables: add_columns() (any thread, before finish()) hands 1-D columns
//     (float64, int64, uint64 or string) with @units and @description, e.g.
//     /measurement/panda/INENC1.VAL.Mean or /process/acquisition/planned_theta.
//     They are kept in memory and written when finish() reopens the file
//     after SWMR, with the events. Why not live: SWMR forbids creating
//     datasets once it has started (at the first frame), and the PandA
//     column names and units are known only from the data header after the
//     PandA is armed — after the darks may already be written; the tables
//     are small (3600 rows × 10 columns ≈ 0.3 MB). The price: a writer
//     killed before finish() leaves them out (as the OnFileClose items).
//     add_columns throws std::invalid_argument, naming the column, for a
//     path that is not absolute, has an empty or "."/".." part, is given
//     twice, or lies on an object the writer makes (the layout's items,
//     theta, status, events, pandafly_end); an object found in the way at
//     finish (e.g. a per-frame dataset in /defaults) leaves the column out
//     with a warning. String columns are fixed-length NUL-terminated (the
//     longest + 1 bytes), as NDFileHDF5 writes strings.
//   - Shutdown order: producer stops pushing (or is refused) → finish() →
//     destructor. The destructor finishes with "writer destroyed before
//     finish()" (an interruption) if finish() was not called.
//   - The constructor throws (file exists without `overwrite`, bad options,
//     a filter plugin HDF5 cannot load, HDF5 errors); a half-made file is removed.
//
// Example:
//   dx::Writer w({.path = "scan.h5", .layout = layout,
//                 .frame = {.height = 2048, .width = 2048},
//                 .frames_expected = {{"/exchange/data", 1500}},
//                 .open_attributes = {{"DateTimeStart", std::string("2026-01-15T10:00:00")}}});
//   auto owner = std::make_shared<capture::ReceivedFrame>(std::move(received));
//   auto rec = dx::FrameRecord::view(owner->frame(), owner);
//   rec.angle = merged_row.angle_deg;
//   w.push(std::move(rec));
//   ...
//   dx::EndState end = w.finish(dx::Ending::completed({{"DateTimeEnd", iso_now()}}));
//   // on SIGINT (from the signal-watching thread):
//   //   w.finish(dx::Ending::interrupted_by("interrupted by SIGINT"));
//
// A fly scan (slots, events, tables):
//   opts.frames_expected = {{"/exchange/data", 3600}, {"/exchange/data_dark", 20}};
//   opts.slotted = {"/exchange/data"};
//   dx::Writer w(opts);
//   rec.slot = merged.slot;            // projection k → /exchange/data[k]
//   rec.angle = merged.row->mean_deg;  // → /exchange/theta[k]
//   w.push(std::move(rec));
//   w.note({"/exchange/data", 17, 17, -1, "frame missing"});
//   w.add_columns({{"/measurement/panda/TS_TRIG", ts_trig, "s", "PandA trigger time"},
//                  {"/process/acquisition/planned_theta", planned, "degrees", ""}});
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pandafly/capture/adzmq.hpp"
#include "pandafly/dx/layout.hpp"

namespace pandafly::dx {

/// An NDAttribute value as the wire carries it (capture::NDAttribute::value).
using AttributeValue = std::variant<std::int64_t, double, std::string>;
using AttributeValues = std::map<std::string, AttributeValue, std::less<>>;

enum class Compression { none, gzip, lz4, bitshuffle_lz4 };

struct FrameGeometry {
  std::size_t height = 0;
  std::size_t width = 0;
  capture::DataType type = capture::DataType::uint16;
  [[nodiscard]] std::size_t bytes() const noexcept {
    return height * width * capture::element_size(type);
  }
};

struct WriterOptions {
  std::filesystem::path path;
  Layout layout;
  FrameGeometry frame;
  Compression compression = Compression::none;
  unsigned gzip_level = 4;
  /// bitshuffle_lz4: threads compressing frames before the writer stores
  /// them (0: one per core). Other compressions run in HDF5's pipeline.
  std::size_t compression_threads = 0;
  bool overwrite = false;  ///< replace an existing file (the tool's --force)
  std::size_t queue_capacity = 64;
  std::size_t max_batch = 256;  ///< frames taken from the queue per write step
  std::chrono::milliseconds flush_period{1000};
  bool nxtomo = true;  ///< add the NXtomo view at finish()
  /// Detector dataset path → frames the scan should deliver there.
  std::map<std::string, std::uint64_t> frames_expected;
  /// NDAttribute values known at file open (OnFileOpen datasets/attributes).
  AttributeValues open_attributes;
  /// Types of per-frame NDAttributes; others take the type of their first value.
  std::map<std::string, ValueType, std::less<>> attribute_types;
  /// The NDAttribute that holds each frame's rotation angle (Rules, "Angles");
  /// "" = the one the layout places at /process/acquisition/image_theta.
  std::string angle_attribute;
  bool reserve_space = true;
  std::uint64_t reserve_margin = std::uint64_t{1} << 20;
  /// While the file system has more than this much free space beyond the next
  /// batch, no blocks are reserved (0: always reserve). See Rules, "Full disk".
  std::uint64_t reserve_slack = std::uint64_t{2} << 30;
  /// Detector datasets written by slot (Rules, "Slots"); each needs a
  /// frames_expected entry, its number of slots. The constructor throws
  /// std::invalid_argument otherwise.
  std::set<std::string, std::less<>> slotted;
};

/// One camera frame: a view of pixels (height × width, C order, little
/// endian) kept alive by `owner` until it is written — a ReceivedFrame, a
/// std::vector, anything.
struct FrameRecord {
  std::span<const std::byte> pixels;
  std::shared_ptr<const void> owner;
  std::int64_t unique_id = 0;  ///< NDArrayUniqueId
  double timestamp = 0;        ///< NDArrayTimeStamp, s
  /// NDArrayEpicsTSSec/nSec; derived from `timestamp` when not set.
  std::optional<std::uint32_t> epics_sec, epics_nsec;
  std::optional<double> angle;  ///< measured rotation angle, degrees
  /// Index in its (slotted) detector dataset; nullopt: appended (Rules, "Slots").
  std::optional<std::uint64_t> slot;
  std::vector<capture::NDAttribute> attributes;
  /// The sender's shape (slowest first) and pixel type, when known (view()
  /// sets both): a frame whose shape is not {height, width} (trailing or
  /// leading 1s allowed) or whose type is not the file's is lost, never
  /// reinterpreted. Empty/nullopt: only the byte count is checked.
  std::vector<std::size_t> shape;
  std::optional<capture::DataType> type;
  /// Non-empty when the frame's NDAttributes could not be read (view() sets
  /// it to capture::FrameHeader::attribute_warning when no attribute came
  /// through): its routing and angle are unknown, so it is lost, never
  /// stored as a projection.
  std::string attribute_error;

  /// Views a decoded ADZMQ frame (header fields and attributes copied, pixels not).
  [[nodiscard]] static FrameRecord view(const capture::Frame& frame,
                                        std::shared_ptr<const void> owner);
  /// Owns `pixels` (any contiguous container of arithmetic values).
  template <class Container>
  [[nodiscard]] static FrameRecord owning(std::shared_ptr<const Container> pixels) {
    FrameRecord r;
    r.pixels = std::as_bytes(std::span(*pixels));
    r.owner = std::move(pixels);
    return r;
  }
  /// Sets (or replaces) the NDAttribute `name`.
  FrameRecord& set(std::string name, AttributeValue value);
};

/// What a slotted dataset's status dataset says of each slot (Rules, "Slots").
enum class SlotStatus : std::uint8_t { missing = 0, ok = 1, no_angle = 2 };

/// Something that happened to one slot, as the scan saw it (Rules, "Events").
struct SlotEvent {
  std::string dataset = "/exchange/data";
  std::uint64_t slot = 0;
  std::int64_t row = -1;    ///< the PandA row; -1: none
  std::int64_t frame = -1;  ///< the camera's frame number (NDArrayUniqueId); -1: none
  std::string what;         ///< e.g. "frame missing", "frames reordered, put back"
};

/// One 1-D column of an extra table (Rules, "Tables").
using ColumnValues = std::variant<std::vector<double>, std::vector<std::int64_t>,
                                  std::vector<std::uint64_t>, std::vector<std::string>>;
struct TableColumn {
  std::string path;  ///< absolute: "/measurement/panda/TS_TRIG"
  ColumnValues values;
  std::string units;        ///< @units; "" writes none
  std::string description;  ///< @description; "" writes none
};

/// How the scan ended, as the caller saw it.
struct Ending {
  std::string reason = "completed";
  bool interrupted = false;    ///< Ctrl-C, abort, error: never "complete"
  AttributeValues attributes;  ///< OnFileClose values
  /// What the acquisition found wrong with what it stored (e.g. "camera
  /// stall: …"): each makes the file incomplete, named in the end reason
  /// (dx::CompletenessFacts::faults).
  std::vector<std::string> faults;
  [[nodiscard]] static Ending completed(AttributeValues close_values = {});
  [[nodiscard]] static Ending interrupted_by(std::string why, AttributeValues close_values = {});
};

/// What finish() recorded under /process/acquisition/pandafly_end.
struct EndState {
  bool complete = false;
  std::string reason;
  std::uint64_t frames_expected = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t frames_written = 0;
  std::uint64_t frames_lost = 0;
  std::uint64_t slots_missing = 0;    ///< empty slots of the slotted datasets, together
  bool nxtomo = false;                ///< the NXtomo view was added
  std::vector<std::string> warnings;  ///< things left out (never fatal)
  std::string close_error;            ///< "" when the file was closed cleanly
};

/// Counters while writing (any thread).
struct WriterStats {
  std::uint64_t received = 0;
  std::uint64_t written = 0;
  std::uint64_t lost = 0;
  std::uint64_t full_waits = 0;  ///< push() calls that waited for room
  bool failed = false;
};

class Writer {
 public:
  explicit Writer(WriterOptions options);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Queues a frame, waiting while the queue is full. False once finish()
  /// has begun (the frame is not taken).
  bool push(FrameRecord frame);
  /// Records what happened to a slot (any thread; Rules, "Events"). False
  /// once finish() has begun (not recorded).
  bool note(SlotEvent event);
  /// Adds columns written at finish() (any thread; Rules, "Tables"). Throws
  /// std::invalid_argument for a bad path (nothing added); false once
  /// finish() has begun (nothing added).
  bool add_columns(std::vector<TableColumn> columns);
  /// See Rules. Never throws.
  EndState finish(Ending ending) noexcept;
  [[nodiscard]] WriterStats stats() const;
  [[nodiscard]] const std::filesystem::path& path() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pandafly::dx
