#include "pandafly/panda/commands.hpp"

#include <charconv>

#include <fmt/format.h>

namespace pandafly::panda {
namespace {

std::string_view shape_name(Reply::Kind k) {
  switch (k) {
    case Reply::Kind::ok:
      return "OK";
    case Reply::Kind::value:
      return "OK =value";
    case Reply::Kind::list:
      return "a list";
    case Reply::Kind::error:
      return "ERR";
  }
  return "?";
}

CommandError wrong_shape(const Exchange& ex, std::string_view wanted) {
  if (ex.reply.is_error()) return error_from(ex);
  return malformed(ex, fmt::format("expected {}, got {}", wanted, shape_name(ex.reply.kind)));
}

}  // namespace

// ---------------------------------------------------------------- command.hpp helpers

CommandError error_from(const Exchange& ex) {
  if (ex.reply.is_error()) return {Errc::server_error, printable(ex.request.line), ex.reply.text};
  return malformed(ex, "unexpected reply");
}

CommandError malformed(const Exchange& ex, std::string why) {
  return {Errc::malformed_reply, printable(ex.request.line), std::move(why)};
}

std::optional<CommandError> first_error(std::span<const Exchange> exchanges) {
  for (const auto& ex : exchanges) {
    if (ex.reply.is_error()) return error_from(ex);
  }
  return std::nullopt;
}

Result<std::string> expect_value(const Exchange& ex) {
  if (ex.reply.kind != Reply::Kind::value) return wrong_shape(ex, "OK =value");
  return ex.reply.text;
}

Result<std::vector<std::string>> expect_list(const Exchange& ex) {
  if (ex.reply.kind != Reply::Kind::list) return wrong_shape(ex, "a list");
  return ex.reply.lines;
}

Result<Ack> expect_ok(const Exchange& ex) {
  if (ex.reply.kind != Reply::Kind::ok) return wrong_shape(ex, "OK");
  return Ack{};
}

// ---------------------------------------------------------------- number helpers

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc{} || r.ptr != end) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  std::uint64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc{} || r.ptr != end) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view text) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc{} || r.ptr != end) return std::nullopt;
  return v;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const auto j = text.find(' ', i);
    const auto end = j == std::string_view::npos ? text.size() : j;
    if (end > i) out.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

// ---------------------------------------------------------------- commands

Request Get::request() const {
  return Request::read(name_);
}

Result<Value> Get::parse(const Exchange& ex) const {
  if (ex.reply.kind == Reply::Kind::value) return Value{ex.reply.text};
  if (ex.reply.kind == Reply::Kind::list) return Value{ex.reply.lines};
  return wrong_shape(ex, "a value or a list");
}

Result<Identity> Identify::parse(const Exchange& ex) const {
  auto v = expect_value(ex);
  if (!v) return v.error();
  const std::string& t = v.value();
  const auto sw = t.find("SW: ");
  const auto fpga = t.find(" FPGA: ");
  const auto rootfs = t.find(" rootfs: ");
  if (sw == std::string::npos || fpga == std::string::npos || rootfs == std::string::npos ||
      !(sw < fpga && fpga < rootfs)) {
    return malformed(ex, "expected 'PandA SW: … FPGA: … rootfs: …', got '" + printable(t) + "'");
  }
  Identity id;
  id.text = t;
  id.sw = t.substr(sw + 4, fpga - sw - 4);
  id.fpga = t.substr(fpga + 7, rootfs - fpga - 7);
  id.rootfs = t.substr(rootfs + 9);
  // API version: the first two integers of the software version ("4.1", "3.0-12-gabc").
  std::size_t i = 0;
  int* parts[] = {&id.api_major, &id.api_minor};
  for (int* p : parts) {
    while (i < id.sw.size() && (id.sw[i] < '0' || id.sw[i] > '9')) ++i;
    const auto r = std::from_chars(id.sw.data() + i, id.sw.data() + id.sw.size(), *p);
    i = static_cast<std::size_t>(r.ptr - id.sw.data());
  }
  return id;
}

Result<std::vector<Peer>> Who::parse(const Exchange& ex) const {
  auto lines = expect_list(ex);
  if (!lines) return lines.error();
  std::vector<Peer> peers;
  for (const auto& line : lines.value()) {
    auto w = split_words(line);  // the server ends each line with a space
    if (w.size() < 3) return malformed(ex, "bad *WHO line '" + printable(line) + "'");
    peers.push_back({w[0], w[1], w[2]});
  }
  return peers;
}

Result<std::vector<CaptureSetting>> GetCapture::parse(const Exchange& ex) const {
  auto lines = expect_list(ex);
  if (!lines) return lines.error();
  std::vector<CaptureSetting> out;
  for (const auto& line : lines.value()) {
    const auto sp = line.find(' ');
    if (sp == std::string::npos || sp == 0) {
      return malformed(ex, "bad *CAPTURE line '" + printable(line) + "'");
    }
    out.push_back({line.substr(0, sp), line.substr(sp + 1)});
  }
  return out;
}

Request GetListing::request() const {
  switch (what_) {
    case Listing::capturable:
      return Request::read("*CAPTURE.*");
    case Listing::capture_options:
      return Request::read("*CAPTURE.OPTIONS");
    case Listing::capture_enums:
      return Request::read("*CAPTURE.ENUMS");
    case Listing::positions:
      return Request::read("*POSITIONS");
    case Listing::bits:
      return Request::read("*BITS");
    case Listing::metadata_keys:
      return Request::read("*METADATA.*");
  }
  return Request::read("*POSITIONS");
}

Result<PcapStatus> GetPcapStatus::parse(const Exchange& ex) const {
  auto v = expect_value(ex);
  if (!v) return v.error();
  auto w = split_words(v.value());
  const auto readers = w.size() == 3 ? parse_int(w[1]) : std::nullopt;
  const auto taking = w.size() == 3 ? parse_int(w[2]) : std::nullopt;
  if (!readers || !taking)
    return malformed(ex, "expected 'STATE N M', got '" + printable(v.value()) + "'");
  return PcapStatus{w[0], static_cast<int>(*readers), static_cast<int>(*taking)};
}

Request GetCounter::request() const {
  return Request::read(what_ == Counter::captured ? "*PCAP.CAPTURED" : "*CLOCK_FREQ");
}

Result<std::uint64_t> GetCounter::parse(const Exchange& ex) const {
  auto v = expect_value(ex);
  if (!v) return v.error();
  auto n = parse_uint(v.value());
  if (!n) return malformed(ex, "expected a number, got '" + printable(v.value()) + "'");
  return *n;
}

}  // namespace pandafly::panda
