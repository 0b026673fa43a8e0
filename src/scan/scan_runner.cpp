#include "pandafly/scan/scan_runner.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "event_queue.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/monitor.hpp"
#include "pandafly/capture/angle_track.hpp"
#include "pandafly/capture/ca_image_source.hpp"
#include "pandafly/capture/frame_timing.hpp"
#include "pandafly/capture/live_publisher.hpp"
#include "pandafly/capture/merger.hpp"
#include "pandafly/capture/panda_capture.hpp"
#include "pandafly/capture/row_sink.hpp"
#include "pandafly/capture/zmq_receiver.hpp"
#include "pandafly/dx/layout.hpp"
#include "pandafly/dx/metadata.hpp"
#include "pandafly/dx/xdi_writer.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"
#include "pandafly/scan/panda_fields.hpp"
#include "pandafly/scan/scan_devices.hpp"
#include "pandafly/scan/scan_sequence.hpp"
#include "pandafly/util/stop.hpp"

namespace pandafly::scan {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kProjections = "/exchange/data";
constexpr const char* kDarks = "/exchange/data_dark";
constexpr const char* kFlats = "/exchange/data_white";
constexpr double kEpicsEpochUnix = 631152000;  // 1990-01-01 in Unix seconds
/// theta_status of a continuous scan's frame stamped after a camera stall:
/// exposed at an unknown time within the gap (after capture::AngleStatus's codes).
constexpr double kThetaAfterStall = 7;

std::string read_file(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(fmt::format("{} {}: cannot read the file", what, path));
  std::ostringstream out;
  out << f.rdbuf();
  return out.str();
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&t, &local);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S%z}", local);
}

dx::AttributeValues to_values(const dx::NamedValues& v) {
  dx::AttributeValues out;
  for (const auto& [name, value] : v) out[name] = value;
  return out;
}

capture::DataType pixel_type(const std::string& nd_data_type) {
  std::string lower;
  for (char c : nd_data_type)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto t = capture::data_type_from(lower)) return *t;
  throw std::runtime_error(
      fmt::format("the camera's DataType {} is not a pixel type", nd_data_type));
}

/// The frame's HDF5FrameLocation NDAttribute (what the IOC's FrameType made it).
std::string frame_location(const capture::Frame& f) {
  for (const auto& a : f.header.attributes)
    if (a.name == "HDF5FrameLocation")
      if (const auto* s = std::get_if<std::string>(&a.value)) return *s;
  return kProjections;
}

}  // namespace

struct ScanRunner::Impl {
  ScanConfig config;
  ScanRunOptions options;
  ca::Context context;
  detail::EventQueue queue;
  std::unique_ptr<ScanDevices> devices;
  std::optional<FlyPreparation> prep;
  Clock::time_point t0 = Clock::now();

  // The data path (run()).
  std::unique_ptr<dx::Writer> writer;
  std::unique_ptr<capture::ZmqReceiver> receiver;
  std::unique_ptr<capture::LivePublisher> live;  ///< used under merge_mutex
  std::jthread frame_thread;
  std::atomic<int> interrupts{0};
  bool writer_failed = false;
  Clock::time_point run_started;
  // What the scan spends before the first trigger besides moving (ScanResult).
  std::optional<std::uint64_t> run_up_move;
  std::optional<Clock::time_point> run_up_issued, run_up_done, scan_move_issued;
  std::atomic<Clock::rep> last_frame_at{0};  ///< steady time of the last frame
  std::atomic<bool> hurried{false};          ///< a second interruption: no more waiting
  std::unique_ptr<panda::BlockingDataClient> data;
  std::unique_ptr<capture::PandaRowSink> row_sink;
  std::jthread row_thread;
  // One way to stop the data paths (util/stop.hpp): close() requests it; the
  // PandA capture sees it as its flag, the ZMQ receiver through a callback.
  util::StopSource data_stop;
  util::StopFlag rows_stop{data_stop.get_token()};
  std::optional<std::stop_callback<std::function<void()>>> receiver_stop;
  std::optional<capture::CaptureResult> capture_result;

  // The merger and what is kept per slot (one mutex).
  std::mutex merge_mutex;
  std::unique_ptr<capture::Merger> merger;
  std::unordered_map<std::uint64_t, std::shared_ptr<capture::ReceivedFrame>> waiting;
  std::uint64_t next_handle = 1;
  std::vector<double> start_angle, residual;
  ScanResult result;
  /// Step scans: the point triggered whose frame has not come yet, and the
  /// rotation's RBV at its trigger (under merge_mutex).
  struct PendingPoint {
    std::uint64_t point = 0;
    double angle = 0;
  };
  std::optional<PendingPoint> pending_point;
  /// Step scans: the position-versus-time file next to the DXfile, a row per
  /// stored projection (frame thread; closed by close() after it joined).
  std::unique_ptr<dx::XdiWriter> xdi;
  bool xdi_failed = false;
  std::vector<std::string> close_notes;  ///< added to the outcome's notes
  // Step scans: what a point costs beyond its move and its exposure + readout
  // (ScanResult::point_overhead_s): from the move's completion to the next
  // point's move (or the camera's stop after the last point).
  std::optional<Clock::time_point> point_move_done;
  bool point_triggered = false;
  // Continuous scans: the rotation's time-stamped RBV updates (their own
  // monitor and thread) give each frame's angle (capture::AngleTrack); a
  // frame waits in cont_pending until updates bracket its mid-exposure time.
  struct PendingFrame {
    std::uint64_t slot = 0;
    double t = 0;  ///< mid-exposure, Unix seconds (the RBV stamps' clock): the latest it can be
    capture::FrameTiming timing;  ///< after a camera stall: exposed in [earliest, t]
    std::shared_ptr<capture::ReceivedFrame> frame;
  };
  std::unique_ptr<ca::Channel> rbv_channel;
  std::unique_ptr<ca::Monitor> rbv_monitor;
  std::jthread rbv_thread;
  std::optional<capture::AngleTrack> track;                  ///< under merge_mutex
  double rbv_last = -HUGE_VAL, rbv_before_last = -HUGE_VAL;  ///< the two latest stamps
  std::deque<PendingFrame> cont_pending;                     ///< under merge_mutex
  std::optional<std::uint64_t> cont_first;                   ///< first projection's frame number
  /// The last SetFrameType: where a frame over Channel Access goes (such a
  /// frame carries no HDF5FrameLocation).
  std::atomic<FrameKind> frame_type{FrameKind::projection};
  std::unique_ptr<capture::CaImageSource> ca_images;  ///< camera.frames = "ca"
  std::vector<double> theta_uncertainty, theta_status;
  std::vector<bool> cont_seen;  ///< slots whose frame came (under merge_mutex)
  /// Per slot, the frame's time as its stamp places it (capture::place_frame;
  /// under merge_mutex), and what the stamps and angles revealed: camera
  /// stalls (each a completeness reason) and frames exposed outside the scan
  /// move's constant speed (slots, by verdict).
  std::vector<std::optional<capture::FrameTiming>> cont_timing;
  std::vector<std::string> cont_faults;
  std::vector<std::uint64_t> cont_beyond, cont_before;
  [[nodiscard]] bool cont() const { return options.kind == ScanKind::cont; }
  std::set<std::uint64_t> rotation_moves;  ///< ids of the rotation's Move commands
  double rotation_done = kNaN;             ///< RBV in the last rotation MoveDone
  [[nodiscard]] bool step() const { return options.kind == ScanKind::step; }

