#include "pandafly/panda/data_connection.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "pandafly/panda/ascii_sample.hpp"
#include "pandafly/panda/base64.hpp"
#include "pandafly/panda/data_header.hpp"
#include "pandafly/panda/request.hpp"

namespace pandafly::panda {

static_assert(std::endian::native == std::endian::little,
              "samples are decoded by memcpy of little-endian wire bytes");

namespace {

constexpr std::string_view bin_marker = "BIN ";
constexpr std::string_view end_marker = "END ";
/// Text samples are handed out once this many bytes are decoded.
constexpr std::size_t text_frame_bytes = 64u << 10;
/// An unframed END line ("END <n> <reason>") is never longer than this.
constexpr std::size_t max_end_line = 96;

std::string_view as_text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::uint32_t load_u32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string_view strip_line_end(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\0')) line.remove_suffix(1);
  return line;
}

enum class Probe { no, yes, maybe };

/// Is `s` (at a sample boundary of an unframed stream) the END line?
/// yes: a complete "END <digits>…\n"; maybe: a prefix of one.
Probe probe_end(std::string_view s) {
  const auto n = std::min(s.size(), end_marker.size());
  if (s.substr(0, n) != end_marker.substr(0, n)) return Probe::no;
  if (s.size() <= end_marker.size()) return Probe::maybe;
  std::size_t i = end_marker.size();
  if (s[i] < '0' || s[i] > '9') return Probe::no;
  const auto nl = s.find('\n', i);
  if (nl == std::string_view::npos) return s.size() < max_end_line ? Probe::maybe : Probe::no;
  return nl < max_end_line ? Probe::yes : Probe::no;
}

}  // namespace

DataConnection::DataConnection(DataOptions options) : options_(std::move(options)) {}

void DataConnection::receive(std::span<const std::byte> bytes) {
  if (in_.empty()) {
    in_ = bytes;
    return;
  }
  // The caller did not drain the previous bytes: keep both, in order (in_
  // may point into carry_ itself).
  std::vector<std::byte> both(in_.begin(), in_.end());
  both.insert(both.end(), bytes.begin(), bytes.end());
  carry_.swap(both);
  in_ = carry_;
}

void DataConnection::consume(std::size_t n) noexcept {
  in_ = in_.subspan(n);
  offset_ += n;
}

DataConnection::LineStatus DataConnection::take_line() {
  const auto text = as_text(in_);
  const auto nl = text.find('\n');
  const auto part = text.substr(0, nl);
  line_.append(part);
  if (nl == std::string_view::npos) {
    consume(in_.size());
    return line_.size() > max_line_bytes ? LineStatus::too_long : LineStatus::partial;
  }
  consume(nl + 1);
  return line_.size() > max_line_bytes ? LineStatus::too_long : LineStatus::complete;
}

bool DataConnection::fill(std::size_t want) {
  const auto n = std::min(want - std::min(want, buf_.size()), in_.size());
  buf_.insert(buf_.end(), in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(n));
  consume(n);
  return buf_.size() >= want;
}

DataEvent DataConnection::fail(DataErrc code, std::string message) {
  error_ = DataError{code, std::move(message), offset_, samples_};
  state_ = State::failed;
  consume(in_.size());
  return error_;
}

DataEvent DataConnection::next_event() {
  // Views handed out by the previous event expire now.
  if (drop_buf_) buf_.clear();
  drop_buf_ = false;
  if (drop_samples_ > 0)
    samples_buf_.erase(samples_buf_.begin(),
                       samples_buf_.begin() + static_cast<std::ptrdiff_t>(drop_samples_));
  drop_samples_ = 0;
  if (pending_fail_) {
    std::string why = std::move(*pending_fail_);
    pending_fail_.reset();
    return fail(DataErrc::bad_data_line, std::move(why));
  }

  switch (state_) {
    case State::status:
      return step_status();
    case State::header_start:
      return step_header_start();
    case State::header_body:
      return step_header_body();
    case State::header_end:
      return step_header_end();
    case State::data:
      return step_data();
    case State::end_line:
      return step_end_line();
    case State::finished:
      if (in_.empty()) return NeedData{};
      return fail(DataErrc::data_after_end,
                  fmt::format("{} bytes after the END of a ONE_SHOT acquisition", in_.size()));
    case State::failed:
      consume(in_.size());
      return NeedData{};
  }
  return NeedData{};
}

DataEvent DataConnection::step_status() {
  if (!options_.status) {
    state_ = State::header_start;
    return ReadyData{};
  }
  switch (take_line()) {
    case LineStatus::partial:
      return NeedData{};
    case LineStatus::too_long:
      return fail(DataErrc::bad_status_line,
                  "no newline in the first 64 KiB after the options line");
    case LineStatus::complete:
      break;
  }
  const std::string line{strip_line_end(line_)};
  line_.clear();
  if (line == "OK") {
    state_ = State::header_start;
    return ReadyData{};
  }
  if (line.starts_with("ERR")) {
    return fail(DataErrc::rejected, fmt::format("options \"{}\" rejected: {}",
                                                strip_line_end(options_.connect_line()), line));
  }
  return fail(
      DataErrc::bad_status_line,
      fmt::format("expected OK or ERR after the options line, got \"{}\"", printable(line)));
}

DataEvent DataConnection::step_header_start() {
  if (!options_.header) return in_.empty() ? DataEvent{NeedData{}} : start_without_header();
  for (;;) {
    switch (take_line()) {
      case LineStatus::partial:
        return NeedData{};
      case LineStatus::too_long:
        return fail(DataErrc::bad_header, "no header line in the first 64 KiB of an acquisition");
      case LineStatus::complete:
        break;
    }
    std::string line = std::move(line_);
    line_.clear();
    const auto text = strip_line_end(line);
    if (options_.xml ? text == "<header>" : !text.empty()) {
      header_ = line + '\n';
      state_ = State::header_body;
      return step_header_body();
    }
    // XML: anything before <header> is tolerated (reference §3.9).
  }
}

DataEvent DataConnection::step_header_body() {
  for (;;) {
    switch (take_line()) {
      case LineStatus::partial:
        if (header_.size() + line_.size() > max_line_bytes * 16) {
          return fail(DataErrc::bad_header, "header longer than 1 MiB");
        }
        return NeedData{};
      case LineStatus::too_long:
        return fail(DataErrc::bad_header, "header line longer than 64 KiB");
      case LineStatus::complete:
        break;
    }
    const std::string line = std::move(line_);
    line_.clear();
    const auto text = strip_line_end(line);
    if (!options_.xml && text.empty()) return parsed_header(parse_text_header(header_));
    header_ += line;
    header_ += '\n';
    if (options_.xml && text == "</header>") {
      state_ = State::header_end;
      return parsed_header(parse_xml_header(header_));
    }
  }
}

DataEvent DataConnection::parsed_header(std::variant<StartData, HeaderError> parsed) {
  header_.clear();
  if (auto* err = std::get_if<HeaderError>(&parsed)) {
    return fail(err->size_mismatch ? DataErrc::sample_size_mismatch : DataErrc::bad_header,
                std::move(err->message));
  }
  if (state_ != State::header_end) state_ = State::data;
  return begin(std::get<StartData>(std::move(parsed)));
}

DataEvent DataConnection::step_header_end() {
  if (in_.empty()) return NeedData{};
  if (in_[0] != std::byte{'\n'}) {
    return fail(DataErrc::bad_header, "expected the empty line after </header>");
  }
  consume(1);
  state_ = State::data;
  return next_event();
}

DataEvent DataConnection::start_without_header() {
  StartData start;
  start.fields = options_.fields;
  start.processing = options_.processing;
  start.format = options_.format;
  if (start.fields.empty())
    return fail(DataErrc::no_layout, "NO_HEADER was asked for without a field layout");
  auto parsed = finish_layout(std::move(start), false);
  state_ = State::data;
  return parsed_header(std::move(parsed));
}

DataEvent DataConnection::begin(StartData start) {
  start_ = std::move(start);
  samples_ = 0;
  ++acquisitions_;
  samples_buf_.clear();
  return start_;
}

FrameData DataConnection::frame_of(std::span<const std::byte> bytes) {
  const std::size_t n = bytes.size() / start_.sample_bytes;
  samples_ += n;
  return FrameData{bytes, n, start_.sample_bytes};
}

DataEvent DataConnection::step_data() {
  switch (options_.format) {
    case DataFormat::framed:
      return step_framed();
    case DataFormat::unframed:
      return step_unframed();
    case DataFormat::ascii:
    case DataFormat::base64:
      return step_lines();
  }
  return NeedData{};
}

DataEvent DataConnection::step_framed() {
  if (frame_left_ > 0) return frame_payload();
  // Fast path: a frame header whole in the caller's bytes.
  if (buf_.empty() && in_.size() >= 8 && as_text(in_.first(4)) == bin_marker) {
    const std::size_t length = load_u32(in_.data() + 4);
    if (auto err = check_frame_length(length)) return *err;
    consume(8);
    frame_left_ = length - 8;
    return frame_payload();
  }
  if (!fill(4)) return NeedData{};
  const auto marker = as_text(std::span{buf_}.first(4));
  if (marker == end_marker) {
    buf_.clear();
    state_ = State::end_line;
    return step_end_line();
  }
  if (marker != bin_marker) {
    return fail(DataErrc::bad_frame_marker,
                fmt::format("expected \"BIN \" or \"END \" at a frame start, got \"{}\"",
                            printable(marker)));
  }
  if (!fill(8)) return NeedData{};
  const std::size_t length = load_u32(buf_.data() + 4);
  if (auto err = check_frame_length(length)) return *err;
  buf_.clear();
  frame_left_ = length - 8;
  return frame_payload();
}

// A frame's whole samples are handed out as they arrive, straight from the
// caller's bytes; only a sample split between two reads is copied (into buf_).
DataEvent DataConnection::frame_payload() {
  const std::size_t sb = start_.sample_bytes;
  if (!buf_.empty()) {  // complete the split sample first
    const std::size_t take = std::min(sb - buf_.size(), in_.size());
    buf_.insert(buf_.end(), in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(take));
    consume(take);
    frame_left_ -= take;
    if (buf_.size() < sb) return NeedData{};
    drop_buf_ = true;
    return frame_of(buf_);
  }
  const std::size_t avail = std::min(in_.size(), frame_left_);
  const std::size_t whole = avail / sb * sb;
  if (whole > 0) {
    const auto samples = in_.first(whole);
    consume(whole);
    frame_left_ -= whole;
    return frame_of(samples);
  }
  buf_.assign(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(avail));  // < one sample
  consume(avail);
  frame_left_ -= avail;
  return NeedData{};
}

std::optional<DataEvent> DataConnection::check_frame_length(std::size_t length) {
  const std::size_t sb = start_.sample_bytes;
  if (length <= 8 || length > max_frame_bytes || (length - 8) % sb != 0) {
    return fail(DataErrc::bad_frame_length,
                fmt::format("frame length {} is not 8 + a whole number of {}-byte samples "
                            "(at most {} bytes)",
                            length, sb, max_frame_bytes));
  }
  return std::nullopt;
}

DataEvent DataConnection::step_end_line() {
  if (pending_end_) return flush_pending_end();
  switch (take_line()) {
    case LineStatus::partial:
      return NeedData{};
    case LineStatus::too_long:
      return fail(DataErrc::bad_end_line, "END line longer than 64 KiB");
    case LineStatus::complete:
      break;
  }
  const std::string line = std::move(line_);
  line_.clear();
  return end_line(strip_line_end(line));
}

DataEvent DataConnection::end_line(std::string_view rest) {
  EndData end;
  const auto space = rest.find(' ');
  const auto count = rest.substr(0, space);
  const auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), end.samples);
  if (count.empty() || ec != std::errc{} || ptr != count.data() + count.size()) {
    return fail(DataErrc::bad_end_line,
                fmt::format("END line \"END {}\" has no sample count", printable(rest)));
  }
  if (space != std::string_view::npos) end.reason_text = rest.substr(space + 1);
  end.reason = end_reason_from(end.reason_text);
  state_ = options_.one_shot ? State::finished : State::header_start;
  return end;
}

