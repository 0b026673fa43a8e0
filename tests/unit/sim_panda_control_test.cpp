// PandA simulator: the control connection's framing (pipelining, splitting,
// multi-line writes, line overrun), tables and per-connection *CHANGES.
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/model.hpp"
#include "sim_test_util.hpp"

namespace {

using pandafly::sim::PandaControlConnection;
using pandafly::sim::PandaModel;

using pandafly::sim::test::Panda;

}  // namespace

TEST_CASE("ASCII table writes: decimal, hex, octal trap, negative wrap") {
  Panda p;
  CHECK(p("SEQ1.TABLE<\n1507338 0xFFFFF830\n062 -4294967246\n\n") == "OK\n");
  CHECK(p("SEQ1.TABLE?\n") == "!1507338\n!4294965296\n!50\n!50\n.\n");
  CHECK(p("SEQ1.TABLE.B?\n") == "!CgAXADD4//8yAAAAMgAAAA==\n.\n");
  CHECK(p("SEQ1.TABLE<\n010 -1 0 0\n\nSEQ1.TABLE?\n") == "OK\n!8\n!4294967295\n!0\n!0\n.\n");
  CHECK(p("SEQ1.TABLE.LENGTH?\nSEQ1.TABLE.MODE?\n") == "OK =4\nOK =FIXED\n");
}

TEST_CASE("base64 table writes and the SEQ worked examples") {
  Panda p;
  CHECK(p("SEQ1.TABLE<B\nCgAXADD4//8yAAAAMgAAAA==\n\nSEQ1.TABLE?\n") ==
        "OK\n!1507338\n!4294965296\n!50\n!50\n.\n");
  CHECK(p("SEQ1.TABLE<\n1048577 0 100 200\n2097153 1000 300 400\n\n") == "OK\n");
  CHECK(p("SEQ1.TABLE.B?\n") == "!AQAQAAAAAABkAAAAyAAAAAEAIADoAwAALAEAAJABAAA=\n.\n");
  // 48 bytes per line on read-back: 16 words → 64 bytes → two lines.
  CHECK(p("SEQ2.TABLE<\n1 2 3 4\n5 6 7 8\n9 10 11 12\n13 14 15 16\n\nSEQ2.TABLE.B?\n") ==
        "OK\n!AQAAAAIAAAADAAAABAAAAAUAAAAGAAAABwAAAAgAAAAJAAAACgAAAAsAAAAMAAAA\n"
        "!DQAAAA4AAAAPAAAAEAAAAA==\n.\n");
  CHECK(p("SEQ2.TABLE<B\nAQAAAAIAAAADAAAABAAAAAUAAAAGAAAABwAAAAgAAAAJAAAACgAAAAsAAAAMAAAA\n"
          "DQAAAA4AAAAPAAAAEAAAAA==\n\nSEQ2.TABLE.LENGTH?\n") == "OK\nOK =16\n");
}

TEST_CASE("table errors come after the empty line and leave the table alone") {
  Panda p;
  CHECK(p("SEQ1.TABLE<\n1 2 3 4\n\n") == "OK\n");
  CHECK(p("SEQ1.TABLE<\n1234\n999\n") == "");  // nothing until the empty line
  CHECK(p("broken\n") == "");
  CHECK(p("\nSEQ1.TABLE.LENGTH?\n") == "ERR Number missing\nOK =4\n");
  CHECK(p("SEQ1.TABLE<\n1 2 3\n\n") == "ERR Table write is not a whole number of rows\n");
  CHECK(p("SEQ1.TABLE<B\nabcdefgh\n\n") == "ERR Invalid data length\n");
  CHECK(p("SEQ1.TABLE<B\nabcd*xyz\n\n") == "ERR Malformed base64 string\n");
  CHECK(p("SEQ1.TABLE<B\n123456789AB123456789AB=\n\n") == "ERR Malformed base64 string\n");
  CHECK(p("SEQ1.TABLE<<\n1 2 3 4\n\n") == "ERR Table do not support streaming mode\n");
  CHECK(p("SEQ1.TABLE<<|\n1 2 3 4\n\n") == "ERR Table do not support streaming mode\n");
  CHECK(p("X<blalba\ndfdex\nxxx\n\n") == "ERR Unexpected character after input\n");
  CHECK(p("TTLIN2.VAL<\n123\n\n") == "ERR Field is not a table\n");
  CHECK(p("SEQ1.TABLE?\n") == "!1\n!2\n!3\n!4\n.\n");
  CHECK(p("SEQ1.TABLE<\n\nSEQ1.TABLE.LENGTH?\nSEQ1.TABLE.MODE?\n") == "OK\nOK =0\nOK =INIT\n");
  CHECK(p("SEQ1.TABLE?\n") == ".\n");
}

