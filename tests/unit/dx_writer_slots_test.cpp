// dx::Writer slots, events and extra tables (writer.hpp Rules, "Slots",
// "Events", "Tables"; issue 17): projection k lands in slot k whatever the
// order it arrives in, an empty slot reads as zeros + NaN theta and makes the
// scan incomplete (the reason names it, and validate agrees), a second frame
// for a slot is refused and counted lost, and tables round-trip with units.
// Files are read back by tests/unit/dx_writer_slots_check.py (h5py, dxchange).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dx_writer_test_util.hpp"
#include "pandafly/dx/completeness.hpp"
#include "pandafly/dx/validate.hpp"
#include "pandafly/dx/writer.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"
#include "temp_dir.hpp"
#include "tiny_disk.hpp"

using namespace pandafly;
using nlohmann::json;
using test::Plan;
using test::TempDir;

namespace {

constexpr const char* status = "/process/acquisition/projection_status";
constexpr const char* events = "/process/acquisition/projection_events";

dx::WriterOptions slotted(const std::filesystem::path& file, const Plan& plan, std::uint64_t n) {
  auto o = test::writer_options(file, plan);
  o.nxtomo = false;
  o.max_batch = 2;  // several batches: slots filled after their rows were stored
  o.frames_expected = {{test::data, n}};
  o.slotted = {test::data};
  return o;
}

dx::FrameRecord at_slot(Plan& plan, std::int64_t k, std::uint64_t slot,
                        std::optional<double> angle) {
  auto r = plan.frame(k, test::data, test::data, angle);
  r.slot = slot;
  return r;
}

json row(std::int64_t k, std::optional<double> angle) {
  return {{"k", k}, {"angle", angle ? json(*angle) : json()}};
}

test::PyResult check(const std::filesystem::path& file, json e) {
  e["height"] = Plan{}.height;
  e["width"] = Plan{}.width;
  const auto path = file.string() + ".expect.json";
  std::ofstream(path) << e.dump(1);
  return test::run_python("dx_writer_slots_check.py", "'" + file.string() + "' '" + path + "'");
}

bool has(const std::vector<std::string>& list, std::string_view part) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

std::vector<std::string> messages(const dx::ValidationReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.message);
  return out;
}

}  // namespace

TEST_CASE("completeness rule: a slotted dataset's reason names its first missing slots") {
  dx::CompletenessFacts f;
  f.expected["/exchange/data"] = 10;
  f.stored["/exchange/data"] = 8;
  f.missing_slots["/exchange/data"] = {2, 7};
  CHECK(
      dx::judge_completeness(f).reasons ==
      std::vector<std::string>{"/exchange/data holds 8 frames, 10 expected (missing slots: 2, 7)"});
  f.stored["/exchange/data"] = 2;
  f.missing_slots["/exchange/data"] = {0, 1, 2, 3, 4};
  CHECK(
      dx::judge_completeness(f).reasons ==
      std::vector<std::string>{
          "/exchange/data holds 2 frames, 10 expected (missing slots: 0, 1, 2, 3, 4, … 8 in all)"});
  f.stored["/exchange/data"] = 10;  // slots say nothing when the count is met
  CHECK(dx::judge_completeness(f).complete);
}

