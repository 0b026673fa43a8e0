// pandafly-dx record (contract in record.hpp).
#include "record.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <malloc.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "pandafly/capture/zmq_receiver.hpp"
#include "pandafly/dx/metadata.hpp"
#include "pandafly/dx/writer.hpp"
#include "pandafly/util/signal_watch.hpp"

namespace pandafly_dx {
namespace {

namespace capture = pandafly::capture;
namespace dx = pandafly::dx;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

enum RecordExit : int { complete = 0, cannot_start = 2, incomplete = 3 };

// The first SIGINT/SIGTERM/SIGHUP, set by cmd_record's util::SignalWatch; 0 before.
std::atomic<int> g_signal{0};

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&t, &local);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S%z}", local);
}

std::optional<dx::Compression> compression_from(const std::string& s) {
  if (s == "none") return dx::Compression::none;
  if (s == "gzip") return dx::Compression::gzip;
  if (s == "lz4") return dx::Compression::lz4;
  if (s == "bitshuffle-lz4") return dx::Compression::bitshuffle_lz4;
  return std::nullopt;
}

dx::AttributeValues to_values(const dx::NamedValues& v) {
  dx::AttributeValues out;
  for (const auto& [name, value] : v) out[name] = value;
  return out;
}

// "12" → int64, "1.5" → double, anything else → string.
dx::AttributeValue typed_value(const std::string& text) {
  const char* end = text.data() + text.size();
  std::int64_t i = 0;
  if (auto r = std::from_chars(text.data(), end, i);
      r.ec == std::errc{} && r.ptr == end && !text.empty())
    return i;
  double d = 0;
  if (auto r = std::from_chars(text.data(), end, d);
      r.ec == std::errc{} && r.ptr == end && !text.empty())
    return d;
  return text;
}

bool parse_sets(const RecordOptions& o, dx::AttributeValues& out) {
  for (const auto& s : o.set_text) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      fmt::print(stderr, "pandafly-dx record: --set {}: not NAME=VALUE\n", s);
      return false;
    }
    out[s.substr(0, eq)] = typed_value(s.substr(eq + 1));
  }
  return true;
}

// Values the recorder knows itself, unless given.
void add_derived(dx::WriterOptions& w) {
  auto add = [&](const char* name, std::int64_t v) { w.open_attributes.try_emplace(name, v); };
  add("DetectorSizeX", static_cast<std::int64_t>(w.frame.width));
  add("DetectorSizeY", static_cast<std::int64_t>(w.frame.height));
  const std::pair<const char*, const char*> counts[] = {{"NumAngles", "/exchange/data"},
                                                        {"NumDarkFields", "/exchange/data_dark"},
                                                        {"NumFlatFields", "/exchange/data_white"}};
  for (const auto& [name, path] : counts)
    if (auto it = w.frames_expected.find(path); it != w.frames_expected.end())
      add(name, static_cast<std::int64_t>(it->second));
}

// Everything prepared before the first frame: layout, metadata, options.
struct Plan {
  dx::WriterOptions writer;
  std::optional<dx::ScanMetadata> metadata;
};

std::variant<Plan, int> plan(const RecordOptions& o) {
  Plan p;
  auto layout = load_layout(o.layout);
  if (std::holds_alternative<int>(layout)) return RecordExit::cannot_start;
  p.writer.layout = std::get<dx::Layout>(std::move(layout));
  if (!o.metadata.empty()) {
    const auto text = read_text(o.metadata);
    if (!text) {
      fmt::print(stderr, "pandafly-dx record: {}: cannot read the file\n", o.metadata);
      return RecordExit::cannot_start;
    }
    try {
      p.metadata = dx::parse_metadata(*text, o.metadata);
    } catch (const dx::MetadataError& e) {
      fmt::print(stderr, "pandafly-dx record: {}\n", e.what());
      return RecordExit::cannot_start;
    }
    p.writer.open_attributes = to_values(dx::start_attributes(*p.metadata, iso_now()));
  }
  if (!parse_sets(o, p.writer.open_attributes)) return RecordExit::cannot_start;
  const auto c = compression_from(o.compression);
  if (!c) {
    fmt::print(stderr,
               "pandafly-dx record: --compression {}: not none, gzip, lz4 or bitshuffle-lz4\n",
               o.compression);
    return RecordExit::cannot_start;
  }
  if (!o.force && std::filesystem::exists(o.file)) {
    fmt::print(stderr, "pandafly-dx record: {} exists (--force replaces it)\n", o.file);
    return RecordExit::cannot_start;
  }
  p.writer.path = o.file;
  p.writer.compression = *c;
  p.writer.overwrite = o.force;
  p.writer.nxtomo = o.nxtomo;
  p.writer.angle_attribute = o.angle_attribute;  // the frames' angle, named truthfully in the file
  for (const auto& e : o.expect_text) {
    const auto eq = e.find('=');
    std::uint64_t n = 0;
    const char* end = e.data() + e.size();
    if (eq == std::string::npos || eq == 0 ||
        std::from_chars(e.data() + eq + 1, end, n).ptr != end || eq + 1 == e.size()) {
      fmt::print(stderr, "pandafly-dx record: --expect {}: not PATH=COUNT\n", e);
      return RecordExit::cannot_start;
    }
    const std::string path = e.substr(0, eq);
    const auto paths = p.writer.layout.detector_paths();
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) {
      fmt::print(stderr, "pandafly-dx record: --expect {}: {} is not a detector dataset of {}\n", e,
                 path, o.layout);
      return RecordExit::cannot_start;
    }
    p.writer.frames_expected[path] = n;
  }
  return p;
}