  Impl(ScanConfig c, ScanRunOptions o) : config(std::move(c)), options(std::move(o)) {}
  // Shutdown order when run() did not get to close the file (it threw):
  // stop the data paths and join their threads before any member they use
  // goes; the writer's own destructor then closes the file as interrupted.
  ~Impl() {
    data_stop.request_stop();
    if (frame_thread.joinable()) frame_thread.join();
    if (row_thread.joinable()) row_thread.join();
    if (rbv_thread.joinable()) rbv_thread.join();
    if (devices) devices->join();
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  [[nodiscard]] double now() const {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }

  // ---- prepare ----

  FlyPreparation prepare(bool load_design) {
    devices = std::make_unique<ScanDevices>(
        config, context, [this](Event e) { queue.post(std::move(e)); }, options.kind);
    FlyPreparation p;
    if (load_design && options.kind == ScanKind::fly)
      p.design_lines_sent = devices->load_design(read_file(config.panda.design, "PandA design"));
    p.motor = devices->read_motor_facts();
    p.camera = devices->read_camera_facts();
    if (step()) {
      p.plan = plan_step(config, p.motor, p.camera);
    } else if (cont()) {
      // The rate the camera will really run at: set, then read back (a dry
      // run writes nothing: it plans at the nominal rate).
      const double frame_time = config.scan.exposure_s +
                                readout_for(config.camera, p.camera).first +
                                config.camera.readout_margin_s;
      const double rate = load_design
                              ? devices->configure_frame_rate(config.scan.exposure_s, frame_time)
                              : 1.0 / frame_time;
      p.plan = plan_cont(config, p.motor, p.camera, std::nullopt, rate);
    } else {
      p.plan = plan_fly(config, p.motor, p.camera);
    }
    if (p.plan.plan && options.kind == ScanKind::fly) {
      FlyPandaWiring wiring;
      wiring.encoder = config.rotation.encoder;
      p.panda_fields = fly_panda_fields(p.plan.plan->geometry, wiring);
      // The design starts the compare with the arm (PCOMP1.ENABLE = PCAP.ACTIVE).
      devices->set_panda_fields(PandaScanFields{p.panda_fields, {}, {}});
    }
    prep = p;
    return p;
  }

  // ---- the data path ----

  void open_writer() {
    const auto& plan = *prep->plan.plan;
    dx::WriterOptions w;
    w.path = config.output.file;
    w.overwrite = config.output.overwrite;
    auto layout = dx::parse_layout(read_file(options.layout_path, "layout"));
    if (auto* e = std::get_if<dx::LayoutError>(&layout))
      throw std::runtime_error(fmt::format("layout {}: {}", options.layout_path, e->message));
    w.layout = std::get<dx::Layout>(std::move(layout));
    w.frame.height = static_cast<std::size_t>(prep->camera.size_y);
    w.frame.width = static_cast<std::size_t>(prep->camera.size_x);
    w.frame.type = pixel_type(prep->camera.data_type);
    w.frames_expected[kProjections] = plan.projections;
    if (const auto n = plan.darks_before + plan.darks_after) w.frames_expected[kDarks] = n;
    if (const auto n = plan.flats_before + plan.flats_after) w.frames_expected[kFlats] = n;
    w.slotted.insert(kProjections);
    w.open_attributes = to_values(dx::start_attributes(config.metadata, iso_now()));
    for (const auto& [name, value] : config.attributes)
      std::visit([&, n = name](const auto& v) { w.open_attributes.insert_or_assign(n, v); }, value);
    // What the scan itself knows of the layout's OnFileOpen NDAttributes
    // (those it does not know, e.g. the energy or the pixel size, are named
    // in the end state's warnings, never invented).
    auto& a = w.open_attributes;
    a.insert_or_assign("ExposureTime", plan.exposure_s);
    a.insert_or_assign("FrameRate", 1.0 / plan.frame_time_s);
    a.insert_or_assign("DetectorSizeX", static_cast<std::int64_t>(prep->camera.size_x));
    a.insert_or_assign("DetectorSizeY", static_cast<std::int64_t>(prep->camera.size_y));
    if (!prep->camera.model.empty()) a.insert_or_assign("DetectorModel", prep->camera.model);
    a.insert_or_assign("RotationStart", plan.first_deg);
    a.insert_or_assign("RotationStep", plan.step_deg);
    a.insert_or_assign("RotationSpeed", plan.speed_deg_s);
    a.insert_or_assign("NumAngles", static_cast<std::int64_t>(plan.projections));
    a.insert_or_assign("NumDarkFields",
                       static_cast<std::int64_t>(plan.darks_before + plan.darks_after));
    a.insert_or_assign("NumFlatFields",
                       static_cast<std::int64_t>(plan.flats_before + plan.flats_after));
    writer = std::make_unique<dx::Writer>(std::move(w));
  }

  /// The merger, made when the PandA is about to be armed (its header, then
  /// its rows, follow): the camera is idle then, so its ArrayCounter names the
  /// frame before the first projection. Caller holds merge_mutex.
  void open_merger(std::optional<std::uint64_t> camera_counter) {
    const auto& plan = *prep->plan.plan;
    capture::MergerOptions m;
    m.projections = plan.projections;
    m.frame_time_s = plan.frame_time_s;
    // A frame is time-stamped when its readout ends, after its exposure's start.
    m.expected_offset_s = plan.exposure_s + plan.readout_s;
    m.increasing = plan.step_deg > 0;
    if (camera_counter) m.first_frame_number = *camera_counter + 1;
    merger = std::make_unique<capture::Merger>(m);
  }

  /// Hands what the merger decided to the writer. Caller holds merge_mutex.
  void drain_merger() {
    for (auto& event : merger->take()) {
      if (auto* p = std::get_if<capture::MergedProjection>(&event)) {
        place(*p);
      } else {
        const auto& d = std::get<capture::DroppedFrame>(event);
        waiting.erase(d.frame.handle);
        if (d.reason == capture::DropReason::duplicate) ++result.duplicates;
        if (d.reason == capture::DropReason::no_trigger) ++result.extra_frames;
        if (d.slot)
          (void)writer->note(dx::SlotEvent{
              kProjections, *d.slot, -1, static_cast<std::int64_t>(d.frame.number),
              fmt::format("frame {} dropped: {}", d.frame.number, capture::to_string(d.reason))});
      }
    }
  }

  void place(const capture::MergedProjection& p) {
    const std::int64_t row = p.row ? static_cast<std::int64_t>(p.row->index) : -1;
    const std::int64_t number = p.frame ? static_cast<std::int64_t>(p.frame->number) : -1;
    for (std::uint16_t bit = 1; bit != 0 && bit <= p.events;
         bit = static_cast<std::uint16_t>(bit << 1)) {
      if ((p.events & bit) == 0) continue;
      const auto e = static_cast<capture::ProjectionEvent>(bit);
      (void)writer->note(
          dx::SlotEvent{kProjections, p.slot, row, number, std::string(capture::to_string(e))});
    }
    if (p.has(capture::ProjectionEvent::frame_missing)) ++result.frames_missing;
    if (p.has(capture::ProjectionEvent::missed_trigger)) ++result.missed_triggers;
    if (p.has(capture::ProjectionEvent::row_missing)) ++result.rows_missing;
    if (p.has(capture::ProjectionEvent::reordered)) ++result.reorders;
    if (p.slot < start_angle.size()) {
      start_angle[p.slot] = p.start_angle_deg;
      if (p.residual_s) residual[p.slot] = *p.residual_s;
    }
    if (!p.frame) return;
    auto it = waiting.find(p.frame->handle);
    if (it == waiting.end()) return;
    auto owner = std::move(it->second);
    waiting.erase(it);
    if (live) {
      capture::LiveProjection lp;
      lp.slot = p.slot;
      if (p.row) {
        lp.angle = p.angle_deg;
        lp.angle_start = p.start_angle_deg;
      }
      lp.frame = &owner->frame().header;
      lp.data = owner->frame().data;
      lp.owner = owner;
      (void)live->publish(lp);
    }
    auto rec = dx::FrameRecord::view(owner->frame(), owner);
    rec.slot = p.slot;
    rec.angle = p.angle_deg;
    if (p.complete()) {
      if (result.projections_complete == 0) result.first_angle = p.angle_deg;
      result.last_angle = p.angle_deg;
      ++result.projections_complete;
    }
    (void)writer->push(std::move(rec));
  }

  void start_frames() {
    capture::ZmqReceiverOptions o;
    o.ioc_host = config.camera.ioc_host;
    o.queue_capacity = 1024;
    o.hand_out_duplicates = true;  // the merger drops them and records the slot
    receiver = std::make_unique<capture::ZmqReceiver>(config.camera.zmq, o);
    receiver_stop.emplace(data_stop.get_token(),
                          std::function<void()>([this] { receiver->stop(); }));
    frame_thread = std::jthread([this] {
      while (true) {
        auto f = receiver->pop(100ms);
        if (!f) {
          if (receiver->stopped()) return;
          continue;
        }
        last_frame_at = Clock::now().time_since_epoch().count();
        on_frame(std::make_shared<capture::ReceivedFrame>(std::move(*f)));
      }
    });
  }

  /// Frames over Channel Access (camera.frames = "ca", step scans): the
  /// standard-arrays plugin's frame after each UniqueId_RBV update
  /// (capture::CaImageSource), into the dataset of the frame type set last.
  void start_ca_frames() {
    capture::CaImageSourceOptions o;
    o.prefix = config.camera.prefix + config.camera.image;
    ca_images = std::make_unique<capture::CaImageSource>(context, o);  // before any trigger
    frame_thread = std::jthread([this, stop = data_stop.get_token()] {
      while (!stop.stop_requested()) {
        std::optional<capture::CaImageEvent> e;
        try {
          e = ca_images->next(100ms, stop);
        } catch (const std::exception& err) {
          if (stop.stop_requested()) return;
          std::scoped_lock lock(merge_mutex);
          close_notes.push_back(fmt::format("frames over Channel Access: {}", err.what()));
          continue;
        }
        if (!e) continue;
        if (auto* f = std::get_if<capture::ReceivedFrame>(&*e)) {
          last_frame_at = Clock::now().time_since_epoch().count();
          const auto kind = frame_type.load();
          on_frame(std::make_shared<capture::ReceivedFrame>(std::move(*f)),
                   kind == FrameKind::dark   ? kDarks
                   : kind == FrameKind::flat ? kFlats
                                             : kProjections);
        } else {
          const auto& skipped = std::get<capture::SkippedFrame>(*e);
          std::scoped_lock lock(merge_mutex);
          ++result.extra_frames;
          close_notes.push_back(fmt::format("frame {} over Channel Access skipped: {}",
                                            skipped.frame, skipped.message));
        }
      }
    });
  }

  /// Every frame the plan expects came (nothing to drain).
  bool all_frames_in() {
    const auto& plan = *prep->plan.plan;
    std::scoped_lock lock(merge_mutex);
    return result.projections_complete == plan.projections &&
           result.darks == plan.darks_before + plan.darks_after &&
           result.flats == plan.flats_before + plan.flats_after;
  }

  /// Waits until no frame came for `quiet` (at most `limit`): frames exposed
  /// before the camera was stopped are still in its pipeline (readout, the
  /// plugins, ZMQ) and belong in the file.
  void drain_frames(Clock::duration quiet, Clock::duration limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
      const auto last = Clock::time_point(Clock::duration(last_frame_at.load()));
      if (Clock::now() - last >= quiet) return;
      std::this_thread::sleep_for(quiet / 4);
    }
  }