TEST_CASE("dx writer slots: frames pushed out of slot order land where they belong") {
  TempDir dir("dx_slots_order");
  Plan plan;
  const auto file = dir.path / "order.h5";
  auto o = slotted(file, plan, 6);
  o.frames_expected[test::dark] = 2;
  o.frames_expected[test::white] = 2;
  json e;
  {
    dx::Writer w(o);
    for (std::int64_t k = 0; k < 2; ++k)
      REQUIRE(w.push(plan.frame(k, test::dark, test::dark, std::nullopt)));
    for (const std::uint64_t s : {3U, 0U, 5U, 1U, 4U, 2U}) {
      const auto k = 10 + static_cast<std::int64_t>(s);
      REQUIRE(w.push(at_slot(plan, k, s, 30.0 * static_cast<double>(s) + 0.5)));
    }
    for (std::int64_t k = 20; k < 22; ++k)
      REQUIRE(w.push(plan.frame(k, test::white, test::white, 0.0)));
    const auto end = w.finish(dx::Ending::completed());
    CHECK(end.complete);
    CHECK(end.reason == "completed");
    CHECK(end.frames_written == 10);
    CHECK(end.frames_lost == 0);
    CHECK(end.slots_missing == 0);
  }
  json stack = json::array();
  for (std::int64_t s = 0; s < 6; ++s)
    stack.push_back(row(10 + s, 30.0 * static_cast<double>(s) + 0.5));
  e["stacks"] = {{test::data, stack},
                 {test::dark, {row(0, std::nullopt), row(1, std::nullopt)}},
                 {test::white, {row(20, 0.0), row(21, 0.0)}}};
  e["status"] = {{status, {1, 1, 1, 1, 1, 1}}};
  // Per-frame rows: the darks as they came, then slots 0..5 (a block taken
  // when the first slotted frame came), then the flats.
  const std::vector<std::int64_t> ks = {0, 1, 10, 11, 12, 13, 14, 15, 20, 21};
  json temperature = json::array(), uid = json::array(), theta = json::array();
  for (const auto k : ks) {
    temperature.push_back(20.0 + 0.5 * static_cast<double>(k));
    uid.push_back(100 + k);
    theta.push_back(k < 2     ? json()
                    : k >= 20 ? json(0.0)
                              : json(30.0 * static_cast<double>(k - 10) + 0.5));
  }
  e["columns"] = {{"/process/acquisition/temperature", temperature},
                  {"/defaults/NDArrayUniqueId", uid},
                  {"/process/acquisition/image_theta", theta}};
  e["attrs"] = {{std::string(status) + "@ndattribute_row_first", 2},
                {std::string(status) + "@detector", test::data},
                {std::string(test::data) + "@slot_status", status}};
  e["tables"] = {{std::string(events) + "/slot",
                  {{"values", json::array()},
                   {"dtype", "u8"},
                   {"units", nullptr},
                   {"description", "the index in that dataset (the planned projection)"}}}};
  e["dxchange"] = true;
  const auto r = check(file, e);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("dxchange=read") != std::string::npos);
  for (const auto& m : messages(dx::validate(file)))
    CHECK(m.find("incomplete") == std::string::npos);
}

TEST_CASE("dx writer slots: a missing slot reads as zeros and NaN and makes the scan incomplete") {
  TempDir dir("dx_slots_missing");
  Plan plan;
  const auto file = dir.path / "missing.h5";
  {
    dx::Writer w(slotted(file, plan, 5));
    REQUIRE(w.push(at_slot(plan, 0, 0, 0.0)));
    REQUIRE(w.push(at_slot(plan, 3, 3, std::nullopt)));  // its PandA row was lost: no angle
    REQUIRE(w.push(at_slot(plan, 1, 1, 36.0)));
    // dxchange 0.1.8 cannot read a file without darks or flats (ZeroDivisionError)
    REQUIRE(w.push(plan.frame(8, test::dark, test::dark, std::nullopt)));
    REQUIRE(w.push(plan.frame(9, test::white, test::white, 0.0)));
    const auto end = w.finish(dx::Ending::completed());
    CHECK_FALSE(end.complete);
    CHECK(end.frames_written == 5);
    CHECK(end.frames_lost == 0);
    CHECK(end.slots_missing == 2);
    CHECK(end.reason ==
          "completed; incomplete: /exchange/data holds 3 frames, 5 expected (missing slots: 2, 4); "
          "1 projections have no angle (NaN or Undefined)");
  }
  json e;
  e["stacks"] = {{test::data, {row(0, 0.0), row(1, 36.0), nullptr, row(3, std::nullopt), nullptr}},
                 {test::dark, {row(8, std::nullopt)}},
                 {test::white, {row(9, 0.0)}}};
  e["status"] = {{status, {1, 1, 0, 2, 0}}};
  e["columns"] = {
      {"/process/acquisition/temperature", {20.0, 20.5, nullptr, 21.5, nullptr, 24.0, 24.5}},
      {"/defaults/NDArrayUniqueId", {100, 101, nullptr, 103, nullptr, 108, 109}},
      {"/defaults/HDF5FrameLocation",
       {test::data, test::data, nullptr, test::data, nullptr, test::dark, test::white}}};
  e["attrs"] = {{std::string(status) + "@ndattribute_row_first", 0}};
  e["dxchange"] = true;
  const auto r = check(file, e);
  INFO(r.output);
  CHECK(r.status == 0);
  // validate: the same judgement from the file alone (the file says incomplete: warnings).
  const auto report = dx::validate(file);
  CHECK(has(messages(report),
            "incomplete scan: /exchange/data holds 3 frames, 5 expected (missing "
            "slots: 2, 4)"));
  CHECK(has(messages(report), "incomplete scan: 1 projections have no angle"));
  for (const auto& f : report.findings) {   // marked incomplete by the file itself: warnings
    if (f.path == "/implements") continue;  // test_layout() lists a group it lacks
    INFO(f.path << ": " << f.message);
    CHECK(f.severity == dx::Severity::warning);
  }
}

