// Table layouts (the SEQ worked examples of reference §1.7), base64, field
// introspection, and the .sav design: parse, write back, diff, GetState/SetState.
#include <doctest/doctest.h>

#include "panda_test_util.hpp"
#include "pandafly/panda/base64.hpp"
#include "pandafly/panda/design.hpp"
#include "pandafly/panda/info_commands.hpp"
#include "pandafly/panda/table_commands.hpp"

using namespace pandafly::panda;
using pandafly::panda::test::drive;
using Lines = std::vector<std::string>;

namespace {

const Lines seq_fields{"15:0 REPEATS uint", "19:16 TRIGGER enum", "63:32 POSITION int",
                       "95:64 TIME1 uint",  "20:20 OUTA1 uint",   "21:21 OUTB1 uint",
                       "22:22 OUTC1 uint",  "23:23 OUTD1 uint",   "24:24 OUTE1 uint",
                       "25:25 OUTF1 uint",  "26:26 OUTA2 uint",   "27:27 OUTB2 uint",
                       "28:28 OUTC2 uint",  "29:29 OUTD2 uint",   "30:30 OUTE2 uint",
                       "31:31 OUTF2 uint",  "127:96 TIME2 uint"};
const Lines seq_triggers{"Immediate",      "BITA=0",         "BITA=1",         "BITB=0",
                         "BITB=1",         "BITC=0",         "BITC=1",         "POSA>=POSITION",
                         "POSA<=POSITION", "POSB>=POSITION", "POSB<=POSITION", "POSC>=POSITION",
                         "POSC<=POSITION"};

TableLayout seq_layout() {
  auto t = TableLayout::parse(seq_fields, 4);
  t.fields()[static_cast<std::size_t>(t.find("TRIGGER"))].labels = seq_triggers;
  return t;
}

}  // namespace

TEST_CASE("table layout: the SEQ worked example packs to the reference words") {
  const auto t = seq_layout();
  CHECK(t.row_words() == 4);
  CHECK(t.fields().front().name == "REPEATS");  // sorted by bit position
  auto row =
      t.parse_row("REPEATS=10 TRIGGER=POSA>=POSITION OUTA1=1 POSITION=-2000 TIME1=50 TIME2=50");
  auto words = t.pack({&row, 1});
  CHECK(words == std::vector<std::uint32_t>{1507338U, 4294965296U, 50U, 50U});
  CHECK(base64::encode_words(words) == Lines{"CgAXADD4//8yAAAAMgAAAA=="});
  auto back = t.unpack(words);
  REQUIRE(back.size() == 1);
  CHECK(back[0] == row);
  CHECK(t.format_row(back[0]).find("TRIGGER=POSA>=POSITION") != std::string::npos);
  CHECK(t.format_row(back[0]).find("POSITION=-2000") != std::string::npos);
  CHECK(t.parse_row(t.format_row(back[0])) == row);
}

TEST_CASE("table layout: the two-row read-back example unpacks to the reference rows") {
  const auto t = seq_layout();
  auto words = base64::decode_words(Lines{"AQAQAAAAAABkAAAAyAAAAAEAIADoAwAALAEAAJABAAA="});
  REQUIRE(words);
  auto rows = t.unpack(*words);
  REQUIRE(rows.size() == 2);
  CHECK(t.format_row(rows[0]) ==
        "REPEATS=1 TRIGGER=Immediate OUTA1=1 OUTB1=0 OUTC1=0 OUTD1=0 OUTE1=0 OUTF1=0 OUTA2=0 "
        "OUTB2=0 OUTC2=0 "
        "OUTD2=0 OUTE2=0 OUTF2=0 POSITION=0 TIME1=100 TIME2=200");
  CHECK(rows[1][static_cast<std::size_t>(t.find("OUTB1"))] == 1);
  CHECK(rows[1][static_cast<std::size_t>(t.find("POSITION"))] == 1000);
}

