// The strict XDI reader (rules in include/pandafly/dx/xdi.hpp). Rules of this
// file: lines are read in three states — fields (after the version line),
// comments (after "# ///"), data (after "#----"; the first '#' line right
// after it is the column labels). Anything out of place is an error naming
// its line; nothing is guessed.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "pandafly/dx/xdi.hpp"

namespace pandafly::dx {
namespace {

enum class State { fields, comments, labels, data };

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool all_of_char(std::string_view s, char c, std::size_t at_least) {
  return s.size() >= at_least && std::all_of(s.begin(), s.end(), [c](char x) { return x == c; });
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    s = trim(s);
    if (s.empty()) return out;
    const auto end = s.find_first_of(" \t");
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) return out;
    s.remove_prefix(end);
  }
}

// A finite decimal number as XDI means it: no nan/inf/hex, an optional sign.
bool parse_number(std::string_view w, double& out) {
  if (!w.empty() && w.front() == '+') w.remove_prefix(1);
  if (w.empty() || w.front() == '+') return false;
  const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), out);
  return ec == std::errc{} && end == w.data() + w.size() && std::isfinite(out) &&
         w.find_first_of("xXnN") == std::string_view::npos;
}

class Parser {
 public:
  std::variant<XdiDocument, XdiParseError> run(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size() && !error_) {
      auto end = text.find_first_of("\r\n", pos);
      if (end == std::string_view::npos) end = text.size();
      ++line_;
      take(text.substr(pos, end - pos));
      pos = end;
      if (pos < text.size() && text[pos] == '\r') ++pos;
      if (pos < text.size() && text[pos] == '\n') ++pos;
    }
    if (!error_ && line_ == 0) fail("empty file");
    if (!error_ && state_ != State::labels && state_ != State::data)
      fail("no \"#----\" line ends the header");
    if (!error_ && doc_.rows.empty()) fail("no data rows");
    for (std::size_t i = 0; !error_ && i < doc_.header.columns.size(); ++i)
      if (doc_.header.columns[i].name.empty()) fail(fmt::format("Column.{} is missing", i + 1));
    if (error_) return *error_;
    return std::move(doc_);
  }

 private:
  void fail(std::string message) {
    if (!error_) error_ = XdiParseError{line_, fmt::format("line {}: {}", line_, message)};
  }

  void take(std::string_view raw) {
    const std::string_view line = trim(raw);
    if (line_ == 1) return version(line);
    if (state_ == State::data || (state_ == State::labels && !line.starts_with('#'))) {
      state_ = State::data;
      return data(line);
    }
    if (!line.starts_with('#')) return fail("a data line before the \"#----\" header end");
    const std::string_view body = trim(line.substr(1));
    if (state_ == State::labels) {  // the optional column-label line
      state_ = State::data;
      return labels(body);
    }
    if (all_of_char(body, '-', 3)) {
      state_ = State::labels;
      return;
    }
    if (state_ == State::fields && all_of_char(body, '/', 3)) {
      state_ = State::comments;
      return;
    }
    if (state_ == State::comments) {
      doc_.header.comments.emplace_back(body);
      return;
    }
    field(body);
  }

  void version(std::string_view line) {
    const auto w = words(line.starts_with('#') ? line.substr(1) : std::string_view{});
    if (w.empty() || w[0] != "XDI/1.0") return fail("not an XDI file: line 1 is not \"# XDI/1.0\"");
    doc_.header.applications.assign(w.begin() + 1, w.end());
  }

  void field(std::string_view body) {
    const auto colon = body.find(':');
    const auto dot = body.find('.');
    if (colon == std::string_view::npos || dot == std::string_view::npos || dot > colon)
      return fail(fmt::format("not \"Family.tag: value\": {}", body));
    XdiField f{std::string(body.substr(0, dot)), std::string(body.substr(dot + 1, colon - dot - 1)),
               std::string(trim(body.substr(colon + 1)))};
    try {  // the formatter's checks, one field at a time
      XdiHeader probe;
      probe.applications = doc_.header.applications;
      probe.columns = {{"x", ""}};
      if (f.family == "Column") return column(f);
      probe.fields = {f};
      (void)format_xdi_header(probe);
    } catch (const std::invalid_argument& e) {
      return fail(e.what());
    }
    doc_.header.fields.push_back(std::move(f));
  }

  void column(const XdiField& f) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(f.tag.data(), f.tag.data() + f.tag.size(), n);
    if (ec != std::errc{} || end != f.tag.data() + f.tag.size() || n == 0)
      return fail(fmt::format("Column.{}: not a column number", f.tag));
    const auto w = words(f.value);
    if (w.empty() || w.size() > 2)
      return fail(fmt::format("Column.{}: expected \"name [units]\"", n));
    if (doc_.header.columns.size() < n) doc_.header.columns.resize(n);
    doc_.header.columns[n - 1] = {std::string(w[0]), w.size() == 2 ? std::string(w[1]) : ""};
  }

  void labels(std::string_view body) {
    const auto w = words(body);
    if (!w.empty() && w.size() != doc_.header.columns.size())
      fail(fmt::format("{} column labels for {} columns", w.size(), doc_.header.columns.size()));
  }

  void data(std::string_view line) {
    if (line.empty()) return;
    if (line.starts_with('#')) return fail("a '#' line inside the data");
    const auto w = words(line);
    const std::size_t want = doc_.header.columns.empty() ? w.size() : doc_.header.columns.size();
    if (w.size() != want || (!doc_.rows.empty() && w.size() != doc_.rows.front().size()))
      return fail(fmt::format("{} values where {} columns are declared", w.size(), want));
    std::vector<double> row(w.size());
    for (std::size_t i = 0; i < w.size(); ++i)
      if (!parse_number(w[i], row[i]))
        return fail(fmt::format("column {}: '{}' is not a finite decimal number", i + 1, w[i]));
    doc_.rows.push_back(std::move(row));
  }

  XdiDocument doc_;
  State state_ = State::fields;
  int line_ = 0;
  std::optional<XdiParseError> error_;
};

}  // namespace

std::variant<XdiDocument, XdiParseError> parse_xdi(std::string_view text) {
  return Parser{}.run(text);
}

}  // namespace pandafly::dx