DataEvent DataConnection::step_unframed() {
  const std::size_t sb = start_.sample_bytes;
  if (!samples_buf_.empty() || in_.size() < sb) {
    samples_buf_.insert(samples_buf_.end(), in_.begin(), in_.end());
    consume(in_.size());
    return unframed_from(samples_buf_, true);
  }
  return unframed_from(in_, false);
}

DataEvent DataConnection::unframed_from(std::span<const std::byte> s, bool buffered) {
  const std::size_t sb = start_.sample_bytes;
  std::size_t whole = 0;
  Probe probe = Probe::no;
  while (whole + sb <= s.size()) {
    if (options_.status && (probe = probe_end(as_text(s.subspan(whole)))) != Probe::no) break;
    whole += sb;
  }
  if (whole + sb > s.size() && options_.status) probe = probe_end(as_text(s.subspan(whole)));
  if (whole > 0) {
    if (buffered) {
      drop_samples_ = whole;
    } else {
      consume(whole);
    }
    return frame_of(s.first(whole));
  }
  if (probe == Probe::yes) {
    const auto text = as_text(s);
    const auto nl = text.find('\n');
    const auto line = std::string{text.substr(end_marker.size(), nl - end_marker.size())};
    if (buffered) {  // what follows END (the next header) goes back to the input
      carry_.assign(samples_buf_.begin() + static_cast<std::ptrdiff_t>(nl + 1), samples_buf_.end());
      offset_ -= carry_.size();
      samples_buf_.clear();
      in_ = carry_;
    } else {
      consume(nl + 1);
    }
    return end_line(strip_line_end(line));
  }
  if (!buffered) {  // a partial sample or a possible END: keep it until more comes
    samples_buf_.assign(s.begin(), s.end());
    consume(s.size());
  }
  return NeedData{};
}

