// motionbox::BoxFile (the seed's JSON file) and its atomic save.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pandafly/motionbox/box_file.hpp"
#include "pandafly/motionbox/box_file_io.hpp"

namespace mb = pandafly::motionbox;
namespace fs = std::filesystem;

namespace {

// As Python's json.dump(indent=4) writes it, with keys this program does not
// know (a comment, an operator, a per-motor note) that must survive.
const std::string kFile = R"({
    "comment": "testing bench",
    "general": {
        "tolerance": 0.5,
        "operator": "beats"
    },
    "motors": {
        "A": {
            "pv_root": "bench:A",
            "lo_lim": -20,
            "hi_lim": 20,
            "center": 0
        },
        "B": {
            "note": "the slow one",
            "pv_root": "bench:B",
            "lo_lim": -12.5,
            "hi_lim": 12.25,
            "center": 1.0
        }
    }
}
)";

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(std::string_view text) {
  try {
    (void)mb::BoxFile::parse(text, "bench.json");
  } catch (const mb::FileError& e) {
    return e.what();
  }
  return "";
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "motionbox_test.XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("box file: the seed's format is read; dump() gives the same text back") {
  const auto box = mb::BoxFile::parse(kFile, "bench.json");
  CHECK(box.tolerance() == 0.5);
  CHECK(box.names() == std::vector<std::string>{"A", "B"});
  CHECK(box.motor("B") == mb::MotorEntry{"bench:B", -12.5, 1.0, 12.25});
  CHECK(box.dump() == kFile);
}

TEST_CASE("box file: change edits one motor in place; everything else stays as it was") {
  auto box = mb::BoxFile::parse(kFile, "bench.json");
  box.change("B", {"bench:B2", -12.5, 2.0, 12.25});
  std::string expected = kFile;
  expected.replace(expected.find("\"bench:B\""), 9, "\"bench:B2\"");
  expected.replace(expected.find("\"center\": 1.0"), 13, "\"center\": 2.0");
  CHECK(box.dump() == expected);
  // An unchanged integer keeps its spelling.
  box.change("A", {"bench:A", -20, 0, 21});
  CHECK(box.dump().find("\"lo_lim\": -20,") != std::string::npos);
  CHECK(box.dump().find("\"hi_lim\": 21.0,") != std::string::npos);
}

TEST_CASE("box file: add appends in order, remove and remove all keep the other keys") {
  auto box = mb::BoxFile::parse(kFile, "bench.json");
  box.add("C", {"bench:C", -5, 0, 5});
  CHECK(box.names() == std::vector<std::string>{"A", "B", "C"});
  CHECK(box.motor("C") == mb::MotorEntry{"bench:C", -5, 0, 5});
  box.remove("C");
  CHECK(box.dump() == kFile);  // round trip: add then remove
  box.remove_all();
  CHECK(box.names().empty());
  const std::string text = box.dump();
  CHECK(text.find("\"comment\": \"testing bench\"") != std::string::npos);
  CHECK(text.find("\"operator\": \"beats\"") != std::string::npos);
}

TEST_CASE("box file: add/change/remove refuse with the motor named") {
  auto box = mb::BoxFile::parse(kFile, "bench.json");
  CHECK_THROWS_WITH_AS(box.add("A", {"x", -1, 0, 1}),
                       "bench.json: motor \"A\" exists already (use change)", mb::FileError);
  CHECK_THROWS_WITH_AS(box.change("Z", {"x", -1, 0, 1}),
                       "bench.json: no motor \"Z\" (the file has: A, B; use add)", mb::FileError);
  CHECK_THROWS_WITH_AS(box.remove("Z"), "bench.json: no motor \"Z\" (the file has: A, B)",
                       mb::FileError);
  CHECK_THROWS_WITH_AS((void)box.motor("Z"), "bench.json: no motor \"Z\" (the file has: A, B)",
                       mb::FileError);
  CHECK_THROWS_WITH_AS(box.add("C", {"x", 1, 0, -1}),
                       "motor C: lo_lim (1) must be below hi_lim (-1)", mb::FileError);
  CHECK_THROWS_WITH_AS(box.add("C", {"x", -1, 3, 1}),
                       "motor C: center (3) must lie within lo_lim..hi_lim (-1..1)", mb::FileError);
  CHECK_THROWS_AS(box.add("all", {"x", -1, 0, 1}), mb::FileError);
  CHECK(box.dump() == kFile);  // nothing changed by the refusals
}

