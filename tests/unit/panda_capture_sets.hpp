#pragma once
// The capture sets of issue 14 item 2, shared by panda_capture_sets_test
// (decoder) and capture_panda_hdf_writer_test (files read back by h5py):
// INENC1.VAL (scale 0.5, offset 1, units mm) capturing any subset of the
// seven options, its header field list by the rule of reference §3.3, raw
// samples of a known gated ramp, and the scaled values of reference §3.7 —
// all written from the reference, not from our simulator or decoder.
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "panda_data_test_util.hpp"
#include "pandafly/panda/columns.hpp"

namespace pandafly::panda::capture_sets {

using test::Packer;

inline const std::vector<std::string> kOptions{"Value", "Diff", "Sum",   "Mean",
                                               "Min",   "Max",  "StdDev"};
constexpr double kScale = 0.5, kOffset = 1;

// One gated capture period: x = a, a+1, …, a+N−1 over N ticks; Value and
// Diff chosen apart.
struct Truth {
  std::int32_t n, value, diff, min, max;
  std::int64_t sum;
  Int128 sum_sq;
};

inline Truth truth(std::int32_t k) {
  const std::int64_t n = 3 + k, a = 100 * k - 250;
  return {static_cast<std::int32_t>(n),
          static_cast<std::int32_t>(7 * k - 20),
          static_cast<std::int32_t>(n - 1),
          static_cast<std::int32_t>(a),
          static_cast<std::int32_t>(a + n - 1),
          n * a + n * (n - 1) / 2,
          Int128{n * a * a + a * n * (n - 1) + (n - 1) * n * (2 * n - 1) / 6}};
}

// Reference §3.7, the SCALED value of one capture.
inline double expected(const std::string& c, const Truth& t) {
  const double n = t.n;
  if (c == "Value") return t.value * kScale + kOffset;
  if (c == "Diff") return t.diff * kScale + kOffset;
  if (c == "Min") return t.min * kScale + kOffset;
  if (c == "Max") return t.max * kScale + kOffset;
  if (c == "Sum") return static_cast<double>(t.sum) * kScale + kOffset;
  if (c == "Mean") return static_cast<double>(t.sum) * kScale / n + kOffset;
  const long double s = static_cast<long double>(t.sum);
  return kScale *
         static_cast<double>(std::sqrt((static_cast<long double>(t.sum_sq) - s * s / n) / n));
}

// The RAW integer a capture sends (Sum and Mean both carry Σx, StdDev Σx²).
inline Int128 raw_value(const std::string& c, const Truth& t) {
  if (c == "Value") return t.value;
  if (c == "Diff") return t.diff;
  if (c == "Min") return t.min;
  if (c == "Max") return t.max;
  if (c == "StdDev") return t.sum_sq;
  return t.sum;
}

struct Wire {
  std::string capture, type;
};

// The header field list of reference §3.3 for INENC1.VAL capturing `set`.
inline std::vector<Wire> wire_fields(const std::set<std::string>& set, bool raw) {
  const bool avg = set.contains("Mean") || set.contains("StdDev");
  std::vector<Wire> out;
  if (raw && avg) out.push_back({"GATE", "int32"});  // class 1: PCAP.GATE_DURATION
  const std::string w32 = raw ? "int32" : "double", w64 = raw ? "int64" : "double";
  for (const char* c : {"Value", "Diff", "Min", "Max"})  // class 3
    if (set.contains(c)) out.push_back({c, w32});
  if (set.contains("Sum")) out.push_back({"Sum", w64});  // class 4
  const bool sd = set.contains("StdDev");
  if (set.contains("Mean") && !sd) out.push_back({"Mean", w64});  // class 5
  if (sd) {                                                       // class 6
    if (raw || set.contains("Mean")) out.push_back({"Mean", w64});
    out.push_back({"StdDev", raw ? "int96" : "double"});
  }
  return out;
}

inline std::string header_of(const std::vector<Wire>& fields, bool raw) {
  std::size_t bytes = 0;
  std::string body;
  for (const auto& f : fields) {
    bytes += f.type == "int32" ? 4u : f.type == "int96" ? 12u : 8u;
    if (f.capture == "GATE") {
      body +=
          "<field name=\"PCAP.GATE_DURATION\" type=\"int32\" capture=\"Value\" "
          "scale=\"8e-09\" offset=\"0\" units=\"s\" />\n";
    } else {
      body += "<field name=\"INENC1.VAL\" type=\"" + f.type + "\" capture=\"" + f.capture +
              "\" scale=\"0.5\" offset=\"1\" units=\"mm\" />\n";
    }
  }
  return "<header>\n<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
         "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" process=\"" +
         std::string(raw ? "Raw" : "Scaled") + "\" format=\"Framed\" sample_bytes=\"" +
         std::to_string(bytes) + "\" />\n<fields>\n" + body + "</fields>\n</header>\n";
}

inline std::string samples_of(const std::vector<Wire>& fields, bool raw, int rows) {
  Packer p;
  for (std::int32_t k = 0; k < rows; ++k) {
    const Truth t = truth(k);
    for (const auto& f : fields) {
      if (f.capture == "GATE") {
        p.put(t.n);
      } else if (!raw) {
        p.put(expected(f.capture, t));  // what the server would have scaled
      } else if (f.type == "int96") {
        const auto w = Int96::from(t.sum_sq);
        p.put96(w.word[0], w.word[1], w.word[2]);
      } else if (f.type == "int64") {
        p.put(t.sum);  // Sum and Mean both carry Σx
      } else {
        const std::map<std::string, std::int32_t> v{
            {"Value", t.value}, {"Diff", t.diff}, {"Min", t.min}, {"Max", t.max}};
        p.put(v.at(f.capture));
      }
    }
  }
  return p.str();
}

}  // namespace pandafly::panda::capture_sets
