// Runs the control-port conformance transcript (tests/data/panda_conformance/
// control.txt, written by hand from the protocol reference) through the
// simulator's control connection, with the FPGA engine attached as in
// `pandafly-sim panda`, and compares every reply line exactly.
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/fpga/capture.hpp"
#include "sim/panda/fpga/engine.hpp"
#include "sim/panda/model.hpp"

using namespace pandafly::sim;

namespace {

struct Exchange {
  std::size_t line;                  // of the first request line
  std::string requests;              // bytes sent
  std::vector<std::string> replies;  // expected reply lines
};

std::vector<Exchange> read_transcript(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path);
  std::vector<Exchange> out;
  std::string text;
  bool replying = true;
  for (std::size_t n = 1; std::getline(in, text); ++n) {
    if (text.starts_with("<")) {
      if (replying) out.push_back({n, {}, {}});
      replying = false;
      out.back().requests += (text.size() > 2 ? text.substr(2) : "") + "\n";
    } else if (text.starts_with("> ")) {
      REQUIRE_MESSAGE(!out.empty(), path, ":", n, ": reply before any request");
      out.back().replies.push_back(text.substr(2));
      replying = true;
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& bytes) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t lf = bytes.find('\n'); lf != std::string::npos; lf = bytes.find('\n', start)) {
    out.push_back(bytes.substr(start, lf - start));
    start = lf + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("conformance transcript: every reply line as the real server words it") {
  PandaModel model;
  fpga::Engine engine(model);
  auto* pcap = dynamic_cast<fpga::Pcap*>(engine.behaviour("PCAP"));
  REQUIRE(pcap != nullptr);
  model.on_arm = [&] { return pcap->arm(engine); };
  PandaControlConnection conn(model, "127.0.0.1:40000");
  const auto exchanges =
      read_transcript(PANDAFLY_SOURCE_DIR "/tests/data/panda_conformance/control.txt");
  REQUIRE(exchanges.size() > 40);
  for (const auto& e : exchanges) {
    INFO("control.txt:", e.line, ": ", e.requests);
    CHECK(lines_of(conn.receive(e.requests)) == e.replies);
  }
}
