// dx::Writer's frame checks and the completeness rule it shares with
// dx::validate (issue 15 items 7, 8, 9, 12): frames whose routing, angle,
// shape or pixel type is wrong are lost and make the scan incomplete, never
// written as projections; `record` (EndState) and `validate` agree.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "dx_writer_test_util.hpp"
#include "pandafly/capture/adzmq.hpp"
#include "pandafly/dx/completeness.hpp"
#include "pandafly/dx/validate.hpp"
#include "pandafly/dx/writer.hpp"
#include "pandafly/h5/dataset.hpp"
#include "pandafly/h5/file.hpp"
#include "temp_dir.hpp"

using namespace pandafly;
using test::Plan;
using test::TempDir;

namespace {

hsize_t rows_of(const std::filesystem::path& file, const std::string& path) {
  const auto f = h5::File::open(file);
  return h5::Dataset::open(f.id(), path).rows();
}

bool has(const std::vector<std::string>& list, std::string_view part) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& s) { return s.find(part) != std::string::npos; });
}

std::vector<std::string> messages(const dx::ValidationReport& r, dx::Severity s) {
  std::vector<std::string> out;
  for (const auto& f : r.findings)
    if (f.severity == s) out.push_back(f.message);
  return out;
}

dx::WriterOptions options(const std::filesystem::path& file, const Plan& plan) {
  auto o = test::writer_options(file, plan);
  o.nxtomo = false;
  return o;
}

}  // namespace

TEST_CASE("completeness rule: each condition on its own makes a scan incomplete") {
  dx::CompletenessFacts ok;
  ok.expected["/exchange/data"] = 3;
  ok.stored = {{"/exchange/data", 3}, {"/exchange/data_dark", 2}};  // darks not constrained
  CHECK(dx::judge_completeness(ok).complete);
  CHECK(dx::judge_completeness(ok).reasons.empty());
  CHECK(dx::judge_completeness(dx::CompletenessFacts{}).complete);

  auto f = ok;
  f.interrupted = true;
  CHECK_FALSE(dx::judge_completeness(f).complete);
  f = ok;
  f.write_failed = true;
  CHECK_FALSE(dx::judge_completeness(f).complete);
  f = ok;
  f.frames_lost = 1;
  CHECK(dx::judge_completeness(f).reasons == std::vector<std::string>{"1 frames lost"});
  f = ok;
  f.stored["/exchange/data"] = 4;  // too many is as wrong as too few
  CHECK(dx::judge_completeness(f).reasons ==
        std::vector<std::string>{"/exchange/data holds 4 frames, 3 expected"});
  f = ok;
  f.stored.erase("/exchange/data");
  CHECK_FALSE(dx::judge_completeness(f).complete);
  f = ok;
  f.projections_without_angle = 2;
  CHECK(dx::judge_completeness(f).reasons ==
        std::vector<std::string>{"2 projections have no angle (NaN or Undefined)"});
}

// Item 7, end to end through the decoder: NDPluginZMQ prints a uint8
// NDAttribute of value 44 as a raw ',' — the dark must still land in data_dark
// with its angle.
TEST_CASE("dx writer: a raw punctuation byte in ndattr no longer mis-routes a dark") {
  TempDir dir("dx_frames_raw");
  Plan plan;
  const auto file = dir.path / "raw.h5";
  const std::string header =
      fmt::format(R"({{"htype":"array-1.0", "type":"uint16", "shape":[{},{}], "frame":7, )"
                  R"("timeStamp":1136214245.5, "encoding":"", "ndattr":{{"Gain":,,)"
                  R"("HDF5FrameLocation":"/exchange/data_dark","theta_readout":12.5}}}})",
                  plan.height, plan.width);
  const std::vector<std::uint16_t> pixels(plan.height * plan.width, 7);
  const auto decoded =
      capture::decode_adzmq(std::as_bytes(std::span{header}), std::as_bytes(std::span{pixels}));
  REQUIRE(std::holds_alternative<capture::Frame>(decoded));
  dx::Writer w(options(file, plan));
  auto rec = dx::FrameRecord::view(std::get<capture::Frame>(decoded), nullptr);
  rec.angle = 12.5;
  REQUIRE(w.push(std::move(rec)));
  const auto end = w.finish(dx::Ending::completed());
  CHECK(end.frames_written == 1);
  CHECK(rows_of(file, test::dark) == 1);
  CHECK(rows_of(file, test::data) == 0);
}

TEST_CASE("dx writer: FrameRecord::view marks a frame whose ndattr was lost, not one skip") {
  const auto decode = [](const std::string& ndattr) {
    static std::vector<std::byte> pixel(1);
    const std::string h =
        R"({"htype":"array-1.0", "type":"uint8", "shape":[1,1], "frame":1, "timeStamp":1.5, )"
        R"("encoding":"", "ndattr":)" +
        ndattr + "}";
    auto r = capture::decode_adzmq(std::as_bytes(std::span{h}), pixel);
    REQUIRE(std::holds_alternative<capture::Frame>(r));
    return dx::FrameRecord::view(std::get<capture::Frame>(r), nullptr);
  };
  CHECK_FALSE(decode(R"({"a":1,"b":,,,"c":2})").attribute_error.empty());  // nothing reads
  CHECK_FALSE(decode("7").attribute_error.empty());                        // not an object
  const auto one_skipped = decode(R"({"Loc":"/exchange/data","arr":[1,2]})");
  CHECK(one_skipped.attribute_error.empty());  // the routing attribute is still there
  CHECK(one_skipped.attributes.size() == 1);
}