bool stop_requested() {
  return g_signal.load() != 0;
}

// Waits for the first frame; nullopt (after saying why) if none came.
std::optional<capture::ReceivedFrame> first_frame(capture::ZmqReceiver& rx, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (!stop_requested() && Clock::now() < deadline && !rx.stopped())
    if (auto f = rx.pop(200ms)) return f;
  const auto failure = rx.stats().failure;
  fmt::print(stderr, "pandafly-dx record: {} before the first frame from {}\n",
             stop_requested() ? std::string("interrupted")
             : rx.stopped()   ? fmt::format("the ZMQ receiver failed ({})", failure)
                              : fmt::format("no frame in {} s", timeout_s),
             rx.endpoint());
  return std::nullopt;
}

std::optional<dx::FrameGeometry> geometry_of(const capture::FrameHeader& h) {
  if (h.shape.size() != 2) return std::nullopt;
  dx::FrameGeometry g;
  g.height = h.shape[0];
  g.width = h.shape[1];
  g.type = h.type;
  return g;
}

dx::FrameRecord record_of(capture::ReceivedFrame&& received, const std::string& angle_attribute) {
  auto owner = std::make_shared<capture::ReceivedFrame>(std::move(received));
  const capture::Frame& f = owner->frame();
  dx::FrameRecord r = dx::FrameRecord::view(f, owner);
  if (const auto* a = f.header.attribute(angle_attribute)) {
    if (const auto* d = std::get_if<double>(&a->value)) r.angle = *d;
    if (const auto* i = std::get_if<std::int64_t>(&a->value)) r.angle = static_cast<double>(*i);
  }
  return r;
}

struct Progress {
  Clock::time_point start = Clock::now();
  Clock::time_point last = start;
  void maybe_print(const dx::Writer& w, bool quiet) {
    const auto now = Clock::now();
    if (quiet || now - last < 1s) return;
    last = now;
    const auto s = w.stats();
    const double secs = std::chrono::duration<double>(now - start).count();
    fmt::print(stderr, "record: {} frames received ({:.1f}/s), {} written, {} lost\n", s.received,
               static_cast<double>(s.received) / secs, s.written, s.lost);
  }
};

// How the stream ended. A timeout after the last frame is the normal end of a
// scan whose counts were given (--expect): the writer's completeness rule
// (dx::judge_completeness) then decides from the counts. Without --expect
// nothing says whether every frame came, so a timeout is not a completion.
// A receiver that failed is an interruption.
std::string why_ended(const RecordOptions& o, std::uint64_t got, bool timed_out,
                      const capture::ZmqReceiverStats& rx) {
  if (const int sig = g_signal.load())
    return "interrupted by " + pandafly::util::SignalWatch::name(sig);
  if (!rx.failure.empty()) return fmt::format("the ZMQ receiver failed: {}", rx.failure);
  if (timed_out && o.expect_text.empty())
    return fmt::format("no frame for {} s after {} frames, and no --expect counts to check",
                       o.timeout_s, got);
  return "completed";
}

dx::Ending ending_of(const RecordOptions& o, const Plan& p, std::uint64_t got, bool timed_out,
                     const capture::ZmqReceiverStats& rx) {
  dx::AttributeValues close;
  if (p.metadata) close = to_values(dx::end_attributes(*p.metadata, iso_now()));
  const std::string why = why_ended(o, got, timed_out, rx);
  const std::uint64_t upstream = rx.missing + rx.overruns + rx.bad;
  if (why == "completed" && upstream == 0) return dx::Ending::completed(std::move(close));
  std::string reason = why;
  if (upstream > 0)
    reason += fmt::format("; {} frames lost before the writer (missing {}, overrun {}, bad {}{})",
                          upstream, rx.missing, rx.overruns, rx.bad,
                          rx.last_error.empty() ? "" : ": " + rx.last_error);
  return dx::Ending::interrupted_by(std::move(reason), std::move(close));
}

