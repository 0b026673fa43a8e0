// PandA simulator: field kinds, values and attributes through the control
// connection, with literal request bytes and literal expected replies.
#include <string>
#include <string_view>

#include <doctest/doctest.h>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/lut.hpp"
#include "sim/panda/model.hpp"
#include "sim/panda/time_units.hpp"
#include "sim_test_util.hpp"

namespace {

using pandafly::sim::PandaControlConnection;
using pandafly::sim::PandaModel;

using pandafly::sim::test::Panda;

}  // namespace

TEST_CASE("system identity and echo") {
  Panda p;
  CHECK(p("*IDN?\n") ==
        "OK =PandA SW: 4.1 FPGA: 0.1.17 00000000 00000000 rootfs: pandafly simulator\n");
  CHECK(p("*ECHO hello world?\n") == "OK =hello world\n");
  CHECK(p("*ECHO?\n") == "ERR Character ' ' expected\n");
  CHECK(p("*IDN?x\n") == "ERR Unexpected text after command\n");
  CHECK(p("*x?\n") == "ERR Unknown command\n");
  CHECK(p("*CLOCK_FREQ?\n") == "OK =125000000\n");
  CHECK(p("*VERBOSE=1\n") == "OK\n");
  CHECK(p("*SAVESTATE=\n") == "OK\n");
  CHECK(p("*IDN=1\n") == "ERR Command not writeable\n");
}

TEST_CASE("block and field listings") {
  Panda p;
  std::string blocks = p("*BLOCKS?\n");
  CHECK(blocks.starts_with("!TTLIN 6\n!TTLOUT 10\n!LVDSIN 2\n!LVDSOUT 2\n!INENC 4\n!PCAP 1\n"));
  CHECK(blocks.find("!SEQ 2\n") != std::string::npos);
  CHECK(blocks.find("!PCOMP 2\n") != std::string::npos);
  CHECK(blocks.ends_with("!SYSTEM 1\n.\n"));
  CHECK(p("TTLIN.*?\n") == "!TERM 0 param enum\n!VAL 1 bit_out\n.\n");
  CHECK(p("CLOCK.*?\n") ==
        "!ENABLE 0 bit_mux\n!PERIOD 1 param time\n!WIDTH 2 param time\n!OUT 3 bit_out\n.\n");
  std::string pcap = p("PCAP.*?\n");
  CHECK(pcap.find("!TS_TRIG 8 ext_out timestamp\n") != std::string::npos);
  CHECK(pcap.find("!GATE_DURATION 9 ext_out samples\n") != std::string::npos);
  CHECK(pcap.find("!BITS0 10 ext_out bits\n") != std::string::npos);
  CHECK(p("PULSE1.DELAY.INFO?\n") == "OK =time\n");
  CHECK(p("PULSE1.QUEUED.INFO?\n") == "OK =read uint\n");
  CHECK(p("INENC1.SETP.INFO?\n") == "OK =write int\n");
  CHECK(p("SEQ1.TABLE.INFO?\n") == "OK =table\n");
  CHECK(p("TTLIN.VAL.*?\n") == "!CAPTURE_WORD\n!OFFSET\n!INFO\n.\n");
  CHECK(p("INENC1.VAL.*?\n") == "!CAPTURE\n!OFFSET\n!SCALE\n!UNITS\n!SCALED\n!INFO\n.\n");
  CHECK(p("*DESC.PCOMP?\n") == "OK =Position compare pulse train\n");
  CHECK(p("*DESC.PCOMP.START?\n") == "OK =Position of the first rising edge\n");
  CHECK(p("*DESC.TTLIN.TERM.INFO?\n") == "OK =Class information for field\n");
}

