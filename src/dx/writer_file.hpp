#pragma once
// DxFile: the file side of dx::Writer, single-threaded: creates the tree,
// stores batches of frames, flushes, and finishes (writer.hpp Rules). The
// Writer's thread is its only user after construction.
//
// States: writing (before the first frame: not yet SWMR) → failed on the
// first error or full disk → finished; writing → finished.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "pandafly/dx/completeness.hpp"
#include "pandafly/h5/file.hpp"
#include "pandafly/h5/space_reserve.hpp"
#include "writer_compress.hpp"
#include "writer_frames.hpp"
#include "writer_parts.hpp"

namespace pandafly::dx::detail {

inline constexpr std::string_view end_group = "/process/acquisition/pandafly_end";
inline constexpr std::size_t no_route = std::numeric_limits<std::size_t>::max();  // a lost frame

class DxFile {
 public:
  /// Creates the file and the tree; throws (see writer.hpp Rules).
  explicit DxFile(WriterOptions options);
  DxFile(const DxFile&) = delete;
  DxFile& operator=(const DxFile&) = delete;
  ~DxFile();

  /// Stores the frames (in order) or counts them lost. Never throws.
  void write(std::vector<FrameRecord>& batch) noexcept;
  /// Rewrites the end-state counters and flushes for SWMR readers. Never throws.
  void flush() noexcept;
  /// Events and tables to write at finish() (writer thread, before finish()).
  void add_late(LateItems late);
  /// Throws std::invalid_argument if a table column at `path` would clash
  /// with an object the writer makes (writer.hpp Rules, "Tables"). Any
  /// thread: reads only what the constructor set.
  void check_free(std::string_view path) const;
  /// See writer.hpp Rules. Later calls return the same state.
  EndState finish(const Ending& ending) noexcept;

  [[nodiscard]] std::uint64_t received() const noexcept { return received_; }
  [[nodiscard]] std::uint64_t written() const noexcept { return written_; }
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] const WriterOptions& options() const noexcept { return o_; }

 private:
  struct EndDatasets {
    h5::Dataset complete, reason, frames_expected, frames_received, frames_written, frames_lost;
  };

  void create_end_datasets();
  void make_slots();
  void note_paths();
  [[nodiscard]] FrameFault claim_slot(const FrameRecord& f, Detector& d);
  void release_claims() noexcept;
  void commit_claims();
  void refusal_event(FrameFault fault, const FrameRecord& f, std::size_t to);
  [[nodiscard]] std::uint64_t column_row(const FrameRecord& f, Detector& d);
  void start_frames(const FrameRecord* first, std::span<const FrameRecord> batch);
  [[nodiscard]] std::size_t route(const FrameRecord& frame) const;
  void store(const std::vector<FrameRecord>& batch, const std::vector<std::size_t>& to);
  void store_pixels(Detector& d, const FrameRecord& frame, std::uint64_t row, std::size_t index);
  void store_slots();
  void start_compressing(const std::vector<FrameRecord>& batch, const std::vector<std::size_t>& to);
  void fail(std::string why) noexcept;
  void record_counts();
  void start_write_back() noexcept;
  void make_durable(EndState& end) const noexcept;
  [[nodiscard]] EndState end_state(const Ending& ending) const;
  void record_end(const EndState& end);
  [[nodiscard]] NxtomoInput nxtomo_input() const;
  void close(EndState& end) noexcept;
  void complete_file(EndState& end, const Ending& ending, const NxtomoInput& nx) noexcept;
  void write_late(hid_t file, std::vector<std::string>& warnings);
  [[nodiscard]] CompletenessFacts facts(const Ending& ending, std::uint64_t lost) const;
  [[nodiscard]] AttributeValues close_values(const EndState& end, const Ending& ending) const;

  WriterOptions o_;
  h5::File file_;
  h5::SpaceReserve reserve_;
  Tree tree_;
  Columns columns_;
  EndDatasets end_;
  std::map<std::string, std::size_t, std::less<>> routes_;  // detector path → index
  std::vector<std::size_t> to_;                             // per batch, reused
  std::unique_ptr<ChunkCompressor> compressor_;             // bitshuffle/LZ4 on workers
  std::vector<std::span<const std::byte>> to_compress_;     // per batch, reused
  std::uint64_t frame_bytes_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t written_ = 0;
  FrameFaults faults_;                           // frames lost before routing
  std::uint64_t projections_without_angle_ = 0;  // stored with a NaN/inf angle
  bool compressed_ = false;
  int fd_ = -1;              // the file's descriptor under HDF5
  bool write_back_ = false;  // a disk file system: start write-back after each batch
  bool failed_ = false;
  std::string failure_;
  std::uint64_t reserved_end_ = 0;
  std::optional<EndState> finished_;
  LateItems late_;                                   // events (the writer's own too), tables
  std::set<std::string, std::less<>> made_groups_;   // layout groups (check_free)
  std::set<std::string, std::less<>> made_objects_;  // datasets and links the writer makes
};

}  // namespace pandafly::dx::detail
