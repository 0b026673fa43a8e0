// scan::fly_panda_fields: the scan-dependent fields of panda/flyscan.sav,
// checked against values worked out by hand from the geometry.
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "pandafly/scan/panda_fields.hpp"

using pandafly::scan::fly_panda_fields;
using pandafly::scan::FlyPandaWiring;
using pandafly::scan::PandaFields;
using pandafly::scan::TriggerGeometry;

namespace {

// 0..18 deg in 0.1 deg steps with a 10 000 counts/deg encoder: 181 triggers
// 1000 counts apart from count 0; 10 ms exposures every 12 ms.
TriggerGeometry forward() {
  TriggerGeometry g;
  g.first_counts = 0;
  g.step_counts = 1000;
  g.pulses = 181;
  g.pre_start_counts = 100;
  g.exposure_s = 0.01;
  g.frame_time_s = 0.012;
  g.counts_per_degree = 10000;
  g.offset_counts = 0;
  return g;
}

std::string message_of(const TriggerGeometry& g) {
  try {
    (void)fly_panda_fields(g);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("fly_panda_fields: a forward scan's fields, in put order, as worked out by hand") {
  const PandaFields want{
      {"INENC1.VAL.SCALE", "0.0001"},  // 1 / 10 000 counts per degree
      {"INENC1.VAL.OFFSET", "0"},     {"INENC1.VAL.UNITS", "deg"},
      {"PCOMP1.PRE_START", "100"},    {"PCOMP1.START", "0"},
      {"PCOMP1.STEP", "1000"},        {"PCOMP1.WIDTH", "500"},  // half the step
      {"PCOMP1.PULSES", "181"},       {"PCOMP1.DIR", "Positive"},
      {"PULSE1.WIDTH.UNITS", "s"},  // before the value it scales
      {"PULSE1.WIDTH", "0.01"},
  };
  CHECK(fly_panda_fields(forward()) == want);
}

TEST_CASE("fly_panda_fields: a backward scan with an encoder offset, other blocks") {
  // 3600 counts/deg, 0 deg at count 1800; 90 → 0 deg in 1 deg steps: trigger k
  // at 90·3600 + 1800 − 3600·k = 325 800 − 3600·k, 91 triggers.
  TriggerGeometry g;
  g.first_counts = 325'800;
  g.step_counts = -3600;
  g.pulses = 91;
  g.pre_start_counts = 7;
  g.exposure_s = 0.0025;
  g.frame_time_s = 0.003;
  g.counts_per_degree = 3600;
  g.offset_counts = 1800;
  const FlyPandaWiring w{"INENC3", "PCOMP2", "PULSE4"};
  const PandaFields want{
      {"INENC3.VAL.SCALE", "0.0002777777777777778"},  // 1/3600, shortest round trip
      {"INENC3.VAL.OFFSET", "-0.5"},                  // −1800/3600
      {"INENC3.VAL.UNITS", "deg"},
      {"PCOMP2.PRE_START", "7"},
      {"PCOMP2.START", "325800"},
      {"PCOMP2.STEP", "3600"},  // a magnitude: DIR gives the sense
      {"PCOMP2.WIDTH", "1800"},
      {"PCOMP2.PULSES", "91"},
      {"PCOMP2.DIR", "Negative"},
      {"PULSE4.WIDTH.UNITS", "s"},
      {"PULSE4.WIDTH", "0.0025"},
  };
  CHECK(fly_panda_fields(g, w) == want);
  CHECK(std::stod(fly_panda_fields(g, w)[0].second) == 1.0 / 3600);  // reads back exactly
}

TEST_CASE("fly_panda_fields: tiny steps and odd exposures still give valid registers") {
  TriggerGeometry g = forward();
  g.step_counts = 1;  // WIDTH never 0: at least one count
  g.exposure_s = 123.456789012e-6;
  g.frame_time_s = 0;  // unknown: not checked
  const PandaFields f = fly_panda_fields(g);
  CHECK(f[6] == PandaFields::value_type{"PCOMP1.WIDTH", "1"});
  CHECK(f[10] == PandaFields::value_type{"PULSE1.WIDTH", "0.000123457"});  // ns resolution
  g.step_counts = 3;
  CHECK(fly_panda_fields(g)[6].second == "1");  // 3/2 rounded down
  g.exposure_s = 2;
  CHECK(fly_panda_fields(g)[10].second == "2");
}

TEST_CASE("fly_panda_fields: a geometry the PandA cannot take is refused, naming the field") {
  auto g = forward();
  g.step_counts = 0;
  CHECK(message_of(g).find("step_counts is 0") != std::string::npos);
  g = forward();
  g.pulses = 0;
  CHECK(message_of(g).find("pulses is 0") != std::string::npos);
  g = forward();
  g.pulses = 0x1'0000'0000;
  CHECK(message_of(g).find("uint32 PULSES") != std::string::npos);
  g = forward();
  g.pre_start_counts = -1;
  CHECK(message_of(g).find("pre_start_counts = -1") != std::string::npos);
  g = forward();
  g.counts_per_degree = 0;
  CHECK(message_of(g).find("counts_per_degree") != std::string::npos);
  g = forward();
  g.exposure_s = 4e-9;  // half a tick
  CHECK(message_of(g).find("exposure_s") != std::string::npos);
  g = forward();
  g.exposure_s = 0.012;  // = frame time: exposures would overlap
  CHECK(message_of(g).find("not shorter than frame_time_s") != std::string::npos);
  g = forward();
  g.first_counts = 2'147'483'000;  // the last trigger at +180 000 counts overflows int32
  CHECK(message_of(g).find("the last trigger") != std::string::npos);
  g = forward();
  g.first_counts = -2'147'483'600;  // the trigger fits, the pre-start point 100 below not
  CHECK(message_of(g).find("pre-start point") != std::string::npos);
  g = forward();
  g.step_counts = 3'000'000'000;
  CHECK(message_of(g).find("step_counts = 3000000000") != std::string::npos);
  CHECK(message_of(forward()) == "(accepted)");
}

TEST_CASE("FlyPandaWiring: the row's data columns, for the design and for other blocks") {
  const FlyPandaWiring design;
  CHECK(design.mean_column() == "INENC1.VAL.Mean");
  CHECK(design.min_column() == "INENC1.VAL.Min");
  CHECK(design.max_column() == "INENC1.VAL.Max");
  CHECK(FlyPandaWiring::ts_start_column() == "PCAP.TS_START.Value");
  CHECK(FlyPandaWiring::ts_end_column() == "PCAP.TS_END.Value");
  CHECK(FlyPandaWiring::ts_trig_column() == "PCAP.TS_TRIG.Value");
  const FlyPandaWiring other{"INENC2", "PCOMP2", "PULSE3"};
  CHECK(other.mean_column() == "INENC2.VAL.Mean");
  CHECK(other.max_column() == "INENC2.VAL.Max");
}
