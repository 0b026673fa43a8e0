// libFuzzer target: arbitrary bytes from the PandA data port.
// Invariant: any input decodes or yields one DataError — never a crash, an
// assert, a stray exception or unbounded memory; a FrameData always holds
// whole samples of the announced size; after an error the connection is done.
// The first input byte picks the options (format, RAW/SCALED, XML, header,
// status, one-shot), the second the chunk size the rest is fed in; every
// Start is planned into columns (both modes) and every frame decoded into them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <variant>

#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/data_connection.hpp"

namespace {

using namespace pandafly::panda;

DataOptions options_from(std::uint8_t b) {
  DataOptions o;
  o.format = static_cast<DataFormat>(b & 3);
  o.processing = (b & 4) != 0 ? Processing::raw : Processing::scaled;
  o.xml = (b & 8) == 0;
  o.status = (b & 16) == 0;
  o.one_shot = (b & 32) != 0;
  if ((b & 64) != 0) {  // NO_HEADER with a small known layout
    o.header = false;
    Field a;
    a.name = "PCAP.BITS0";
    a.capture = "Value";
    Field v;
    v.name = "INENC1.VAL";
    v.capture = "Value";
    v.type = o.processing == Processing::raw ? FieldType::int32 : FieldType::float64;
    o.fields = {a, v};
  }
  return o;
}

struct Checker {
  std::optional<ColumnDecoder> scaled, as_sent;
  std::optional<ColumnBlock> scaled_block, as_sent_block;

  void start(const StartData& s) {
    scaled.reset();
    as_sent.reset();
    if (auto d = ColumnDecoder::make(s, ColumnDecoder::Mode::scaled);
        auto* p = std::get_if<ColumnDecoder>(&d)) {
      scaled = std::move(*p);
      scaled_block = scaled->make_block();
    }
    if (auto d = ColumnDecoder::make(s, ColumnDecoder::Mode::as_sent);
        auto* p = std::get_if<ColumnDecoder>(&d)) {
      as_sent = std::move(*p);
      as_sent_block = as_sent->make_block();
    }
  }
  void frame(const FrameData& f) {
    if (f.samples == 0 || f.bytes.size() != f.samples * f.sample_bytes) std::abort();
    if (scaled) {
      scaled_block->clear();
      scaled->append(f, *scaled_block);
    }
    if (as_sent) {
      as_sent_block->clear();
      as_sent->append(f, *as_sent_block);
    }
  }
};

bool drain(DataConnection& c, Checker& check) {
  for (auto ev = c.next_event(); !is<NeedData>(ev); ev = c.next_event()) {
    if (auto* s = std::get_if<StartData>(&ev)) check.start(*s);
    if (auto* f = std::get_if<FrameData>(&ev)) check.frame(*f);
    if (is<DataError>(ev)) {
      if (!c.done()) std::abort();
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  DataConnection c{options_from(data[0])};
  const std::size_t chunk = 1 + std::size_t{data[1]} % 64 * 17;
  const auto bytes = std::as_bytes(std::span{data + 2, size - 2});
  Checker check;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    c.receive(bytes.subspan(at, std::min(chunk, bytes.size() - at)));
    if (!drain(c, check)) return 0;
  }
  (void)c.closed();
  return 0;
}