  /// `where`: the frame's dataset when the frame does not say (frames over CA).
  void on_frame(std::shared_ptr<capture::ReceivedFrame> f,
                std::optional<std::string> where_known = std::nullopt) {
    const auto& frame = f->frame();
    const auto where = where_known ? *where_known : frame_location(frame);
    if (where == kDarks || where == kFlats) {
      auto rec = dx::FrameRecord::view(frame, f);
      // A frame over Channel Access carries no NDAttributes: say where it goes.
      if (where_known) rec.set("HDF5FrameLocation", where);
      (void)writer->push(std::move(rec));
      queue.post(FrameArrived{where == kDarks ? FrameKind::dark : FrameKind::flat});
      std::scoped_lock lock(merge_mutex);  // result is read by the loop's progress
      (where == kDarks ? result.darks : result.flats) += 1;
      return;
    }
    if (step()) {
      std::scoped_lock lock(merge_mutex);
      // A frame no trigger asked for must not complete a point's wait.
      if (!place_point(std::move(f))) return;
    } else if (cont()) {
      std::scoped_lock lock(merge_mutex);
      if (!queue_cont(std::move(f))) return;
    } else {
      std::scoped_lock lock(merge_mutex);
      if (!merger) {  // a projection before the PandA was armed: no trigger made it
        ++result.extra_frames;
        return;
      }
      const auto handle = next_handle++;
      waiting.emplace(handle, f);
      merger->add_frame(capture::MergerFrame{frame.header.frame, frame.header.timestamp, handle});
      drain_merger();
    }
    queue.post(FrameArrived{FrameKind::projection});
  }

