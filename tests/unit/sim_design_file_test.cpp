// The simulator's design persistence: panda/flyscan.sav loads, saves and
// reloads to the same state.
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "sim/panda/design_file.hpp"
#include "sim/panda/model.hpp"

using namespace pandafly::sim;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read(PandaModel& model, std::string_view name) {
  auto session = model.open_session("config", "test", "");
  return model.read(name, *session).text();
}

}  // namespace

TEST_CASE("design file: flyscan.sav loads, and what is saved reloads to the same design") {
  PandaModel first;
  const Status loaded = load_design(first, read_file(PANDAFLY_SOURCE_DIR "/panda/flyscan.sav"));
  REQUIRE_MESSAGE(loaded.ok(), (loaded.ok() ? "" : loaded.error()));
  CHECK(read(first, "PCOMP1.STEP") == "1000");
  CHECK(read(first, "PULSE1.WIDTH") == "1");
  CHECK(read(first, "PULSE1.WIDTH.UNITS") == "ms");
  CHECK(read(first, "PCAP.TRIG") == "PULSE1.OUT");

  // A table too, so the round trip covers `NAME<` blocks.
  {
    auto session = first.open_session("config", "test", "");
    const std::vector<std::string> rows{"65537", "0", "10", "20"};
    REQUIRE(first.write_table("SEQ1.TABLE", {false, false, false, &rows}, *session).shape() ==
            Reply::Shape::ok);
  }
  const std::string saved = save_design(first);
  PandaModel second;
  const Status reloaded = load_design(second, saved);
  REQUIRE_MESSAGE(reloaded.ok(), (reloaded.ok() ? "" : reloaded.error()));
  CHECK(save_design(second) == saved);
  CHECK(read(second, "PULSE1.WIDTH") == "1");
  CHECK(saved.find("SEQ1.TABLE<\n65537\n0\n10\n20\n\n") != std::string::npos);
}

TEST_CASE("design file: the first refused line stops the load and is named") {
  PandaModel model;
  const Status s =
      load_design(model, "PCOMP1.START=5\n\n# comment\nPCOMP1.STEP=abc\nPCOMP1.WIDTH=7\n");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().starts_with("line 4: PCOMP1.STEP=abc: "));
  CHECK(read(model, "PCOMP1.START") == "5");
  CHECK(read(model, "PCOMP1.WIDTH") == "0");
  const Status open = load_design(model, "SEQ1.TABLE<\n1\n");
  REQUIRE_FALSE(open.ok());
  CHECK(open.error() == "line 1: SEQ1.TABLE<: table not ended by an empty line");
}
