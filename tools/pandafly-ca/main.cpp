// pandafly-ca: read, write and watch EPICS Channel Access PVs (caget, caput,
// camonitor, cainfo in one program) over Debian's libca.
//
// Exit codes (also in --help):
//   0 success; 1 a PV operation failed (server refused, no access, disconnect);
//   2 bad usage or a value that cannot be sent; 3 a PV was not found or a
//   reply / completion did not come within the timeout.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"

namespace {

namespace ca = pandafly::ca;
using namespace pandafly_ca;

constexpr const char* exit_codes =
    "Exit codes: 0 success, 1 a PV operation failed (refused, no access, disconnected),\n"
    "2 bad usage or a value that cannot be sent, 3 PV not found or no reply/completion\n"
    "within the timeout. With several PVs the highest code wins.\n"
    "Environment: libca's EPICS_CA_ADDR_LIST, EPICS_CA_AUTO_ADDR_LIST, EPICS_CA_SERVER_PORT,\n"
    "EPICS_CA_REPEATER_PORT, ... (see `info`). When no caRepeater program is on PATH and the\n"
    "repeater port is free, this process answers repeater registrations itself while it runs\n"
    "(libca would otherwise try to spawn the missing program); --no-stand-in turns that off.";

void add_read_options(CLI::App* c, Options& o) {
  c->add_option("-d,--type", o.type_name,
                "request type: string short float enum char long double (default: native; "
                "enums as state names)");
  c->add_option("-#,--elements", o.elements, "elements to read (0: all valid ones)");
  c->add_flag("-n,--numeric", o.numeric, "enums as indices, not state names");
  c->add_flag("-S,--string", o.char_string, "show a char array as text");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"pandafly-ca: read, write and watch EPICS Channel Access PVs", "pandafly-ca"};
  app.footer(exit_codes);
  app.require_subcommand(1);
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  app.add_option("-w,--timeout", o.timeout_s, "seconds to wait for connections and replies")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", o.json, "print results as JSON (monitor: one object per line)");
  app.add_flag("--no-stand-in", o.no_stand_in,
               "never answer CA repeater registrations in this process");

  std::function<int(const Session&)> action;
  std::vector<std::string> pvs;
  auto sub = [&](const char* name, const char* help) {
    auto* c = app.add_subcommand(name, help);
    c->footer(exit_codes);
    return c;
  };

  auto* get = sub("get", "read PVs: `NAME VALUE`, arrays as `NAME COUNT V1 V2 ...` (caget)");
  get->add_option("PV", pvs, "PV names, e.g. micos:m1.RBV")->required();
  add_read_options(get, o);
  get->add_flag("-a,--time", o.with_time, "with server time stamp and alarm (like camonitor)");
  get->callback([&] { action = [&](const Session& s) { return cmd_get(s, pvs); }; });

  std::string put_pv;
  std::vector<std::string> values;
  auto* put = sub("put",
                  "write a PV and print old and new value (caput); enums take a state name or "
                  "an index, several values write an array");
  put->add_option("PV", put_pv, "PV name")->required();
  put->add_option("VALUE", values, "value(s)")->required();
  put->add_flag("--wait", o.wait,
                "wait until the server reports the write processed (put-callback; e.g. a "
                "motor move done)");
  put->add_option("--wait-timeout", o.wait_timeout_s, "seconds to wait with --wait")
      ->check(CLI::PositiveNumber);
  add_read_options(put, o);
  put->callback([&] { action = [&](const Session& s) { return cmd_put(s, put_pv, values); }; });

  auto* monitor = sub("monitor", "print every update until Ctrl-C or --count (camonitor)");
  monitor->add_option("PV", pvs, "PV names")->required();
  add_read_options(monitor, o);
  monitor->add_option("--count", o.count, "stop after this many updates in total (0: never)");
  monitor->add_option("-m,--mask", o.mask, "events: v(alue) a(larm) l(og/archive) p(roperty)");
  monitor->callback([&] { action = [&](const Session& s) { return cmd_monitor(s, pvs); }; });

  auto* info = sub("info",
                   "connection, server, access, type, count, units, limits, enum states; then "
                   "the CA client's search settings (cainfo)");
  info->add_option("PV", pvs, "PV names")->required();
  info->callback([&] { action = [&](const Session& s) { return cmd_info(s, pvs); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? Exit::ok : Exit::usage;
  }
  try {
    const Session session(o);
    return action(session);
  } catch (const ca::Error& e) {
    fmt::print(stderr, "pandafly-ca: {}\n", e.what());
    return exit_code_for(e);
  } catch (const InputError& e) {
    fmt::print(stderr, "pandafly-ca: {}\n", e.what());
    return Exit::usage;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly-ca: {}\n", e.what());
    return Exit::pv_failed;
  }
}