  /// A step scan's projection frame: into the slot of the point triggered
  /// last, with the RBV at its trigger. Caller holds merge_mutex.
  bool place_point(std::shared_ptr<capture::ReceivedFrame> f) {
    if (!pending_point) {  // no trigger outstanding: not a frame of this scan's points
      ++result.extra_frames;
      return false;
    }
    const auto [point, angle] = *pending_point;
    pending_point.reset();
    if (live) {
      capture::LiveProjection lp;
      lp.slot = point;
      lp.angle = angle;
      lp.frame = &f->frame().header;
      lp.data = f->frame().data;
      lp.owner = f;
      (void)live->publish(lp);
    }
    auto rec = dx::FrameRecord::view(f->frame(), f);
    rec.slot = point;
    rec.angle = angle;
    if (result.projections_complete == 0) result.first_angle = angle;
    result.last_angle = angle;
    ++result.projections_complete;
    const double stamp = f->frame().header.timestamp;
    (void)writer->push(std::move(rec));
    append_xdi(angle, stamp);
    return true;
  }

  /// A continuous scan's projection frame: its slot by frame number from the
  /// first one the camera made after its start; its angle once the RBV
  /// updates bracket its mid-exposure time (exposure start = the frame's
  /// time stamp − readout − exposure, as the camera stamps a frame when its
  /// readout ends). Caller holds merge_mutex. False: not one of the scan's.
  bool queue_cont(std::shared_ptr<capture::ReceivedFrame> f) {
    const auto& plan = *prep->plan.plan;
    const std::uint64_t number = f->frame().header.frame;
    if (!cont_first || number < *cont_first || number - *cont_first >= plan.projections) {
      ++result.extra_frames;
      return false;
    }
    const std::uint64_t slot = number - *cont_first;
    if (cont_seen[slot]) {  // the same frame number again: the first one stays
      ++result.duplicates;
      (void)writer->note(dx::SlotEvent{kProjections, slot, -1, static_cast<std::int64_t>(number),
                                       fmt::format("frame {} dropped: duplicate", number)});
      return false;
    }
    cont_seen[slot] = true;
    const double t =
        capture::mid_exposure(f->frame().header.timestamp + kEpicsEpochUnix,
                              config.camera.timestamp, plan.exposure_s, plan.readout_s);
    const auto timing = place_cont(slot, number, t);
    cont_pending.push_back(PendingFrame{slot, t, timing, std::move(f)});
    flush_cont(false);
    return true;
  }

  /// The frame's time by its stamp, judged against the nearest lower slot
  /// whose frame came (a camera stall: capture::place_frame). Caller holds
  /// merge_mutex.
  capture::FrameTiming place_cont(std::uint64_t slot, std::uint64_t number, double t) {
    const auto& plan = *prep->plan.plan;
    std::optional<capture::FrameTiming> prev;
    for (std::uint64_t k = slot; k-- > 0 && !prev;) prev = cont_timing[k];
    const auto timing = capture::place_frame(
        {.period_s = plan.frame_time_s, .exposure_s = plan.exposure_s}, prev, number, t);
    cont_timing[slot] = timing;
    return timing;
  }

