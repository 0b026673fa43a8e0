#pragma once
// CaptureLayout: what PCAP captures (the user-facing CAPTURE settings) and the
// two wire layouts the data port announces for it (reference §3.3, §3.7).
//
// Rules
//   Built once per acquisition from CapturedField values; immutable after.
//   Wire order is grouped by processing class, not by configuration order:
//     1. RAW only: PCAP.GATE_DURATION Value (int32 ticks) when some field
//        captures Mean or StdDev and no `samples` field is captured;
//     2. bit words (uint32 in both layouts);
//     3. 32-bit: pos_out Value, Diff, Min, Max; the `samples` field;
//     4. 64-bit: pos_out Sum; timestamps;
//     5. pos_out Mean of fields without StdDev;
//     6. pos_out StdDev, immediately preceded by one Mean of the same field —
//        in RAW always (the int64 sum StdDev needs; typed int96, the sum of
//        squares), in SCALED only when Mean was captured. A field never
//        appears twice: RAW `StdDev` and `Mean StdDev` give the same header
//        (reference §3.3, as the real server sends it).
//   Within a class: fields in the order given; within a field, captures in the
//   order listed above (not the order of `captures`).
//   RAW types: uint32 bits, int32, int64, int64 Mean, int96 StdDev; SCALED: uint32
//   bits, double everything else.
//   Scale, offset and units are announced for every field except bit words.
//   Timestamps and the `samples` field always announce scale 8e-9, offset 0,
//   units "s" (the 125 MHz clock; their CapturedField scale/offset/units are
//   ignored, as the hardware has no such attributes for them).
//   Pure computation: no I/O, threads or clocks. A const CaptureLayout may be
//   shared between threads.
//
// Example:
//   CaptureLayout layout({CapturedField::pos_out("INENC1.VAL", {"Value"}, 0.000125, 0, "deg"),
//                         CapturedField::timestamp("PCAP.TS_TRIG")});
//   panda::StartData raw = layout.raw_header();      // INENC1.VAL int32, PCAP.TS_TRIG int64
//   std::vector<std::byte> scaled;
//   layout.scale(raw_bytes, scaled);                  // 16 bytes per sample
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "pandafly/panda/data.hpp"

namespace pandafly::sim {

/// One PCAP-capturable field and its CAPTURE options.
struct CapturedField {
  enum class Kind {
    pos_out,    ///< position bus output: Value Diff Sum Min Max Mean StdDev
    timestamp,  ///< ext_out timestamp (PCAP.TS_TRIG, TS_START, TS_END): Value
    samples,    ///< ext_out gate tick count (PCAP.GATE_DURATION): Value
    bits,       ///< ext_out bit word (PCAP.BITS0..3): Value
  };

  std::string name;  ///< "INENC1.VAL"
  Kind kind = Kind::pos_out;
  std::vector<std::string>
      captures;      ///< e.g. {"Min", "Max", "Mean"}, {"Value"}; empty: not captured
  double scale = 1;  ///< pos_out only (see the Rules)
  double offset = 0;
  std::string units = {};

  [[nodiscard]] static CapturedField pos_out(std::string name, std::vector<std::string> captures,
                                             double scale = 1, double offset = 0,
                                             std::string units = {});
  [[nodiscard]] static CapturedField timestamp(std::string name);
  /// PCAP.GATE_DURATION Value.
  [[nodiscard]] static CapturedField gate_duration();
  [[nodiscard]] static CapturedField bits(std::string name);
};

class CaptureLayout {
 public:
  /// The hardware clock period: the scale of timestamps and gate durations.
  static constexpr double tick_seconds = 8e-9;
  /// The FPGA captures at most this many 32-bit words per sample.
  static constexpr std::size_t max_raw_words = 64;

  /// Plans both layouts. Throws std::invalid_argument (message in the server's
  /// words where it has them) when a capture is not valid for its kind, when
  /// nothing is captured ("Nothing configured for capture") or when a sample
  /// would exceed max_raw_words ("Too many captures for PCAP").
  explicit CaptureLayout(std::vector<CapturedField> fields);

  [[nodiscard]] const std::vector<CapturedField>& fields() const noexcept { return fields_; }

  /// The header of a RAW client: fields, offsets, processing and sample_bytes
  /// set; format, times and `missed` left for the caller.
  [[nodiscard]] panda::StartData raw_header() const;
  /// The header of a SCALED client, likewise.
  [[nodiscard]] panda::StartData scaled_header() const;

  [[nodiscard]] std::size_t raw_sample_bytes() const noexcept { return raw_bytes_; }
  [[nodiscard]] std::size_t scaled_sample_bytes() const noexcept { return scaled_bytes_; }

  /// Converts whole RAW samples (raw_sample_bytes() each, little endian) to
  /// SCALED samples as the server does and stores them in `scaled_out`
  /// (replacing its contents). A trailing partial sample is ignored.
  ///   Value/Diff/Min/Max/Sum: scale·v + offset; timestamps: ticks·8e-9;
  ///   samples: ticks·8e-9 (ticks read as uint32); bits: copied;
  ///   Mean: sum·scale/N + offset; StdDev: scale·√((Σx² − (Σx)²/N)/N)
  ///   (a negative variance from rounding counts as 0); N = the raw gate ticks
  ///   of the sample; Mean and StdDev are NaN when N = 0.
  void scale(std::span<const std::byte> raw, std::vector<std::byte>& scaled_out) const;

 private:
  enum class Op : unsigned char { copy_u32, scale_i32, scale_i64, scale_ticks, mean, std_dev };
  // How one SCALED field is computed; src/src2 are RAW field indexes until the
  // constructor turns them into byte offsets.
  struct Step {
    Op op;
    std::size_t src = 0;
    std::size_t src2 = 0;  // std_dev: the int96 sum of squares (src: the int64 sum)
    double scale = 1;
    double offset = 0;
  };

  enum class Group { bits, word32, word64, mean, std_dev };  // classes 2-6 of the Rules

  void add_group(Group group);
  void add_gate_extra();
  void add(const CapturedField& f, std::string_view capture, panda::FieldType raw_type, Op op);
  void add_std_dev(const CapturedField& f);
  void resolve_offsets();
  [[nodiscard]] double apply(const Step& step, const std::byte* sample) const;

  std::vector<CapturedField> fields_;
  std::vector<panda::Field> raw_;
  std::vector<panda::Field> scaled_;
  std::vector<Step> steps_;  // index-aligned with scaled_
  std::size_t raw_bytes_ = 0;
  std::size_t scaled_bytes_ = 0;
  std::size_t ticks_src_ = 0;  // RAW index, then byte offset, of the gate tick count
  bool has_ticks_ = false;
};

}  // namespace pandafly::sim
