#include "capture.hpp"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pandafly/capture/panda_capture.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "pandafly/util/signal_watch.hpp"

namespace pandactl {
namespace {

namespace panda = pandafly::panda;
namespace capture = pandafly::capture;
using namespace std::chrono_literals;

std::filesystem::path numbered(const std::string& out, int index, int num) {
  if (num == 1) return out;
  std::filesystem::path p{out};
  const auto ext = p.extension();
  p.replace_extension();
  return p.string() + fmt::format("_{:04d}", index + 1) + ext.string();
}

std::chrono::milliseconds ms(double s) {
  return std::chrono::milliseconds(static_cast<long>(s * 1000));
}

nlohmann::json to_json(const capture::CaptureResult& r) {
  return {{"file", r.path.string()},
          {"file_written", r.file_written},
          {"rows_received", r.end.rows_received},
          {"rows_written", r.end.rows_written},
          {"rows_lost", r.end.rows_lost},
          {"reason", r.end.reason},
          {"complete", r.end.complete},
          {"stopped_because", r.stopped_because},
          {"seconds", r.seconds},
          {"skipped_rows", r.skipped_rows},
          {"queue_full_waits", r.queue_full_waits}};
}

void print_summary(const capture::CaptureResult& r) {
  if (r.skipped_rows > 0 || r.skipped_end) {
    fmt::print(stderr, "capture: skipped the rest of an earlier acquisition: {} rows{}\n",
               r.skipped_rows, r.skipped_end ? " and its END" : "");
  }
  if (!r.file_written) {
    fmt::print(stderr, "capture: no acquisition started: {}\n", r.stopped_because);
    return;
  }
  fmt::print(stderr, "{}: {} rows in {:.1f} s, {}{}{}\n", r.path.string(), r.end.rows_written,
             r.seconds, r.end.reason, r.end.complete ? " (complete)" : " (INCOMPLETE)",
             r.end.rows_lost > 0 ? fmt::format(", {} rows lost", r.end.rows_lost) : "");
  if (!r.end.close_error.empty()) fmt::print(stderr, "capture: closing: {}\n", r.end.close_error);
}

int exit_code(const capture::CaptureResult& r) {
  if (r.end.complete) return 0;
  if (r.stopped_because.starts_with("connection lost")) return 3;
  return 5;
}

}  // namespace

int run_capture(const CaptureArgs& a) {
  panda::DataOptions opts;
  opts.processing = a.scaled ? panda::Processing::scaled : panda::Processing::raw;
  panda::BlockingDataClient data{opts};
  // Wake per 1 MiB (60 times a second at 60 MB/s), or every 100 ms
  // (PandaCapture's poll): at 256 KiB the wake-ups cost ~1 % of a core more
  // (tests/bench/capture_cpu.py: 6.4-6.7 % → 5.4-5.7 %).
  data.set_min_read(1u << 20);
  data.connect(a.host, a.data_port, ms(a.connect_timeout_s));
  panda::BlockingClient control;
  if (a.arm) control.connect(a.host, a.control_port, ms(a.connect_timeout_s));

  capture::CaptureSettings s;
  s.timeout = ms(a.timeout_s);
  s.flush_period = ms(a.flush_period_s);
  s.overwrite = a.force;
  s.chunk_rows = a.chunk_rows;
  if (a.store_raw) s.columns = panda::ColumnDecoder::Mode::as_sent;
  // SIGINT, SIGTERM, SIGHUP: stop, disarm (--arm), wait for END, close the
  // file. A second one only cuts the wait for END short: the file is closed
  // whatever the number of signals.
  pandafly::util::SignalWatch signals([](int sig, int count) {
    if (count > 1)
      fmt::print(stderr, "capture: {} again: closing the file (SIGKILL would leave it open)\n",
                 pandafly::util::SignalWatch::name(sig));
  });
  s.describe_stop = [&] {
    return "interrupted by " + pandafly::util::SignalWatch::name(signals.first_signal());
  };
  s.hurry = [&] { return signals.count() > 1; };
  if (a.arm) s.on_stop = [&] { (void)control.call(panda::Disarm{}, 2s); };
  if (!a.quiet) {
    s.on_progress = [](const capture::CaptureProgress& p) {
      fmt::print(stderr, "capture: {} rows, {:.3g} rows/s, {:.1f} s\n", p.rows, p.rows_per_second,
                 p.seconds);
    };
  }
  capture::PandaCapture cap(data, s);
  nlohmann::json results = nlohmann::json::array();
  int rc = 0;
  for (int i = 0; i < a.num && !signals.stop_requested().load(); ++i) {
    const auto path = numbered(a.out, i, a.num);
    if (!a.force && std::filesystem::exists(path)) {
      throw std::runtime_error(path.string() + " exists (use --force to overwrite)");
    }
    if (!data.connected()) data.reconnect(ms(a.connect_timeout_s));
    if (a.arm) control.run(panda::Arm{}, ms(a.connect_timeout_s));
    const auto r = cap.run_one(path, signals.stop_requested());
    print_summary(r);
    results.push_back(to_json(r));
    rc = std::max(rc, exit_code(r));
    if (!r.file_written) break;
  }
  if (a.json) std::cout << results.dump(2) << "\n";
  return rc;
}

}  // namespace pandactl
