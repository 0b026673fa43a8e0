// The client core against the simulator's server core, in memory: no sockets,
// no threads. Bytes go ControlConnection → PandaControlConnection → back.
#include <doctest/doctest.h>

#include "pandafly/panda/changes.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/control_connection.hpp"
#include "pandafly/panda/design.hpp"
#include "pandafly/panda/info_commands.hpp"
#include "pandafly/panda/table_commands.hpp"
#include "sim/panda/control_connection.hpp"
#include "sim/panda/model.hpp"

using namespace pandafly::panda;
namespace sim = pandafly::sim;

namespace {

// One client connection wired to one simulator connection.
struct Link {
  explicit Link(sim::PandaModel& model) : server(model, "127.0.0.1:5000") {}

  template <class C>
  Result<typename C::result_type> run(C command) {
    auto t = client.send(std::move(command));
    while (!client.finished(t.id)) {
      const std::string out = client.take_output();
      REQUIRE_FALSE(out.empty());  // an unfinished command must have something on the wire
      const auto ec = client.receive(server.receive(out));
      REQUIRE_FALSE(ec);
    }
    (void)client.take_completed();
    return client.take_result(t);
  }

  ControlConnection client;
  sim::PandaControlConnection server;
};

}  // namespace

TEST_CASE("client ↔ simulator: identify, blocks, field info of every fly-scan block") {
  sim::PandaModel model;
  Link link(model);
  CHECK(link.run(Identify{}).value().api_major == 4);
  const auto blocks = link.run(GetBlocks{}).value();
  bool has_pcomp = false;
  for (const auto& b : blocks) has_pcomp |= b.name == "PCOMP" && b.count == 2;
  CHECK(has_pcomp);
  for (const char* block :
       {"INENC", "PCOMP", "PULSE", "SEQ", "PCAP", "TTLOUT", "BITS", "CLOCK", "COUNTER"}) {
    auto info = link.run(GetFieldInfo{block});
    REQUIRE_MESSAGE(info.ok(), block << ": " << (info.ok() ? "" : info.error().what()));
    CHECK_FALSE(info.value().empty());
  }
  const auto seq = link.run(GetFieldInfo{"SEQ"}).value();
  bool has_table = false;
  for (const auto& f : seq) {
    if (!f.table) continue;
    has_table = true;
    CHECK(f.table->row_words() == 4);
    CHECK(f.table->fields()[static_cast<std::size_t>(f.table->find("TRIGGER"))].labels.at(7) ==
          "POSA>=POSITION");
  }
  CHECK(has_table);
}

TEST_CASE("client ↔ simulator: an ERR in a batch does not wedge the connection") {
  sim::PandaModel model;
  Link link(model);
  auto a = link.client.send(Put{"PCOMP1.DIR", "Sideways"});
  auto b = link.client.send(Put{"PCOMP1.START", "100"});
  auto c = link.client.send(GetLine{"PCOMP1.START"});
  REQUIRE_FALSE(link.client.receive(link.server.receive(link.client.take_output())));
  CHECK(link.client.take_result(a).error().message() == "Invalid enumeration value");
  CHECK(link.client.take_result(b).ok());
  CHECK(link.client.take_result(c).value() == "100");
}

TEST_CASE("client ↔ simulator: a table written as rows reads back the same") {
  sim::PandaModel model;
  Link link(model);
  const auto layout = link.run(GetTableLayout{"SEQ1.TABLE"}).value();
  const auto words = layout.words_from_text(
      "REPEATS=10 TRIGGER=POSA>=POSITION OUTA1=1 POSITION=-2000 TIME1=50 TIME2=50\n"
      "REPEATS=1800 TRIGGER=Immediate OUTA1=1 TIME1=100 TIME2=400\n");
  REQUIRE(link.run(TablePut{"SEQ1.TABLE", words}).ok());
  CHECK(link.run(TableGet{"SEQ1.TABLE"}).value() == words);
  CHECK(link.run(TableGet{"SEQ1.TABLE", TableEncoding::ascii}).value() == words);
  REQUIRE(link.run(TablePut{"SEQ1.TABLE", words, TableMode::replace, TableEncoding::ascii}).ok());
  CHECK(link.run(TableGet{"SEQ1.TABLE"}).value() == words);
}

TEST_CASE(
    "client ↔ simulator: a saved design restores onto a fresh PandA, sending only what differs") {
  sim::PandaModel model;
  Link link(model);
  for (auto [name, value] : {std::pair{"PULSE1.WIDTH.UNITS", "us"},
                             {"PULSE1.WIDTH", "2.5"},
                             {"PCOMP1.INP", "INENC1.VAL"},
                             {"INENC1.VAL.SCALE", "0.0001"},
                             {"*METADATA.DESIGN", "fly"}}) {
    REQUIRE(link.run(Put{name, value}).ok());
  }
  REQUIRE(link.run(TablePut{"SEQ1.TABLE", {1048577, 0, 100, 200}}).ok());
  const Design saved = link.run(GetState{}).value();
  CHECK(saved.to_text().find("PULSE1.WIDTH=2.504\n") != std::string::npos);

  sim::PandaModel fresh;
  Link other(fresh);
  const auto before = other.run(GetState{}).value();
  const auto diff = before.changes_to(saved);
  CHECK(diff.size() == 6);
  const auto report = other.run(SetState{diff}).value();
  CHECK(report.errors.empty());
  CHECK(other.run(GetState{}).value() == saved);
  CHECK(other.run(GetState{}).value().changes_to(saved).empty());
}

TEST_CASE("client ↔ simulator: *CHANGES reports only what changed since the last poll") {
  sim::PandaModel model;
  Link link(model);
  CHECK_FALSE(
      link.run(GetChanges{ChangeGroup::config}).value().values.empty());  // first poll: everything
  REQUIRE(link.run(Put{"PCOMP1.STEP", "7"}).ok());
  const auto ch = link.run(GetChanges{ChangeGroup::config}).value();
  REQUIRE(ch.values.size() == 1);
  CHECK(ch.values[0] == std::pair<std::string, std::string>{"PCOMP1.STEP", "7"});
}