void print_summary(const RecordOptions& o, const dx::EndState& e,
                   const capture::ZmqReceiverStats& rx) {
  if (o.json) {
    nlohmann::json j = {{"file", o.file},
                        {"complete", e.complete},
                        {"reason", e.reason},
                        {"frames_expected", e.frames_expected},
                        {"frames_received", e.frames_received},
                        {"frames_written", e.frames_written},
                        {"frames_lost", e.frames_lost},
                        {"receiver",
                         {{"missing", rx.missing},
                          {"duplicates", rx.duplicates},
                          {"reorders", rx.reorders},
                          {"restarts", rx.restarts},
                          {"failure", rx.failure},
                          {"overruns", rx.overruns},
                          {"bad", rx.bad}}},
                        {"nxtomo", e.nxtomo},
                        {"warnings", e.warnings},
                        {"close_error", e.close_error}};
    fmt::print("{}\n", j.dump());
    return;
  }
  fmt::print("{}: {} — {} frames written of {} received, {} lost{}\n", o.file,
             e.complete ? "complete" : "INCOMPLETE", e.frames_written, e.frames_received,
             e.frames_lost, e.reason.empty() ? "" : " (" + e.reason + ")");
  for (const auto& w : e.warnings) fmt::print("warning: {}\n", w);
  if (!e.close_error.empty()) fmt::print("error closing the file: {}\n", e.close_error);
}

}  // namespace

int cmd_record(const RecordOptions& o) {
  // libzmq allocates a buffer for every frame it receives (8 MiB for a
  // 2048×2048 uint16 frame). Above glibc's mmap threshold each would be
  // mapped and unmapped per frame, and this kind of VM is slow to fault fresh
  // pages in; kept in the heap, freed buffers serve the next frames
  // (bench_dx_writer BM_zmq_to_dxfile: 1.2-1.5 → 1.7-2.2 GB/s).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
  auto planned = plan(o);
  if (auto* rc = std::get_if<int>(&planned)) return *rc;
  Plan& p = std::get<Plan>(planned);

  std::optional<capture::ZmqReceiver> rx;
  try {
    capture::ZmqReceiverOptions options;
    options.ioc_host = o.ioc_host;
    rx.emplace(o.server_host, options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx record: --zmq {}: {}\n", o.server_host, e.what());
    return RecordExit::cannot_start;
  }
  // A repeated signal is only counted: the file is always finished and closed.
  pandafly::util::SignalWatch signals([](int sig, int) {
    int none = 0;
    (void)g_signal.compare_exchange_strong(none, sig);
  });
  if (!o.quiet) fmt::print(stderr, "record: waiting for frames on {}\n", rx->endpoint());

  auto first = first_frame(*rx, o.start_timeout_s);
  if (!first) return RecordExit::cannot_start;
  const auto geometry = geometry_of(first->frame().header);
  if (!geometry) {
    fmt::print(stderr,
               "pandafly-dx record: frame {} has {} dimensions; a mono 2-D frame is needed\n",
               first->frame().header.frame, first->frame().header.shape.size());
    return RecordExit::cannot_start;
  }
  p.writer.frame = *geometry;
  add_derived(p.writer);
  std::optional<dx::Writer> writer;
  try {
    writer.emplace(p.writer);
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-dx record: {}: {}\n", o.file, e.what());
    return RecordExit::cannot_start;
  }

  std::uint64_t got = 1;
  (void)writer->push(record_of(std::move(*first), o.angle_attribute));
  Progress progress;
  bool timed_out = false;
  auto last_frame = Clock::now();
  while (!stop_requested() && (o.frames == 0 || got < o.frames)) {
    progress.maybe_print(*writer, o.quiet);
    auto f = rx->pop(200ms);  // waits on the receiver: a frame, its end, or 200 ms
    if (!f) {
      if (rx->stopped()) break;  // the receive thread ended (stats().failure says why)
      timed_out = Clock::now() - last_frame > std::chrono::duration<double>(o.timeout_s);
      if (timed_out) break;
      continue;
    }
    last_frame = Clock::now();
    ++got;
    (void)writer->push(record_of(std::move(*f), o.angle_attribute));
  }
  rx->stop();
  const auto rx_stats = rx->stats();
  const dx::EndState end = writer->finish(ending_of(o, p, got, timed_out, rx_stats));
  print_summary(o, end, rx_stats);
  return end.complete ? RecordExit::complete : RecordExit::incomplete;
}

}  // namespace pandafly_dx
