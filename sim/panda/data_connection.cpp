// Rules: see data_connection.hpp (Options → Ready ⇄ Acquiring → Closed).
#include "sim/panda/data_connection.hpp"

#include <sstream>

#include "sim/panda/control_connection.hpp"

namespace pandafly::sim {
namespace {

using Format = DataOptions::Format;

// Applies one token; false when it is not an option.
bool apply_token(const std::string& token, DataOptions& o) {
  if (token == "ASCII")
    o.format = Format::ascii;
  else if (token == "BASE64")
    o.format = Format::base64;
  else if (token == "FRAMED")
    o.format = Format::framed;
  else if (token == "UNFRAMED")
    o.format = Format::unframed;
  else if (token == "SCALED")
    o.raw = false;
  else if (token == "RAW")
    o.raw = true;
  else if (token == "NO_HEADER")
    o.header = false;
  else if (token == "NO_STATUS")
    o.status = false;
  else if (token == "ONE_SHOT")
    o.one_shot = true;
  else if (token == "XML")
    o.xml = true;
  else if (token == "BARE") {
    o.format = Format::unframed;
    o.raw = true;
    o.header = o.status = false;
    o.one_shot = true;
  } else if (token == "DEFAULT") {
    o.format = Format::ascii;
    o.raw = false;
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::optional<DataOptions> parse_data_options(std::string_view line) {
  DataOptions options;
  std::istringstream tokens{std::string(line)};
  for (std::string token; tokens >> token;) {
    if (!apply_token(token, options)) return std::nullopt;
  }
  return options;
}

panda::DataFormat to_panda(DataOptions::Format format) {
  switch (format) {
    case Format::ascii:
      return panda::DataFormat::ascii;
    case Format::base64:
      return panda::DataFormat::base64;
    case Format::framed:
      return panda::DataFormat::framed;
    case Format::unframed:
      break;
  }
  return panda::DataFormat::unframed;
}

PandaDataConnection::PandaDataConnection(PandaModel& model, std::string peer,
                                         std::string connected_at)
    : session_(model.open_session("data", std::move(peer), std::move(connected_at))) {}

std::string PandaDataConnection::receive(std::string_view bytes) {
  if (state_ != State::options) return {};  // Ready drains, Closed ignores
  auto lf = bytes.find('\n');
  std::string_view piece = bytes.substr(0, lf);
  if (partial_.size() + piece.size() > kMaxLineLength) {
    state_ = State::closed;
    return {};
  }
  partial_.append(piece);
  if (lf == std::string_view::npos) return {};
  std::string line = std::move(partial_);
  partial_.clear();
  return on_options_line(line);
}

std::string PandaDataConnection::on_options_line(std::string_view line) {
  if (line.find('\r') != std::string_view::npos) {
    state_ = State::closed;
    return "ERR Cannot process CR character\n";
  }
  auto options = parse_data_options(line);
  if (!options) {
    state_ = State::closed;
    return "ERR Invalid data capture option\n";
  }
  options_ = *options;
  state_ = State::ready;
  return options_.status ? "OK\n" : "";
}

std::string PandaDataConnection::start(const CaptureLayout& layout, std::string_view arm_time,
                                       std::string_view start_time, std::uint64_t missed) {
  if (!ready()) return {};
  panda::StartData header = options_.raw ? layout.raw_header() : layout.scaled_header();
  header.format = to_panda(options_.format);
  header.arm_time = std::string(arm_time);
  header.start_time = std::string(start_time);
  header.missed = missed;
  layout_.emplace(layout);
  encoder_.emplace(header);
  state_ = State::acquiring;
  return options_.header ? encode_header(header, options_.xml) : std::string{};
}

std::string PandaDataConnection::samples(std::span<const std::byte> raw) {
  std::string out;
  if (!acquiring()) return out;
  if (options_.raw) {
    encoder_->encode(raw, out);
  } else {
    layout_->scale(raw, scaled_);
    encoder_->encode(scaled_, out);
  }
  return out;
}

std::string PandaDataConnection::end(std::string_view reason) {
  std::string out;
  if (!acquiring()) return out;
  encoder_->finish(out);
  if (options_.status) out += encode_end(encoder_->samples(), reason);
  state_ = options_.one_shot ? State::closed : State::ready;
  return out;
}

}  // namespace pandafly::sim