TEST_CASE("completeness rule: a fault the acquisition found is a reason of its own") {
  dx::CompletenessFacts f;
  f.expected["/exchange/data"] = 3;
  f.stored["/exchange/data"] = 3;  // every slot filled
  REQUIRE(dx::judge_completeness(f).complete);
  f.faults = {"camera stall: no frame for 0.5 s before slot 1"};
  const auto c = dx::judge_completeness(f);
  CHECK_FALSE(c.complete);
  CHECK(c.reasons == f.faults);
}

// A continuous scan's camera stall fills every slot, yet the range has a
// hole: the scan names it in Ending::faults, and the file says incomplete
// with that reason (what `pandafly cont` exits 5 on).
TEST_CASE("dx writer slots: every slot filled but a fault named: incomplete with the reason") {
  TempDir dir("dx_slots_fault");
  Plan plan;
  const auto file = dir.path / "fault.h5";
  dx::Writer w(slotted(file, plan, 3));
  for (std::uint64_t k = 0; k < 3; ++k)
    REQUIRE(w.push(at_slot(plan, static_cast<std::int64_t>(k), k, 10.0 * static_cast<double>(k))));
  auto ending = dx::Ending::completed();
  ending.faults = {"camera stall: no frame for 0.5 s before slot 1, 1..9 deg not covered"};
  const auto end = w.finish(ending);
  CHECK_FALSE(end.complete);
  CHECK(end.slots_missing == 0);
  CHECK(end.frames_lost == 0);
  CHECK(end.reason ==
        "completed; incomplete: camera stall: no frame for 0.5 s before slot 1, 1..9 deg not "
        "covered");
  // The file says so itself: validate warns (it cannot see the fault), no error.
  const auto report = dx::validate(file);
  CHECK(has(messages(report), "the acquisition is marked incomplete"));
  for (const auto& f : report.findings) {
    if (f.path == "/implements") continue;
    INFO(f.path << ": " << f.message);
    CHECK(f.severity == dx::Severity::warning);
  }
}

TEST_CASE("dx writer slots: validate finds the missing slots of a file that claims completeness") {
  TempDir dir("dx_slots_validate");
  Plan plan;
  const auto file = dir.path / "claims.h5";
  {
    dx::Writer w(slotted(file, plan, 3));
    REQUIRE(w.push(at_slot(plan, 0, 0, 0.0)));
    REQUIRE(w.push(at_slot(plan, 2, 2, 2.0)));
    CHECK_FALSE(w.finish(dx::Ending::completed()).complete);
  }
  {  // someone marks it complete by hand: validate judges the slots, not the flag
    auto f = h5::File::open(file, h5::File::Access::read_write);
    h5::Dataset::open(f.id(), "/process/acquisition/pandafly_end/complete")
        .write_value(std::uint8_t{1});
    f.close();
  }
  const auto report = dx::validate(file);
  bool found = false;
  for (const auto& f : report.findings) {
    if (f.message.find(
            "incomplete scan: /exchange/data holds 2 frames, 3 expected (missing slots: 1)") ==
        std::string::npos)
      continue;
    found = true;
    CHECK(f.severity == dx::Severity::error);
  }
  CHECK(found);
  {  // a status code the writer never writes
    auto f = h5::File::open(file, h5::File::Access::read_write);
    const std::vector<std::uint8_t> codes = {1, 7, 1};
    h5::Dataset::open(f.id(), status).write_all(std::as_bytes(std::span(codes)));
    f.close();
  }
  CHECK(has(messages(dx::validate(file)), "slot 1 has status 7, not 0, 1 or 2 (see its @legend)"));
  // every slot of many missing: the reason lists the first five and the count
  const auto many = dir.path / "many.h5";
  {
    dx::Writer w(slotted(many, plan, 40));
    REQUIRE(w.push(at_slot(plan, 0, 39, 1.0)));
    CHECK(w.finish(dx::Ending::completed()).reason ==
          "completed; incomplete: /exchange/data holds 1 frames, 40 expected (missing slots: 0, 1, "
          "2, 3, 4, … 39 in all)");
  }
  CHECK(has(messages(dx::validate(many)),
            "holds 1 frames, 40 expected (missing slots: 0, 1, 2, 3, 4, … 39 in all)"));
}

