// pandafly-ca end to end: the binary (PANDAFLY_CA_CLI) run as a child process
// against the CA simulator of this test process (ca_sim_fixture.hpp; the child
// inherits the EPICS_CA_* environment pointing at it).
#include <cstdio>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "ca_sim_fixture.hpp"
#include "pandafly/ca/channel.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;

namespace {

struct Run {
  int rc = -1;
  std::string out;
  std::string err;
};

// Runs `pandafly-ca ARGS` through the shell; stdout and stderr captured.
Run cli(const std::string& args) {
  ca_itest::CaSim::instance();
  static pandafly::test::TempDir dir("ca_cli");
  static int n = 0;
  const auto err_file = dir.path / ("err" + std::to_string(n++));
  const std::string cmd = std::string(PANDAFLY_CA_CLI) + " " + args + " 2>" + err_file.string();
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (std::size_t k; (k = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, k);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(err_file);
  std::stringstream s;
  s << f.rdbuf();
  r.err = s.str();
  return r;
}

}  // namespace

TEST_CASE("pandafly-ca get: caget's NAME VALUE, arrays, enums, JSON") {
  auto r = cli("get itest:double itest:string itest:enum");
  CHECK(r.rc == 0);
  CHECK(r.out == "itest:double 3.5\nitest:string hello\nitest:enum On\n");
  CHECK(r.err.empty());  // no caRepeater complaints: the simulator answers the repeater port
  CHECK(cli("get -n itest:enum").out == "itest:enum 1\n");
  CHECK(cli("get itest:shorts").out == "itest:shorts 3 1 2 3\n");
  CHECK(cli("get -# 5 itest:shorts").out == "itest:shorts 5 1 2 3 0 0\n");
  CHECK(cli("get itest:empty").out == "itest:empty 0\n");
  CHECK(cli("get -S itest:waveform").out == "itest:waveform hello waveform\n");
  CHECK(cli("get -d string itest:double").out == "itest:double 3.500\n");
  r = cli("get -a itest:double");
  CHECK(std::regex_match(
      r.out, std::regex(R"(itest:double \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} 3\.5\n)")));

  r = cli("--json get itest:double itest:shorts");
  REQUIRE(r.rc == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j[0]["pv"] == "itest:double");
  CHECK(j[0]["value"] == 3.5);
  CHECK(j[0]["type"] == "DBF_DOUBLE");
  CHECK(j[0]["severity"] == "NO_ALARM");
  CHECK(j[1]["value"] == nlohmann::json::array({1, 2, 3}));
}

TEST_CASE("pandafly-ca put: old and new value, --wait on the motor, refusals") {
  auto r = cli("put itest:cli:long 7");
  CHECK(r.rc == 0);
  CHECK(r.out == "Old : itest:cli:long 42\nNew : itest:cli:long 7\n");
  CHECK(cli("put itest:cli:enum Auto").out ==
        "Old : itest:cli:enum On\nNew : itest:cli:enum Auto\n");
  CHECK(cli("put itest:cli:enum 0").out == "Old : itest:cli:enum Auto\nNew : itest:cli:enum Off\n");
  r = cli("--json put itest:cli:double 2.25");
  REQUIRE(r.rc == 0);
  CHECK(nlohmann::json::parse(r.out)["new"] == 2.25);

  r = cli("put --wait itest:m1.VAL 1.5");
  CHECK(r.rc == 0);
  CHECK(r.out.ends_with("New : itest:m1.VAL 1.5\n"));
  CHECK(cli("get itest:m1.DMOV itest:m1.RBV").out == "itest:m1.DMOV 1\nitest:m1.RBV 1.5\n");
  r = cli("put --wait --wait-timeout 0.1 itest:m1.VAL 0");
  CHECK(r.rc == 3);
  CHECK(r.err.find("itest:m1.VAL: put-callback: no reply within 0.1 s") != std::string::npos);

  r = cli("put itest:cli:enum Bogus");
  CHECK(r.rc == 1);
  MESSAGE("refused enum put: " << r.err);
  r = cli("put --wait itest:cli:enum Bogus");
  CHECK(r.rc == 1);
  CHECK(r.err.find("Channel write request failed") != std::string::npos);
  r = cli("put itest:readonly 2");
  CHECK(r.rc == 1);
  CHECK(r.err.find("Write access denied") != std::string::npos);
  r = cli("put itest:cli:double abc");
  CHECK(r.rc == 2);
  CHECK(r.err.find("'abc' is not a number") != std::string::npos);
  CHECK(cli("put itest:cli:double").rc == 2);
}

TEST_CASE("pandafly-ca: unknown PVs and bad usage") {
  auto r = cli("get -w 0.3 itest:double nosuch:pv");
  CHECK(r.rc == 3);
  CHECK(r.out == "itest:double 3.5\n");
  CHECK(r.err == "pandafly-ca: nosuch:pv: not found within 0.3 s\n");
  CHECK(cli("--json get -w 0.2 nosuch:pv").out.find("\"code\": \"ECA_TIMEOUT\"") !=
        std::string::npos);
  CHECK(cli("frobnicate").rc == 2);
  CHECK(cli("get").rc == 2);
  CHECK(cli("get --help").out.find("Exit codes") != std::string::npos);
}

TEST_CASE("pandafly-ca info: type, count, server, access, metadata, search settings") {
  auto r = cli("info itest:double itest:enum itest:image");
  CHECK(r.rc == 0);
  CHECK(r.out.find("Native data type: DBF_DOUBLE") != std::string::npos);
  CHECK(r.out.find("Units:            mm") != std::string::npos);
  CHECK(r.out.find("Precision:        3") != std::string::npos);
  CHECK(r.out.find("2 Auto") != std::string::npos);
  CHECK(r.out.find("Element count:    307200") != std::string::npos);
  CHECK(r.out.find("EPICS_CA_AUTO_ADDR_LIST: NO") != std::string::npos);
  r = cli("--json info itest:readonly");
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["pvs"][0]["write_access"] == false);
  CHECK(j["client"]["repeater_stand_in"] == false);  // the simulator holds the port
}

TEST_CASE("pandafly-ca monitor: the first value, then updates, --count ends it") {
  auto r = cli("monitor --count 1 itest:double");
  CHECK(r.rc == 0);
  CHECK(std::regex_match(
      r.out, std::regex(R"(itest:double \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} 3\.5\n)")));
  pandafly::ca::Context ctx;
  auto ch = pandafly::ca::Channel::connect(ctx, "itest:cli:long", 5s);
  auto watcher =
      std::async(std::launch::async, [] { return cli("--json monitor --count 3 itest:cli:long"); });
  // Updates until the monitor has its three values: however long the process
  // takes to start and subscribe (a loaded machine), no fixed sleep. Guard: 60 s.
  std::int32_t next = 100;
  while (watcher.wait_for(200ms) != std::future_status::ready && next < 400) ch.put(next++);
  REQUIRE(watcher.wait_for(0s) == std::future_status::ready);
  r = watcher.get();
  CHECK(r.rc == 0);
  std::istringstream lines(r.out);
  std::vector<int> values;
  for (std::string line; std::getline(lines, line);) {
    values.push_back(nlohmann::json::parse(line)["value"].get<int>());
  }
  REQUIRE(values.size() == 3);
  CHECK(values[1] >= 100);  // the two updates are values put here, in order
  CHECK(values[2] > values[1]);
  CHECK(values[2] < next);
  CHECK(cli("monitor -w 0.3 nosuch:pv").rc == 3);
}
