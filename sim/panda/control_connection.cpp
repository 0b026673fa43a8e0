#include "sim/panda/control_connection.hpp"

namespace pandafly::sim {
namespace {

struct TableFormat {
  bool valid = true;
  TableWrite write;
};

// `FMT` after the first `<`: "" | "B" | "<" | "<B" | "<|" | "<|B".
TableFormat parse_format(std::string_view format) {
  TableFormat result;
  if (format.starts_with('<')) {
    result.write.streaming = true;
    format.remove_prefix(1);
    if (format.starts_with('|')) {
      result.write.last = true;
      format.remove_prefix(1);
    }
  }
  if (format.starts_with('B')) {
    result.write.binary = true;
    format.remove_prefix(1);
  }
  result.valid = format.empty();
  return result;
}

}  // namespace

PandaControlConnection::PandaControlConnection(PandaModel& model, std::string peer,
                                               std::string connected_at)
    : model_(model),
      session_(model.open_session("config", std::move(peer), std::move(connected_at))) {}

std::string PandaControlConnection::receive(std::string_view bytes) {
  std::string out;
  while (state_ != State::closed && !bytes.empty()) {
    auto lf = bytes.find('\n');
    std::string_view piece = bytes.substr(0, lf);
    if (partial_.size() + piece.size() > kMaxLineLength) {
      state_ = State::closed;  // "Line overrun": dropped without a reply
      partial_.clear();
      break;
    }
    partial_.append(piece);
    if (lf == std::string_view::npos) break;
    bytes.remove_prefix(lf + 1);
    std::string line = std::move(partial_);
    partial_.clear();
    on_line(line, out);
  }
  return out;
}

void PandaControlConnection::on_line(std::string_view line, std::string& out) {
  if (state_ == State::table) {
    if (observer_) observer_(line, false);
    if (line.empty()) {
      finish_table(out);
    } else {
      table_lines_.emplace_back(line);
    }
    return;
  }
  ++requests_;
  if (observer_) observer_(line, true);
  on_request(line, out);
}

void PandaControlConnection::on_request(std::string_view line, std::string& out) {
  auto at = line.find_first_of("?=<");
  if (at == std::string_view::npos) {
    out += Reply::error("Unknown command").wire();
    return;
  }
  std::string_view name = line.substr(0, at);
  std::string_view rest = line.substr(at + 1);
  switch (line[at]) {
    case '?':
      out += rest.empty() ? model_.read(name, *session_).wire()
                          : Reply::error("Unexpected text after command").wire();
      return;
    case '=':
      out += model_.write(name, rest, *session_).wire();
      return;
    default:
      state_ = State::table;
      table_name_ = std::string(name);
      table_format_ = std::string(rest);
      table_lines_.clear();
  }
}

void PandaControlConnection::finish_table(std::string& out) {
  state_ = State::lines;
  TableFormat format = parse_format(table_format_);
  if (!format.valid) {
    out += Reply::error("Unexpected character after input").wire();
    return;
  }
  format.write.lines = &table_lines_;
  out += model_.write_table(table_name_, format.write, *session_).wire();
  table_lines_.clear();
}

}  // namespace pandafly::sim
