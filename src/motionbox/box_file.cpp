#include "pandafly/motionbox/box_file.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pandafly::motionbox {

using Json = nlohmann::ordered_json;

struct BoxFile::Impl {
  Json doc;
  std::string source;
};

namespace {

/// Line and column (1-based) of the byte at `offset` (0-based) in `text`.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

/// The start of the JSON token that holds the byte at `last` (0-based): nlohmann
/// reports the end of the offending token, a reader wants where it begins
/// (as Python's json module says it). A small lexer over the text before it.
std::size_t token_start(std::string_view text, std::size_t last) {
  if (last >= text.size()) return text.size();  // the input ended early: point at its end
  std::size_t i = 0, start = 0;
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size() && i <= last) {
    if (space(text[i])) {
      ++i;
      continue;
    }
    start = i;
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      ++i;
    } else if (std::string_view("{}[]:,").find(text[i]) != std::string_view::npos) {
      ++i;
    } else {
      while (i < text.size() && !space(text[i]) &&
             std::string_view("{}[]:,\"").find(text[i]) == std::string_view::npos)
        ++i;
    }
  }
  return std::min(start, last);
}

/// nlohmann's message without its "[json.exception.parse_error.101] parse
/// error at line 3, column 5: " prefix (we print our own position).
std::string syntax_message(const std::string& what) {
  const auto colon = what.find(": ");
  if (colon == std::string::npos) return what;
  return what.substr(colon + 2);
}

double number(const Json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) throw FileError(fmt::format("{}: \"{}\" is missing", where, key));
  if (!it->is_number())
    throw FileError(fmt::format("{}.{}: a number is expected, found {}", where, key, it->dump()));
  const double v = it->get<double>();
  if (!std::isfinite(v)) throw FileError(fmt::format("{}.{}: not a finite number", where, key));
  return v;
}

MotorEntry read_entry(const Json& m, const std::string& where) {
  if (!m.is_object())
    throw FileError(fmt::format("{}: an object is expected, found {}", where, m.dump()));
  MotorEntry e;
  const auto root = m.find("pv_root");
  if (root == m.end()) throw FileError(fmt::format("{}: \"pv_root\" is missing", where));
  if (!root->is_string())
    throw FileError(fmt::format("{}.pv_root: a string is expected, found {}", where, root->dump()));
  e.pv_root = root->get<std::string>();
  e.lo_lim = number(m, "lo_lim", where);
  e.center = number(m, "center", where);
  e.hi_lim = number(m, "hi_lim", where);
  check_entry(e, where);
  return e;
}

void check_document(const Json& doc, const std::string& source) {
  if (!doc.is_object()) throw FileError(fmt::format("{}: the top level must be an object", source));
  const auto general = doc.find("general");
  if (general == doc.end() || !general->is_object())
    throw FileError(
        fmt::format("{}: \"general\" (an object with \"tolerance\") is missing", source));
  const double t = number(*general, "tolerance", source + ": general");
  if (t < 0) throw FileError(fmt::format("{}: general.tolerance must be >= 0, got {}", source, t));
  const auto motors = doc.find("motors");
  if (motors == doc.end() || !motors->is_object())
    throw FileError(fmt::format("{}: \"motors\" (an object of motors) is missing", source));
  for (const auto& [name, m] : motors->items())
    (void)read_entry(m, fmt::format("{}: motors.{}", source, name));
}

std::string known(const Json& motors) {
  std::string out;
  for (const auto& [name, m] : motors.items()) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

}  // namespace

void check_entry(const MotorEntry& e, const std::string& where) {
  if (e.pv_root.empty()) throw FileError(fmt::format("{}: pv_root is empty", where));
  for (const double v : {e.lo_lim, e.center, e.hi_lim})
    if (!std::isfinite(v)) throw FileError(fmt::format("{}: limits must be finite numbers", where));
  if (!(e.lo_lim < e.hi_lim))
    throw FileError(
        fmt::format("{}: lo_lim ({}) must be below hi_lim ({})", where, e.lo_lim, e.hi_lim));
  if (e.center < e.lo_lim || e.center > e.hi_lim)
    throw FileError(fmt::format("{}: center ({}) must lie within lo_lim..hi_lim ({}..{})", where,
                                e.center, e.lo_lim, e.hi_lim));
}

