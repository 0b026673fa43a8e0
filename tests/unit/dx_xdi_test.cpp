// XDI 1.0: the formatter, the strict reader and the file writer.
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>

#include <doctest/doctest.h>
#include <unistd.h>

#include "pandafly/dx/xdi.hpp"
#include "pandafly/dx/xdi_writer.hpp"
#include "temp_dir.hpp"
#include "tiny_disk.hpp"

using namespace pandafly;

namespace {

dx::XdiHeader example_header() {
  dx::XdiHeader h;
  h.columns = {
      {"rotation_angle", "degrees"}, {"elapsed_time", "seconds"}, {"epics_timestamp", "seconds"}};
  h.fields = {{"Facility", "name", "SESAME"},     {"Facility", "xray_source", "3-pole wiggler"},
              {"Beamline", "name", "ID10-BEATS"}, {"Scan", "start_time", "2026-01-15T10:29:41"},
              {"pandafly", "motor", "micos:m1"},  {"pandafly", "num_angles", "3"}};
  h.comments = {"software step-scan fallback"};
  return h;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

dx::XdiDocument parse_ok(const std::string& text) {
  auto r = dx::parse_xdi(text);
  if (auto* e = std::get_if<dx::XdiParseError>(&r)) FAIL(e->message);
  return std::get<dx::XdiDocument>(r);
}

dx::XdiParseError parse_error(const std::string& text) {
  auto r = dx::parse_xdi(text);
  REQUIRE(std::holds_alternative<dx::XdiParseError>(r));
  return std::get<dx::XdiParseError>(r);
}

// Written by hand from the reference's example (file-formats.md §4.5), with
// the rotation column named rotation_angle: XDI's "angle" is the mono angle.
constexpr const char* kExample =
    "# XDI/1.0 pandafly/0.1\n"
    "# Column.1: rotation_angle degrees\n"
    "# Column.2: elapsed_time seconds\n"
    "# Column.3: epics_timestamp seconds\n"
    "# Facility.name: SESAME\n"
    "# Facility.xray_source: 3-pole wiggler\n"
    "# Beamline.name: ID10-BEATS\n"
    "# Scan.start_time: 2026-01-15T10:29:41\n"
    "# pandafly.motor: micos:m1\n"
    "# pandafly.num_angles: 3\n"
    "# ///\n"
    "# software step-scan fallback\n"
    "#----\n"
    "# rotation_angle elapsed_time epics_timestamp\n"
    "  0.000000  0.000000  1137320981.000000\n"
    "  0.500000  1.012345  1137320982.012345\n";

}  // namespace

TEST_CASE("xdi: the formatter writes the reference's example line for line") {
  const auto h = example_header();
  std::string text = dx::format_xdi_header(h);
  text += dx::format_xdi_row(h, std::array{0.0, 0.0, 1137320981.0});
  text += dx::format_xdi_row(h, std::array{0.5, 1.012345, 1137320982.012345});
  CHECK(text == kExample);
}

TEST_CASE("xdi: the formatter refuses what libxdifile or the spec would reject") {
  auto h = example_header();
  auto refuses = [](const dx::XdiHeader& bad, const std::string& needle) {
    try {
      (void)dx::format_xdi_header(bad);
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK_MESSAGE(std::string(e.what()).find(needle) != std::string::npos, e.what());
    }
  };
  auto bad = h;
  bad.fields.push_back({"Scan", "end-time", "x"});  // dashes: libxdifile error -4
  refuses(bad, "Scan.end-time");
  bad = h;
  bad.fields.push_back({"X", "foo", "1"});  // one-letter family: error -2
  refuses(bad, "X.foo");
  bad = h;
  bad.fields.push_back({"beats", "energy", "20"});  // extension not on the version line: 104
  refuses(bad, "beats");
  bad = h;
  bad.comments.push_back("ring current: 300 mA");  // cut at ':' by libxdifile
  refuses(bad, "ring current");
  bad = h;
  bad.fields.push_back({"Scan", "comment", "two\nlines"});
  refuses(bad, "spans lines");
  bad = h;
  bad.columns.push_back({"a b", ""});
  refuses(bad, "Column.4");

  CHECK_THROWS_AS((void)dx::format_xdi_row(h, std::array{0.0, 1.0}), std::invalid_argument);
  CHECK_THROWS_AS((void)dx::format_xdi_row(h, std::array{0.0, 1.0, std::nan("")}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      (void)dx::format_xdi_row(h, std::array{0.0, 1.0, std::numeric_limits<double>::infinity()}),
      std::invalid_argument);
}

// libxdifile (XDI_readfile) flags "no mono.d_spacing given with angle array"
// (warning 1) when any Column.N label is "angle" (any case) and none is
// "energy" and Mono.d_spacing is absent; XDI_validate_item flags 105 when
// Column.1 is neither energy nor angle (file-formats.md 4.2, 4.5).
TEST_CASE("xdi: the rotation column is never XDI's mono angle: only notice 105 remains") {
  const auto h = example_header();
  std::istringstream text(dx::format_xdi_header(h));
  bool angle = false;
  bool energy = false;
  std::string column1;
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("# Column.", 0) != 0) continue;  // "# Column.N: label [units]"
    const auto colon = line.find(": ");
    std::string label = line.substr(colon + 2, line.find(' ', colon + 2) - colon - 2);
    for (auto& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    angle = angle || label == "angle";
    energy = energy || label == "energy";
    if (line.rfind("# Column.1:", 0) == 0) column1 = label;
  }
  CHECK_FALSE(angle);  // no warning 1
  CHECK_FALSE(energy);
  CHECK(column1 == dx::xdi_rotation_column);  // 105: Column.1 is not energy or angle
  // A column called angle is the mono angle: refused without Mono.d_spacing.
  auto mono = h;
  mono.columns[0].name = "Angle";
  CHECK_THROWS_WITH_AS((void)dx::format_xdi_header(mono), doctest::Contains("monochromator angle"),
                       std::invalid_argument);
  mono.fields.push_back({"Mono", "d_spacing", "3.1356"});
  CHECK_NOTHROW((void)dx::format_xdi_header(mono));
}

TEST_CASE("xdi: format then parse gives back the header and the rows") {
  const auto h = example_header();
  std::string text = dx::format_xdi_header(h);
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 50; ++i) {
    rows.push_back({0.25 * i, 0.1 * i, 1137320981.0 + i});
    text += dx::format_xdi_row(h, rows.back());
  }
  const auto doc = parse_ok(text);
  CHECK(doc.header.applications == h.applications);
  CHECK(doc.header.columns == h.columns);
  CHECK(doc.header.fields == h.fields);
  CHECK(doc.header.comments == h.comments);
  REQUIRE(doc.rows.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c) CHECK(doc.rows[i][c] == doctest::Approx(rows[i][c]));
  CHECK(doc.field("facility", "NAME") == "SESAME");
  CHECK(doc.field("Scan", "end_time").empty());
}