TEST_CASE(
    "dx writer slots: a second frame for a slot, a slot beyond, a frame without one are refused") {
  TempDir dir("dx_slots_refused");
  Plan plan;
  const auto file = dir.path / "refused.h5";
  {
    dx::Writer w(slotted(file, plan, 3));
    REQUIRE(w.push(at_slot(plan, 1, 1, 10.0)));
    REQUIRE(w.push(at_slot(plan, 5, 1, 99.0)));  // the same slot again: refused, never overwrites
    REQUIRE(w.push(at_slot(plan, 6, 3, 30.0)));  // beyond the 3 slots
    REQUIRE(w.push(plan.frame(7, test::data, test::data, 5.0)));  // no slot for a slotted dataset
    auto dark = plan.frame(8, test::dark, test::dark, std::nullopt);
    dark.slot = 0;  // a slot for a dataset that is not slotted
    REQUIRE(w.push(std::move(dark)));
    auto cut = at_slot(plan, 9, 2, 20.0);  // a frame cut short in transit: lost, its slot free
    cut.pixels = cut.pixels.first(10);
    REQUIRE(w.push(std::move(cut)));
    REQUIRE(w.push(at_slot(plan, 0, 0, 0.0)));
    REQUIRE(w.push(at_slot(plan, 2, 2, 20.0)));
    REQUIRE(w.note({test::data, 2, 7, 102, "frames reordered, put back"}));
    const auto end = w.finish(dx::Ending::completed());
    CHECK_FALSE(w.note({test::data, 0, 0, 100, "too late"}));
    CHECK_FALSE(end.complete);
    CHECK(end.frames_received == 8);
    CHECK(end.frames_written == 3);
    CHECK(end.frames_lost == 5);
    CHECK(end.reason == "completed; incomplete: 5 frames lost");
    CHECK(has(end.warnings,
              "1 frames were for a slot that holds a frame already (lost; the first, "
              "frame 105: slot 1 of /exchange/data)"));
    CHECK(has(end.warnings,
              "1 frames were for a slot beyond the frames expected (lost; the first, "
              "frame 106: slot 3 of /exchange/data)"));
    CHECK(has(end.warnings,
              "1 frames had no slot for a slotted dataset (lost; the first, frame "
              "107: /exchange/data)"));
    CHECK(has(end.warnings,
              "1 frames had a slot for a dataset that is not slotted (lost; the "
              "first, frame 108: slot 0 of /exchange/data_dark)"));
  }
  json e;
  e["stacks"] = {{test::data, {row(0, 0.0), row(1, 10.0), row(2, 20.0)}}};
  e["status"] = {{status, {1, 1, 1}}};
  const auto table = [](json values, const char* dtype) {
    return json{{"values", std::move(values)}, {"dtype", dtype}, {"units", nullptr}};
  };
  e["tables"] = {
      {std::string(events) + "/dataset",
       table({test::data, test::data, test::data, test::data, "/exchange/data_dark"}, "S")},
      {std::string(events) + "/slot", table({1, 2, 2, 3, 0}, "u8")},
      {std::string(events) + "/row", table({-1, -1, 7, -1, -1}, "i8")},
      {std::string(events) + "/frame", table({105, 109, 102, 106, 108}, "i8")},
      {std::string(events) + "/what",
       table(
           {"frame 105 refused: the slot holds frame 101", "frame 109 lost: not a 6×8 uint16 frame",
            "frames reordered, put back", "frame 106 refused: /exchange/data has 3 slots",
            "frame 108 refused: /exchange/data_dark is not slotted"},
           "S")}};
  const auto r = check(file, e);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE("dx writer tables: columns from another thread round-trip with their units") {
  TempDir dir("dx_slots_tables");
  Plan plan;
  const auto file = dir.path / "tables.h5";
  dx::EndState end;
  {
    dx::Writer w(slotted(file, plan, 3));
    const auto add = [&](std::vector<dx::TableColumn> c) { return w.add_columns(std::move(c)); };
    std::thread panda([&] {
      CHECK(add(
          {{"/measurement/panda/INENC1.VAL.Mean", std::vector<double>{0.5, 60.5, 120.5}, "deg", ""},
           {"/measurement/panda/TS_TRIG", std::vector<double>{0.001, 0.201, 0.401}, "s", ""},
           {"/measurement/panda/COUNTER", std::vector<std::int64_t>{-1, 2, 3}, "counts", ""},
           {"/measurement/panda/SAMPLES", std::vector<std::uint64_t>{1ULL << 40, 2, 3}, "", ""},
           {"/measurement/panda/NAMES", std::vector<std::string>{"a", "bcd", ""}, "", ""}}));
    });
    for (std::uint64_t s = 0; s < 3; ++s)
      REQUIRE(w.push(
          at_slot(plan, static_cast<std::int64_t>(s), s, 60.0 * static_cast<double>(s) + 0.5)));
    panda.join();
    CHECK(add({{"/process/acquisition/planned_theta", std::vector<double>{0, 60, 120}, "degrees",
                "planned angle of each slot"}}));
    CHECK(add({{"/measurement/panda/empty", std::vector<double>{}, "deg", ""}}));
    CHECK(
        add({{"/defaults/ColorMode", std::vector<double>{1}, "", ""}}));  // made at the first frame

    const auto refused = [&](std::string path, std::string message) {
      CHECK_THROWS_WITH_AS(add({{std::move(path), std::vector<double>{1}, "", ""}}),
                           message.c_str(), std::invalid_argument);
    };
    refused("relative", "table column 'relative': not an absolute path");
    refused("/a//b", "table column '/a//b': an empty part");
    refused("/a/../b", "table column '/a/../b': a '.' or '..' part");
    refused("/exchange/data",
            "table column /exchange/data: is made by the writer itself: /exchange/data");
    refused("/exchange", "table column /exchange: is a group of the layout: /exchange");
    refused("/exchange/theta/x", "table column /exchange/theta/x: lies inside /exchange/theta");
    refused(std::string(status),
            std::string("table column ") + status + ": is made by the writer itself: " + status);
    refused(std::string(events) + "/x",
            std::string("table column ") + events + "/x: lies inside " + events);
    refused("/process/acquisition/planned_theta",
            "table column /process/acquisition/planned_theta: clashes with column "
            "/process/acquisition/planned_theta added before");
    refused("/measurement/panda/TS_TRIG/x",
            "table column /measurement/panda/TS_TRIG/x: clashes with column "
            "/measurement/panda/TS_TRIG added before");
    CHECK_THROWS_AS(
        add({{"/t/a", std::vector<double>{1}, "", ""}, {"/t/a", std::vector<double>{1}, "", ""}}),
        std::invalid_argument);
    end = w.finish(dx::Ending::completed());
    CHECK_FALSE(add({{"/late", std::vector<double>{1}, "", ""}}));
  }
  CHECK(end.complete);
  CHECK(
      has(end.warnings, "table column /defaults/ColorMode: an object is there already: left out"));
  const auto f64 = [](json v, json units, json description = nullptr) {
    return json{
        {"values", std::move(v)}, {"dtype", "f8"}, {"units", units}, {"description", description}};
  };
  json e;
  e["tables"] = {{"/measurement/panda/INENC1.VAL.Mean", f64({0.5, 60.5, 120.5}, "deg")},
                 {"/measurement/panda/TS_TRIG", f64({0.001, 0.201, 0.401}, "s")},
                 {"/measurement/panda/COUNTER",
                  {{"values", {-1, 2, 3}}, {"dtype", "i8"}, {"units", "counts"}}},
                 {"/measurement/panda/SAMPLES",
                  {{"values", {1ULL << 40, 2, 3}}, {"dtype", "u8"}, {"units", nullptr}}},
                 {"/measurement/panda/NAMES",
                  {{"values", {"a", "bcd", ""}}, {"dtype", "S"}, {"units", nullptr}}},
                 {"/measurement/panda/empty", f64(json::array(), "deg")},
                 {"/process/acquisition/planned_theta",
                  f64({0, 60, 120}, "degrees", "planned angle of each slot")},
                 {std::string(events) + "/what",
                  {{"values", json::array()}, {"dtype", "S"}, {"units", nullptr}}}};
  e["absent"] = {"/t", "/late"};
  const auto r = check(file, e);
  INFO(r.output);
  CHECK(r.status == 0);
}

TEST_CASE("dx writer slots: bad slotted options are refused at construction") {
  TempDir dir("dx_slots_options");
  Plan plan;
  const auto file = dir.path / "bad.h5";
  auto o = slotted(file, plan, 3);
  o.frames_expected.clear();
  CHECK_THROWS_WITH_AS(
      dx::Writer{o},
      "dx::Writer: slotted dataset /exchange/data has no frames_expected entry (its "
      "number of slots)",
      std::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(file));  // a half-made file is removed
  o = slotted(file, plan, 3);
  o.slotted = {"/exchange/nowhere"};
  CHECK_THROWS_WITH_AS(dx::Writer{o},
                       "dx::Writer: slotted dataset /exchange/nowhere is not a detector dataset of "
                       "the layout",
                       std::invalid_argument);
}

TEST_CASE("dx writer slots: compressed frames land in their slots; the NXtomo view holds them") {
  const std::pair<dx::Compression, const char*> cases[] = {
      {dx::Compression::gzip, "gzip"}, {dx::Compression::bitshuffle_lz4, "32008"}};
  for (const auto& [compression, filter] : cases) {
    INFO(std::string(filter));
    TempDir dir(std::string("dx_slots_compress_") + filter);
    Plan plan;
    const auto file = dir.path / "compressed.h5";
    auto o = slotted(file, plan, 5);
    o.compression = compression;
    o.nxtomo = true;
    {
      dx::Writer w(o);
      REQUIRE(w.push(plan.frame(7, test::dark, test::dark, std::nullopt)));
      REQUIRE(w.push(plan.frame(8, test::white, test::white, 0.0)));
      for (const std::uint64_t s : {4U, 1U, 0U, 3U}) {  // slot 2 never comes
        REQUIRE(
            w.push(at_slot(plan, static_cast<std::int64_t>(s), s, 10.0 * static_cast<double>(s))));
      }
      const auto end = w.finish(dx::Ending::completed());
      CHECK(end.nxtomo);
      CHECK(end.frames_written == 6);
    }
    json e;
    e["stacks"] = {{test::data, {row(0, 0.0), row(1, 10.0), nullptr, row(3, 30.0), row(4, 40.0)}},
                   {test::dark, {row(7, std::nullopt)}},
                   {test::white, {row(8, 0.0)}}};
    e["status"] = {{status, {1, 1, 0, 1, 1}}};
    e["filter"] = filter;
    e["nxtomo"] = true;
    e["dxchange"] = true;
    const auto r = check(file, e);
    INFO(r.output);
    CHECK(r.status == 0);
  }
}

TEST_CASE("dx writer slots: a SWMR reader sees the status of each slot as frames are stored") {
  using namespace std::chrono_literals;
  TempDir dir("dx_slots_swmr");
  Plan plan;
  const auto file = dir.path / "live.h5";
  const auto go = dir.path / "go";
  auto o = slotted(file, plan, 4);
  o.flush_period = 20ms;
  dx::Writer w(o);
  const auto wait_written = [&](std::uint64_t n) {  // a failure guard of 60 s, not a timing
    for (int i = 0; i < 6000 && w.stats().written < n; ++i) std::this_thread::sleep_for(10ms);
  };
  REQUIRE(w.push(at_slot(plan, 2, 2, 20.0)));
  wait_written(1);
  // The reader polls (guard: 60 s) until a flush has made the wanted status visible.
  const std::string script = std::string(
                                 "import h5py,os,sys,time\n"
                                 "f=h5py.File(sys.argv[1],'r',swmr=True)\n"
                                 "s=f['") +
                             status +
                             "']\nt=f['/exchange/theta']\n"
                             "def wait(want):\n"
                             "  for _ in range(6000):\n"
                             "    s.refresh(); t.refresh()\n"
                             "    if s[()].tolist() == want: return\n"
                             "    time.sleep(0.01)\n"
                             "wait([0,0,1,0])\n"
                             "print('first', s[()].tolist(), t[2], flush=True)\n"
                             "while not os.path.exists(sys.argv[2]): time.sleep(0.01)\n"
                             "wait([1,0,1,0])\n"
                             "print('then', s[()].tolist(), t[0], flush=True)\n";
  const auto py = dir.path / "reader.py";
  std::ofstream(py) << script;
  const std::string cmd =
      "/usr/bin/python3 '" + py.string() + "' '" + file.string() + "' '" + go.string() + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char line[512] = {};
  REQUIRE(std::fgets(line, sizeof line, pipe) != nullptr);
  CHECK(std::string(line) == "first [0, 0, 1, 0] 20.0\n");
  REQUIRE(w.push(at_slot(plan, 0, 0, 0.5)));
  wait_written(2);
  std::ofstream(go) << "";
  REQUIRE(std::fgets(line, sizeof line, pipe) != nullptr);
  CHECK(std::string(line) == "then [1, 0, 1, 0] 0.5\n");
  CHECK(::pclose(pipe) == 0);
  CHECK_FALSE(w.finish(dx::Ending::completed()).complete);
}

TEST_CASE("dx writer slots: a full disk leaves every slot's status true to what was stored" *
          doctest::test_suite(test::kNeedsMount)) {
  TempDir dir("dx_slots_full");
  test::TinyDisk disk(dir.path / "disk", "4m");
  const auto file = disk.dir / "scan.h5";
  Plan plan;
  plan.height = 256;
  plan.width = 256;  // 128 KiB frames: about 30 fit
  auto o = slotted(file, plan, 100);
  o.max_batch = 4;
  dx::EndState end;
  {
    dx::Writer w(o);
    for (std::uint64_t s = 0; s < 100; s += 2) {  // pairs swapped: 1, 0, 3, 2, ...
      for (const std::uint64_t k : {s + 1, s}) {
        auto r = plan.frame(static_cast<std::int64_t>(k), test::data, test::data,
                            1.8 * static_cast<double>(k));
        r.slot = k;
        CHECK(w.push(std::move(r)));
      }
    }
    end = w.finish(dx::Ending::completed());
  }
  CHECK(end.close_error == "");
  CHECK_FALSE(end.complete);
  CHECK(end.reason.rfind("disk full: ", 0) == 0);
  CHECK(end.frames_written > 5);
  CHECK(end.frames_written + end.frames_lost == 100);
  json e;
  e["height"] = plan.height;
  e["width"] = plan.width;
  e["consistent"] = {
      {"dataset", test::data}, {"status", status}, {"written", end.frames_written}, {"step", 1.8}};
  const auto path = file.string() + ".expect.json";
  std::ofstream(path) << e.dump(1);
  const auto r =
      test::run_python("dx_writer_slots_check.py", "'" + file.string() + "' '" + path + "'");
  INFO(r.output);
  CHECK(r.status == 0);
  // validate counts the same filled slots as the writer
  CHECK(has(messages(dx::validate(file)),
            fmt::format("/exchange/data holds {} frames, 100 expected", end.frames_written)));
}
