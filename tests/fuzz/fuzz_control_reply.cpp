// libFuzzer target: arbitrary bytes from the PandA control port.
// Invariant: any input parses or yields an error — never a crash, an assert,
// a stray exception or unbounded memory. The input is fed to a
// ControlConnection with a mix of single- and multi-exchange commands in
// flight, in chunks whose sizes come from the input itself, so the reply
// parser, the request/reply matching and every command's reply parser see it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pandafly/panda/changes.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/control_connection.hpp"
#include "pandafly/panda/design.hpp"
#include "pandafly/panda/info_commands.hpp"
#include "pandafly/panda/table_commands.hpp"

namespace {

using namespace pandafly::panda;

void queue_commands(ControlConnection& c, std::uint8_t pick) {
  switch (pick % 8) {
    case 0:
      (void)c.send(GetBlocks{});
      break;
    case 1:
      (void)c.send(GetFieldInfo{"SEQ"});
      break;
    case 2:
      (void)c.send(GetChanges{ChangeGroup::all, true});
      break;
    case 3:
      (void)c.send(GetState{});
      break;
    case 4:
      (void)c.send(Identify{});
      break;
    case 5:
      (void)c.send(TableGet{"SEQ1.TABLE"});
      break;
    case 6:
      (void)c.send(GetTableLayout{"SEQ1.TABLE", true});
      break;
    default:
      (void)c.send(Get{"PCAP.TRIG"});
      (void)c.send(GetPcapStatus{});
      (void)c.send(Who{});
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ControlConnection c;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t i = 0;
  while (i < input.size()) {
    queue_commands(c, data[i]);
    (void)c.take_output();
    const std::size_t chunk = 1 + data[i] % 64;
    const auto ec = c.receive(input.substr(i, chunk));
    for (const auto id : c.take_completed()) c.abandon(id);  // collect and drop results
    if (ec) {
      if (c.in_flight() != 0) __builtin_trap();  // a broken stream must fail everything in flight
    }
    i += chunk;
  }
  c.fail_all(Errc::connection_lost, "end of input");
  (void)c.take_completed();
  return 0;
}