TEST_CASE("table layout attributes") {
  Panda p;
  CHECK(p("SEQ1.TABLE.FIELDS?\n") ==
        // the firmware's order (issue 14): TIME2 after OUTF1
        "!15:0 REPEATS uint\n!19:16 TRIGGER enum\n!63:32 POSITION int\n!95:64 TIME1 uint\n"
        "!20:20 OUTA1 uint\n!21:21 OUTB1 uint\n!22:22 OUTC1 uint\n!23:23 OUTD1 uint\n"
        "!24:24 OUTE1 uint\n!25:25 OUTF1 uint\n!127:96 TIME2 uint\n!26:26 OUTA2 uint\n"
        "!27:27 OUTB2 uint\n!28:28 OUTC2 uint\n!29:29 OUTD2 uint\n!30:30 OUTE2 uint\n"
        "!31:31 OUTF2 uint\n.\n");
  CHECK(p("SEQ1.TABLE.MAX_LENGTH?\nSEQ1.TABLE.ROW_WORDS?\nSEQ1.TABLE.QUEUED_LINES?\n") ==
        "OK =1048576\nOK =4\nOK =0\n");
  CHECK(p("PGEN1.TABLE.FIELDS?\nPGEN1.TABLE.ROW_WORDS?\n") == "!31:0 POSITION int\n.\nOK =1\n");
  CHECK(p("*ENUMS.SEQ1.TABLE[].TRIGGER?\n") ==
        "!Immediate\n!BITA=0\n!BITA=1\n!BITB=0\n!BITB=1\n!BITC=0\n!BITC=1\n!POSA>=POSITION\n"
        "!POSA<=POSITION\n!POSB>=POSITION\n!POSB<=POSITION\n!POSC>=POSITION\n"
        "!POSC<=POSITION\n.\n");
  CHECK(p("*ENUMS.SEQ1.TABLE[].TIME1?\n") == "ERR Table sub-field is not an enumeration\n");
  CHECK(p("*DESC.SEQ1.TABLE[].TIME1?\n") ==
        "OK =Length of the optional phase 1 in PRESCALE units\n");
  CHECK(p("SEQ1.TABLE.*?\n") ==
        "!MAX_LENGTH\n!LENGTH\n!B\n!FIELDS\n!ROW_WORDS\n!QUEUED_LINES\n!MODE\n!INFO\n.\n");
}

TEST_CASE("pipelined requests are answered in order in one call") {
  Panda p;
  CHECK(p("*ECHO One response?\n*ECHO Second?\nTTLOUT1.VAL=TTLIN3.VAL\nTTLOUT1.VAL?\n"
          "TTLOUT10.VAL=TTLIN3.VAL\nTTLOUT11.VAL?\n") ==
        "OK =One response\nOK =Second\nOK\nOK =TTLIN3.VAL\nOK\nERR Invalid block number\n");
}

TEST_CASE("requests split at every byte index give the same replies") {
  const std::string input =
      "*IDN?\nPULSE1.DELAY.UNITS=us\nPULSE1.DELAY=2.5\nPULSE1.DELAY?\n"
      "SEQ1.TABLE<B\nCgAXADD4//8yAAAAMgAAAA==\n\nSEQ1.TABLE?\nx\n*CHANGES.TABLE?\n";
  std::string whole;
  {
    Panda p;
    whole = p(input);
  }
  CHECK(whole.find("OK =2.504\n") != std::string::npos);
  CHECK(
      whole.ends_with("ERR Unknown command\n!SEQ1.TABLE<\n!SEQ2.TABLE<\n!PGEN1.TABLE<\n"
                      "!PGEN2.TABLE<\n.\n"));
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    Panda p;
    std::string out = p(std::string_view(input).substr(0, cut));
    out += p(std::string_view(input).substr(cut));
    CHECK_MESSAGE(out == whole, "cut at " << cut);
  }
  Panda bytewise;
  std::string out;
  for (char c : input) out += bytewise(std::string_view(&c, 1));
  CHECK(out == whole);
}

TEST_CASE("a line of more than 1022 characters closes the connection") {
  Panda p;
  // (Not *ECHO: the server refuses so long a result with ERR Result too long.)
  std::string ok_line = "*METADATA.DESIGN=" + std::string(1022 - 17, 'a');
  REQUIRE(ok_line.size() == 1022);
  CHECK(p(ok_line + "\n") == "OK\n");
  CHECK_FALSE(p.conn.closed());
  std::string long_line = "*ECHO " + std::string(1023 - 7, 'a') + "?";
  REQUIRE(long_line.size() == 1023);
  CHECK(p("*IDN?\n" + long_line + "\n*IDN?\n").starts_with("OK =PandA"));
  CHECK(p.conn.closed());
  CHECK(p("*IDN?\n") == "");
}

TEST_CASE("an overlong table data line also closes the connection") {
  Panda p;
  CHECK(p("SEQ1.TABLE<\n" + std::string(1023, '1')) == "");
  CHECK(p.conn.closed());
}