  /// Places the frames whose angle is known (all of them when `final`: the
  /// last ones then get the track's extrapolation, their uncertainty +inf
  /// and an event). Caller holds merge_mutex.
  void flush_cont(bool final) {
    while (!cont_pending.empty()) {
      auto& p = cont_pending.front();
      // Not before an update follows the one after the frame: the track then
      // knows the speed after the frame's interval too, and bounds a speed
      // change within it (a stop right after the frame) from both sides.
      if (!final && !(track->covers(p.t) && p.t < rbv_before_last)) return;
      const auto number = static_cast<std::int64_t>(p.frame->frame().header.frame);
      const auto est = p.timing.late() ? late_angle(p, number) : measured_angle(p, number);
      check_cont_range(p.slot, number, est.angle);
      if (live) {
        capture::LiveProjection lp;
        lp.slot = p.slot;
        lp.angle = est.angle;
        lp.frame = &p.frame->frame().header;
        lp.data = p.frame->frame().data;
        lp.owner = p.frame;
        (void)live->publish(lp);
      }
      auto rec = dx::FrameRecord::view(p.frame->frame(), p.frame);
      rec.slot = p.slot;
      rec.angle = est.angle;
      if (result.projections_complete == 0) result.first_angle = est.angle;
      result.last_angle = est.angle;
      ++result.projections_complete;
      (void)writer->push(std::move(rec));
      cont_pending.pop_front();
    }
  }

  /// A frame's angle at its mid-exposure time `p.t`, the uncertainty grown
  /// by the stamps' own resolution. Caller holds merge_mutex.
  capture::AngleEstimate measured_angle(const PendingFrame& p, std::int64_t number) {
    auto est = track->angle_at(p.t);
    est.uncertainty += std::abs(est.speed) * stamp_error(p.t);
    theta_uncertainty[p.slot] = est.uncertainty;
    theta_status[p.slot] = static_cast<double>(est.status);
    if (est.status != capture::AngleStatus::interpolated)
      (void)writer->note(
          dx::SlotEvent{kProjections, p.slot, -1, number,
                        fmt::format("angle {} (uncertainty {} deg)", capture::to_string(est.status),
                                    est.uncertainty)});
    return est;
  }

  /// The frame's time stamp reaches us as float64 seconds (ADZMQ's
  /// timeStamp), and so do the RBV stamps: each is good to its last bit
  /// (2.4e-7 s in 2026), which the stage turns through at its speed.
  static double stamp_error(double t) { return 2 * (std::nextafter(t, HUGE_VAL) - t); }

  /// A frame stamped after a camera stall (or delivered in a burst right
  /// after such a frame) was exposed at an unknown time in [earliest, t]
  /// (capture::place_frame): its angle is the middle of the stage's travel
  /// over it, the bound half that travel plus the readings'. A gap is noted
  /// at its slot and becomes a reason the file is incomplete: that range
  /// holds no other projection. Caller holds merge_mutex.
  capture::AngleEstimate late_angle(const PendingFrame& p, std::int64_t number) {
    const auto lo = track->angle_at(p.timing.earliest);
    const auto hi = track->angle_at(p.t);
    capture::AngleEstimate est = hi;
    est.angle = (lo.angle + hi.angle) / 2;
    est.uncertainty = std::abs(hi.angle - lo.angle) / 2 + std::max(lo.uncertainty, hi.uncertainty) +
                      std::max(std::abs(lo.speed), std::abs(hi.speed)) * stamp_error(p.t);
    theta_uncertainty[p.slot] = est.uncertainty;
    theta_status[p.slot] = kThetaAfterStall;
    const auto from = std::min(lo.angle, hi.angle), to = std::max(lo.angle, hi.angle);
    if (!p.timing.after_gap()) {
      (void)writer->note(dx::SlotEvent{
          kProjections, p.slot, -1, number,
          fmt::format("delivered in a burst after a camera stall: exposed somewhere in "
                      "{:.2f}..{:.2f} deg (theta is its middle, ±{:.2f} deg)",
                      from, to, est.uncertainty)});
      return est;
    }
    (void)writer->note(dx::SlotEvent{
        kProjections, p.slot, -1, number,
        fmt::format("camera stall: no frame for {:.3f} s before this one; {:.2f}..{:.2f} deg not "
                    "covered (this frame was exposed somewhere in it: theta is its middle, "
                    "±{:.2f} deg)",
                    p.timing.gap_s, from, to, est.uncertainty)});
    cont_faults.push_back(
        fmt::format("camera stall: no frame for {:.3f} s before frame {} (slot {}): {:.2f}..{:.2f} "
                    "deg not covered",
                    p.timing.gap_s, number, p.slot, from, to));
    ++result.camera_gaps;
    return est;
  }

  /// A frame exposed outside the scan move's constant speed (the stage
  /// still accelerating, or decelerating or at rest past it, as after a
  /// camera stall that outlasted the run-down) is noted at its slot and
  /// makes the file incomplete. Caller holds merge_mutex.
  void check_cont_range(std::uint64_t slot, std::int64_t number, double angle) {
    const auto& plan = *prep->plan.plan;
    const auto part = cont_speed_part();
    const auto verdict = capture::check_range(angle, plan.exposure_travel_deg, part);
    if (verdict == capture::RangeVerdict::inside) return;
    const bool beyond = verdict == capture::RangeVerdict::beyond;
    (beyond ? cont_beyond : cont_before).push_back(slot);
    (void)writer->note(dx::SlotEvent{
        kProjections, slot, -1, number,
        beyond ? fmt::format("exposed beyond {:.6g} deg, where the scan move's constant speed ends "
                             "(the stage decelerating or at rest)",
                             part.to_deg)
               : fmt::format("exposed before {:.6g} deg, where the scan move's constant speed "
                             "begins (the stage accelerating)",
                             part.from_deg)});
  }

  /// The scan move's constant-speed part: after the run-up's ramp, before
  /// the run-down's.
  [[nodiscard]] capture::SpeedPart cont_speed_part() const {
    const auto& plan = *prep->plan.plan;
    const double dir = plan.step_deg >= 0 ? 1.0 : -1.0;
    return {plan.run_up_start_deg + dir * plan.accel_distance_deg,
            plan.run_down_end_deg - dir * plan.accel_distance_deg};
  }