TEST_CASE("table layout: bad input is refused with a message naming it") {
  const auto t = seq_layout();
  CHECK_THROWS_WITH_AS((void)t.parse_row("REPEATS=70000"), doctest::Contains("REPEATS"),
                       std::invalid_argument);
  TableRow big(t.fields().size(), 0);
  big[0] = 70000;
  CHECK_THROWS_WITH_AS((void)t.pack({&big, 1}), doctest::Contains("REPEATS=70000"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS((void)t.parse_row("NOPE=1"), doctest::Contains("NOPE=1"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS((void)t.parse_row("TRIGGER=Sometimes"), doctest::Contains("Sometimes"),
                       std::invalid_argument);
  CHECK_THROWS_AS((void)t.unpack(std::vector<std::uint32_t>{1, 2, 3}), std::invalid_argument);
  CHECK_THROWS_AS((void)TableLayout::parse(Lines{"high:low NAME"}), std::invalid_argument);
  CHECK(t.parse_row("POSITION=0x10 TIME1=-0")[static_cast<std::size_t>(t.find("POSITION"))] == 16);
}

TEST_CASE("base64 round trip and rejects") {
  for (std::size_t n = 0; n < 20; ++n) {
    std::vector<std::byte> bytes;
    for (std::size_t i = 0; i < n; ++i) bytes.push_back(static_cast<std::byte>(i * 37 + 1));
    auto text = base64::encode(bytes);
    CHECK(text.size() == (n + 2) / 3 * 4);
    CHECK(base64::decode(text) == bytes);
  }
  CHECK_FALSE(base64::decode("A"));
  CHECK_FALSE(base64::decode("AB="));  // incomplete padding
  CHECK_FALSE(base64::decode("A==="));
  CHECK(base64::decode("AB") == base64::decode("AB=="));
  CHECK_FALSE(base64::decode("AB*D"));
  CHECK_FALSE(base64::decode_words(Lines{"AQID"}));  // 3 bytes: not whole words
}

TEST_CASE("GetTableLayout: fields, row words, enum labels; old servers without ROW_WORDS") {
  auto t = drive(GetTableLayout{"SEQ1.TABLE"},
                 {"SEQ1.TABLE.FIELDS?\nSEQ1.TABLE.ROW_WORDS?\n", "*ENUMS.SEQ1.TABLE[].TRIGGER?\n"},
                 {"!15:0 REPEATS uint\n!19:16 TRIGGER enum\n!63:32 POSITION int\n.\nERR No such "
                  "attribute\n",
                  "!Immediate\n!BITA=0\n.\n"})
               .value();
  CHECK(t.row_words() == 2);
  CHECK(t.fields()[1].labels == Lines{"Immediate", "BITA=0"});
}

TEST_CASE("GetFieldList and GetFieldInfo ask each type for its attributes") {
  auto list = drive(GetFieldList{"PCOMP"}, {"PCOMP.*?\n"},
                    {"!START 3 param int\n!ENABLE 0 bit_mux\n!PULSES 6 param uint 4294967295\n.\n"})
                  .value();
  REQUIRE(list.size() == 3);
  CHECK(list[0].name == "ENABLE");
  CHECK(list[2].extra == Lines{"4294967295"});

  auto info =
      drive(GetFieldInfo{"PULSE"},
            {"PULSE.*?\n",
             "*DESC.PULSE.ENABLE?\n*ENUMS.PULSE.ENABLE?\nPULSE1.ENABLE.MAX_DELAY?\n"
             "*DESC.PULSE.WIDTH?\nPULSE1.WIDTH.UNITS?\n*ENUMS.PULSE.WIDTH.UNITS?\n"
             "*DESC.PULSE.OUT?\nPULSE1.OUT.CAPTURE_WORD?\nPULSE1.OUT.OFFSET?\n"
             "*DESC.PULSE.QUEUED?\nPULSE1.QUEUED.MAX?\n"},
            {"!ENABLE 0 bit_mux\n!WIDTH 2 time\n!OUT 5 bit_out\n!QUEUED 6 read uint 1023\n.\n",
             "OK =Enable input\n!ZERO\n!ONE\n.\nOK =31\n"
             "ERR No description\nOK =us\n!min\n!s\n!ms\n!us\n.\n"
             "OK =Output\nOK =PCAP.BITS1\nOK =12\n"
             "OK =Queue length\nOK =1023\n"})
          .value();
  REQUIRE(info.size() == 4);
  CHECK(info[0].description == "Enable input");
  CHECK(info[0].labels == Lines{"ZERO", "ONE"});
  CHECK(info[0].max_delay == 31U);
  CHECK(info[1].description.empty());
  CHECK(info[1].units == "us");
  CHECK(info[1].units_labels.size() == 4);
  CHECK(info[2].capture_word == "PCAP.BITS1");
  CHECK(info[2].bit_offset == 12U);
  CHECK(info[3].max == 1023U);

  auto pos =
      drive(
          GetFieldInfo{"INENC", false},
          {"INENC.*?\n",
           "INENC1.VAL.UNITS?\nINENC1.VAL.SCALE?\nINENC1.VAL.OFFSET?\n*ENUMS.INENC.VAL.CAPTURE?\n"},
          {"!VAL 30 pos_out\n.\n", "OK =deg\nOK =0.000125\nOK =0\n!No\n!Value\n.\n"})
          .value();
  CHECK(pos[0].scale == doctest::Approx(0.000125));
  CHECK(pos[0].units == "deg");
  CHECK(pos[0].capture_labels == Lines{"No", "Value"});

  auto bad = drive(GetFieldInfo{"INENC", false}, {},
                   {"!VAL 30 pos_out\n.\n", "OK =deg\nOK =big\nOK =0\n!No\n.\n"});
  CHECK(bad.error().command() == "INENC1.VAL.SCALE?");
}

TEST_CASE("GetFieldInfo: a table field with its layout and sub-field labels") {
  auto info =
      drive(GetFieldInfo{"SEQ", false},
            {"SEQ.*?\n", "SEQ1.TABLE.MAX_LENGTH?\nSEQ1.TABLE.FIELDS?\nSEQ1.TABLE.ROW_WORDS?\n",
             "*ENUMS.SEQ1.TABLE[].TRIGGER?\n"},
            {"!TABLE 12 table\n.\n",
             "OK =1048576\n!15:0 REPEATS uint\n!19:16 TRIGGER enum\n.\nOK =4\n", "!Immediate\n.\n"})
          .value();
  REQUIRE(info[0].table);
  CHECK(info[0].max_length == 1048576U);
  CHECK(info[0].table->row_words() == 4);
  CHECK(info[0].table->fields()[1].labels == Lines{"Immediate"});
}

TEST_CASE("design: parse, write back, the same text") {
  const std::string sav =
      "PCAP.TS_START.CAPTURE=Value\nPULSE1.DELAY.UNITS=us\nPCAP.TRIG=PULSE1.OUT\nPULSE1.DELAY=0.5\n"
      "SRGATE1.WHEN_DISABLED=Set output low\n*METADATA.LABEL_PULSE1=Camera exposure\n"
      "SEQ1.TABLE<B\nAQAQAAAAAABkAAAAyAAAAAEAIADoAwAALAEAAJABAAA=\n\nSEQ2.TABLE<B\n\n*METADATA."
      "YAML<\nkey: value\n\n";
  auto d = Design::parse(sav);
  REQUIRE(d.commands().size() == 9);
  CHECK(d.commands()[4].line == "SRGATE1.WHEN_DISABLED=Set output low");
  CHECK(d.commands()[6].data == Lines{"AQAQAAAAAABkAAAAyAAAAAEAIADoAwAALAEAAJABAAA="});
  CHECK(d.commands()[7].data.empty());
  CHECK(d.to_text() == sav);
  CHECK(Design::parse(d.to_text()) == d);
  CHECK(Design::target(d.commands()[6]) == "SEQ1.TABLE");
  CHECK_THROWS_WITH_AS((void)Design::parse("A.B=1\nPCAP.TRIG?\n"), doctest::Contains("line 2"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS((void)Design::parse("JUNK\n"), doctest::Contains("line 1"),
                       std::invalid_argument);
}

TEST_CASE("design: changes_to lists only what differs, tables by their words") {
  auto now = Design::parse("A.X=1\nA.Y=2\nB.Z=3\nT.TABLE<B\nAQAAAAIAAAA=\n\n");
  auto wanted =
      Design::parse("A.X=1\nA.Y=5\nB.Z=3\nC.W=7\nT.TABLE<B\nAQAAAA==\nAgAAAA==\n\nU.TABLE<B\n\n");
  auto diff = now.changes_to(wanted);
  REQUIRE(diff.size() == 3);
  CHECK(diff[0].line == "A.Y=5");
  CHECK(diff[1].line == "C.W=7");
  CHECK(diff[2].line == "U.TABLE<B");  // T.TABLE holds the same words, split differently
  CHECK(wanted.changes_to(wanted).empty());
}

TEST_CASE("design: a changed UNITS re-sends its time value, UNITS first") {
  // Issue 14 item 1: the device has PULSE3.WIDTH.UNITS=ms and the same text
  // 0.003, so only UNITS differs; changing UNITS keeps the ticks (reference
  // §1.6), so 0.003 must be written again after UNITS=s.
  auto now = Design::parse(
      "PULSE3.WIDTH.UNITS=ms\nPULSE1.DELAY.UNITS=us\nPULSE3.WIDTH=0.003\nPULSE1.DELAY=2\n");
  auto wanted = Design::parse(
      "PULSE3.WIDTH=0.003\nPULSE1.DELAY=2\nPULSE3.WIDTH.UNITS=s\nPULSE1.DELAY.UNITS=us\n");
  auto diff = now.changes_to(wanted);
  REQUIRE(diff.size() == 2);
  CHECK(diff[0].line ==
        "PULSE3.WIDTH.UNITS=s");                // before the value, although the file has it after
  CHECK(diff[1].line == "PULSE3.WIDTH=0.003");  // equal text, other units: sent again
  // A UNITS the device lacks altogether counts as changed too.
  auto diff2 = Design::parse("PULSE3.WIDTH=0.003\n").changes_to(wanted);
  REQUIRE(diff2.size() == 4);
  CHECK(diff2[0].line == "PULSE3.WIDTH.UNITS=s");
  CHECK(diff2[1].line == "PULSE1.DELAY.UNITS=us");
  CHECK(diff2[2].line == "PULSE3.WIDTH=0.003");
  CHECK(diff2[3].line == "PULSE1.DELAY=2");
  // Everything (pandactl load --all): the whole design, UNITS first.
  auto all = Design{}.changes_to(wanted);
  REQUIRE(all.size() == 4);
  // Read-only QUEUED_LINES, which *CHANGES.ATTR reports and a save holds, is not restored.
  CHECK(Design{}.changes_to(Design::parse("SEQ1.TABLE.QUEUED_LINES=0\nA.B=1\n")).size() == 1);
  CHECK(all[0].line == "PULSE3.WIDTH.UNITS=s");
  CHECK(all[3].line == "PULSE1.DELAY=2");
}

TEST_CASE("GetState reads ATTR, CONFIG, METADATA, then tables and multi-line metadata") {
  auto d =
      drive(GetState{},
            {"*CHANGES=S\n*CHANGES.ATTR?\n*CHANGES.CONFIG?\n*CHANGES.TABLE?\n*CHANGES.METADATA?\n",
             "SEQ1.TABLE.B?\n*METADATA.YAML?\n"},
            {"OK\n!PULSE1.DELAY.UNITS=us\n.\n!PULSE1.DELAY=0.5\n!INENC1.VAL "
             "(error)\n.\n!SEQ1.TABLE<\n.\n"
             "!*METADATA.DESIGN=fly\n!*METADATA.YAML<\n.\n",
             "!AQAQAAAAAABkAAAAyAAAAA==\n.\n!key: value\n.\n"})
          .value();
  CHECK(d.to_text() ==
        "PULSE1.DELAY.UNITS=us\nPULSE1.DELAY=0.5\n*METADATA.DESIGN=fly\n"
        "SEQ1.TABLE<B\nAQAQAAAAAABkAAAAyAAAAA==\n\n*METADATA.YAML<\nkey: value\n\n");
}

TEST_CASE("SetState sends everything pipelined and reports every refusal") {
  auto d = Design::parse("A.X=1\nA.Y=2\nT.TABLE<B\nAQAAAA==\n\n");
  auto r = drive(SetState{d}, {"A.X=1\nA.Y=2\nT.TABLE<B\nAQAAAA==\n\n"},
                 {"OK\nERR Number out of range\nOK\n"})
               .value();
  CHECK(r.sent == 3);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].command() == "A.Y=2");
  ControlConnection c;
  auto t = c.send(SetState{Design{}});
  CHECK_FALSE(c.has_output());
  CHECK(c.take_result(t).value().sent == 0);
}
