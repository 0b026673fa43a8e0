// Every command of the control grammar: the bytes it sends and what it makes
// of literal replies (reference §1). Driven through a ControlConnection.
#include <doctest/doctest.h>

#include "panda_test_util.hpp"
#include "pandafly/panda/changes.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/table_commands.hpp"

using namespace pandafly::panda;
using pandafly::panda::test::drive;
using Lines = std::vector<std::string>;

TEST_CASE("Get: a single value or a list, whichever comes") {
  CHECK(std::get<std::string>(
            drive(Get{"PCAP.TRIG"}, {"PCAP.TRIG?\n"}, {"OK =PULSE1.OUT\n"}).value()) ==
        "PULSE1.OUT");
  CHECK(std::get<Lines>(drive(Get{"SEQ1.TABLE"}, {"SEQ1.TABLE?\n"}, {"!1\n!2\n.\n"}).value()) ==
        Lines{"1", "2"});
  CHECK(drive(GetLine{"PULSE1.WIDTH"}, {"PULSE1.WIDTH?\n"}, {"OK =\n"}).value().empty());
  CHECK(
      drive(GetMultiline{"*ENUMS.PCOMP1.DIR"}, {"*ENUMS.PCOMP1.DIR?\n"}, {".\n"}).value().empty());
}

TEST_CASE("Put: a value, an empty value, multi-line") {
  CHECK(drive(Put{"PULSE1.WIDTH", "1.5"}, {"PULSE1.WIDTH=1.5\n"}, {"OK\n"}).ok());
  CHECK(drive(Put{"PULSE1.FORCE_RESET", ""}, {"PULSE1.FORCE_RESET=\n"}, {"OK\n"}).ok());
  CHECK(drive(Put{"*METADATA.LABEL_PULSE1", "Camera exposure"},
              {"*METADATA.LABEL_PULSE1=Camera exposure\n"}, {"OK\n"})
            .ok());
  CHECK(drive(Put{"*METADATA.YAML", Lines{"a: 1", "b: 2"}}, {"*METADATA.YAML<\na: 1\nb: 2\n\n"},
              {"OK\n"})
            .ok());
  auto e = drive(Put{"PCOMP1.DIR", "Sideways"}, {}, {"ERR Invalid enumeration value\n"}).error();
  CHECK(e.command() == "PCOMP1.DIR=Sideways");
  CHECK(e.message() == "Invalid enumeration value");
}

TEST_CASE("Raw: any reply comes back as it is, ERR included") {
  auto r = drive(Raw{"BOGUS"}, {"BOGUS\n"}, {"ERR Unknown command\n"}).value();
  CHECK(r.kind == Reply::Kind::error);
  CHECK(r.text == "Unknown command");
  CHECK(
      drive(Raw{"SEQ1.TABLE<", {"1 2 3 4"}}, {"SEQ1.TABLE<\n1 2 3 4\n\n"}, {"OK\n"}).value().kind ==
      Reply::Kind::ok);
}

TEST_CASE("Arm and Disarm") {
  CHECK(drive(Arm{}, {"*PCAP.ARM=\n"}, {"OK\n"}).ok());
  CHECK(drive(Disarm{}, {"*PCAP.DISARM=\n"}, {"OK\n"}).ok());
  CHECK(drive(Arm{}, {}, {"ERR Data clients still taking data\n"}).error().message() ==
        "Data clients still taking data");
}

TEST_CASE("Identify parses the *IDN? answer and the API version") {
  auto id = drive(Identify{}, {"*IDN?\n"},
                  {"OK =PandA SW: 4.1 FPGA: 0.1.17 00000222 00000333 rootfs: Test Server\n"})
                .value();
  CHECK(id.sw == "4.1");
  CHECK(id.fpga == "0.1.17 00000222 00000333");
  CHECK(id.rootfs == "Test Server");
  CHECK(id.api_major == 4);
  CHECK(id.api_minor == 1);
  auto git =
      drive(Identify{}, {},
            {"OK =PandA SW: 3.0-12-gabcdef FPGA: 0.1.9 d1275f61 00000000 rootfs: PandA 2.1\n"})
          .value();
  CHECK(git.api_major == 3);
  CHECK(git.api_minor == 0);
  CHECK(drive(Identify{}, {}, {"OK =something else\n"}).error().code() == Errc::malformed_reply);
}