TEST_CASE("dx writer: a frame with unreadable NDAttributes is lost, never a projection") {
  TempDir dir("dx_frames_attrs");
  Plan plan;
  const auto file = dir.path / "attrs.h5";
  {
    dx::Writer w(options(file, plan));
    REQUIRE(w.push(plan.frame(0, test::data, test::data, 0.0)));
    auto bad = plan.frame(1, nullptr, "", std::nullopt);  // a dark whose ndattr was lost
    bad.attributes.clear();
    bad.attribute_error = "ndattr does not parse, attributes dropped (x)";
    REQUIRE(w.push(std::move(bad)));
    const auto end = w.finish(dx::Ending::completed());
    CHECK_FALSE(end.complete);
    CHECK(end.frames_lost == 1);
    CHECK(end.frames_written == 1);
    CHECK(end.reason.find("1 frames lost") != std::string::npos);
    CHECK(has(end.warnings,
              "1 frames had unreadable NDAttributes, so no routing or angle (lost; "
              "the first, frame 101: ndattr does not parse"));
  }
  CHECK(rows_of(file, test::data) == 1);
  CHECK(rows_of(file, "/exchange/theta") == 1);
}

TEST_CASE("dx writer: the right byte count in another shape or pixel type is lost") {
  TempDir dir("dx_frames_shape");
  Plan plan;  // 6 × 8 uint16 = 96 bytes
  const auto file = dir.path / "shape.h5";
  dx::Writer w(options(file, plan));
  REQUIRE(w.push(plan.frame(0, test::data, test::data, 0.0)));
  auto wrong_shape = plan.frame(1, test::data, "", 1.0);
  wrong_shape.shape = {8, 6};  // transposed: same 96 bytes
  wrong_shape.type = capture::DataType::uint16;
  REQUIRE(w.push(std::move(wrong_shape)));
  auto wrong_type = plan.frame(2, test::data, "", 2.0);
  wrong_type.shape = {6, 16};  // uint8, twice as wide: same 96 bytes
  wrong_type.type = capture::DataType::uint8;
  REQUIRE(w.push(std::move(wrong_type)));
  auto fine = plan.frame(3, test::data, test::data, 3.0);
  fine.shape = {1, 6, 8};  // a leading 1 is the same frame
  fine.type = capture::DataType::uint16;
  REQUIRE(w.push(std::move(fine)));
  const auto end = w.finish(dx::Ending::completed());
  CHECK(end.frames_written == 2);
  CHECK(end.frames_lost == 2);
  CHECK_FALSE(end.complete);
  CHECK(has(end.warnings, "1 frames were not 6×8 (lost; the first, frame 101, was 8×6)"));
  CHECK(has(end.warnings, "1 frames were not uint16 (lost; the first, frame 102, was uint8)"));
}

TEST_CASE("dx writer and validate: a NaN or Undefined projection angle is an incomplete scan") {
  TempDir dir("dx_frames_nan");
  Plan plan;
  const auto file = dir.path / "nan.h5";
  {
    dx::Writer w(options(file, plan));
    REQUIRE(w.push(plan.frame(0, test::data, test::data, 0.0)));
    REQUIRE(w.push(plan.frame(1, test::data, test::data, std::nullopt)));  // "Undefined"
    REQUIRE(
        w.push(plan.frame(2, test::data, test::data, std::numeric_limits<double>::quiet_NaN())));
    REQUIRE(w.push(plan.frame(3, test::dark, test::dark, std::nullopt)));  // darks need none
    const auto end = w.finish(dx::Ending::completed());
    CHECK_FALSE(end.complete);
    CHECK(end.frames_lost == 0);
    CHECK(end.reason == "completed; incomplete: 2 projections have no angle (NaN or Undefined)");
  }
  const auto report = dx::validate(file);
  CHECK(has(messages(report, dx::Severity::warning),
            "incomplete scan: 2 projections have no angle (NaN or Undefined)"));
}

TEST_CASE("record and validate agree: per-dataset expectations, one rule") {
  TempDir dir("dx_frames_agree");
  Plan plan;
  const auto file = dir.path / "agree.h5";
  SUBCASE("every expectation met, unexpected darks too: complete, and validate agrees") {
    auto o = options(file, plan);
    o.frames_expected = {{test::data, 2}};
    dx::Writer w(o);
    REQUIRE(w.push(plan.frame(0, test::dark, test::dark, std::nullopt)));
    REQUIRE(w.push(plan.frame(1, test::data, test::data, 0.0)));
    REQUIRE(w.push(plan.frame(2, test::data, test::data, 90.0)));
    const auto end = w.finish(dx::Ending::completed());
    CHECK(end.complete);
    const auto report = dx::validate(file);
    CHECK_FALSE(has(messages(report, dx::Severity::error), "incomplete"));
    CHECK_FALSE(has(messages(report, dx::Severity::warning), "incomplete"));
  }
  SUBCASE("more projections than expected: incomplete in both") {
    auto o = options(file, plan);
    o.frames_expected = {{test::data, 1}};
    dx::Writer w(o);
    REQUIRE(w.push(plan.frame(0, test::data, test::data, 0.0)));
    REQUIRE(w.push(plan.frame(1, test::data, test::data, 90.0)));
    const auto end = w.finish(dx::Ending::completed());
    CHECK_FALSE(end.complete);
    CHECK(end.reason == "completed; incomplete: /exchange/data holds 2 frames, 1 expected");
    CHECK(has(messages(dx::validate(file), dx::Severity::warning),
              "incomplete scan: /exchange/data holds 2 frames, 1 expected"));
  }
}
