#pragma once
// The known sequence the data-port tests stream through the simulator:
// INENC1.VAL Value/Min/Max/Mean (scale 0.000125, offset 0.5, deg; the server
// adds PCAP.GATE_DURATION in RAW), PCAP.TS_TRIG, PCAP.BITS0. Sample i:
// BITS0 = i, INENC1.VAL = 8i − 1000, Min/Max = value ∓ 3, gate 100 + i mod 5
// ticks, Mean sum = value · ticks, TS_TRIG = 1000 i ticks.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sim/panda/capture_layout.hpp"

namespace pandafly::test {

inline sim::CaptureLayout known_layout() {
  return sim::CaptureLayout(
      {sim::CapturedField::pos_out("INENC1.VAL", {"Value", "Min", "Max", "Mean"}, 0.000125, 0.5,
                                   "deg"),
       sim::CapturedField::timestamp("PCAP.TS_TRIG"), sim::CapturedField::bits("PCAP.BITS0")});
}

/// The 60-byte RAW row of ../shared/BENCHMARKS.md (load tests): PCAP.BITS0;
/// INENC1.VAL Value/Min/Max/Mean, COUNTER1.OUT Value/Sum, INENC2.VAL Value;
/// PCAP.TS_TRIG, PCAP.TS_START; PCAP.GATE_DURATION.
inline sim::CaptureLayout row60_layout() {
  using sim::CapturedField;
  return sim::CaptureLayout(
      {CapturedField::pos_out("INENC1.VAL", {"Value", "Min", "Max", "Mean"}, 0.000125, 0, "deg"),
       CapturedField::pos_out("COUNTER1.OUT", {"Value", "Sum"}),
       CapturedField::pos_out("INENC2.VAL", {"Value"}, 0.001, 0, "mm"),
       CapturedField::timestamp("PCAP.TS_TRIG"), CapturedField::timestamp("PCAP.TS_START"),
       CapturedField::bits("PCAP.BITS0"), CapturedField::gate_duration()});
}

/// `n` RAW samples of layout `l` from sample number `first` (fields of `l`
/// that the sequence does not know stay 0).
inline std::vector<std::byte> known_raw_samples(const sim::CaptureLayout& l, std::size_t first,
                                                std::size_t n) {
  const panda::StartData raw = l.raw_header();
  std::vector<std::byte> out(n * raw.sample_bytes);
  for (std::size_t k = 0; k < n; ++k) {
    const auto i = static_cast<std::int64_t>(first + k);
    const std::int64_t ticks = 100 + i % 5;
    const std::int64_t value = i * 8 - 1000;
    for (const auto& f : raw.fields) {
      std::int64_t v = 0;
      if (f.name == "PCAP.GATE_DURATION") v = ticks;
      if (f.name == "PCAP.BITS0") v = i;
      if (f.name == "PCAP.TS_TRIG") v = i * 1000;
      if (f.name == "INENC1.VAL") {
        v = f.capture == "Min" ? value - 3 : f.capture == "Max" ? value + 3 : value;
        if (f.capture == "Mean") v = value * ticks;
      }
      std::memcpy(out.data() + k * raw.sample_bytes + f.byte_offset, &v, panda::size_of(f.type));
    }
  }
  return out;
}

}  // namespace pandafly::test
