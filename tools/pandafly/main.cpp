// pandafly: the scans. `pandafly fly SCAN.toml` runs a hardware-triggered fly
// scan, `pandafly step SCAN.toml` a software step scan (both scan::ScanRunner);
// this main only parses the command line, prints and maps the outcome to an
// exit code.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../report_generator.hpp"
#include "../shipped_layouts.hpp"
#include "motionbox.hpp"
#include "pandafly/dx/report.hpp"
#include "pandafly/dx/scan_reader.hpp"
#include "pandafly/scan/scan_config_file.hpp"
#include "pandafly/scan/scan_runner.hpp"
#include "pandafly/util/frame_memory.hpp"
#include "pandafly/util/parallel.hpp"
#include "pandafly/util/signal_watch.hpp"

namespace {

namespace scan = pandafly::scan;
using pandafly::util::SignalWatch;

constexpr const char* kExitCodes =
    "Exit codes: 0 the file is complete; 2 bad usage or scan file; 3 a device cannot be reached "
    "(every missing PV is named); 4 the plan cannot work (every reason is named); 5 the scan ran "
    "to its end but the file is incomplete (projections missing: the file says which); 6 a "
    "device or step failed (motion stopped, file closed and marked incomplete); 7 interrupted "
    "(Ctrl-C, SIGTERM, SIGHUP).";

struct ScanArgs {
  std::string scan_file;
  bool dry_run = false;
  bool json = false;
  bool quiet = false;
  std::string live;
  int live_queue = 64;
  bool report = false;
};

/// fly, step and cont: the scan file and the options they share.
CLI::App* add_scan_command(CLI::App& app, const std::string& name, const std::string& what,
                           const std::string& example, const std::string& dry_run_help,
                           ScanArgs& a) {
  auto* c = app.add_subcommand(name, what);
  c->add_option("scan", a.scan_file, "the scan file (TOML; " + example + ")")->required();
  c->add_flag("--dry-run", a.dry_run, dry_run_help);
  c->add_flag("--json", a.json, "print a summary object at the end");
  c->add_flag("--quiet", a.quiet, "no progress on stderr");
  c->add_option("--live", a.live,
                "republish every stored projection with its measured angle (PandaTheta) as "
                "NDPluginZMQ messages on a PUB socket bound here, e.g. tcp://*:5600, for an "
                "online reconstruction; never slows the scan (a subscriber more than "
                "--live-queue projections behind loses messages, counted in the summary)");
  c->add_option("--live-queue", a.live_queue,
                "projections held for each live subscriber before a slow one loses messages "
                "(each holds one frame in memory)")
      ->default_val(64)
      ->check(CLI::Range(1, 1000000));
  c->add_flag("--report", a.report,
              "at the end write the scan report beside the file (its name with .html: one "
              "self-contained page with the outcome, counts, data-policy fields, previews, a slice "
              "and plots; as pandafly-dx report) and print its path; also after a scan that "
              "ended early. A report that cannot be written is said on stderr and leaves the "
              "exit code the scan's");
  return c;
}

/// The scan report beside `file` (its name with .html); its path, or nullopt
/// after saying on stderr why it could not be written.
std::optional<std::string> write_report(const char* who, const std::string& file) {
  if (file.empty() || !std::filesystem::exists(file)) {
    fmt::print(stderr, "{}: report: no file was written\n", who);
    return std::nullopt;
  }
  const auto html = std::filesystem::path(file).replace_extension(".html");
  try {
    pandafly::dx::ScanReader scan(file);
    const std::size_t threads = pandafly::util::default_threads();
    pandafly::dx::ReportOptions options{.threads = threads,
                                        .generator = pandafly::tools::report_generator(who)};
    options.parallel = pandafly::util::parallel_on(threads);
    (void)pandafly::dx::write_report(scan, html, options);
    return html.string();
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "{}: report: {}: {} (the data file is unaffected; pandafly-dx report "
               "retries)\n",
               who, html.string(), e.what());
    return std::nullopt;
  }
}

/// A step scan's per-point overhead (ms): median, 95th percentile, largest.
nlohmann::json point_overhead(std::vector<double> s) {
  if (s.empty()) return nullptr;
  std::sort(s.begin(), s.end());
  const auto at = [&](double q) {
    return 1e3 * s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1))];
  };
  return {{"points", s.size()}, {"median", at(0.5)}, {"p95", at(0.95)}, {"max", 1e3 * s.back()}};
}

nlohmann::json summary(const scan::ScanResult& r) {
  return {
      {"point_overhead_ms", point_overhead(r.point_overhead_s)},
      {"file", r.file},
      {"complete", r.end.complete},
      {"reason", r.outcome.reason.empty() ? r.end.reason : r.outcome.reason},
      {"exit_code", static_cast<int>(r.exit_code)},
      {"projections",
       {{"expected", r.projections_expected},
        {"complete", r.projections_complete},
        {"frames_missing", r.frames_missing},
        {"missed_triggers", r.missed_triggers},
        {"rows_missing", r.rows_missing},
        {"duplicates", r.duplicates},
        {"reorders", r.reorders},
        {"extra_frames", r.extra_frames},
        {"camera_gaps", r.camera_gaps},
        {"beyond_range", r.beyond_range}}},
      {"darks", r.darks},
      {"live", {{"published", r.live_published}, {"dropped", r.live_dropped}}},
      {"flats", r.flats},
      {"angle_range", {r.first_angle, r.last_angle}},
      {"notes", r.outcome.notes},
      {"warnings", r.end.warnings},
      {"seconds", r.seconds},
      {"first_row_s", r.first_row_s ? nlohmann::json(*r.first_row_s) : nlohmann::json()},
      {"overhead_before_first_trigger_s", r.overhead_before_first_trigger_s
                                              ? nlohmann::json(*r.overhead_before_first_trigger_s)
                                              : nlohmann::json()},
      {"last_frame_to_closed_s",
       r.last_frame_to_closed_s ? nlohmann::json(*r.last_frame_to_closed_s) : nlohmann::json()}};
}

