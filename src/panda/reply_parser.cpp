#include "pandafly/panda/reply_parser.hpp"

#include <fmt/format.h>

#include "pandafly/panda/error.hpp"

namespace pandafly::panda {

std::error_code ReplyParser::feed(std::string_view bytes, std::vector<Reply>& out) {
  if (state_ == State::failed) return Errc::malformed_reply;
  while (!bytes.empty()) {
    const auto lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      if (buffer_.size() + bytes.size() > max_reply_line) {
        (void)fail(fmt::format("a reply line is longer than {} bytes", max_reply_line));
        return Errc::malformed_reply;
      }
      buffer_.append(bytes);
      return {};
    }
    bool good = true;
    if (buffer_.empty()) {
      good = on_line(bytes.substr(0, lf), out);
    } else {
      buffer_.append(bytes.substr(0, lf));
      good = on_line(buffer_, out);
      buffer_.clear();
    }
    if (!good) return Errc::malformed_reply;
    bytes.remove_prefix(lf + 1);
  }
  return {};
}

bool ReplyParser::on_line(std::string_view line, std::vector<Reply>& out) {
  if (line.size() > max_reply_line) {
    return fail(fmt::format("a reply line is longer than {} bytes", max_reply_line));
  }
  if (line.starts_with('!')) {
    if (state_ == State::idle) {
      list_ = Reply{Reply::Kind::list, {}, {}};
      list_bytes_ = 0;
    }
    if (list_.lines.size() == limits_.list_lines) {
      return fail(fmt::format("a list reply has more than {} lines", limits_.list_lines));
    }
    list_bytes_ += line.size() + 1;
    if (list_bytes_ > limits_.list_bytes) {
      return fail(fmt::format("a list reply is larger than {} bytes", limits_.list_bytes));
    }
    list_.lines.emplace_back(line.substr(1));
    state_ = State::in_list;
    return true;
  }
  if (line == ".") {
    if (state_ == State::idle) list_ = Reply{Reply::Kind::list, {}, {}};
    out.push_back(std::move(list_));
    list_ = {};
    state_ = State::idle;
    return true;
  }
  if (line.starts_with("ERR")) {
    // "ERR" alone is tolerated as an error without text.
    if (line.size() > 3 && line[3] != ' ') return fail("bad reply '" + printable(line, 60) + "'");
    out.push_back(Reply{Reply::Kind::error, std::string(line.substr(line.size() > 3 ? 4 : 3)), {}});
    list_ = {};
    state_ = State::idle;
    return true;
  }
  if (state_ == State::in_list) {
    return fail("inside a list reply, expected '!…' or '.', got '" + printable(line, 60) + "'");
  }
  if (line == "OK") {
    out.push_back(Reply{Reply::Kind::ok, {}, {}});
    return true;
  }
  if (line.starts_with("OK =")) {
    out.push_back(Reply{Reply::Kind::value, std::string(line.substr(4)), {}});
    return true;
  }
  return fail("expected OK, OK =…, ERR …, !… or '.', got '" + printable(line, 60) + "'");
}

bool ReplyParser::fail(std::string why) {
  state_ = State::failed;
  detail_ = std::move(why);
  buffer_.clear();
  list_ = {};
  return false;
}

void ReplyParser::reset() {
  state_ = State::idle;
  buffer_.clear();
  list_ = {};
  detail_.clear();
}

}  // namespace pandafly::panda
