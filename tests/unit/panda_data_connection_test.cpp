// DataConnection: every format and option, fed whole, split at every index
// and byte at a time; malformed streams; the arm → END → re-arm cycle.
#include <cmath>

#include <doctest/doctest.h>

#include "panda_data_test_util.hpp"
#include "pandafly/panda/base64.hpp"
#include "pandafly/panda/columns.hpp"

namespace pandafly::panda {
namespace {

using test::bin_frame;
using test::check_every_split;
using test::decode_whole;
using test::Packer;

DataOptions options(DataFormat format, Processing processing = Processing::scaled) {
  DataOptions o;
  o.format = format;
  o.processing = processing;
  return o;
}

std::string xml_header(std::string_view process, std::string_view format,
                       std::string_view sample_bytes, std::string_view fields) {
  std::string sb =
      sample_bytes.empty() ? "" : " sample_bytes=\"" + std::string{sample_bytes} + "\"";
  return "<header>\n<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
         "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" process=\"" +
         std::string{process} + "\" format=\"" + std::string{format} + "\"" + sb +
         " />\n<fields>\n" + std::string{fields} + "</fields>\n</header>\n\n";
}

const std::string two_fields =
    "<field name=\"PCAP.BITS0\" type=\"uint32\" capture=\"Value\" />\n"
    "<field name=\"INENC1.VAL\" type=\"double\" capture=\"Value\" scale=\"0.000125\" "
    "offset=\"0\" units=\"deg\" />\n";

std::string three_samples() {
  return Packer{}.put(7u).put(1.5).put(8u).put(2.25).put(9u).put(-0.125).str();
}

std::string framed_scaled_stream() {
  const auto s = three_samples();
  return "OK\n" + xml_header("Scaled", "Framed", "12", two_fields) + bin_frame(s.substr(0, 24)) +
         bin_frame(s.substr(24)) + "END 3 Ok\n";
}

TEST_CASE("the options line names every option") {
  CHECK(DataOptions{}.connect_line() == "XML FRAMED SCALED\n");
  DataOptions o = options(DataFormat::ascii, Processing::raw);
  o.xml = false;
  o.header = false;
  o.status = false;
  o.one_shot = true;
  CHECK(o.connect_line() == "ASCII RAW NO_HEADER NO_STATUS ONE_SHOT\n");
  CHECK(options(DataFormat::base64).connect_line() == "XML BASE64 SCALED\n");
  CHECK(DataOptions::bare({}).connect_line() == "UNFRAMED RAW NO_HEADER NO_STATUS ONE_SHOT\n");
}

TEST_CASE("FRAMED SCALED: Ready, Start with the header's layout, whole samples, End") {
  const auto d = check_every_split(DataOptions{}, framed_scaled_stream());
  CHECK(d.ready == 1);
  REQUIRE(d.starts.size() == 1);
  const StartData& s = d.starts[0];
  CHECK(s.arm_time == "2026-01-15T10:00:00.000000001Z");
  CHECK(s.start_time == "2026-01-15T10:00:00.004000000Z");
  CHECK(s.sample_bytes == 12);
  CHECK(s.format == DataFormat::framed);
  CHECK(s.processing == Processing::scaled);
  REQUIRE(s.fields.size() == 2);
  CHECK(s.fields[0].name == "PCAP.BITS0");
  CHECK_FALSE(s.fields[0].scale.has_value());
  CHECK(s.fields[1].column_name() == "INENC1.VAL.Value");
  CHECK(s.fields[1].scale == 0.000125);
  CHECK(s.fields[1].units == "deg");
  CHECK(s.fields[1].byte_offset == 4);
  CHECK(d.samples == std::vector<std::string>{three_samples()});
  REQUIRE(d.ends.size() == 1);
  CHECK(d.ends[0].samples == 3);
  CHECK(d.ends[0].reason == EndReason::ok);
  CHECK(d.errors.empty());
}

TEST_CASE("a whole frame in the caller's bytes is handed out without a copy") {
  const auto stream = framed_scaled_stream();
  std::vector<std::byte> bytes(stream.size());
  std::memcpy(bytes.data(), stream.data(), stream.size());
  DataConnection c;
  c.receive(bytes);
  CHECK(is<ReadyData>(c.next_event()));
  CHECK(is<StartData>(c.next_event()));
  const auto ev = c.next_event();
  REQUIRE(is<FrameData>(ev));
  const auto& f = std::get<FrameData>(ev);
  CHECK(f.samples == 2);
  CHECK(f.bytes.data() >= bytes.data());
  CHECK(f.bytes.data() < bytes.data() + bytes.size());
}

TEST_CASE("a 2 MiB RAW frame is delivered as its samples arrive, not held back whole") {
  std::string payload;
  for (std::uint32_t i = 0; i < (2u << 20) / 12; ++i)
    payload += Packer{}.put(i).put(0.25 * i).str();
  const std::string stream =
      "OK\n" + xml_header("Scaled", "Framed", "12", two_fields) + bin_frame(payload);
  DataConnection c;
  test::Decoded d;
  const std::size_t first_piece = 65536;
  std::vector<std::byte> piece(first_piece);
  std::memcpy(piece.data(), stream.data(), first_piece);
  c.receive(piece);
  test::drain(c, d);
  REQUIRE(d.samples.size() == 1);
  CHECK(d.samples[0].size() > first_piece - 1024);  // nearly all of the first read
  CHECK(d.samples[0].size() % 12 == 0);
  const auto rest = decode_whole(DataOptions{}, stream + "END 174762 Ok\n");
  CHECK(rest.samples == std::vector<std::string>{payload});
}

TEST_CASE("acquisitions repeat on one connection, each with its own header") {
  const std::string one_field =
      "<field name=\"COUNTER1.OUT\" type=\"double\" capture=\"Value\" "
      "scale=\"1\" offset=\"0\" units=\"\" />\n";
  const auto second = Packer{}.put(42.0).str();
  std::string stream = framed_scaled_stream() + xml_header("Scaled", "Framed", "8", one_field) +
                       bin_frame(second) + "END 1 Disarmed\n";
  const auto d = check_every_split(DataOptions{}, stream);
  REQUIRE(d.starts.size() == 2);
  CHECK(d.starts[1].fields.size() == 1);
  CHECK(d.samples == std::vector<std::string>{three_samples(), second});
  REQUIRE(d.ends.size() == 2);
  CHECK(d.ends[1].reason == EndReason::disarmed);
  CHECK(d.errors.empty());
}

TEST_CASE("every END reason the server sends is recognised; unknown ones are kept") {
  for (std::string_view reason :
       {"Ok", "Disarmed", "Framing error", "DMA data error", "Driver data overrun",
        "Unexpected completion error", "Early disconnect", "Data overrun"}) {
    CAPTURE(reason);
    const auto d =
        decode_whole(DataOptions{}, "OK\n" + xml_header("Scaled", "Framed", "12", two_fields) +
                                        "END 0 " + std::string{reason} + "\n");
    REQUIRE(d.ends.size() == 1);
    CHECK(d.ends[0].reason != EndReason::unknown);
    CHECK(to_string(d.ends[0].reason) == reason);
  }
  const auto odd =
      decode_whole(DataOptions{}, "OK\n" + xml_header("Scaled", "Framed", "12", two_fields) +
                                      "END 5 Cosmic ray\nEND 0\n");
  REQUIRE(odd.ends.size() == 1);  // the second END has no header before it: it is a header line
  CHECK(odd.ends[0].reason == EndReason::unknown);
  CHECK(odd.ends[0].reason_text == "Cosmic ray");
  CHECK(odd.ends[0].samples == 5);
}

TEST_CASE("an END with only a sample count") {
  const auto d = decode_whole(
      DataOptions{}, "OK\n" + xml_header("Scaled", "Framed", "12", two_fields) + "END 0\n");
  REQUIRE(d.ends.size() == 1);
  CHECK(d.ends[0].reason == EndReason::unknown);
  CHECK(d.ends[0].reason_text.empty());
}

TEST_CASE("the text header (no XML)") {
  const std::string header =
      "arm_time: 2026-01-15T10:00:00.000000001Z\nstart_time: 2026-01-15T10:00:00.004000000Z\n"
      "missed: 3\nprocess: Scaled\nformat: Framed\nsample_bytes: 12\nfields:\n"
      " PCAP.BITS0 uint32 Value\n INENC1.VAL double Value scale: 0.000125 offset: 0 units: deg "
      "C\n\n";
  DataOptions o;
  o.xml = false;
  const auto d = check_every_split(o, "OK\n" + header + bin_frame(three_samples()) + "END 3 Ok\n");
  REQUIRE(d.starts.size() == 1);
  CHECK(d.starts[0].missed == 3);
  CHECK(d.starts[0].fields[1].units == "deg C");
  CHECK(d.starts[0].fields[1].scale == 0.000125);
  CHECK(d.samples == std::vector<std::string>{three_samples()});
}

TEST_CASE("ASCII SCALED lines become the same samples as FRAMED") {
  const std::string stream = "OK\n" + xml_header("Scaled", "ASCII", "", two_fields) +
                             " 7 1.5\n 8 2.25\n 9 -0.125\nEND 3 Ok\n";
  const auto d = check_every_split(options(DataFormat::ascii), stream);
  REQUIRE(d.starts.size() == 1);
  CHECK(d.starts[0].sample_bytes == 12);
  CHECK(d.samples == std::vector<std::string>{three_samples()});
  CHECK(d.ends.size() == 1);
  CHECK(d.errors.empty());
}

TEST_CASE("ASCII RAW: every 32-bit word as 0x%08x, 64-bit values low word first") {
  const std::string fields =
      "<field name=\"PCAP.BITS0\" type=\"uint32\" capture=\"Value\" />\n"
      "<field name=\"INENC1.VAL\" type=\"int32\" capture=\"Value\" scale=\"1\" offset=\"0\" "
      "units=\"\" />\n"
      "<field name=\"PCAP.TS_TRIG\" type=\"int64\" capture=\"Value\" scale=\"8e-09\" offset=\"0\" "
      "units=\"s\" />\n";
  const std::string stream = "OK\n" + xml_header("Raw", "ASCII", "", fields) +
                             " 0x00000007 0xfffffffd 0x00000002 0x00000001\nEND 1 Ok\n";
  const auto d = check_every_split(options(DataFormat::ascii, Processing::raw), stream);
  const auto expect = Packer{}.put(7u).put(-3).put(std::int64_t{2} + (std::int64_t{1} << 32)).str();
  CHECK(d.samples == std::vector<std::string>{expect});
}

TEST_CASE("BASE64 lines end in NUL + LF and ignore sample boundaries") {
  std::string samples;
  for (std::uint32_t i = 0; i < 6; ++i) samples += Packer{}.put(i).put(0.5 * i).str();  // 72 bytes
  const auto as_bytes = [](std::string_view s) {
    return std::as_bytes(std::span{s.data(), s.size()});
  };
  const std::string stream = "OK\n" + xml_header("Scaled", "Base64", "12", two_fields) + " " +
                             base64::encode(as_bytes(std::string_view{samples}.substr(0, 57))) +
                             std::string(1, '\0') + "\n " +
                             base64::encode(as_bytes(std::string_view{samples}.substr(57))) +
                             std::string(1, '\0') + "\nEND 6 Ok\n";
  const auto d = check_every_split(options(DataFormat::base64), stream);
  CHECK(d.samples == std::vector<std::string>{samples});
  CHECK(d.errors.empty());
}

TEST_CASE("UNFRAMED: samples by counting, END at a sample boundary") {
  const std::string stream =
      "OK\n" + xml_header("Scaled", "Unframed", "12", two_fields) + three_samples() + "END 3 Ok\n" +
      xml_header("Scaled", "Unframed", "12", two_fields) + "END 0 Disarmed\n";
  const auto d = check_every_split(options(DataFormat::unframed), stream);
  CHECK(d.samples == std::vector<std::string>{three_samples(), ""});
  REQUIRE(d.ends.size() == 2);
  CHECK(d.ends[1].reason == EndReason::disarmed);
  CHECK(d.errors.empty());
}

TEST_CASE("UNFRAMED data that starts like END but is not an END line stays data") {
  // A sample whose bytes read "END " followed by a non-digit.
  const std::string sample = std::string{"END "} + "x" + std::string(7, '\0');
  const std::string fields =
      "<field name=\"A\" type=\"uint32\" capture=\"Value\" />\n"
      "<field name=\"B\" type=\"uint32\" capture=\"Value\" />\n"
      "<field name=\"C\" type=\"uint32\" capture=\"Value\" />\n";
  const std::string stream =
      "OK\n" + xml_header("Scaled", "Unframed", "12", fields) + sample + "END 1 Ok\n";
  const auto d = check_every_split(options(DataFormat::unframed), stream);
  CHECK(d.samples == std::vector<std::string>{sample});
  CHECK(d.ends.size() == 1);
}

TEST_CASE("BARE: no OK, no header, no END; a clean close ends the acquisition") {
  Field a;
  a.name = "PCAP.BITS0";
  a.capture = "Value";
  Field b;
  b.name = "INENC1.VAL";
  b.capture = "Value";
  b.type = FieldType::float64;
  const auto d = check_every_split(DataOptions::bare({a, b}), three_samples());
  CHECK(d.ready == 1);
  REQUIRE(d.starts.size() == 1);
  CHECK(d.starts[0].sample_bytes == 12);
  CHECK(d.samples == std::vector<std::string>{three_samples()});
  REQUIRE(d.ends.size() == 1);
  CHECK(d.ends[0].samples == 3);
  CHECK(d.errors.empty());

  const auto cut = decode_whole(DataOptions::bare({a, b}), three_samples().substr(0, 30));
  REQUIRE(cut.errors.size() == 1);
  CHECK(cut.errors[0].code == DataErrc::truncated);
  CHECK(cut.errors[0].samples_before == 2);
  CHECK(cut.samples[0] == three_samples().substr(0, 24));
}

TEST_CASE("NO_HEADER without a layout is an error, not a guess") {
  DataOptions o;
  o.header = false;
  const auto d = decode_whole(o, "OK\n" + bin_frame(three_samples()));
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].code == DataErrc::no_layout);
}