TEST_CASE("entity name errors use the server's words") {
  Panda p;
  CHECK(p("x\n") == "ERR Unknown command\n");
  CHECK(p("?\n") == "ERR No name found\n");
  CHECK(p("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx?\n") == "ERR Name too long\n");
  CHECK(p("x?\n") == "ERR No such block\n");
  CHECK(p("TTLIN?\n") == "ERR Missing field name\n");
  CHECK(p("TTLIN23?\n") == "ERR Invalid block number\n");
  CHECK(p("TTLOUT0.VAL?\n") == "ERR Invalid block number\n");
  CHECK(p("TTLIN2.x?\n") == "ERR No such field\n");
  CHECK(p("TTLIN.VAL?\n") == "ERR Missing block number\n");
  CHECK(p("TTLIN.VAL.?\n") == "ERR Missing block number\n");
  CHECK(p("TTLIN1.VAL.?\n") == "ERR No name found\n");
  CHECK(p("TTLIN1.TERM.RAW?\n") == "ERR No such attribute\n");
  CHECK(p("TTLIN2.VAL=0\n") == "ERR Field not writeable\n");
  CHECK(p("TTLIN.*=\n") == "ERR Field not writeable\n");
  CHECK(p("PCAP.TS_START?\n") == "ERR Field not readable\n");
  CHECK(p("PCAP.TRIG?\n") == "OK =ZERO\n");  // single instance: number optional
  CHECK(p("PCAP1.TRIG?\n") == "OK =ZERO\n");
}

TEST_CASE("param uint, int, bit, enum and action fields") {
  Panda p;
  CHECK(p("INENC3.BITS=33\nINENC3.BITS?\n") == "OK\nOK =33\n");
  CHECK(p("INENC3.BITS=64\n") == "ERR Number out of range\n");
  CHECK(p("INENC3.BITS=x\n") == "ERR Number missing\n");
  CHECK(p("INENC3.BITS=0x20\nINENC3.BITS?\n") == "OK\nOK =32\n");
  CHECK(p("INENC1.BITS.MAX?\n") == "OK =63\n");
  CHECK(p("PCOMP1.PULSES.MAX?\n") == "OK =4294967295\n");
  CHECK(p("PCOMP1.START=-2000\nPCOMP1.START?\n") == "OK\nOK =-2000\n");
  // int wraps to 32 bits as the server does (it reads a 64-bit long).
  CHECK(p("PCOMP1.START=2147483648\nPCOMP1.START?\n") == "OK\nOK =-2147483648\n");
  CHECK(p("INENC1.SETP=4294967295\n") == "OK\n");
  CHECK(p("PCOMP1.START=99999999999999999999\n") == "ERR Number out of range\n");
  CHECK(p("PCOMP1.START=12abc\n") == "ERR Unexpected character after input\n");
  CHECK(p("BITS.A=1\nBITS.A?\n") == "OK\nOK =1\n");
  CHECK(p("BITS.A=2\n") == "ERR Invalid bit value\n");
  CHECK(p("TTLIN2.TERM?\n") == "OK =High-Z\n");
  CHECK(p("TTLIN2.TERM=50-Ohm\nTTLIN2.TERM?\n") == "OK\nOK =50-Ohm\n");
  CHECK(p("TTLIN2.TERM=blah\n") == "ERR Invalid enumeration value\n");
  CHECK(p("*ENUMS.TTLIN2.TERM?\n") == "!High-Z\n!50-Ohm\n.\n");
  CHECK(p("*ENUMS.PCOMP1.START?\n") == "ERR Field is not an enumeration\n");
  CHECK(p("SRGATE1.FORCE_SET=\n") == "OK\n");
  CHECK(p("SRGATE1.FORCE_SET?\n") == "ERR Field not readable\n");
  CHECK(p("INENC1.SETP=23\n") == "OK\n");
  CHECK(p("PCOMP1.STATE?\nPCOMP1.PRODUCED?\n") == "OK =WAIT_ENABLE\nOK =0\n");
  CHECK(p("PCOMP1.PRODUCED=3\n") == "ERR Field not writeable\n");
  CHECK(p("SYSTEM.TEMP_ZYNQ.UNITS?\nSYSTEM.TEMP_ZYNQ.SCALE?\n") == "OK =deg\nOK =0.001\n");
}