TEST_CASE("Echo, Who, Describe, GetEnums") {
  CHECK(drive(Echo{"hello"}, {"*ECHO hello?\n"}, {"OK =hello\n"}).value() == "hello");
  auto who = drive(Who{}, {"*WHO?\n"},
                   {"!2026-01-15T10:00:00.123Z config 127.0.0.1:40000 \n!2026-01-15T10:00:01.5Z "
                    "data 127.0.0.1:40002 \n.\n"})
                 .value();
  REQUIRE(who.size() == 2);
  CHECK(who[0].kind == "config");
  CHECK(who[1].address == "127.0.0.1:40002");
  CHECK(drive(Describe{"PCOMP"}, {"*DESC.PCOMP?\n"}, {"OK =Position compare\n"}).value() ==
        "Position compare");
  CHECK(
      drive(Describe{"SEQ1.TABLE[].TRIGGER"}, {"*DESC.SEQ1.TABLE[].TRIGGER?\n"}, {"OK =x\n"}).ok());
  CHECK(drive(GetEnums{"PCOMP1.DIR"}, {"*ENUMS.PCOMP1.DIR?\n"},
              {"!Positive\n!Negative\n!Either\n.\n"})
            .value() == Lines{"Positive", "Negative", "Either"});
}

TEST_CASE("capture queries") {
  auto cap =
      drive(GetCapture{}, {"*CAPTURE?\n"}, {"!PCAP.BITS0 Value\n!INENC1.VAL Min Max Mean\n.\n"})
          .value();
  CHECK(cap ==
        std::vector<CaptureSetting>{{"PCAP.BITS0", "Value"}, {"INENC1.VAL", "Min Max Mean"}});
  CHECK(drive(GetListing{Listing::capturable}, {"*CAPTURE.*?\n"}, {"!INENC1.VAL\n.\n"}).ok());
  CHECK(drive(GetListing{Listing::capture_options}, {"*CAPTURE.OPTIONS?\n"}, {"!Value\n!Diff\n.\n"})
            .value()
            .size() == 2);
  CHECK(
      drive(GetListing{Listing::capture_enums}, {"*CAPTURE.ENUMS?\n"}, {"!No\n!Value\n.\n"}).ok());
  CHECK(drive(GetListing{Listing::positions}, {"*POSITIONS?\n"}, {"!ZERO\n.\n"}).ok());
  CHECK(drive(GetListing{Listing::bits}, {"*BITS?\n"}, {"!TTLIN1.VAL\n.\n"}).ok());
  CHECK(drive(GetListing{Listing::metadata_keys}, {"*METADATA.*?\n"}, {"!DESIGN\n!YAML\n.\n"})
            .value()
            .size() == 2);
  CHECK(drive(ClearCapture{}, {"*CAPTURE=\n"}, {"OK\n"}).ok());
  CHECK(drive(GetCapture{}, {}, {"!nospace\n.\n"}).error().code() == Errc::malformed_reply);
}

TEST_CASE("*PCAP status queries and *CLOCK_FREQ") {
  auto st = drive(GetPcapStatus{}, {"*PCAP.STATUS?\n"}, {"OK =Busy 1 1\n"}).value();
  CHECK(st.state == "Busy");
  CHECK(st.data_readers == 1);
  CHECK(st.taking_data == 1);
  CHECK(drive(GetPcapStatus{}, {}, {"OK =Idle\n"}).error().code() == Errc::malformed_reply);
  CHECK(drive(GetCounter{Counter::captured}, {"*PCAP.CAPTURED?\n"}, {"OK =1800\n"}).value() ==
        1800);
  CHECK(drive(GetCounter{Counter::clock_frequency}, {"*CLOCK_FREQ?\n"}, {"OK =125000000\n"})
            .value() == 125000000);
  CHECK(drive(GetCounter{Counter::captured}, {}, {"OK =12x\n"}).error().code() ==
        Errc::malformed_reply);
  CHECK(drive(GetPcapCompletion{}, {"*PCAP.COMPLETION?\n"}, {"OK =Framing error\n"}).value() ==
        "Framing error");
}

