#pragma once
// Test helpers for the data port: build stream bytes by hand, feed a
// DataConnection in chunks of any size, and collect what it produced in a
// form that does not depend on where the input was split.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <doctest/doctest.h>

#include "pandafly/panda/data_connection.hpp"

namespace pandafly::panda::test {

/// Little-endian sample bytes, built field by field.
class Packer {
 public:
  template <class T>
  Packer& put(T v) {
    const auto old = bytes_.size();
    bytes_.resize(old + sizeof v);
    std::memcpy(bytes_.data() + old, &v, sizeof v);
    return *this;
  }
  Packer& put96(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2) {
    return put(w0).put(w1).put(w2);
  }
  [[nodiscard]] const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

/// "BIN " + LE length (payload + 8) + payload.
inline std::string bin_frame(std::string_view payload) {
  Packer p;
  p.put(static_cast<std::uint32_t>(payload.size() + 8));
  return "BIN " + p.str() + std::string{payload};
}

/// What a stream decoded to; frames are joined (their split is not observable).
struct Decoded {
  int ready = 0;
  std::vector<StartData> starts;
  std::vector<std::string> samples;  // per acquisition: every sample byte, joined
  std::vector<std::size_t> frame_sample_counts;
  std::vector<EndData> ends;
  std::vector<DataError> errors;
  bool split_sample = false;  // a frame that was not whole samples (must never happen)

  friend bool operator==(const Decoded& a, const Decoded& b) {
    auto same_end = [](const EndData& x, const EndData& y) {
      return x.samples == y.samples && x.reason == y.reason && x.reason_text == y.reason_text;
    };
    auto same_err = [](const DataError& x, const DataError& y) {
      return x.code == y.code && x.message == y.message;
    };
    return a.ready == b.ready && a.starts == b.starts && a.samples == b.samples &&
           std::equal(a.ends.begin(), a.ends.end(), b.ends.begin(), b.ends.end(), same_end) &&
           std::equal(a.errors.begin(), a.errors.end(), b.errors.begin(), b.errors.end(),
                      same_err) &&
           a.split_sample == b.split_sample;
  }
};

/// Drains `c` into `out`.
inline void drain(DataConnection& c, Decoded& out) {
  for (auto ev = c.next_event(); !std::holds_alternative<NeedData>(ev); ev = c.next_event()) {
    if (std::holds_alternative<ReadyData>(ev)) ++out.ready;
    if (auto* s = std::get_if<StartData>(&ev)) {
      out.starts.push_back(*s);
      out.samples.emplace_back();
    }
    if (auto* f = std::get_if<FrameData>(&ev)) {
      if (f->bytes.size() != f->samples * f->sample_bytes || f->samples == 0)
        out.split_sample = true;
      if (out.samples.empty()) out.samples.emplace_back();
      out.samples.back().append(reinterpret_cast<const char*>(f->bytes.data()), f->bytes.size());
      out.frame_sample_counts.push_back(f->samples);
    }
    if (auto* e = std::get_if<EndData>(&ev)) out.ends.push_back(*e);
    if (auto* e = std::get_if<DataError>(&ev)) out.errors.push_back(*e);
  }
}

/// Feeds `stream` in pieces cut at `cuts` (ascending offsets), then closes if asked.
inline Decoded decode_cut(const DataOptions& options, std::string_view stream,
                          const std::vector<std::size_t>& cuts, bool close = true) {
  DataConnection c{options};
  Decoded out;
  std::size_t from = 0;
  auto feed = [&](std::size_t to) {
    // A fresh copy per piece: views into earlier pieces must not be relied on.
    std::vector<std::byte> piece(to - from);
    if (!piece.empty()) std::memcpy(piece.data(), stream.data() + from, piece.size());
    c.receive(piece);
    drain(c, out);
    from = to;
  };
  for (auto cut : cuts) feed(cut);
  feed(stream.size());
  if (close) {
    auto last = c.closed();
    if (auto* e = std::get_if<EndData>(&last)) out.ends.push_back(*e);
    if (auto* e = std::get_if<DataError>(&last)) out.errors.push_back(*e);
  }
  return out;
}

inline Decoded decode_whole(const DataOptions& options, std::string_view stream,
                            bool close = true) {
  return decode_cut(options, stream, {}, close);
}

/// Decodes `stream` whole, split at every index, and one byte at a time;
/// checks all give the same result and returns it.
inline Decoded check_every_split(const DataOptions& options, std::string_view stream,
                                 bool close = true) {
  const Decoded whole = decode_whole(options, stream, close);
  CHECK_FALSE(whole.split_sample);
  for (std::size_t k = 1; k < stream.size(); ++k) {
    const Decoded split = decode_cut(options, stream, {k}, close);
    if (!(split == whole)) {
      FAIL_CHECK("split at byte " << k << " decodes differently");
      break;
    }
  }
  std::vector<std::size_t> every(stream.empty() ? 0 : stream.size() - 1);
  for (std::size_t k = 0; k < every.size(); ++k) every[k] = k + 1;
  CHECK(decode_cut(options, stream, every, close) == whole);
  return whole;
}

}  // namespace pandafly::panda::test