TEST_CASE("xdi: the reader accepts CRLF, blank lines, signs and exponents") {
  std::string text = kExample;
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  crlf += "\r\n  +1.0e0\t-0.0  2E+2\r\n";
  const auto doc = parse_ok(crlf);
  REQUIRE(doc.rows.size() == 3);
  CHECK(doc.rows[2] == std::vector<double>{1.0, -0.0, 200.0});
}

TEST_CASE("xdi: the reader rejects bad files and names the line") {
  const std::string ok = kExample;
  struct Case {
    std::string text;
    int line;
    std::string needle;
  };
  const Case cases[] = {
      {ok + "  1.0 2.0 nan\n", 17, "'nan'"},
      {ok + "  1.0 2.0 inf\n", 17, "'inf'"},
      {ok + "  1.0 2.0 0x10\n", 17, "'0x10'"},
      {ok + "  1.0 2.0 1,5\n", 17, "'1,5'"},
      {ok + "  1.0 2.0\n", 17, "2 values"},
      {ok + "# a comment\n", 17, "inside the data"},
      {"# XDI/1.0\n# Column.1: angle degrees\n  1.0\n", 3, "before"},
      {"# XDI/1.0\n# Column.1: angle degrees\n", 2, "#----"},
      {"# XDI/1.0\n# Column.1: angle degrees\n#----\n", 3, "no data"},
      {"# XDF/1.0\n", 1, "not an XDI file"},
      {"# XDI/1.0\n# Scan start\n#----\n 1.0\n", 2, "Family.tag"},
      {"# XDI/1.0\n# Column.2: a\n#----\n 1.0 2.0\n", 4, "Column.1 is missing"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto e = parse_error(c.text);
    CHECK(e.line == c.line);
    CHECK_MESSAGE(e.message.find(c.needle) != std::string::npos, e.message);
  }
}

TEST_CASE("xdi: the writer streams rows, refuses to overwrite and adds end fields at close") {
  test::TempDir dir("xdi_writer");
  const auto path = dir.path / "scan.xdi";
  const auto h = example_header();
  {
    dx::XdiWriter w(path, h);
    w.append(std::array{0.0, 0.0, 1137320981.0});
    w.append(std::array{0.5, 1.0, 1137320982.0});
    // Every appended row is on disk before close: a crash here loses none.
    CHECK(parse_ok(read_file(path)).rows.size() == 2);
    CHECK_THROWS_AS(w.append(std::array{1.0, 2.0}), std::invalid_argument);
    CHECK(w.rows() == 2);
    w.close({{"Scan", "end_time", "2026-01-15T10:31:02"}});
  }
  const auto doc = parse_ok(read_file(path));
  CHECK(doc.rows.size() == 2);
  CHECK(doc.field("Scan", "end_time") == "2026-01-15T10:31:02");
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  const std::string before = read_file(path);
  try {
    dx::XdiWriter again(path, h);
    FAIL("overwrote an existing file");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
  }
  CHECK(read_file(path) == before);
  dx::XdiWriter forced(path, h, {.overwrite = true});
  forced.append(std::array{9.0, 9.0, 9.0});
  forced.close();
  CHECK(parse_ok(read_file(path)).rows.size() == 1);
}

TEST_CASE("xdi: a full disk throws naming the file and keeps the rows written before it" *
          doctest::test_suite(test::kNeedsMount)) {
  test::TempDir dir("xdi_full");
  test::TinyDisk disk(dir.path / "mnt", "64k");
  const auto path = disk.dir / "scan.xdi";
  std::size_t written = 0;
  try {
    dx::XdiWriter w(path, example_header());
    for (int i = 0; i < 100000; ++i) {
      w.append(std::array{0.001 * i, 0.01 * i, 1137320981.0 + i});
      written = w.rows();
    }
    FAIL("64 KiB held 100000 rows");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("scan.xdi") != std::string::npos);
  }
  CHECK(written > 100);
  // The streamed file holds whole rows up to the failure (the last line may be cut).
  std::string text = read_file(path);
  text.erase(text.rfind('\n') + 1);
  CHECK(parse_ok(text).rows.size() >= written - 1);
}