  /// What the continuous scan found wrong with what it stored (Ending::
  /// faults; each also a note). Caller holds merge_mutex.
  std::vector<std::string> cont_file_faults() {
    auto faults = cont_faults;
    const auto part = cont_speed_part();
    for (auto* slots : {&cont_before, &cont_beyond}) {
      if (slots->empty()) continue;
      std::sort(slots->begin(), slots->end());
      const bool beyond = slots == &cont_beyond;
      faults.push_back(fmt::format(
          "{} projections (slots {}..{}) exposed {} {:.6g} deg, outside the scan move's constant "
          "speed (the stage {})",
          slots->size(), slots->front(), slots->back(), beyond ? "beyond" : "before",
          beyond ? part.to_deg : part.from_deg,
          beyond ? "decelerating or at rest" : "accelerating"));
    }
    result.beyond_range = cont_beyond.size() + cont_before.size();
    for (const auto& f : faults) close_notes.push_back(f);
    return faults;
  }

  /// Caller holds merge_mutex.
  void add_rbv(double stamp, double position) {
    if (track->add(stamp, position) != capture::UpdateVerdict::added || stamp <= rbv_last) return;
    rbv_before_last = rbv_last;
    rbv_last = stamp;
  }

  /// At the close: the stage at rest (DMOV 1) where RBV says, stamped when
  /// the motion ended, so the last interval has one after it too. Caller
  /// holds merge_mutex.
  void add_rest_position() {
    try {
      ca::Channel dmov(context, config.rotation.motor + ".DMOV");
      dmov.wait_connected(ca::Timeout{2.0});
      const auto done = dmov.get_time<std::int32_t>(ca::Timeout{2.0});
      if (done.value != 1) return;  // still moving: no rest to add
      add_rbv(done.stamp.unix_seconds(), rbv_channel->get<double>(ca::Timeout{2.0}));
    } catch (const std::exception& e) {
      close_notes.push_back(fmt::format("the rotation's rest position: {}", e.what()));
    }
  }

  /// The rotation's RBV with its time stamps, for a continuous scan's angles.
  void start_rbv_track() {
    capture::AngleTrackConfig tc;
    tc.resolution = std::abs(prep->motor.mres);
    tc.stamp_lag = config.rotation.rbv_stamp_lag_s;  // the scan file's rotation.rbv_stamp_lag
    track.emplace(tc);
    rbv_channel = std::make_unique<ca::Channel>(context, config.rotation.motor + ".RBV");
    rbv_channel->wait_connected(ca::Timeout{5.0});
    ca::MonitorOptions mo;
    mo.type = ca::FieldType::float64;
    mo.capacity = 4096;
    rbv_monitor = std::make_unique<ca::Monitor>(*rbv_channel, mo);
    rbv_thread = std::jthread([this, stop = data_stop.get_token()] {
      while (!stop.stop_requested()) {
        auto u = rbv_monitor->pop(ca::Timeout{0.1});
        if (!u) continue;
        const auto* v = std::get_if<std::vector<double>>(&u->value);
        if (!v || v->empty()) continue;
        std::scoped_lock lock(merge_mutex);
        add_rbv(u->stamp.unix_seconds(), v->front());
        flush_cont(false);
      }
    });
  }

  /// The step scan's .xdi: the DXfile's name with .xdi, XDI 1.0 by the
  /// reference's rules (file-formats.md §4.5): the rotation readback,
  /// seconds since run(), the frame's EPICS time stamp.
  void open_xdi() {
    dx::XdiHeader h;
    h.columns = {{std::string(dx::xdi_rotation_column), "degrees"},
                 {"elapsed_time", "seconds"},
                 {"epics_timestamp", "seconds"}};
    const auto& m = config.metadata;
    h.fields = {
        {"Facility", "name", m.facility},
        {"Facility", "xray_source", m.xray_source},
        {"Beamline", "name", m.beamline},
        {"Scan", "start_time", iso_now()},
        {"pandafly", "motor", config.rotation.motor},
        {"pandafly", "num_angles", std::to_string(prep->plan.plan->projections)},
        {"pandafly", "proposal", m.proposal_id},
        {"pandafly", "data_file", std::filesystem::path(config.output.file).filename().string()}};
    h.comments = {
        "software step scan, the rotation's readback at each point, one row per "
        "stored projection"};
    xdi = std::make_unique<dx::XdiWriter>(xdi_path(), std::move(h),
                                          dx::XdiWriter::Options{config.output.overwrite});
  }

  [[nodiscard]] std::filesystem::path xdi_path() const {
    return std::filesystem::path(config.output.file).replace_extension(".xdi");
  }

  /// Caller holds merge_mutex. A failed append stops the scan (as a failed
  /// writer does); the rows before it stay in the file.
  void append_xdi(double angle, double stamp) {
    if (!xdi || xdi_failed) return;
    try {
      const double elapsed = std::chrono::duration<double>(Clock::now() - run_started).count();
      xdi->append(std::array{angle, elapsed, stamp});
    } catch (const std::exception& e) {
      xdi_failed = true;
      queue.post(Failure{fmt::format("the position file failed: {}", e.what())});
    }
  }

  void start_rows() {
    panda::DataOptions opts;
    opts.processing = panda::Processing::scaled;
    data = std::make_unique<panda::BlockingDataClient>(opts);
    data->connect(config.panda.host, config.panda.data_port,
                  std::chrono::milliseconds(static_cast<long>(config.panda.timeout_s * 1000)));
    capture::PandaRowSink::Options o;
    o.rows.encoder = config.rotation.encoder;
    o.on_start = [this](const capture::PandaAcquisition& a) {
      std::scoped_lock lock(merge_mutex);
      if (merger && a.start_epics_s) merger->set_start_time(*a.start_epics_s);
    };
    o.on_rows = [this](std::span<const capture::PandaRow> rows) {
      {
        std::scoped_lock lock(merge_mutex);
        if (!result.first_row_s)
          result.first_row_s = std::chrono::duration<double>(Clock::now() - run_started).count();
        if (!merger) return;  // rows of an acquisition armed by someone else
        for (const auto& r : rows) merger->add_row(r);
        drain_merger();
      }
      for (std::size_t i = 0; i < rows.size(); ++i) queue.post(RowArrived{});
    };
    row_sink = std::make_unique<capture::PandaRowSink>(std::move(o));
    row_thread = std::jthread([this] {
      capture::CaptureSettings s;
      s.timeout = 0ms;  // the PandA is armed later; the stop flag ends the wait
      s.chunk_rows = 64;
      s.batch_age = 20ms;
      s.max_block_age = 20ms;  // rows reach the merger while the stream flows
      capture::PandaCapture cap(*data, s);
      try {
        auto r = cap.run_one(*row_sink, rows_stop.flag());
        const bool ended = r.stopped_because.empty();
        if (!ended && !data_stop.stop_requested()) {
          queue.post(PandaDataLost{r.stopped_because});
        } else if (ended && !r.end.complete) {
          queue.post(PandaEnded{false, r.end.reason});
        } else {
          queue.post(PandaEnded{true, ""});
        }
        capture_result = std::move(r);
        end_rows();
      } catch (const std::exception& e) {
        queue.post(PandaDataLost{e.what()});
        end_rows();
      }
    });
  }