int run_scan(scan::ScanKind kind, const ScanArgs& a) {
  const bool step = kind == scan::ScanKind::step;
  const char* who = step                           ? "pandafly step"
                    : kind == scan::ScanKind::cont ? "pandafly cont"
                                                   : "pandafly fly";
  scan::ScanConfig config;
  try {
    config = scan::load_fly_scan_config(a.scan_file, kind);
  } catch (const scan::ConfigError& e) {
    fmt::print(stderr, "{}: {}\n", who, e.what());
    return 2;
  }
  scan::ScanRunOptions options;
  options.kind = kind;
  options.live_endpoint = a.live;
  options.live_queue = a.live_queue;
  options.layout_path =
      config.output.layout.empty()
          ? (pandafly::tools::shipped_layouts_dir() / (step ? "dxfile_step.xml" : "dxfile_fly.xml"))
                .string()
          : config.output.layout;
  // A bar redrawn in place on a terminal, a line every 5 s otherwise.
  pandafly::util::ProgressWriter progress(stderr, a.quiet
                                                      ? pandafly::util::ProgressMode::quiet
                                                      : pandafly::util::ProgressMode::automatic);
  pandafly::util::ProgressSnapshot last;
  options.on_progress = [&](const pandafly::util::ProgressSnapshot& s) {
    last = s;
    progress.update(s);
  };
  scan::ScanRunner runner(config, options);
  scan::FlyPreparation prep;
  try {
    prep = runner.prepare(!a.dry_run);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", who, e.what());
    return 3;
  }
  if (!prep.plan.plan) {
    fmt::print(stderr, "{}", scan::describe_refusal(prep.plan, kind));
    return 4;
  }
  if (a.dry_run) {
    fmt::print("{}", scan::describe(*prep.plan.plan, config, prep.panda_fields));
    return 0;
  }
  SignalWatch signals([&runner](int signal, int) {
    runner.interrupt(fmt::format("interrupted by {}", SignalWatch::name(signal)));
  });
  scan::ScanResult r;
  try {
    r = runner.run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", who, e.what());
    return static_cast<int>(scan::ExitCode::failed);
  }
  progress.finish(last);
  std::optional<std::string> report;
  if (a.report) report = write_report(who, r.file);
  if (a.json) {
    auto j = summary(r);
    if (a.report) j["report"] = report ? nlohmann::json(*report) : nlohmann::json(nullptr);
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print(
        "{}: {} of {} projections complete, {} darks, {} flats, theta {:.4f}..{:.4f} deg; {}\n",
        r.file, r.projections_complete, r.projections_expected, r.darks, r.flats, r.first_angle,
        r.last_angle, r.end.complete ? std::string("complete") : "INCOMPLETE: " + r.end.reason);
  }
  if (report && !a.json) fmt::print("report: {}\n", *report);
  // Why it stopped, and what it noticed, go to stderr in every mode.
  if (!r.outcome.reason.empty()) fmt::print(stderr, "{}: {}\n", who, r.outcome.reason);
  for (const auto& n : r.outcome.notes) fmt::print(stderr, "{}: note: {}\n", who, n);
  return static_cast<int>(r.exit_code);
}

}  // namespace

int main(int argc, char** argv) {
  pandafly::util::keep_frame_memory();  // frames over ZMQ: see frame_memory.hpp
  CLI::App app{"pandafly: hardware-triggered tomography scans, and the Motion Box (motor homing)"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  ScanArgs fly, step, cont;
  auto* f = add_scan_command(
      app, "fly",
      "a fly scan: the PandA triggers the camera at encoder positions and records the "
      "encoder over every exposure; frames and positions are merged into a DXfile",
      "tools/examples/flyscan.toml",
      "print the plan (speed, run-up, trigger positions, PandA fields, durations); reads PVs, "
      "writes nothing",
      fly);
  auto* st = add_scan_command(
      app, "step",
      "a software step scan (no PandA): per angle the stage moves (put-callback, arrival "
      "checked), the camera is software-triggered and that frame is stored with the motor's "
      "readback as its angle; the same scan file as fly ([panda] is not used)",
      "tools/examples/stepscan.toml",
      "print the plan (points, per-point timing, durations); reads PVs, writes nothing", step);
  auto* ct = add_scan_command(
      app, "cont",
      "a software-synchronised continuous scan (no PandA): the camera free-runs at the rate it "
      "reports while the stage turns at step x rate; each frame's angle is interpolated from the "
      "rotation's time-stamped RBV updates at its mid-exposure time, with a bound on its error "
      "(/process/acquisition/theta_uncertainty); the same scan file as fly",
      "tools/examples/flyscan.toml",
      "print the plan (rate, speed, ramp, camera start, durations) at the nominal frame rate; "
      "reads PVs, writes nothing",
      cont);
  auto& motionbox = pandafly::tools::add_motionbox_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help: 0; every bad argument: 2 (kExitCodes), with CLI11's message.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (pandafly::tools::motionbox_parsed(motionbox))
    return pandafly::tools::run_motionbox(motionbox);
  if (f->parsed()) return run_scan(scan::ScanKind::fly, fly);
  if (st->parsed()) return run_scan(scan::ScanKind::step, step);
  if (ct->parsed()) return run_scan(scan::ScanKind::cont, cont);
  return 2;
}