DataEvent DataConnection::step_lines() {
  for (;;) {
    const bool have_line = !in_.empty();
    LineStatus status = LineStatus::partial;
    if (have_line) status = take_line();
    if (status == LineStatus::too_long)
      return fail(DataErrc::bad_data_line, "data line longer than 64 KiB");
    if (status == LineStatus::partial) return whole_text_samples();
    const std::string line = std::move(line_);
    line_.clear();
    const auto text = strip_line_end(line);
    if (text.starts_with(end_marker) || text == "END") {
      pending_end_ = std::string{text.substr(std::min(text.size(), end_marker.size()))};
      state_ = State::end_line;
      if (auto frame = whole_text_samples(); !is<NeedData>(frame)) return frame;
      return flush_pending_end();
    }
    std::string why;
    if (!decode_line(text, why)) {
      // Samples decoded before the bad line are delivered first.
      if (samples_buf_.size() >= start_.sample_bytes) {
        pending_fail_ = std::move(why);
        return whole_text_samples();
      }
      return fail(DataErrc::bad_data_line, std::move(why));
    }
    if (samples_buf_.size() >= text_frame_bytes) return whole_text_samples();
  }
}

DataEvent DataConnection::whole_text_samples() {
  const std::size_t sb = start_.sample_bytes;
  const std::size_t whole = samples_buf_.size() / sb * sb;
  if (whole == 0) return NeedData{};
  drop_samples_ = whole;
  return frame_of(std::span{samples_buf_}.first(whole));
}