  /// No more rows will come: the merger decides the slots waiting for them.
  void end_rows() {
    std::scoped_lock lock(merge_mutex);
    if (!merger) return;
    merger->end_rows();
    drain_merger();
  }

  // ---- closing ----

  dx::EndState close(const CloseFile& c) {
    // Frames still in flight reach the merger; then no more.
    if (!all_frames_in()) drain_frames(1s, c.interrupted && hurried ? 0s : 5s);
    data_stop.request_stop();  // the receiver stops, the PandA capture ends
    if (frame_thread.joinable()) frame_thread.join();
    if (row_thread.joinable()) row_thread.join();
    if (rbv_thread.joinable()) rbv_thread.join();
    if (cont()) {
      std::scoped_lock lock(merge_mutex);
      add_rest_position();
      flush_cont(true);
    } else if (!step()) {
      const auto last_frame = devices->camera_frame_counter();
      std::scoped_lock lock(merge_mutex);
      if (!merger) open_merger(std::nullopt);  // never armed: every slot is decided missing
      merger->finish(last_frame);
      drain_merger();
      for (auto& [h, f] : waiting) (void)f;  // frames the merger never placed are not stored
      waiting.clear();
    }
    add_tables();
    if (xdi) {
      try {
        xdi->close({{"Scan", "end_time", iso_now()}});
      } catch (const std::exception& e) {
        close_notes.push_back(fmt::format("the position file: {}", e.what()));
      }
    }
    auto close_values = to_values(dx::end_attributes(config.metadata, iso_now()));
    auto ending = c.interrupted ? dx::Ending::interrupted_by(c.reason, std::move(close_values))
                                : dx::Ending::completed(std::move(close_values));
    if (cont()) {
      std::scoped_lock lock(merge_mutex);
      ending.faults = cont_file_faults();
    }
    auto end = writer->finish(ending);
    if (last_frame_at.load() != 0) {
      const auto last = Clock::time_point(Clock::duration(last_frame_at.load()));
      result.last_frame_to_closed_s = std::chrono::duration<double>(Clock::now() - last).count();
    }
    return end;
  }

  void add_tables() {
    const auto& plan = *prep->plan.plan;
    std::vector<dx::TableColumn> cols;
    std::vector<double> planned(plan.projections);
    for (std::uint64_t k = 0; k < plan.projections; ++k) planned[k] = plan.angle(k);
    cols.push_back({"/process/acquisition/planned_theta", planned, "degrees",
                    step() ? "the planned angle of each projection (its point)"
                           : "the planned angle of each projection (its trigger position)"});
    if (cont()) {
      cols.push_back({"/process/acquisition/theta_uncertainty", theta_uncertainty, "degrees",
                      "software-synchronised angles: a bound on |true angle - theta|, from the "
                      "RBV updates around the frame's mid-exposure time (capture::AngleTrack)"});
      cols.push_back({"/process/acquisition/theta_status", theta_status, "",
                      "0 interpolated, 1 at_rest, 2 gap, 3 not_constant_speed, 4 before_first, "
                      "5 after_last, 6 no_data (capture::AngleStatus); 7 after a camera stall: "
                      "exposed at an unknown time in the gap, theta its middle"});
      // The conventions these angles assumed (the scan file's keys).
      cols.push_back({"/process/acquisition/camera_timestamp",
                      std::vector<std::string>{std::string(to_string(config.camera.timestamp))}, "",
                      "the instant a frame's time stamp marks (camera.timestamp): readout_end, "
                      "exposure_end or exposure_start; theta is the angle at mid-exposure"});
      cols.push_back({"/process/acquisition/rbv_stamp_lag",
                      std::vector<double>{config.rotation.rbv_stamp_lag_s}, "s",
                      "bound on how long before its time stamp an RBV update's position was read "
                      "(rotation.rbv_stamp_lag), in theta_uncertainty"});
    } else if (!step()) {
      add_fly_tables(cols);
    }
    try {
      (void)writer->add_columns(std::move(cols));
    } catch (const std::exception& e) {
      queue.post(Failure{fmt::format("tables: {}", e.what())});
    }
  }

  void add_fly_tables(std::vector<dx::TableColumn>& cols) {
    cols.push_back({"/process/acquisition/theta_exposure_start", start_angle, "degrees",
                    "the encoder angle at the start of each projection's exposure"});
    cols.push_back(
        {"/process/acquisition/time_residual", residual, "s",
         "frame time stamp minus the time predicted from its PandA row (fitted offset)"});
    if (row_sink) {
      for (auto& c : row_sink->take_table()) {
        cols.push_back({"/measurement/panda/" + c.name, std::move(c.values), c.units,
                        "PandA capture column, one row per exposure"});
      }
    }
  }

  // ---- the loop ----

  util::ProgressSnapshot snapshot(const ScanMachine& scan) {
    const auto p = scan.progress();
    util::ProgressSnapshot s;
    s.total = p.expected;
    s.phase = phase_name(p.phase);
    std::scoped_lock lock(merge_mutex);
    s.done = result.projections_complete;
    if (result.projections_complete > 0) s.angle = result.last_angle;
    s.drops = result.frames_missing + result.missed_triggers + result.rows_missing;
    return s;
  }