TEST_CASE("*CHANGES: values, multi-line markers, errors, fetching multi-line values") {
  auto ch = drive(GetChanges{ChangeGroup::config}, {"*CHANGES.CONFIG?\n"},
                  {"!PULSE1.WIDTH=1.5\n!COUNTER1.OUT.CAPTURE=Min Max "
                   "Mean\n!SEQ1.TABLE<\n!INENC1.VAL (error)\n"
                   "!PCOMP1.START=\n.\n"})
                .value();
  CHECK(ch.values ==
        std::vector<std::pair<std::string, std::string>>{{"PULSE1.WIDTH", "1.5"},
                                                         {"COUNTER1.OUT.CAPTURE", "Min Max Mean"},
                                                         {"PCOMP1.START", ""}});
  CHECK(ch.multiline == Lines{"SEQ1.TABLE"});
  CHECK(ch.in_error == Lines{"INENC1.VAL"});
  auto fetched =
      drive(GetChanges{ChangeGroup::all, true}, {"*CHANGES?\n", "SEQ1.TABLE?\n*METADATA.YAML?\n"},
            {"!SEQ1.TABLE<\n!*METADATA.YAML<\n.\n", "!1\n!2\n.\n!a: 1\n.\n"})
          .value();
  REQUIRE(fetched.multiline_values.size() == 2);
  CHECK(fetched.multiline_values[0].second == Lines{"1", "2"});
  CHECK(fetched.multiline_values[1].first == "*METADATA.YAML");
  for (auto g : {ChangeGroup::bits, ChangeGroup::posn, ChangeGroup::read, ChangeGroup::attr,
                 ChangeGroup::table, ChangeGroup::metadata}) {
    const std::string want = "*CHANGES" + std::string(group_suffix(g)) + "?\n";
    CHECK(drive(GetChanges{g}, {want}, {".\n"}).ok());
  }
  CHECK(drive(GetChanges{}, {}, {"!what is this\n.\n"}).error().code() == Errc::malformed_reply);
  CHECK(drive(ResetChanges{}, {"*CHANGES=\n"}, {"OK\n"}).ok());
  CHECK(drive(ResetChanges{ChangeGroup::bits, ChangeReset::report_all}, {"*CHANGES.BITS=S\n"},
              {"OK\n"})
            .ok());
  CHECK(parse_group("posn") == ChangeGroup::posn);
  CHECK_THROWS_AS((void)parse_group("nope"), std::invalid_argument);
}

TEST_CASE("tables: put in every mode and encoding, get both ways") {
  const std::vector<std::uint32_t> words{1507338U, 4294965296U, 50U, 50U};
  CHECK(
      drive(TablePut{"SEQ1.TABLE", words}, {"SEQ1.TABLE<B\nCgAXADD4//8yAAAAMgAAAA==\n\n"}, {"OK\n"})
          .ok());
  CHECK(drive(TablePut{"SEQ1.TABLE", words, TableMode::replace, TableEncoding::ascii},
              {"SEQ1.TABLE<\n1507338 4294965296 50 50\n\n"}, {"OK\n"})
            .ok());
  CHECK(drive(TablePut{"SEQ1.TABLE", words, TableMode::append},
              {"SEQ1.TABLE<<B\nCgAXADD4//8yAAAAMgAAAA==\n\n"}, {"OK\n"})
            .ok());
  CHECK(drive(TablePut{"SEQ1.TABLE", words, TableMode::append_last, TableEncoding::ascii},
              {"SEQ1.TABLE<<|\n1507338 4294965296 50 50\n\n"}, {"OK\n"})
            .ok());
  CHECK(drive(TablePut{"SEQ1.TABLE", {}}, {"SEQ1.TABLE<B\n\n"}, {"OK\n"}).ok());
  CHECK(drive(TablePut{"SEQ1.TABLE", words, TableMode::append}, {},
              {"ERR Table do not support streaming mode\n"})
            .error()
            .message() == "Table do not support streaming mode");
  // a long table stays within the line limit: 48 bytes (64 characters) per line
  std::vector<std::uint32_t> many(4000, 0xFFFFFFFFU);
  ControlConnection c;
  auto t = c.send(TablePut{"SEQ1.TABLE", many});
  const auto out = c.take_output();
  CHECK(out.size() > 4000 * 4);
  std::size_t longest = 0;
  for (std::size_t i = 0, j; i < out.size(); i = j + 1) {
    j = out.find('\n', i);
    longest = std::max(longest, j - i);
  }
  CHECK(longest == 64);
  (void)c.receive("OK\n");
  CHECK(c.take_result(t).ok());

  CHECK(drive(TableGet{"SEQ1.TABLE"}, {"SEQ1.TABLE.B?\n"},
              {"!AQAQAAAAAABkAAAAyAAAAAEAIADoAwAALAEAAJABAAA=\n.\n"})
            .value() == std::vector<std::uint32_t>{1048577, 0, 100, 200, 2097153, 1000, 300, 400});
  CHECK(
      drive(TableGet{"SEQ1.TABLE", TableEncoding::ascii}, {"SEQ1.TABLE?\n"}, {"!1048577\n!0\n.\n"})
          .value() == std::vector<std::uint32_t>{1048577, 0});
  CHECK(drive(TableGet{"SEQ1.TABLE"}, {}, {"!AQA\n.\n"}).error().code() == Errc::malformed_reply);
  CHECK(drive(TableGet{"SEQ1.TABLE", TableEncoding::ascii}, {}, {"!4294967296\n.\n"})
            .error()
            .code() == Errc::malformed_reply);
}