DataEvent DataConnection::flush_pending_end() {
  if (!samples_buf_.empty()) {
    return fail(DataErrc::truncated, fmt::format("END after {} bytes of a partial {}-byte sample",
                                                 samples_buf_.size(), start_.sample_bytes));
  }
  const std::string rest = std::move(*pending_end_);
  pending_end_.reset();
  return end_line(rest);
}

bool DataConnection::decode_line(std::string_view line, std::string& why) {
  if (!line.starts_with(' ')) {
    why = fmt::format("data line \"{}\" does not start with a space", printable(line));
    return false;
  }
  line.remove_prefix(1);
  if (options_.format == DataFormat::base64) {
    auto bytes = base64::decode(line);
    if (!bytes) {
      why = fmt::format("data line \"{}\" is not base64", printable(line));
      return false;
    }
    samples_buf_.insert(samples_buf_.end(), bytes->begin(), bytes->end());
    return true;
  }
  return decode_ascii(line, why);
}

bool DataConnection::decode_ascii(std::string_view line, std::string& why) {
  const auto old_size = samples_buf_.size();
  samples_buf_.resize(old_size + start_.sample_bytes);
  why = decode_ascii_sample(line, start_, samples_buf_.data() + old_size);
  if (why.empty()) return true;
  samples_buf_.resize(old_size);
  return false;
}

DataEvent DataConnection::closed() {
  switch (state_) {
    case State::status:
      return fail(DataErrc::truncated,
                  "connection closed before the PandA answered the options line");
    case State::header_start:
      if (line_.empty()) return NeedData{};
      return fail(DataErrc::truncated, "connection closed inside a line before a header");
    case State::header_body:
    case State::header_end:
      return fail(DataErrc::truncated, "connection closed inside the header");
    case State::end_line:
      return fail(DataErrc::truncated, "connection closed inside the END line");
    case State::data:
      return closed_in_data();
    case State::finished:
    case State::failed:
      return NeedData{};
  }
  return NeedData{};
}

DataEvent DataConnection::closed_in_data() {
  const bool partial = frame_left_ > 0 || !buf_.empty() || !samples_buf_.empty() || !line_.empty();
  if (partial) {
    return fail(
        DataErrc::truncated,
        fmt::format("connection closed inside a frame or sample after {} samples", samples_));
  }
  if (options_.status) {
    return fail(DataErrc::closed_before_end,
                fmt::format("connection closed after {} samples without END", samples_));
  }
  state_ = State::finished;
  return EndData{samples_, EndReason::unknown, ""};
}

}  // namespace pandafly::panda
