// libFuzzer target: arbitrary bytes from a control-port client of the PandA
// simulator, with the simulated FPGA attached (so writes rewire and
// reconfigure blocks, *PCAP.ARM= arms PCAP, tables reach SEQ).
// Invariant: the simulator never crashes, asserts, throws or hangs on any
// input; every reply line is one of the four reply shapes (`OK`, `OK =…`,
// `ERR …`, `!…` / `.`); virtual time runs on between chunks and PCAP's
// output is drained. Byte 0 picks the chunk size the rest is fed in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/model.hpp"

namespace {

using namespace pandafly::sim;

void check_reply(std::string_view reply) {
  while (!reply.empty()) {
    const std::size_t lf = reply.find('\n');
    if (lf == std::string_view::npos) std::abort();  // every reply line ends in LF
    const std::string_view line = reply.substr(0, lf);
    const bool ok = line == "OK" || line.starts_with("OK =") || line.starts_with("ERR ") ||
                    line.starts_with('!') || line == ".";
    if (!ok) std::abort();
    reply.remove_prefix(lf + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  PandaModel model;
  fpga::Engine engine(model);
  auto* pcap = dynamic_cast<fpga::Pcap*>(engine.behaviour("PCAP"));
  if (pcap == nullptr) std::abort();
  model.on_arm = [&] { return pcap->arm(engine); };
  model.on_disarm = [&] { pcap->disarm(engine); };
  PandaControlConnection conn(model, "127.0.0.1:40000");
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty() && !conn.closed()) {
    const std::string_view piece = rest.substr(0, chunk);
    rest.remove_prefix(piece.size());
    check_reply(conn.receive(piece));
    engine.run_until(engine.now() + 20'000);  // 160 µs of virtual time per chunk
    (void)pcap->take_events();
  }
  engine.publish();
  return 0;
}
