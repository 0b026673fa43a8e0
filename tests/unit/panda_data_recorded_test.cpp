// DataConnection + ColumnDecoder on the recorded streams of
// tests/data/panda_streams (see its README): every stream decoded whole, split
// at every index and byte at a time, compared with the expected values in the
// stream's .json — the wire values as sent, and the scaled columns (RAW
// streams scaled here must equal what a SCALED client receives).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "panda_data_test_util.hpp"
#include "pandafly/panda/columns.hpp"
#include "sim/panda/data_connection.hpp"

namespace pandafly::panda {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path streams = fs::path{PANDAFLY_TEST_DATA} / "panda_streams";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Field> fields_of(const json& wire_fields) {
  std::vector<Field> out;
  for (const auto& f : wire_fields) {
    Field field;
    field.name = f.at("name");
    field.capture = f.at("capture");
    field.mode = capture_mode_from(field.capture);
    field.type = field_type_from(f.at("type").get<std::string>()).value();
    out.push_back(field);
  }
  return out;
}

/// The options a client sent to get this stream (the .json names them),
/// read with the simulator's own options-line parser.
DataOptions options_of(const json& j) {
  const auto sent = sim::parse_data_options(j.at("options_line").get<std::string>()).value();
  DataOptions o;
  o.format = sim::to_panda(sent.format);
  o.processing = sent.raw ? Processing::raw : Processing::scaled;
  o.xml = sent.xml;
  o.header = sent.header;
  o.status = sent.status;
  o.one_shot = sent.one_shot;
  if (o.header) return o;
  // No header: the client must know the layout, scaling included (the
  // README's field settings for this stream).
  o.fields = fields_of(j.at("acquisitions")[0].at("wire_fields"));
  for (auto& f : o.fields) {
    if (f.name == "INENC1.VAL") f.scale = 0.000125, f.offset = 1.5, f.units = "deg";
    if (f.name == "PCAP.TS_TRIG") f.scale = 8e-9, f.offset = 0.0, f.units = "s";
  }
  return o;
}

/// Value `r` of column `c` as a double (int96 and int64 converted).
double value_at(const ColumnBlock& b, std::size_t c, std::size_t r) {
  return std::visit(
      [r](const auto& v) -> double {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, Int96>) {
          return static_cast<double>(v[r].value());
        } else {
          return static_cast<double>(v[r]);
        }
      },
      b.column(c));
}

/// Checks the columns named by `fields` (in order) against `expected`; the
/// block may hold one more: the gate count a RAW stream carries for Mean.
void check_columns(const ColumnDecoder& dec, const ColumnBlock& block, const json& fields,
                   const json& expected, double tolerance, const std::string& what) {
  std::vector<std::size_t> order;
  for (const auto& f : fields) {
    const std::string name =
        f.at("name").get<std::string>() + "." + f.at("capture").get<std::string>();
    std::size_t c = 0;
    while (c < dec.specs().size() && (dec.specs()[c].field + "." + dec.specs()[c].capture != name ||
                                      std::find(order.begin(), order.end(), c) != order.end())) {
      ++c;
    }
    REQUIRE_MESSAGE(c < dec.specs().size(), what << ": no column " << name);
    order.push_back(c);
  }
  CHECK(block.columns() - order.size() <= 1);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t c = order[k];
    REQUIRE(block.rows() == expected[k].size());
    for (std::size_t r = 0; r < block.rows(); ++r) {
      const double got = value_at(block, c, r);
      if (expected[k][r].is_null()) {
        CHECK_MESSAGE(std::isnan(got), what << " column " << c << " row " << r);
      } else {
        const double want = expected[k][r].get<double>();
        CHECK_MESSAGE(std::fabs(got - want) <= tolerance * std::fabs(want),
                      what << " column " << c << " row " << r << ": " << got << " != " << want);
      }
    }
  }
}

void check_decoded(const StartData& start, const std::string& bytes, ColumnDecoder::Mode mode,
                   const json& fields, const json& expected, double tolerance,
                   const std::string& what) {
  auto dec = std::get<ColumnDecoder>(ColumnDecoder::make(start, mode));
  auto block = dec.make_block();
  dec.append(FrameData{std::as_bytes(std::span{bytes.data(), bytes.size()}),
                       bytes.size() / start.sample_bytes, start.sample_bytes},
             block);
  check_columns(dec, block, fields, expected, tolerance, what);
}

TEST_CASE("recorded streams decode to the values their .json expects") {
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(streams)) {
    if (entry.path().extension() != ".json") continue;
    const json j = json::parse(slurp(entry.path()));
    const std::string name = j.at("stream");
    CAPTURE(name);
    const auto decoded = test::check_every_split(options_of(j), slurp(streams / name));
    CHECK(decoded.errors.empty());
    const auto& acquisitions = j.at("acquisitions");
    REQUIRE(decoded.starts.size() == acquisitions.size());
    const double tolerance = options_of(j).format == DataFormat::ascii ? 1e-9 : 0.0;
    for (std::size_t a = 0; a < acquisitions.size(); ++a) {
      const auto& want = acquisitions[a];
      const StartData& start = decoded.starts[a];
      CHECK(start.sample_bytes == want.at("sample_bytes").get<std::size_t>());
      if (options_of(j).header) CHECK(start.arm_time == want.at("arm_time").get<std::string>());
      REQUIRE(decoded.samples[a].size() ==
              want.at("samples").get<std::size_t>() * start.sample_bytes);
      check_decoded(start, decoded.samples[a], ColumnDecoder::Mode::as_sent, want.at("wire_fields"),
                    want.at("wire_values"), tolerance, name + " wire");
      check_decoded(start, decoded.samples[a], ColumnDecoder::Mode::scaled,
                    want.at("scaled_fields"), want.at("scaled_values"), tolerance,
                    name + " scaled");
      if (want.at("end").is_null()) continue;
      REQUIRE(a < decoded.ends.size());
      CHECK(decoded.ends[a].samples == want.at("end").at("samples").get<std::uint64_t>());
      CHECK(decoded.ends[a].reason_text == want.at("end").at("reason").get<std::string>());
    }
    ++checked;
  }
  CHECK(checked == 6);
}

}  // namespace
}  // namespace pandafly::panda