  void dispatch(ScanMachine& scan, const Command& c) {
    if (step()) note_point_end(c);
    if (const auto* ft = std::get_if<SetFrameType>(&c.body)) frame_type = ft->kind;
    if (cont() && std::holds_alternative<StartCamera>(c.body) &&
        frame_type == FrameKind::projection) {
      // The camera is idle: its counter names the frame before the first projection.
      const auto counter = devices->camera_frame_counter();
      std::scoped_lock lock(merge_mutex);
      cont_first = counter.value_or(0) + 1;
    }
    if (const auto* t = std::get_if<TriggerCamera>(&c.body);
        t && t->kind == FrameKind::projection) {
      point_triggered = true;
      // The stage is at rest on the point: the RBV its move completed with
      // (read after the put-callback) is the point's measured angle.
      std::scoped_lock lock(merge_mutex);
      pending_point = PendingPoint{t->point, rotation_done};
    }
    if (std::holds_alternative<ArmPanda>(c.body)) {
      const auto counter = devices->camera_frame_counter();
      std::scoped_lock lock(merge_mutex);
      if (!merger) open_merger(counter);
    }
    if (const auto* close_cmd = std::get_if<CloseFile>(&c.body)) {
      result.end = close(*close_cmd);
      scan.handle(StepDone{c.id}, now());
      return;
    }
    if (const auto* m = std::get_if<Move>(&c.body); m && m->axis == Axis::rotation)
      rotation_moves.insert(c.id);
    if (const auto* m = std::get_if<Move>(&c.body); m && m->axis == Axis::rotation && !step()) {
      const auto& seq_plan = *prep->plan.plan;
      if (m->position == seq_plan.run_up_start_deg && !run_up_move) {
        run_up_move = c.id;
        run_up_issued = Clock::now();
      } else if (m->position == seq_plan.run_down_end_deg && run_up_done && !scan_move_issued) {
        scan_move_issued = Clock::now();
        result.overhead_before_first_trigger_s =
            std::chrono::duration<double>(*run_up_issued - run_started).count() +
            std::chrono::duration<double>(*scan_move_issued - *run_up_done).count();
      }
    }
    devices->execute(c);
  }

  /// A step scan's point ends when the next rotation move or the camera's
  /// stop goes out after its trigger.
  void note_point_end(const Command& c) {
    const auto* m = std::get_if<Move>(&c.body);
    const bool next =
        (m && m->axis == Axis::rotation) || std::holds_alternative<StopCamera>(c.body);
    if (!next || !point_triggered || !point_move_done) return;
    const auto& plan = *prep->plan.plan;
    result.point_overhead_s.push_back(
        std::chrono::duration<double>(Clock::now() - *point_move_done).count() - plan.exposure_s -
        plan.readout_s);
    point_triggered = false;
  }

  ScanResult run() {
    if (!prep || !prep->plan.plan) throw std::logic_error("ScanRunner::run() without a plan");
    const auto& plan = *prep->plan.plan;
    const auto started = Clock::now();
    run_started = started;
    if (!options.live_endpoint.empty())  // before the file: a bad endpoint leaves nothing behind
      live = std::make_unique<capture::LivePublisher>(
          options.live_endpoint, capture::LivePublisherOptions{.send_hwm = options.live_queue});
    if (step()) open_xdi();  // before the DXfile: an existing .xdi stops the scan first
    open_writer();
    start_angle.assign(plan.projections, kNaN);
    residual.assign(plan.projections, kNaN);
    if (cont()) {
      theta_uncertainty.assign(plan.projections, kNaN);
      theta_status.assign(plan.projections, kNaN);
      cont_seen.assign(plan.projections, false);
      cont_timing.assign(plan.projections, std::nullopt);
      start_rbv_track();
    }
    if (config.camera.frames == FrameSource::ca) {
      start_ca_frames();
    } else {
      start_frames();
    }
    if (!step() && !cont()) start_rows();
    auto sequence = make_sequence(plan, config, prep->motor, devices->sample_position(),
                                  devices->sample_speed());
    ScanMachine scan(sequence);
    scan.start(now());
    auto last_progress = Clock::time_point{};
    while (!scan.finished()) {
      for (const auto& c : scan.take_commands()) {
        dispatch(scan, c);
        if (scan.finished()) break;
      }
      if (scan.finished()) break;
      const auto d = scan.deadline();
      const auto until =
          d ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*d))
            : Clock::now() + 1s;
      // Look at the writer at least every 100 ms: a full disk or a write
      // error stops the scan (what is stored stays; later frames are lost).
      auto e = queue.pop_until(std::min(until, Clock::now() + 100ms));
      if (const auto* done = e ? std::get_if<MoveDone>(&*e) : nullptr;
          done && run_up_move && done->id == *run_up_move)
        run_up_done = Clock::now();
      if (const auto* done = e ? std::get_if<MoveDone>(&*e) : nullptr;
          done && rotation_moves.count(done->id)) {
        rotation_done = done->position;
        point_move_done = Clock::now();
      }
      scan.handle(e ? *e : Event{Tick{}}, now());
      if (!writer_failed && writer->stats().failed) {
        writer_failed = true;
        scan.handle(Failure{"the DXfile writer failed (disk full or a write error): the frames "
                            "stored so far are kept, later ones would be lost"},
                    now());
      }
      if (options.on_progress && Clock::now() - last_progress >= options.progress_period) {
        last_progress = Clock::now();
        options.on_progress(snapshot(scan));
      }
    }
    if (options.on_progress) options.on_progress(snapshot(scan));
    devices->join();
    result.file = config.output.file;
    result.outcome = scan.outcome();
    for (auto& n : close_notes) result.outcome.notes.push_back(std::move(n));
    result.exit_code = exit_code(result.outcome, result.end.complete);
    result.projections_expected = plan.projections;
    if (live) {
      const auto st = live->stats();
      result.live_published = st.published;
      result.live_dropped = st.dropped;
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
  }
};

ScanRunner::ScanRunner(ScanConfig config, ScanRunOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {}

ScanRunner::~ScanRunner() = default;

FlyPreparation ScanRunner::prepare(bool load_design) {
  return impl_->prepare(load_design);
}

ScanResult ScanRunner::run() {
  return impl_->run();
}

void ScanRunner::interrupt(std::string why) {
  impl_->queue.post(Interrupted{std::move(why)});
}

}  // namespace pandafly::scan
