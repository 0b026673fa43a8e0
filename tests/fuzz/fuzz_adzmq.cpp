// libFuzzer target: one ADZMQ message (two ZMQ frames) given to decode_adzmq.
// Input framing (one byte string holds both frames): a 4-byte little-endian
// header length n, then n header bytes, then the data frame (the rest). An n
// past the end takes all that is left as the header and an empty data frame.
// Invariant: every input decodes or yields one FrameError of the adzmq category
// with a message — never a crash, an assert, a stray exception; a Frame's data
// is the caller's span and exactly prod(shape) × element size bytes; the header
// alone decodes the same way.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

#include "pandafly/capture/adzmq.hpp"

namespace {

using namespace pandafly::capture;

void check(const std::variant<Frame, FrameError>& r, std::span<const std::byte> data) {
  if (const auto* e = std::get_if<FrameError>(&r)) {
    if (e->code.category() != adzmq_category() || e->message.empty()) std::abort();
    return;
  }
  const auto& f = std::get<Frame>(r);
  if (f.data.data() != data.data() || f.data.size() != data.size()) std::abort();
  if (f.header.shape.empty() || f.header.byte_size() != data.size()) std::abort();
  for (const auto d : f.header.shape)
    if (d == 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::size_t n = std::size_t{data[0]} | std::size_t{data[1]} << 8 |
                        std::size_t{data[2]} << 16 | std::size_t{data[3]} << 24;
  const auto rest = std::as_bytes(std::span{data + 4, size - 4});
  const auto header = rest.first(std::min(n, rest.size()));
  const auto payload = rest.subspan(header.size());
  const auto r = decode_adzmq(header, payload);
  check(r, payload);
  const auto h = decode_adzmq_header(header);
  // The header alone fails exactly when the message fails for a reason other than its size.
  const bool size_only = std::holds_alternative<FrameError>(r) &&
                         std::get<FrameError>(r).code == AdzmqErrc::size_mismatch;
  if (std::holds_alternative<FrameHeader>(h) != (std::holds_alternative<Frame>(r) || size_only))
    std::abort();
  return 0;
}