TEST_CASE("time fields: units, rounding to ticks, range") {
  Panda p;
  CHECK(p("PULSE1.DELAY?\nPULSE1.DELAY.UNITS?\n") == "OK =0\nOK =s\n");
  CHECK(p("PULSE1.DELAY.UNITS=us\n") == "OK\n");
  CHECK(p("PULSE1.DELAY=2.5\nPULSE1.DELAY.RAW?\nPULSE1.DELAY?\n") == "OK\nOK =313\nOK =2.504\n");
  // Changing UNITS keeps the ticks.
  CHECK(p("PULSE1.DELAY.UNITS=ms\nPULSE1.DELAY?\nPULSE1.DELAY.RAW?\n") ==
        "OK\nOK =0.002504\nOK =313\n");
  CHECK(p("PULSE1.DELAY.UNITS=s\nPULSE1.DELAY=10\nPULSE1.DELAY.UNITS=ms\nPULSE1.DELAY?\n") ==
        "OK\nOK\nOK\nOK =10000\n");
  CHECK(p("PULSE1.DELAY.UNITS=s\nPULSE1.DELAY=2251799\nPULSE1.DELAY?\n") ==
        "OK\nOK\nOK =2251799\n");
  CHECK(p("PULSE1.DELAY=2251800\n") == "ERR Time setting out of range\n");
  CHECK(p("PULSE1.DELAY=-1\n") == "ERR Time setting out of range\n");
  CHECK(p("PULSE1.DELAY=1e99\n") == "ERR Time setting out of range\n");
  CHECK(p("PULSE1.DELAY.UNITS=h\n") == "ERR Invalid time units\n");
  CHECK(p("PULSE1.DELAY.RAW=-1\nPULSE1.DELAY.RAW?\n") == "OK\nOK =4294967295\n");
  CHECK(p("PULSE1.DELAY.RAW=125\nPULSE1.DELAY.UNITS=us\nPULSE1.DELAY?\n") == "OK\nOK\nOK =1\n");
  CHECK(p("PULSE1.DELAY.RAW=281474976710656\n") == "ERR Number out of range\n");
  CHECK(p("CLOCK1.PERIOD.INFO?\nCLOCK1.PERIOD.UNITS?\n") == "OK =param time\nOK =s\n");
  CHECK(p("*ENUMS.PULSE1.DELAY.UNITS?\n") == "!min\n!s\n!ms\n!us\n.\n");
}