BoxFile::BoxFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BoxFile::BoxFile(const BoxFile& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
BoxFile& BoxFile::operator=(const BoxFile& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
BoxFile::BoxFile(BoxFile&&) noexcept = default;
BoxFile& BoxFile::operator=(BoxFile&&) noexcept = default;
BoxFile::~BoxFile() = default;

BoxFile BoxFile::parse(std::string_view text, std::string_view source) {
  auto impl = std::make_unique<Impl>();
  impl->source = std::string(source);
  try {
    impl->doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.byte: the 1-based index of the last byte read (the offending token's end).
    const std::size_t last = e.byte > 0 ? e.byte - 1 : 0;
    const auto [line, column] = line_column(text, token_start(text, last));
    throw FileError(
        fmt::format("{}:{}:{}: invalid JSON: {}", source, line, column, syntax_message(e.what())));
  }
  check_document(impl->doc, impl->source);
  return BoxFile(std::move(impl));
}

BoxFile BoxFile::make(double tolerance) {
  auto impl = std::make_unique<Impl>();
  impl->doc = Json{{"general", {{"tolerance", tolerance}}}, {"motors", Json::object()}};
  check_document(impl->doc, "new file");
  return BoxFile(std::move(impl));
}

std::string BoxFile::dump() const {
  return impl_->doc.dump(4) + "\n";
}

double BoxFile::tolerance() const {
  return impl_->doc["general"]["tolerance"].get<double>();
}

std::vector<std::string> BoxFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : impl_->doc["motors"].items()) out.push_back(name);
  return out;
}

bool BoxFile::has(std::string_view name) const {
  const auto& motors = impl_->doc["motors"];
  return motors.find(std::string(name)) != motors.end();
}

MotorEntry BoxFile::motor(std::string_view name) const {
  const auto& motors = impl_->doc["motors"];
  const auto it = motors.find(std::string(name));
  if (it == motors.end())
    throw FileError(
        fmt::format("{}: no motor \"{}\" (the file has: {})", impl_->source, name, known(motors)));
  return read_entry(*it, fmt::format("{}: motors.{}", impl_->source, name));
}

void BoxFile::add(const std::string& name, const MotorEntry& entry) {
  auto& motors = impl_->doc["motors"];
  if (name.empty() || name == "all")
    throw FileError(fmt::format("\"{}\" cannot be a motor name", name));
  if (motors.find(name) != motors.end())
    throw FileError(
        fmt::format("{}: motor \"{}\" exists already (use change)", impl_->source, name));
  check_entry(entry, "motor " + name);
  motors[name] = Json{{"pv_root", entry.pv_root},
                      {"lo_lim", entry.lo_lim},
                      {"center", entry.center},
                      {"hi_lim", entry.hi_lim}};
}

void BoxFile::change(const std::string& name, const MotorEntry& entry) {
  auto& motors = impl_->doc["motors"];
  const auto it = motors.find(name);
  if (it == motors.end())
    throw FileError(fmt::format("{}: no motor \"{}\" (the file has: {}; use add)", impl_->source,
                                name, known(motors)));
  check_entry(entry, "motor " + name);
  // Assigning to existing keys keeps their place; other keys stay. A value
  // that does not change keeps its spelling (10 stays 10, not 10.0).
  (*it)["pv_root"] = entry.pv_root;
  const std::pair<const char*, double> values[] = {
      {"lo_lim", entry.lo_lim}, {"center", entry.center}, {"hi_lim", entry.hi_lim}};
  for (const auto& [key, v] : values) {
    auto& slot = (*it)[key];
    if (!slot.is_number() || slot.get<double>() != v) slot = v;
  }
}

void BoxFile::remove(const std::string& name) {
  auto& motors = impl_->doc["motors"];
  if (motors.find(name) == motors.end())
    throw FileError(
        fmt::format("{}: no motor \"{}\" (the file has: {})", impl_->source, name, known(motors)));
  motors.erase(name);
}

void BoxFile::remove_all() {
  impl_->doc["motors"] = Json::object();
}

}  // namespace pandafly::motionbox