TEST_CASE("*CHANGES is kept per connection") {
  PandaModel model;
  PandaControlConnection a(model, "127.0.0.1:1");
  PandaControlConnection b(model, "127.0.0.1:2");
  CHECK(a.receive("*CHANGES.CONFIG?\n").find("!PULSE1.DELAY=0\n") != std::string::npos);
  CHECK(a.receive("*CHANGES.CONFIG?\n") == ".\n");
  CHECK(b.receive("*CHANGES.CONFIG=\n*CHANGES.CONFIG?\n") == "OK\n.\n");
  CHECK(a.receive("PULSE1.DELAY=1\nPCAP.TRIG=PULSE1.OUT\n") == "OK\nOK\n");
  CHECK(a.receive("*CHANGES.CONFIG?\n") == "!PCAP.TRIG=PULSE1.OUT\n!PULSE1.DELAY=1\n.\n");
  CHECK(a.receive("*CHANGES.CONFIG?\n") == ".\n");
  CHECK(b.receive("*CHANGES.CONFIG?\n") == "!PCAP.TRIG=PULSE1.OUT\n!PULSE1.DELAY=1\n.\n");
  CHECK(b.receive("PULSE2.WIDTH=2\n*CHANGES.CONFIG?\n") == "OK\n!PULSE2.WIDTH=2\n.\n");
  CHECK(a.receive("*CHANGES.CONFIG?\n") == "!PULSE2.WIDTH=2\n.\n");
  // =S goes back to reporting everything, as on a new connection.
  CHECK(a.receive("*CHANGES.CONFIG=S\n") == "OK\n");
  CHECK(a.receive("*CHANGES.CONFIG?\n").find("!TTLOUT1.VAL=ZERO\n") != std::string::npos);
  CHECK(a.receive("*CHANGES.CONFIG=X\n") == "ERR Invalid reset option\n");
  CHECK(a.receive("*CHANGES.BOGUS?\n") == "ERR Unknown changes selection\n");
}

TEST_CASE("*CHANGES groups") {
  Panda p;
  // Polled attributes (QUEUED_LINES) are listed once after a reset.
  CHECK(p("*CHANGES=\n*CHANGES?\n") ==
        "OK\n!SEQ1.TABLE.QUEUED_LINES=0\n!SEQ2.TABLE.QUEUED_LINES=0\n"
        "!PGEN1.TABLE.QUEUED_LINES=0\n!PGEN2.TABLE.QUEUED_LINES=0\n.\n");
  CHECK(p("*CHANGES?\n") == ".\n");
  CHECK(p("INENC2.VAL.CAPTURE=Mean\nPULSE1.DELAY.UNITS=ms\n*CHANGES.ATTR?\n") ==
        "OK\nOK\n!INENC2.VAL.CAPTURE=Mean\n!PULSE1.DELAY.UNITS=ms\n.\n");
  CHECK(p("SEQ1.TABLE<\n1 2 3 4\n\n*CHANGES.TABLE?\n") == "OK\n!SEQ1.TABLE<\n.\n");
  CHECK(p("*METADATA.DESIGN=x\n*METADATA.YAML<\na\n\n*CHANGES.METADATA?\n") ==
        "OK\nOK\n!*METADATA.DESIGN=x\n!*METADATA.YAML<\n.\n");
  p.model.set_bit("PULSE1.OUT", true);
  p.model.set_position("COUNTER1.OUT", 7);
  p.model.set_read("PCOMP1.PRODUCED", 3);
  CHECK(p("*CHANGES.BITS?\n*CHANGES.POSN?\n*CHANGES.READ?\n") ==
        "!PULSE1.OUT=1\n.\n!COUNTER1.OUT=7\n.\n!PCOMP1.PRODUCED=3\n.\n");
  p.model.set_bit("PULSE1.OUT", false);
  // PULSE1.DELAY: its UNITS changed above, so its value reads differently.
  CHECK(p("BITS.A=1\n*CHANGES?\n") == "OK\n!BITS.A=1\n!PULSE1.DELAY=0\n!PULSE1.OUT=0\n.\n");
  CHECK(p("*CHANGES?\n") == ".\n");
}

TEST_CASE("*WHO? lists every connection") {
  PandaModel model;
  PandaControlConnection a(model, "127.0.0.1:5001", "2026-01-15T10:00:00.000Z");
  std::string who;
  {
    PandaControlConnection b(model, "127.0.0.1:5002", "2026-01-15T10:00:01.500Z");
    who = a.receive("*WHO?\n");
  }
  CHECK(who ==
        "!2026-01-15T10:00:00.000Z config 127.0.0.1:5001 \n"
        "!2026-01-15T10:00:01.500Z config 127.0.0.1:5002 \n.\n");
  CHECK(a.receive("*WHO?\n") == "!2026-01-15T10:00:00.000Z config 127.0.0.1:5001 \n.\n");
}

TEST_CASE("the line observer sees request and data lines") {
  Panda p;
  std::vector<std::string> seen;
  p.conn.set_line_observer([&](std::string_view line, bool request) {
    seen.push_back((request ? "R " : "D ") + std::string(line));
  });
  CHECK(p("*IDN?\nSEQ1.TABLE<\n1 2 3 4\n\n") != "");
  CHECK(seen == std::vector<std::string>{"R *IDN?", "R SEQ1.TABLE<", "D 1 2 3 4", "D "});
  CHECK(p.conn.requests() == 2);
}
