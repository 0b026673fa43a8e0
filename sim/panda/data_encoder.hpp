#pragma once
// Sans-IO producers of every byte the PandA data port sends after `OK`
// (reference §3.3-3.6): the header, samples in each format, the END line.
//
// Rules
//   encode_header() and encode_end() are pure functions.
//   A SampleEncoder serves one client for one acquisition. States: Open
//   (encode() may be called any number of times) → Finished (after finish()).
//   FRAMED and UNFRAMED output depends only on the bytes of each call (frames
//   never span calls); BASE64 holds back up to 56 bytes between calls so that
//   every line but the last carries exactly 57 input bytes, whatever the sample
//   boundaries; finish() writes that last partial line. ASCII writes one line
//   per sample. Input must be whole samples (sample_bytes of the header given
//   to the constructor); a trailing partial sample is ignored.
//   No I/O, threads or clocks; not thread-safe (one owner).
//
// Example:
//   panda::StartData h = layout.scaled_header();
//   h.format = panda::DataFormat::framed;
//   std::string out = encode_header(h, /*xml=*/true);
//   SampleEncoder enc(h);
//   enc.encode(samples, out);          // "BIN " frames
//   enc.finish(out);
//   out += encode_end(enc.samples(), "Ok");
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/panda/data.hpp"
#include "pandafly/util/xml_escape.hpp"

namespace pandafly::sim {

/// The header of `start` (its fields, times, missed, processing, format and
/// sample_bytes) followed by the empty line. XML: one element per line, scale
/// and offset as `%.12g`, units XML-escaped; no sample_bytes for ASCII. Text
/// form (`xml` false): `key: value` lines, `fields:`, one ` NAME TYPE CAPTURE[
/// scale: S offset: O units: U]` line per field. Empty arm/start times (old
/// servers) are left out.
[[nodiscard]] std::string encode_header(const panda::StartData& start, bool xml);

/// `END <samples> <reason>\n`.
[[nodiscard]] std::string encode_end(std::uint64_t samples, std::string_view reason);

using util::xml_escape;  // & < > " ' and whitespace, for the header's attribute values

class SampleEncoder {
 public:
  /// Largest FRAMED frame (header included) for SCALED data: the server's
  /// 64 KiB network buffer.
  static constexpr std::size_t scaled_frame_bytes = 65536;
  /// Largest FRAMED frame for RAW data: one DMA block passed through.
  static constexpr std::size_t raw_frame_bytes = 2u << 20;
  /// Input bytes per BASE64 line.
  static constexpr std::size_t base64_line_bytes = 57;

  /// Encodes samples of the layout `start` (fields, processing, sample_bytes)
  /// in `start.format`. `max_frame_bytes` 0 picks the default of the
  /// processing; a frame always holds at least one sample.
  explicit SampleEncoder(const panda::StartData& start, std::size_t max_frame_bytes = 0);

  /// Appends the encoding of the whole samples in `samples` to `out`.
  void encode(std::span<const std::byte> samples, std::string& out);
  /// Appends what is still held back (BASE64 only); call once, before END.
  void finish(std::string& out);
  /// Samples given to encode() so far (the count END reports).
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }

 private:
  void encode_framed(std::span<const std::byte> bytes, std::string& out) const;
  void encode_base64(std::span<const std::byte> bytes, std::string& out);
  void encode_ascii(std::span<const std::byte> bytes, std::string& out) const;
  void ascii_sample(const std::byte* sample, std::string& out) const;

  panda::DataFormat format_;
  panda::Processing processing_;
  std::vector<panda::Field> fields_;
  std::size_t sample_bytes_;
  std::size_t frame_samples_;       // samples per FRAMED frame at most
  std::vector<std::byte> pending_;  // BASE64 bytes not yet on a line (< 57)
  std::uint64_t samples_ = 0;
};

}  // namespace pandafly::sim
