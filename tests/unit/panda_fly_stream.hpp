#pragma once
// Data-port bytes of a fly-scan acquisition, built by hand from the protocol
// reference (/work/shared/reference/panda-protocol.md §3): "OK\n", the XML
// header (§3.3: one element per line, then one empty line; fields in the
// server's class order), FRAMED samples (§3.4: "BIN ", uint32 LE length
// including the 8-byte header, whole samples packed without padding) and the
// END line (§3.6). Not from our simulator.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "panda_data_test_util.hpp"

namespace pandafly::panda::test {

/// One <field> of the header.
struct WireField {
  std::string name, type, capture;
  std::optional<double> scale, offset;  ///< absent for bit words
  std::string units;
};

inline std::string header_xml(const std::vector<WireField>& fields, const std::string& process,
                              std::size_t sample_bytes, std::uint64_t missed = 0) {
  std::string h = "<header>\n";
  h += fmt::format(
      "<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
      "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"{}\" process=\"{}\" "
      "format=\"Framed\" sample_bytes=\"{}\" />\n<fields>\n",
      missed, process, sample_bytes);
  for (const auto& f : fields) {
    h += fmt::format("<field name=\"{}\" type=\"{}\" capture=\"{}\"", f.name, f.type, f.capture);
    if (f.scale)
      h += fmt::format(" scale=\"{:.12g}\" offset=\"{:.12g}\" units=\"{}\"", *f.scale,
                       f.offset.value_or(0), f.units);
    h += " />\n";
  }
  return h + "</fields>\n</header>\n\n";
}

/// The SCALED fly design's fields in wire order (§3.3 classes: bit words,
/// 32-bit scaled Min/Max as double, 64-bit timestamps as double, Mean last).
inline std::vector<WireField> scaled_fly_fields(const std::string& encoder = "INENC1.VAL",
                                                const std::string& units = "deg") {
  return {{"PCAP.BITS0", "uint32", "Value", {}, {}, ""},
          {encoder, "double", "Min", 0.0001, 0, units},
          {encoder, "double", "Max", 0.0001, 0, units},
          {"PCAP.TS_START", "double", "Value", 8e-9, 0, "s"},
          {"PCAP.TS_END", "double", "Value", 8e-9, 0, "s"},
          {"PCAP.TS_TRIG", "double", "Value", 8e-9, 0, "s"},
          {encoder, "double", "Mean", 0.0001, 0, units}};
}
constexpr std::size_t scaled_fly_sample_bytes = 4 + 6 * 8;

/// One SCALED sample of scaled_fly_fields(): user values as the server sends them.
struct FlySample {
  std::uint32_t bits = 0;
  double min = 0, max = 0, ts_start = 0, ts_end = 0, ts_trig = 0, mean = 0;
};

inline std::string pack(const std::vector<FlySample>& samples) {
  Packer p;
  for (const auto& s : samples)
    p.put(s.bits).put(s.min).put(s.max).put(s.ts_start).put(s.ts_end).put(s.ts_trig).put(s.mean);
  return p.str();
}

/// Exposure k of a made-up scan: the stage at 0.5 + 0.3·k degrees at the
/// exposure's start, moving 0.2° during it; exposures 10 ms apart, 4 ms long.
inline FlySample fly_sample(std::uint64_t k) {
  const double kd = static_cast<double>(k);
  FlySample s;
  s.bits = static_cast<std::uint32_t>(k);
  s.min = 0.5 + 0.3 * kd;
  s.max = s.min + 0.2;
  s.mean = s.min + 0.1;
  s.ts_start = 0.010 * kd;
  s.ts_end = s.ts_start + 0.004;
  s.ts_trig = s.ts_end;  // triggered on the exposure's falling edge
  return s;
}

inline std::vector<FlySample> fly_samples(std::uint64_t first, std::uint64_t n) {
  std::vector<FlySample> v;
  for (std::uint64_t k = first; k < first + n; ++k) v.push_back(fly_sample(k));
  return v;
}

/// BIN frames of at most `per_frame` samples each.
inline std::string frames(const std::vector<FlySample>& samples, std::size_t per_frame) {
  std::string out;
  for (std::size_t i = 0; i < samples.size(); i += per_frame) {
    const std::vector<FlySample> part(
        samples.begin() + static_cast<std::ptrdiff_t>(i),
        samples.begin() + static_cast<std::ptrdiff_t>(std::min(samples.size(), i + per_frame)));
    out += bin_frame(pack(part));
  }
  return out;
}

}  // namespace pandafly::panda::test
