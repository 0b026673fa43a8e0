// ControlConnection: pipelining, in-order matching, multi-step commands,
// validation before any byte, ERR that does not wedge, abandon, loss.
#include <doctest/doctest.h>

#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/control_connection.hpp"
#include "pandafly/panda/info_commands.hpp"

using namespace pandafly::panda;

TEST_CASE("control: pipelined commands are matched to replies in order") {
  ControlConnection c;
  auto a = c.send(GetLine{"PCAP.TRIG"});
  auto b = c.send(Put{"PULSE1.WIDTH", "1.5"});
  auto d = c.send(GetMultiline{"*POSITIONS"});
  CHECK(c.take_output() == "PCAP.TRIG?\nPULSE1.WIDTH=1.5\n*POSITIONS?\n");
  CHECK(c.in_flight() == 3);
  REQUIRE_FALSE(c.receive("OK =PULSE1.OUT\nOK\n!ZERO\n!INENC1.VAL\n."));
  CHECK(c.take_completed() == std::vector<CommandId>{a.id, b.id});
  CHECK_FALSE(c.finished(d.id));
  REQUIRE_FALSE(c.receive("\n"));
  CHECK(c.take_result(a).value() == "PULSE1.OUT");
  CHECK(c.take_result(b).ok());
  CHECK(c.take_result(d).value() == std::vector<std::string>{"ZERO", "INENC1.VAL"});
  CHECK(c.commands() == 0);
  CHECK(c.in_flight() == 0);
}

TEST_CASE("control: an ERR fails only its command, naming it; the next command works") {
  ControlConnection c;
  auto bad = c.send(GetLine{"PCAP.FOO"});
  auto good = c.send(GetLine{"PCAP.TRIG"});
  (void)c.take_output();
  REQUIRE_FALSE(c.receive("ERR No such field\nOK =ZERO\n"));
  auto r = c.take_result(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::server_error);
  CHECK(r.error().command() == "PCAP.FOO?");
  CHECK(r.error().message() == "No such field");
  CHECK(std::string(r.error().what()) == "PCAP.FOO?: ERR No such field");
  CHECK_THROWS_AS((void)r.value(), CommandError);
  CHECK(c.take_result(good).value() == "ZERO");
}

TEST_CASE("control: an invalid value is rejected before any byte is produced") {
  ControlConnection c;
  const std::string too_long(1023 - std::string("X.Y=").size() + 1, 'a');
  const std::string just_fits(1022 - std::string("X.Y=").size(), 'a');
  for (const auto& value :
       {std::string("a\nb"), std::string("a\0b", 3), std::string("a\rb"), too_long}) {
    auto t = c.send(Put{"X.Y", value});
    CHECK_FALSE(c.has_output());
    REQUIRE(c.finished(t.id));
    auto r = c.take_result(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::invalid_request);
    CHECK(r.error().command().starts_with("X.Y="));
  }
  auto ok = c.send(Put{"X.Y", just_fits});
  CHECK(c.take_output().size() == 1023);  // 1022 characters + LF
  REQUIRE_FALSE(c.receive("OK\n"));
  CHECK(c.take_result(ok).ok());
  // an empty data line would end a multi-line write early
  auto t = c.send(Put{"*METADATA.YAML", std::vector<std::string>{"a: 1", "", "b: 2"}});
  CHECK_FALSE(c.has_output());
  CHECK(c.take_result(t).error().message().find("data line 2") != std::string::npos);
}

TEST_CASE("control: a multi-step command interleaves with others and its ERR does not wedge") {
  ControlConnection c;
  auto blocks = c.send(GetBlocks{});
  auto echo = c.send(Echo{"hi"});
  CHECK(c.take_output() == "*BLOCKS?\n*ECHO hi?\n");
  REQUIRE_FALSE(c.receive("!PCAP 1\n!TTLIN 6\n.\n"));
  // the second step goes after the echo already in flight
  CHECK(c.take_output() == "*DESC.PCAP?\n*DESC.TTLIN?\n");
  REQUIRE_FALSE(c.receive("OK =hi\nOK =Position capture\nERR No description set for block\n"));
  auto r = c.take_result(blocks).value();
  REQUIRE(r.size() == 2);
  CHECK(r[0].name == "PCAP");
  CHECK(r[0].description == "Position capture");
  CHECK(r[1].count == 6);
  CHECK(r[1].description.empty());
  CHECK(c.take_result(echo).value() == "hi");
}

TEST_CASE("control: abandon discards the late reply and keeps the stream in step") {
  ControlConnection c;
  auto a = c.send(GetLine{"A.X"});
  auto b = c.send(GetLine{"B.X"});
  (void)c.take_output();
  c.abandon(a.id);
  REQUIRE_FALSE(c.receive("OK =late\nOK =mine\n"));
  CHECK(c.take_completed() == std::vector<CommandId>{b.id});
  CHECK(c.take_result(b).value() == "mine");
  CHECK(c.commands() == 0);
}

TEST_CASE("control: connection loss fails every waiting command") {
  ControlConnection c;
  auto a = c.send(GetLine{"A.X"});
  auto b = c.send(GetBlocks{});
  (void)c.take_output();
  c.fail_all(Errc::connection_lost, "peer closed");
  CHECK(c.in_flight() == 0);
  for (auto r : {c.take_result(a).error(), c.take_result(b).error()}) {
    CHECK(r.code() == Errc::connection_lost);
    CHECK(r.message() == "peer closed");
  }
  // reusable after a reconnect
  auto d = c.send(GetLine{"A.X"});
  CHECK(c.take_output() == "A.X?\n");
  REQUIRE_FALSE(c.receive("OK =1\n"));
  CHECK(c.take_result(d).value() == "1");
}

TEST_CASE("control: garbage or a reply nobody asked for fails everything in flight") {
  ControlConnection c;
  auto a = c.send(GetLine{"A.X"});
  (void)c.take_output();
  CHECK(c.receive("OK =1\nOK\n") == Errc::unexpected_reply);
  CHECK(c.take_result(a).value() == "1");  // finished before the stray reply
  auto b = c.send(GetLine{"A.X"});
  (void)c.take_output();
  CHECK(c.receive("HTTP/1.1 200 OK\n") == Errc::malformed_reply);
  CHECK(c.take_result(b).error().code() == Errc::malformed_reply);
  CHECK(c.error_detail().find("HTTP") != std::string::npos);
}

TEST_CASE("control: a reply of the wrong shape is a malformed error naming the command") {
  ControlConnection c;
  auto a = c.send(GetLine{"SEQ1.TABLE"});
  (void)c.take_output();
  REQUIRE_FALSE(c.receive("!1\n!2\n.\n"));
  auto e = c.take_result(a).error();
  CHECK(e.code() == Errc::malformed_reply);
  CHECK(e.command() == "SEQ1.TABLE?");
  CHECK(e.message() == "expected OK =value, got a list");
}
