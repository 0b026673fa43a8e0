// Block definitions as data. Field names, types and enum labels follow the
// current PandABlocks-FPGA layout; descriptions are our own one-liners.
#include "sim/panda/blocks.hpp"

namespace pandafly::sim {
namespace {

using Labels = std::vector<std::string>;

FieldSpec f(std::string name, std::string type, std::string description, Labels labels = {}) {
  return FieldSpec{
      std::move(name), std::move(type), std::move(description), std::move(labels), {}, 0};
}

const Labels kEdges{"Rising", "Falling", "Either"};

BlockSpec ttlin() {
  return {"TTLIN",
          6,
          "TTL input",
          {
              f("TERM", "param enum", "Input termination", {"High-Z", "50-Ohm"}),
              f("VAL", "bit_out", "Level of the TTL input"),
          }};
}

BlockSpec ttlout() {
  return {"TTLOUT", 10, "TTL output", {f("VAL", "bit_mux", "Bit driven onto the TTL output")}};
}

BlockSpec lvdsin() {
  return {"LVDSIN", 2, "LVDS input", {f("VAL", "bit_out", "Level of the LVDS input")}};
}

BlockSpec lvdsout() {
  return {"LVDSOUT", 2, "LVDS output", {f("VAL", "bit_mux", "Bit driven onto the LVDS output")}};
}

BlockSpec inenc() {
  return {
      "INENC",
      4,
      "Encoder input",
      {
          f("PROTOCOL", "param enum", "Encoder protocol", {"Quadrature", "SSI", "BISS", "enDat"}),
          f("ENCODING", "param enum", "Position encoding of absolute encoders",
            {"Unsigned Binary", "Unsigned Gray", "Signed Binary", "Signed Gray"}),
          f("CLK", "bit_mux", "Clock source when CLK_SRC selects an external clock"),
          f("CLK_SRC", "param enum", "Where the absolute-encoder clock comes from",
            {"Internally Generated", "From CLK"}),
          f("CLK_PERIOD", "param time", "Period of the generated absolute-encoder clock"),
          f("FRAME_PERIOD", "param time", "Period between absolute-encoder reads"),
          f("BITS", "param uint 63", "Number of position bits of an absolute encoder"),
          f("LSB_DISCARD", "param uint 31", "Low bits dropped from an absolute position"),
          f("MSB_DISCARD", "param uint 31", "High bits dropped from an absolute position"),
          f("SETP", "write int", "Load this position into the counter"),
          f("RST_ON_Z", "param bit", "Clear the position on the Z index mark"),
          f("A", "bit_out", "Quadrature A input"),
          f("B", "bit_out", "Quadrature B input"),
          f("Z", "bit_out", "Z index input"),
          f("DATA", "bit_out", "Absolute encoder data input"),
          f("CONN", "bit_out", "Encoder cable connected"),
          f("HOMED", "read bit", "Position has been homed (Z seen)"),
          f("HEALTH", "read enum", "Encoder link health",
            {"OK", "Linkup error (=not CONN)", "Timeout error (for BISS, SSI)",
             "CRC error (for BISS)", "Error bit active (for BISS)", "ENDAT not implemented",
             "Protocol readback error"}),
          f("VAL", "pos_out", "Encoder position in counts"),
          f("DCARD_TYPE", "read enum", "Daughter card fitted in this slot",
            {"DCARD id 0", "Encoder Control", "DCARD id 2", "Encoder Monitor", "DCARD id 3",
             "DCARD id 4", "DCARD id 5", "Unplugged"}),
      }};
}

BlockSpec pcap() {
  return {"PCAP",
          1,
          "Position capture",
          {
              f("ENABLE", "bit_mux", "Acquisition runs while this is high"),
              f("GATE", "bit_mux", "Ticks that count towards sums, means and extrema"),
              f("TRIG", "bit_mux", "Each edge emits one sample"),
              f("TRIG_EDGE", "param enum", "Edge of TRIG that captures", kEdges),
              f("SHIFT_SUM", "param uint 8", "Right shift applied to sums and sample counts"),
              f("ACTIVE", "bit_out", "High from the arm until the acquisition ends"),
              f("TS_START", "ext_out timestamp", "Time of the first gate rise of the capture"),
              f("TS_END", "ext_out timestamp", "Time of the last gate fall of the capture"),
              f("TS_TRIG", "ext_out timestamp", "Time of the capture trigger"),
              f("GATE_DURATION", "ext_out samples", "Ticks the gate was high in the capture"),
              f("BITS0", "ext_out bits 0", "Bit bus entries 0 to 31"),
              f("BITS1", "ext_out bits 1", "Bit bus entries 32 to 63"),
              f("BITS2", "ext_out bits 2", "Bit bus entries 64 to 95"),
              f("BITS3", "ext_out bits 3", "Bit bus entries 96 to 127"),
              f("HEALTH", "read enum", "Capture health",
                {"OK", "Capture events too close together", "Samples overflow"}),
          }};
}

BlockSpec bits() {
  return {"BITS",
          1,
          "Software-controlled bits",
          {
              f("A", "param bit", "Value driven on OUTA"),
              f("B", "param bit", "Value driven on OUTB"),
              f("C", "param bit", "Value driven on OUTC"),
              f("D", "param bit", "Value driven on OUTD"),
              f("OUTA", "bit_out", "Follows A"),
              f("OUTB", "bit_out", "Follows B"),
              f("OUTC", "bit_out", "Follows C"),
              f("OUTD", "bit_out", "Follows D"),
          }};
}

BlockSpec calc() {
  const Labels sign{"Value", "-Value"};
  return {"CALC",
          2,
          "Sum of up to four positions",
          {
              f("INPA", "pos_mux", "First position input"),
              f("INPB", "pos_mux", "Second position input"),
              f("INPC", "pos_mux", "Third position input"),
              f("INPD", "pos_mux", "Fourth position input"),
              f("TYPEA", "param enum", "Sign applied to INPA", sign),
              f("TYPEB", "param enum", "Sign applied to INPB", sign),
              f("TYPEC", "param enum", "Sign applied to INPC", sign),
              f("TYPED", "param enum", "Sign applied to INPD", sign),
              f("SHIFT", "param uint 2", "Right shift applied to the sum"),
              f("OUT", "pos_out", "Shifted sum of the signed inputs"),
          }};
}

BlockSpec clock() {
  return {"CLOCK",
          2,
          "Periodic pulse generator",
          {
              f("ENABLE", "bit_mux", "Runs the clock while high"),
              f("PERIOD", "param time", "Time between rising edges"),
              f("WIDTH", "param time", "High time of each pulse (0 for half the period)"),
              f("OUT", "bit_out", "Clock output"),
          }};
}

BlockSpec counter() {
  return {"COUNTER",
          8,
          "Up/down edge counter",
          {
              f("ENABLE", "bit_mux", "Counts while high; loads START on the rising edge"),
              f("TRIG", "bit_mux", "Edges to count"),
              f("DIR", "bit_mux", "Counts down while high"),
              f("TRIG_EDGE", "param enum", "Edge of TRIG that counts", kEdges),
              f("OUT_MODE", "param enum", "When OUT is updated", {"On-Change", "On-Disable"}),
              f("SET", "param int", "Value loaded when written"),
              f("START", "param int", "Value loaded on enable"),
              f("STEP", "param", "Amount added per edge"),
              f("MAX", "param int", "Upper limit before wrapping"),
              f("MIN", "param int", "Lower limit before wrapping"),
              f("CARRY", "bit_out", "Pulses when the count wraps"),
              f("OUT", "pos_out", "Current count"),
          }};
}

BlockSpec div() {
  return {"DIV",
          2,
          "Pulse divider",
          {
              f("ENABLE", "bit_mux", "Divides while high; resets the count on the falling edge"),
              f("INP", "bit_mux", "Pulses to divide"),
              f("DIVISOR", "param", "Pulses per OUTD pulse"),
              f("FIRST_PULSE", "param enum", "Output that gets the first pulse", {"OutN", "OutD"}),
              f("OUTD", "bit_out", "Every DIVISOR-th pulse"),
              f("OUTN", "bit_out", "The other pulses"),
              f("COUNT", "read", "Pulses counted towards the next OUTD"),
          }};
}

BlockSpec lut() {
  const Labels kinds{"Input-Level", "Pulse-On-Rising-Edge", "Pulse-On-Falling-Edge",
                     "Pulse-On-Either-Edge"};
  return {"LUT",
          8,
          "Five-input lookup table",
          {
              f("INPA", "bit_mux", "Input A"),
              f("INPB", "bit_mux", "Input B"),
              f("INPC", "bit_mux", "Input C"),
              f("INPD", "bit_mux", "Input D"),
              f("INPE", "bit_mux", "Input E"),
              f("TYPEA", "param enum", "How input A is sampled", kinds),
              f("TYPEB", "param enum", "How input B is sampled", kinds),
              f("TYPEC", "param enum", "How input C is sampled", kinds),
              f("TYPED", "param enum", "How input D is sampled", kinds),
              f("TYPEE", "param enum", "How input E is sampled", kinds),
              f("FUNC", "param lut", "Boolean function of A to E"),
              f("OUT", "bit_out", "Function output"),
          }};
}

BlockSpec pcomp() {
  return {"PCOMP",
          2,
          "Position compare pulse train",
          {
              f("ENABLE", "bit_mux", "Rising edge arms the compare, falling edge stops it"),
              f("INP", "pos_mux", "Position to compare"),
              f("PRE_START", "param int", "Distance INP must be before START before arming"),
              f("START", "param int", "Position of the first rising edge"),
              f("WIDTH", "param int", "Distance from each rising edge to its falling edge"),
              f("STEP", "param int", "Distance between rising edges"),
              f("PULSES", "param", "Pulses to produce, 0 for no limit"),
              f("RELATIVE", "param enum", "Positions absolute or relative to INP at enable",
                {"Absolute", "Relative"}),
              f("DIR", "param enum", "Direction of travel", {"Positive", "Negative", "Either"}),
              f("ACTIVE", "bit_out", "High while producing pulses"),
              f("OUT", "bit_out", "Pulse train"),
              f("HEALTH", "read enum", "Compare health",
                {"OK", "Position jumped by more than STEP",
                 "Can't guess DIR when RELATIVE and PRE_START=0 and START=0"}),
              f("PRODUCED", "read", "Pulses produced since enable"),
              f("STATE", "read enum", "Compare state",
                {"WAIT_ENABLE", "WAIT_DIR", "WAIT_PRE_START", "WAIT_RISING", "WAIT_FALLING"}),
          }};
}

BlockSpec pulse() {
  return {"PULSE",
          4,
          "Pulse delay and stretch",
          {
              f("ENABLE", "bit_mux", "Passes triggers while high"),
              f("TRIG", "bit_mux", "Input pulses"),
              f("DELAY", "time", "Delay from trigger to output"),
              f("WIDTH", "time", "Output pulse width (0 keeps the input width)"),
              f("PULSES", "param", "Pulses per trigger"),
              f("STEP", "time", "Time between pulses of one trigger"),
              f("TRIG_EDGE", "param enum", "Edge of TRIG that fires", kEdges),
              f("OUT", "bit_out", "Delayed pulses"),
              f("QUEUED", "read uint 1023", "Pulses waiting in the delay queue"),
              f("DROPPED", "read", "Pulses lost because the queue was full"),
          }};
}

BlockSpec srgate() {
  return {"SRGATE",
          4,
          "Set/reset gate",
          {
              f("ENABLE", "bit_mux", "Gate works while high"),
              f("SET", "bit_mux", "Edge that sets the output"),
              f("RST", "bit_mux", "Edge that resets the output"),
              f("WHEN_DISABLED", "param enum", "Output while disabled",
                {"Set output low", "Set output high", "Keep current output"}),
              f("SET_EDGE", "param enum", "Edge of SET that acts", kEdges),
              f("RST_EDGE", "param enum", "Edge of RST that acts", kEdges),
              f("FORCE_SET", "write action", "Set the output now"),
              f("FORCE_RST", "write action", "Reset the output now"),
              f("OUT", "bit_out", "Gate output"),
          }};
}

BlockSpec system() {
  return {"SYSTEM",
          1,
          "System status",
          {
              f("TEMP_PSU", "read int", "Power supply temperature"),
              f("TEMP_ZYNQ", "read scalar 0.001 0 deg", "FPGA die temperature"),
              f("PLL_LOCKED", "read", "Clock PLL locked"),
              f("CLOCK_SOURCE", "param enum", "FPGA clock source",
                {"int clock", "sma clock", "sfp3 recovered clock"}),
              f("TIMESTAMP_SOURCE", "param enum", "Source of hardware timestamps",
                {"None", "sfp1", "sfp2", "sfp3"}),
              f("HEALTH", "read enum", "System health", {"OK", "Clock select error"}),
          }};
}

}  // namespace

const std::vector<BlockSpec>& panda_blocks() {
  static const std::vector<BlockSpec> blocks{ttlin(),
                                             ttlout(),
                                             lvdsin(),
                                             lvdsout(),
                                             inenc(),
                                             pcap(),
                                             bits(),
                                             calc(),
                                             clock(),
                                             counter(),
                                             div(),
                                             lut(),
                                             pcomp(),
                                             pulse(),
                                             detail::seq_block(),
                                             detail::pgen_block(),
                                             srgate(),
                                             system()};
  return blocks;
}

}  // namespace pandafly::sim
