// `pandafly motionbox`: the seed's five commands over motionbox::BoxFile and
// motionbox::HomingRunner. This file parses, prints and maps outcomes to
// exit codes; the work is in the library (a web page's server calls the same).
#include "motionbox.hpp"

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "motionbox_serve.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/error.hpp"
#include "pandafly/motionbox/box_file_io.hpp"
#include "pandafly/motionbox/homing_runner.hpp"
#include "pandafly/util/signal_watch.hpp"

namespace pandafly::tools {

namespace mb = pandafly::motionbox;

constexpr const char* kMotionboxExitCodes =
    "Exit codes: 0 done (every motor homed); 2 bad usage, a missing or malformed JSON file (line "
    "and column), an unknown motor; 3 a PV did not connect (each named; nothing moved); 6 a "
    "motor failed to home (each reason printed; moving motors stopped, changed fields "
    "restored); 7 interrupted (Ctrl-C, SIGTERM, SIGHUP: every motor stopped, where each stands "
    "printed).";

struct MotionboxCommand {
  CLI::App* self = nullptr;
  CLI::App *help = nullptr, *add = nullptr, *change = nullptr, *remove = nullptr, *home = nullptr;
  CLI::App* serve = nullptr;
  ServeOptions serve_options;
  std::string help_topic;
  std::string json_path, motor, pv_root, mode;
  double lo_lim = 0, center = 0, hi_lim = 0;
  std::optional<double> new_tolerance;
  bool dry_run = false, json = false, quiet = false;
  double connect_timeout = 5;
};

namespace {

void add_entry_args(CLI::App* c, MotionboxCommand& m) {
  c->add_option("json_path", m.json_path, "the JSON file with the general and motor configurations")
      ->required();
  c->add_option("motor_name", m.motor, "the name of the motor")->required();
  c->add_option("pv_root", m.pv_root, "the PV root of the motor record (e.g. bench:A)")->required();
  c->add_option("lo_lim", m.lo_lim, "the soft lower positional limit (LLM after homing)")
      ->required();
  c->add_option("center", m.center, "where the motor is taken after homing")->required();
  c->add_option("hi_lim", m.hi_lim, "the soft higher positional limit (HLM after homing)")
      ->required();
}

int edit(MotionboxCommand& m) {
  const std::filesystem::path path = m.json_path;
  try {
    std::optional<mb::BoxFile> box;
    if (m.add->parsed() && m.new_tolerance && !std::filesystem::exists(path)) {
      box = mb::BoxFile::make(*m.new_tolerance);
    } else {
      box = mb::load_box_file(path);
    }
    const mb::MotorEntry entry{m.pv_root, m.lo_lim, m.center, m.hi_lim};
    if (m.add->parsed()) box->add(m.motor, entry);
    if (m.change->parsed()) box->change(m.motor, entry);
    if (m.remove->parsed()) {
      if (m.motor == "all") {
        box->remove_all();
      } else {
        box->remove(m.motor);
      }
    }
    mb::save_box_file(path, *box);
  } catch (const mb::FileError& e) {
    fmt::print(stderr, "pandafly motionbox: {}\n", e.what());
    return 2;
  }
  return 0;
}

const char* dir_name(mb::Direction d) {
  return d == mb::Direction::hi ? "hi" : "lo";
}

std::string stands(const mb::MotorStatus& s) {
  return fmt::format("RBV {:g} (HLS {}, LLS {}, DMOV {})", s.rbv, s.hls ? 1 : 0, s.lls ? 1 : 0,
                     s.dmov ? 1 : 0);
}

nlohmann::ordered_json report_json(const mb::MotorReport& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["pv_root"] = r.pv_root;
  j["direction"] = dir_name(r.direction);
  j["ok"] = r.result.ok;
  j["interrupted"] = r.result.interrupted;
  j["error"] = r.result.error;
  j["failed_in"] = r.result.ok ? "" : mb::phase_name(r.result.failed_in);
  j["rbv"] = r.result.last.rbv;
  j["hls"] = r.result.last.hls;
  j["lls"] = r.result.last.lls;
  j["dmov"] = r.result.last.dmov;
  j["switch_before"] = r.result.switch_before ? nlohmann::ordered_json(*r.result.switch_before)
                                              : nlohmann::ordered_json();
  j["switch_value"] = r.result.switch_value ? nlohmann::ordered_json(*r.result.switch_value)
                                            : nlohmann::ordered_json();
  j["hlm"] = r.plan.hlm;
  j["llm"] = r.plan.llm;
  j["center"] = r.plan.center;
  j["seconds"] = r.seconds;
  return j;
}

void print_report(const mb::MotorReport& r) {
  if (r.result.ok) {
    fmt::print(
        "{}: homed {}: switch at RBV {:g} redefined to {:g}; HLM {:g}, LLM {:g}; now at {}\n",
        r.name, dir_name(r.direction), r.result.switch_before.value_or(0),
        r.result.switch_value.value_or(0), r.plan.hlm, r.plan.llm, stands(r.result.last));
  } else {
    fmt::print("{}: {} in {}: {}; stands at {}\n", r.name,
               r.result.interrupted ? "INTERRUPTED" : "FAILED", mb::phase_name(r.result.failed_in),
               r.result.error, stands(r.result.last));
  }
}

std::string describe(const mb::MotorPlan& p, const mb::MotorEntry& e, mb::Direction d) {
  const auto& s = p.settings.status;
  const bool hi = d == mb::Direction::hi;
  std::string warn;
  if (hi ? s.hls : s.lls)
    warn = fmt::format(" — WILL BE REFUSED: the {} switch is already active", hi ? "high" : "low");
  if (p.settings.spmg < 2) warn += " — WILL BE REFUSED: SPMG is not Go";
  return fmt::format(
      "{} ({}): at {}, VELO {:g}: would open the soft limits (DHLM = DLLM = 0{}), drive towards "
      "the {} limit switch (a search move of at most {:g}, to {:g}; timeout {:.1f} s), redefine "
      "the switch "
      "position as {:g} (SET = Set, VAL, SET = Use), set HLM {:g} and LLM {:g}, then move to "
      "{:g}{}\n",
      p.name, e.pv_root, stands(s), p.settings.velo,
      p.settings.foff != 0 ? ", FOFF = Variable" : "", hi ? "high" : "low", p.plan.search_distance,
      p.plan.search_target, p.plan.search_timeout, p.plan.switch_value, p.plan.hlm, p.plan.llm,
      p.plan.center, warn);
}

int home(MotionboxCommand& m) {
  std::optional<mb::BoxFile> box;
  std::vector<mb::MotorJob> jobs;
  try {
    box = mb::load_box_file(m.json_path);
    if (m.motor == "all") {
      for (const auto& name : box->names()) jobs.push_back({name, box->motor(name)});
      if (jobs.empty()) throw mb::FileError(m.json_path + ": no motors to home");
    } else {
      jobs.push_back({m.motor, box->motor(m.motor)});
    }
  } catch (const mb::FileError& e) {
    fmt::print(stderr, "pandafly motionbox: {}\n", e.what());
    return 2;
  }
  if (m.mode != "hi" && m.mode != "lo") {
    fmt::print(stderr, "pandafly motionbox: homing_mode must be hi or lo, got \"{}\"\n", m.mode);
    return 2;
  }
  const auto direction = m.mode == "hi" ? mb::Direction::hi : mb::Direction::lo;
  std::map<std::string, mb::MotorEntry> entries;
  for (const auto& j : jobs) entries[j.name] = j.entry;
  ca::Context context;
  mb::HomeOptions options;
  options.direction = direction;
  options.tolerance = box->tolerance();
  options.connect_timeout = m.connect_timeout;
  mb::HomingRunner runner(context, jobs, options);
  try {
    runner.connect();
  } catch (const mb::ConnectError& e) {
    fmt::print(stderr, "pandafly motionbox: {}\n", e.what());
    return 3;
  }
  if (m.dry_run) {
    try {
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      for (const auto& p : runner.plans()) {
        if (m.json) {
          out.push_back({{"name", p.name},
                         {"rbv", p.settings.status.rbv},
                         {"hls", p.settings.status.hls},
                         {"lls", p.settings.status.lls},
                         {"search_target", p.plan.search_target},
                         {"search_timeout", p.plan.search_timeout},
                         {"switch_value", p.plan.switch_value},
                         {"hlm", p.plan.hlm},
                         {"llm", p.plan.llm},
                         {"center", p.plan.center}});
        } else {
          fmt::print("{}", describe(p, entries.at(p.name), direction));
        }
      }
      if (m.json) fmt::print("{}\n", out.dump());
    } catch (const ca::Error& e) {
      fmt::print(stderr, "pandafly motionbox: {}\n", e.what());
      return 3;
    }
    return 0;
  }
  util::SignalWatch signals([&runner](int signal, int) {
    runner.interrupt(fmt::format("interrupted by {}", util::SignalWatch::name(signal)));
  });
  const bool quiet = m.quiet;
  const auto reports = runner.run([quiet](const mb::MotorProgress& p) {
    if (quiet || p.phase == mb::Phase::done) return;
    static thread_local mb::Phase last = mb::Phase::idle;
    if (p.phase == last) return;
    last = p.phase;
    fmt::print(stderr, "{}: {} at {}\n", p.name, mb::phase_name(p.phase), stands(p.status));
  });
  bool any_failed = false, any_interrupted = false;
  nlohmann::ordered_json out;
  out["direction"] = dir_name(direction);
  out["motors"] = nlohmann::ordered_json::array();
  for (const auto& r : reports) {
    any_failed |= !r.result.ok;
    any_interrupted |= r.result.interrupted;
    if (m.json) {
      out["motors"].push_back(report_json(r));
    } else {
      print_report(r);
    }
  }
  if (m.json) fmt::print("{}\n", out.dump());
  std::fflush(stdout);
  return any_interrupted ? 7 : any_failed ? 6 : 0;
}

}  // namespace

MotionboxCommand& add_motionbox_command(CLI::App& app) {
  static MotionboxCommand m;  // one per program: CLI11 keeps pointers into it
  m.self = app.add_subcommand(
      "motionbox",
      "the Motion Box: home the testing bench's motors against their hard-limit switches and "
      "keep their soft limits in a JSON file ({\"general\": {\"tolerance\": T}, \"motors\": "
      "{NAME: {\"pv_root\", \"lo_lim\", \"hi_lim\", \"center\"}}})");
  m.self->footer(kMotionboxExitCodes);
  m.self->require_subcommand(1);
  m.help = m.self->add_subcommand("help", "usage information regarding a given command");
  m.help->add_option("command_name", m.help_topic,
                     "the command to explain: add, change, remove or home (none: all)");
  m.add = m.self->add_subcommand("add", "add a new motor to the JSON file");
  add_entry_args(m.add, m);
  m.add->add_option("--tolerance", m.new_tolerance,
                    "create the file with this general tolerance if it does not exist");
  m.change = m.self->add_subcommand("change", "change a preexisting motor in the JSON file");
  add_entry_args(m.change, m);
  m.remove = m.self->add_subcommand("remove", "remove a preexisting motor from the JSON file");
  m.remove->add_option("json_path", m.json_path, "the JSON file")->required();
  m.remove->add_option("motor_name", m.motor, "the motor to remove, or all to remove every motor")
      ->required();
  m.home = m.self->add_subcommand(
      "home",
      "home one or all motors: drive towards the hard-limit switch until it trips and the motor "
      "stops, redefine the position there (SET mode, FOFF Variable) as hi_lim + tolerance (lo: "
      "lo_lim - tolerance), set HLM = hi_lim and LLM = lo_lim, move to center. all: every "
      "motor at once. Ctrl-C stops every motor and reports where each stands");
  m.home->add_option("json_path", m.json_path, "the JSON file")->required();
  m.home->add_option("motor_name", m.motor, "the motor to home, or all")->required();
  m.home->add_option("homing_mode", m.mode, "hi: use the high limit switch; lo: the low one")
      ->required();
  m.home->add_flag("--dry-run", m.dry_run,
                   "print what would move for each motor (reads PVs, writes nothing)");
  m.home->add_flag("--json", m.json, "print one JSON object: per motor what happened");
  m.home->add_flag("--quiet", m.quiet, "no progress lines on stderr");
  m.home
      ->add_option("--connect-timeout", m.connect_timeout, "seconds to wait for the PVs to connect")
      ->capture_default_str();
  m.serve = m.self->add_subcommand(
      "serve",
      "a local web page (127.0.0.1 only) over the JSON file: the motors with live position, "
      "limit switches, moving/done and soft limits; edit, add, remove, home hi or lo, stop. "
      "Ctrl-C stops moving motors and the server");
  m.serve->add_option("json_path", m.serve_options.json_path, "the JSON file")->required();
  m.serve->add_option("--port", m.serve_options.port, "TCP port (0: a free one, printed)")
      ->capture_default_str();
  m.serve
      ->add_option("--connect-timeout", m.serve_options.connect_timeout,
                   "seconds to wait for the PVs to connect when homing")
      ->capture_default_str();
  return m;
}

bool motionbox_parsed(const MotionboxCommand& m) {
  return m.self != nullptr && m.self->parsed();
}

int run_motionbox(MotionboxCommand& m) {
  if (m.help->parsed()) {
    const std::map<std::string, CLI::App*> topics{{"add", m.add},
                                                  {"change", m.change},
                                                  {"remove", m.remove},
                                                  {"home", m.home},
                                                  {"serve", m.serve}};
    if (m.help_topic.empty()) {
      fmt::print("{}", m.self->help());
      return 0;
    }
    const auto it = topics.find(m.help_topic);
    if (it == topics.end()) {
      fmt::print(stderr,
                 "pandafly motionbox help: no command \"{}\" (add, change, remove, home, serve)\n",
                 m.help_topic);
      return 2;
    }
    fmt::print("{}", it->second->help());
    return 0;
  }
  if (m.home->parsed()) return home(m);
  if (m.serve->parsed()) return run_motionbox_serve(m.serve_options);
  return edit(m);
}

}  // namespace pandafly::tools
