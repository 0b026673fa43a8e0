// SEQ and PGEN: the blocks whose configuration includes a table (reference §1.7).
#include "sim/panda/blocks.hpp"

namespace pandafly::sim::detail {
namespace {

FieldSpec f(std::string name, std::string type, std::string description,
            std::vector<std::string> labels = {}) {
  return FieldSpec{
      std::move(name), std::move(type), std::move(description), std::move(labels), {}, 0};
}

TableColumn bit_column(unsigned bit, const std::string& out, int phase) {
  std::string name = "OUT" + out + std::to_string(phase);
  return {bit, bit, name, "uint", "Output " + out + " during phase " + std::to_string(phase), {}};
}

// In the firmware's order (what `SEQ1.TABLE.FIELDS?` lists and clients take
// as the column order): REPEATS, TRIGGER, POSITION, TIME1, OUTA1..OUTF1,
// TIME2, OUTA2..OUTF2.
std::vector<TableColumn> seq_columns() {
  std::vector<TableColumn> columns{
      {15, 0, "REPEATS", "uint", "Times the row repeats, 0 for ever", {}},
      {19,
       16,
       "TRIGGER",
       "enum",
       "Condition that starts the row's phases",
       {"Immediate", "BITA=0", "BITA=1", "BITB=0", "BITB=1", "BITC=0", "BITC=1", "POSA>=POSITION",
        "POSA<=POSITION", "POSB>=POSITION", "POSB<=POSITION", "POSC>=POSITION", "POSC<=POSITION"}},
      {63, 32, "POSITION", "int", "Position compared by the POS triggers", {}},
      {95, 64, "TIME1", "uint", "Length of the optional phase 1 in PRESCALE units", {}},
  };
  const char* outs[] = {"A", "B", "C", "D", "E", "F"};
  for (unsigned i = 0; i < 6; ++i) columns.push_back(bit_column(20 + i, outs[i], 1));
  columns.push_back({127, 96, "TIME2", "uint", "Length of phase 2 in PRESCALE units", {}});
  for (unsigned i = 0; i < 6; ++i) columns.push_back(bit_column(26 + i, outs[i], 2));
  return columns;
}

}  // namespace

BlockSpec seq_block() {
  FieldSpec table = f("TABLE", "table", "Rows of trigger condition, phase times and outputs");
  table.columns = seq_columns();
  table.row_words = 4;
  return {"SEQ",
          2,
          "Sequencer",
          {
              f("ENABLE", "bit_mux", "Rising edge starts the table, falling edge stops it"),
              f("BITA", "bit_mux", "Bit input A for row triggers"),
              f("BITB", "bit_mux", "Bit input B for row triggers"),
              f("BITC", "bit_mux", "Bit input C for row triggers"),
              f("POSA", "pos_mux", "Position input A for row triggers"),
              f("POSB", "pos_mux", "Position input B for row triggers"),
              f("POSC", "pos_mux", "Position input C for row triggers"),
              table,
              f("PRESCALE", "param time", "Unit of the TIME1 and TIME2 columns"),
              f("REPEATS", "param", "Times the whole table repeats, 0 for ever"),
              f("ACTIVE", "bit_out", "High while the table runs"),
              f("OUTA", "bit_out", "Output A"),
              f("OUTB", "bit_out", "Output B"),
              f("OUTC", "bit_out", "Output C"),
              f("OUTD", "bit_out", "Output D"),
              f("OUTE", "bit_out", "Output E"),
              f("OUTF", "bit_out", "Output F"),
              f("TABLE_REPEAT", "read", "Current repeat of the whole table"),
              f("TABLE_LINE", "read", "Current row"),
              f("LINE_REPEAT", "read", "Current repeat of the row"),
              f("STATE", "read enum", "Sequencer state",
                {"UNREADY", "WAIT_ENABLE", "WAIT_TRIGGER", "PHASE1", "PHASE2"}),
              // Labels as the firmware spells them ("in used" included).
              f("HEALTH", "read enum", "Whether the last run went well",
                {"OK", "Next table not written in time", "Table overwritten while in used"}),
              f("CAN_WRITE_NEXT", "read uint 1", "The next table can be written (streaming)"),
          }};
}

BlockSpec pgen_block() {
  FieldSpec table = f("TABLE", "table", "Positions to step through, one per row");
  table.columns = {{31, 0, "POSITION", "int", "Position put on OUT at a trigger", {}}};
  table.row_words = 1;
  return {"PGEN",
          2,
          "Position generator",
          {
              f("ENABLE", "bit_mux", "Runs the table while high"),
              f("TRIG", "bit_mux", "Each rising edge moves to the next position"),
              table,
              f("REPEATS", "param", "Times the table repeats, 0 for ever"),
              f("ACTIVE", "bit_out", "High while the table runs"),
              f("OUT", "pos_out", "Current position"),
              f("STATE", "read enum", "Generator state", {"UNREADY", "WAIT_ENABLE", "RUNNING"}),
              f("HEALTH", "read enum", "Generator health",
                {"OK", "DMA underrun", "Not ready for table"}),
          }};
}

}  // namespace pandafly::sim::detail