TEST_CASE("box file: syntax errors give line and column") {
  // Line 3, column 5: the '"' of "motors" where a ',' was expected.
  CHECK(error_of("{\n    \"general\": {\"tolerance\": 0.5}\n    \"motors\": {}\n}")
            .rfind("bench.json:3:5: invalid JSON: ", 0) == 0);
  // Line 2, column 20: the stray '}' after a ','.
  CHECK(error_of("{\"general\": {\"tolerance\": 0.5},\n \"motors\": {\"A\": 1,}}")
            .rfind("bench.json:2:20: ", 0) == 0);
  CHECK(error_of("").rfind("bench.json:1:1: ", 0) == 0);
  // Input ending early: where it ends (as Python's json: line 2 column 8).
  CHECK(error_of("{\"general\":\n {\"a\": ").rfind("bench.json:2:8: ", 0) == 0);
  // A bad literal: where it begins (Python: line 1 column 7).
  CHECK(error_of("{\"a\": tru }").rfind("bench.json:1:7: ", 0) == 0);
}

TEST_CASE("box file: content errors name the key") {
  CHECK(error_of(R"({"motors": {}})") ==
        "bench.json: \"general\" (an object with \"tolerance\") is missing");
  CHECK(error_of(R"({"general": {"tolerance": "x"}, "motors": {}})") ==
        "bench.json: general.tolerance: a number is expected, found \"x\"");
  CHECK(error_of(R"({"general": {"tolerance": -1}, "motors": {}})") ==
        "bench.json: general.tolerance must be >= 0, got -1");
  CHECK(error_of(R"({"general": {"tolerance": 1}})") ==
        "bench.json: \"motors\" (an object of motors) is missing");
  CHECK(error_of(R"({"general": {"tolerance": 1}, "motors": {"A": {"pv_root": 3}}})") ==
        "bench.json: motors.A.pv_root: a string is expected, found 3");
  CHECK(error_of(R"({"general": {"tolerance": 1}, "motors": {"A": {"pv_root": "a", "lo_lim": 0,
        "center": 0}}})") == "bench.json: motors.A: \"hi_lim\" is missing");
}

TEST_CASE("box file io: save is atomic, keeps the mode, leaves no temporary file") {
  TempDir dir;
  const fs::path file = dir.path / "bench.json";
  { std::ofstream(file) << kFile; }
  REQUIRE(::chmod(file.c_str(), 0640) == 0);
  auto box = mb::load_box_file(file);
  box.remove("A");
  mb::save_box_file(file, box);
  CHECK(read(file) == box.dump());
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
}

TEST_CASE("box file io: a missing file and an unwritable directory are named errors") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(
      (void)mb::load_box_file(dir.path / "none.json"),
      ((dir.path / "none.json").string() + ": cannot read: No such file or directory").c_str(),
      mb::FileError);
  const auto box = mb::BoxFile::parse(kFile, "bench.json");
  CHECK_THROWS_AS(mb::save_box_file(dir.path / "no_dir" / "bench.json", box), mb::FileError);
  if (::geteuid() != 0) {  // root writes anywhere
    const fs::path file = dir.path / "bench.json";
    { std::ofstream(file) << kFile; }
    REQUIRE(::chmod(dir.path.c_str(), 0555) == 0);
    auto edited = box;
    edited.remove("A");
    CHECK_THROWS_AS(mb::save_box_file(file, edited), mb::FileError);
    REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
    CHECK(read(file) == kFile);  // the old file untouched
  }
}