TEST_CASE("ONE_SHOT: bytes after END are an error") {
  DataOptions o;
  o.one_shot = true;
  const auto d = decode_whole(o, framed_scaled_stream() + "junk");
  CHECK(d.ends.size() == 1);
  REQUIRE(d.errors.size() == 1);
  CHECK(d.errors[0].code == DataErrc::data_after_end);
}

TEST_CASE("servers before 2.1: an unannounced sample count in RAW becomes PCAP.SAMPLES") {
  const std::string fields =
      "<field name=\"INENC1.VAL\" type=\"int32\" capture=\"Value\" "
      "scale=\"1\" offset=\"0\" units=\"\" />\n";
  const auto sample = Packer{}.put(5u).put(-7).str();
  const auto d = check_every_split(
      options(DataFormat::framed, Processing::raw),
      "OK\n" + xml_header("Raw", "Framed", "8", fields) + bin_frame(sample) + "END 1 Ok\n");
  REQUIRE(d.starts.size() == 1);
  CHECK(d.starts[0].legacy_sample_count);
  REQUIRE(d.starts[0].fields.size() == 2);
  CHECK(d.starts[0].fields[0].name == "PCAP.SAMPLES");
  CHECK(d.starts[0].fields[1].byte_offset == 4);
}

// ------------------------------------------------------------------ malformed