TEST_CASE("time unit conversion functions") {
  using pandafly::sim::TimeUnit;
  CHECK(pandafly::sim::time_to_ticks("2.5", TimeUnit::us).value() == 313);
  CHECK(pandafly::sim::time_to_ticks("1", TimeUnit::min).value() == 7'500'000'000u);
  CHECK(pandafly::sim::ticks_to_time(313, TimeUnit::us) == "2.504");
  CHECK(pandafly::sim::time_to_ticks("x", TimeUnit::s).error() == "Number missing");
}

TEST_CASE("LUT expressions") {
  Panda p;
  CHECK(p("LUT1.FUNC=A&B|C\nLUT1.FUNC.RAW?\nLUT1.FUNC?\n") == "OK\nOK =0xFFF0F0F0\nOK =A&B|C\n");
  CHECK(p("LUT1.FUNC=0x123\nLUT1.FUNC?\nLUT1.FUNC.RAW?\n") == "OK\nOK =0x123\nOK =0x00000123\n");
  CHECK(p("LUT1.FUNC=A&F\n") == "ERR Invalid token\n");
  CHECK(p("LUT1.FUNC?\n") == "OK =0x123\n");  // unchanged by the failed write
  using pandafly::sim::compile_lut;
  CHECK(compile_lut("A").value() == 0xFFFF0000u);
  CHECK(compile_lut("D").value() == 0xCCCCCCCCu);
  CHECK(compile_lut("E").value() == 0xAAAAAAAAu);
  CHECK(compile_lut("~A").value() == 0x0000FFFFu);
  CHECK(compile_lut("A^B").value() == 0x00FFFF00u);
  CHECK(compile_lut("A=B").value() == 0xFF0000FFu);
  CHECK(compile_lut("A=>B").value() == 0xFF00FFFFu);
  CHECK(compile_lut("A?B:C").value() == 0xFF00F0F0u);
  CHECK(compile_lut("(A|B)&C").value() == 0xF0F0F000u);
  CHECK(compile_lut("A|B&C").value() == 0xFFFFF000u);
  CHECK_FALSE(compile_lut("A&").ok());
  CHECK_FALSE(compile_lut("(A").ok());
  CHECK_FALSE(compile_lut("").ok());
}

TEST_CASE("bit_mux, pos_mux, bit_out and pos_out") {
  Panda p;
  CHECK(p("TTLOUT1.VAL?\n") == "OK =ZERO\n");
  CHECK(p("TTLOUT1.VAL=PULSE1.OUT\nTTLOUT1.VAL?\n") == "OK\nOK =PULSE1.OUT\n");
  CHECK(p("TTLOUT1.VAL=ONE\n") == "OK\n");
  CHECK(p("TTLOUT1.VAL=PULSE9.OUT\n") == "ERR Invalid bit bus selection\n");
  CHECK(p("TTLOUT1.VAL=INENC1.VAL\n") == "ERR Invalid bit bus selection\n");
  CHECK(p("TTLOUT1.VAL.MAX_DELAY?\nTTLOUT1.VAL.DELAY=5\nTTLOUT1.VAL.DELAY?\n") ==
        "OK =31\nOK\nOK =5\n");
  CHECK(p("TTLOUT1.VAL.DELAY=32\n") == "ERR Delay too long\n");
  std::string bit_enums = p("*ENUMS.TTLOUT1.VAL?\n");
  CHECK(bit_enums.starts_with("!ZERO\n!ONE\n!TTLIN1.VAL\n"));
  CHECK(bit_enums.find("!PCOMP2.ACTIVE\n") != std::string::npos);
  CHECK(p("PCOMP1.INP?\nPCOMP1.INP=INENC1.VAL\nPCOMP1.INP?\n") == "OK =ZERO\nOK\nOK =INENC1.VAL\n");
  CHECK(p("PCOMP1.INP=PULSE1.OUT\n") == "ERR Invalid position selection\n");
  CHECK(p("*ENUMS.PCOMP1.INP?\n").starts_with("!ZERO\n!INENC1.VAL\n!INENC2.VAL\n"));
  CHECK(p("TTLIN1.VAL?\nTTLIN1.VAL.CAPTURE_WORD?\nTTLIN1.VAL.OFFSET?\n") ==
        "OK =0\nOK =PCAP.BITS0\nOK =0\n");
  CHECK(p("PULSE1.OUT.CAPTURE_WORD?\nPULSE1.OUT.OFFSET?\n") == "OK =PCAP.BITS1\nOK =27\n");
  CHECK(p("INENC1.VAL?\nINENC1.VAL.SCALE?\nINENC1.VAL.OFFSET?\nINENC1.VAL.UNITS?\n") ==
        "OK =0\nOK =1\nOK =0\nOK =\n");
  CHECK(p("INENC1.VAL.SCALE=0.1\nINENC1.VAL.OFFSET=100.3\nINENC1.VAL.SCALED?\n") ==
        "OK\nOK\nOK =100.3\n");
  CHECK(p("INENC1.VAL.UNITS=deg\nINENC1.VAL.UNITS?\n") == "OK\nOK =deg\n");
  CHECK(p("INENC1.VAL.SCALED=1\n") == "ERR Attribute not writeable\n");
  CHECK(p("INENC1.VAL.INFO=1\n") == "ERR Attribute not writeable\n");
  p.model.set_position("INENC1.VAL", 1000);
  p.model.set_bit("TTLIN1.VAL", true);
  CHECK(p("INENC1.VAL?\nINENC1.VAL.SCALED?\nTTLIN1.VAL?\n") == "OK =1000\nOK =200.3\nOK =1\n");
  std::string bits0 = p("PCAP.BITS0.BITS?\n");
  CHECK(bits0.starts_with("!TTLIN1.VAL\n!TTLIN2.VAL\n"));
  std::string unused_word;  // 83 bit_outs: word 3 (bits 96..127) has no names
  for (int i = 0; i < 32; ++i) unused_word += "!\n";
  CHECK(p("PCAP.BITS3.BITS?\n") == unused_word + ".\n");
}

TEST_CASE("capture options") {
  Panda p;
  CHECK(p("*CAPTURE?\n") == ".\n");
  CHECK(p("*PCAP.ARM=\n") == "ERR Nothing configured for capture\n");
  CHECK(p("INENC1.VAL.CAPTURE=Mean Min Max\nINENC1.VAL.CAPTURE?\n") == "OK\nOK =Min Max Mean\n");
  CHECK(p("INENC1.VAL.CAPTURE=Bogus\n") == "ERR Unknown capture option \"Bogus\"\n");
  CHECK(p("PCAP.BITS0.CAPTURE=1\nPCAP.BITS0.CAPTURE=Value\n") ==
        "ERR Invalid capture option\nOK\n");
  CHECK(p("*ENUMS.PCAP.BITS0.CAPTURE?\n") == "!No\n!Value\n.\n");
  CHECK(p("*CAPTURE?\n") == "!INENC1.VAL Min Max Mean\n!PCAP.BITS0 Value\n.\n");
  CHECK(p("*CAPTURE.OPTIONS?\n") == "!Value\n!Diff\n!Sum\n!Min\n!Max\n!Mean\n!StdDev\n.\n");
  CHECK(p("*CAPTURE.ENUMS?\n") ==
        "!No\n!Value\n!Diff\n!Sum\n!Mean\n!Min\n!Max\n!Min Max\n!Min Max Mean\n!StdDev\n"
        "!Mean StdDev\n.\n");
  std::string all = p("*CAPTURE.*?\n");
  CHECK(all.starts_with("!INENC1.VAL\n"));
  CHECK(all.find("!PCAP.TS_TRIG\n") != std::string::npos);
  CHECK(p("*CAPTURE=\n*CAPTURE?\n") == "OK\n.\n");
}

TEST_CASE("position capture arm and disarm") {
  Panda p;
  CHECK(p("*PCAP.STATUS?\n*PCAP.CAPTURED?\n*PCAP.COMPLETION?\n") ==
        "OK =Idle 0 0\nOK =0\nOK =Ok\n");
  CHECK(p("PCAP.TS_TRIG.CAPTURE=Value\n*PCAP.ARM=\n") == "OK\nOK\n");
  CHECK(p("*PCAP.ARM=\n") == "ERR Data capture already in progress\n");
  CHECK(p("*PCAP.STATUS?\n*PCAP.COMPLETION?\n") == "OK =Busy 0 0\nOK =Busy\n");
  CHECK(p("*PCAP.DISARM=\n*PCAP.STATUS?\n*PCAP.COMPLETION?\n") ==
        "OK\nOK =Idle 0 0\nOK =Disarmed\n");
  CHECK(p("*PCAP.BOGUS?\n") == "ERR Invalid *PCAP field\n");
}

TEST_CASE("metadata") {
  Panda p;
  std::string keys = p("*METADATA.*?\n");
  CHECK(keys.starts_with("!DESIGN\n!LAYOUT\n!YAML\n!LABEL_TTLIN1\n"));
  CHECK(keys.find("!LABEL_PCAP\n") != std::string::npos);
  CHECK(p("*METADATA.DESIGN?\n") == "OK =\n");
  CHECK(p("*METADATA.DESIGN=fly scan\n*METADATA.DESIGN?\n") == "OK\nOK =fly scan\n");
  CHECK(p("*METADATA.LABEL_PULSE1=Camera exposure\n*METADATA.LABEL_PULSE1?\n") ==
        "OK\nOK =Camera exposure\n");
  CHECK(p("*METADATA.YAML<\na: 1\nb: 2\n\n*METADATA.YAML?\n") == "OK\n!a: 1\n!b: 2\n.\n");
  CHECK(p("*METADATA.YAML=x\n") == "ERR Cannot write to this field\n");
  CHECK(p("*METADATA.DESIGN<\nx\n\n") == "ERR Not a multi-line field\n");
  CHECK(p("*METADATA.NOPE?\n") == "ERR Metadata key NOPE not found\n");
  CHECK(p("*IDN<\n123\n\n") == "ERR Not a table\n");
}