struct Bad {
  std::string what;
  std::string stream;
  DataErrc code;
  std::size_t samples_kept;
};

TEST_CASE("malformed streams: one error naming what, samples before it kept") {
  const auto head = "OK\n" + xml_header("Scaled", "Framed", "12", two_fields);
  const auto good = bin_frame(three_samples().substr(0, 12));
  const std::vector<Bad> cases = {
      {"ERR reply", "ERR Invalid data capture option\n", DataErrc::rejected, 0},
      {"garbage status", "HELLO\n", DataErrc::bad_status_line, 0},
      {"bad XML", "OK\n<header>\n<data missed=\"0\" \n</header>\n\n", DataErrc::bad_header, 0},
      {"unknown type",
       "OK\n" + xml_header("Scaled", "Framed", "12",
                           "<field name=\"X\" type=\"float128\" capture=\"Value\" />\n"),
       DataErrc::bad_header, 0},
      {"no fields", "OK\n" + xml_header("Scaled", "Framed", "12", ""), DataErrc::bad_header, 0},
      {"size mismatch", "OK\n" + xml_header("Scaled", "Framed", "20", two_fields),
       DataErrc::sample_size_mismatch, 0},
      {"missing empty line",
       "OK\n<header>\n<data process=\"Scaled\" format=\"Framed\" sample_bytes=\"4\"/>\n"
       "<fields>\n<field name=\"A\" type=\"uint32\" capture=\"Value\"/>\n"
       "</fields>\n</header>\nBIN ",
       DataErrc::bad_header, 0},
      {"garbage marker", head + good + "XYZW", DataErrc::bad_frame_marker, 1},
      {"not whole samples", head + good + bin_frame(three_samples().substr(0, 13)),
       DataErrc::bad_frame_length, 1},
      {"empty frame", head + good + bin_frame(""), DataErrc::bad_frame_length, 1},
      {"END without count", head + good + "END Ok\n", DataErrc::bad_end_line, 1},
      // the whole first sample of the cut frame arrived: it is delivered too
      {"truncated frame", head + good + bin_frame(three_samples()).substr(0, 22),
       DataErrc::truncated, 2},
      {"closed before END", head + good, DataErrc::closed_before_end, 1},
      {"closed in header", "OK\n<header>\n<data ", DataErrc::truncated, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const auto d = check_every_split(DataOptions{}, c.stream);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].code == c.code);
    CHECK_FALSE(d.errors[0].message.empty());
    CHECK(d.errors[0].samples_before == c.samples_kept);
    const std::size_t kept = d.samples.empty() ? 0 : d.samples.back().size() / 12;
    CHECK(kept == c.samples_kept);
  }
}

TEST_CASE("after an error the connection stays failed and swallows input") {
  DataConnection c;
  const std::string bad = "NOPE\nOK\n";
  c.receive(std::as_bytes(std::span{bad.data(), bad.size()}));
  CHECK(is<DataError>(c.next_event()));
  CHECK(c.done());
  CHECK(is<NeedData>(c.next_event()));
  CHECK(is<NeedData>(c.closed()));
}

TEST_CASE("ASCII data lines that do not parse") {
  for (std::string line : {" 7\n", " 7 1.5 9\n", " x 1.5\n", "7 1.5\n", " 7 1.5abc\n"}) {
    CAPTURE(line);
    const auto d =
        decode_whole(options(DataFormat::ascii),
                     "OK\n" + xml_header("Scaled", "ASCII", "", two_fields) + " 1 2\n" + line);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].code == DataErrc::bad_data_line);
    CHECK(d.errors[0].samples_before == 1);  // " 1 2" was delivered first
    CHECK(d.samples[0] == Packer{}.put(1u).put(2.0).str());
  }
}

}  // namespace
}  // namespace pandafly::panda
