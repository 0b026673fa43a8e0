#include "pandafly/panda/table_commands.hpp"

#include <fmt/format.h>

#include "pandafly/panda/base64.hpp"
#include "pandafly/panda/commands.hpp"

namespace pandafly::panda {
namespace {

constexpr std::size_t ascii_words_per_line = 8;  // ≤ 88 characters per line

std::vector<std::string> ascii_lines(std::span<const std::uint32_t> words) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < words.size(); i += ascii_words_per_line) {
    const auto n = std::min(ascii_words_per_line, words.size() - i);
    lines.push_back(fmt::format("{}", fmt::join(words.subspan(i, n), " ")));
  }
  return lines;
}

std::string_view mode_prefix(TableMode mode) {
  switch (mode) {
    case TableMode::replace:
      return "";
    case TableMode::append:
      return "<";
    case TableMode::append_last:
      return "<|";
  }
  return "";
}

}  // namespace

Request TablePut::request() const {
  const bool b64 = encoding_ == TableEncoding::base64;
  auto lines = b64 ? base64::encode_words(words_) : ascii_lines(words_);
  return Request::write_lines(name_, fmt::format("{}{}", mode_prefix(mode_), b64 ? "B" : ""),
                              std::move(lines));
}

Request TableGet::request() const {
  return Request::read(encoding_ == TableEncoding::base64 ? name_ + ".B" : name_);
}

Result<std::vector<std::uint32_t>> TableGet::parse(const Exchange& ex) const {
  auto lines = expect_list(ex);
  if (!lines) return lines.error();
  if (encoding_ == TableEncoding::base64) {
    auto words = base64::decode_words(lines.value());
    if (!words) return malformed(ex, "table data is not base64 of whole 32-bit words");
    return std::move(*words);
  }
  std::vector<std::uint32_t> words;
  words.reserve(lines.value().size());
  for (const auto& line : lines.value()) {
    const auto v = parse_uint(line);
    if (!v || *v > 0xFFFFFFFFU) return malformed(ex, "bad table word '" + printable(line) + "'");
    words.push_back(static_cast<std::uint32_t>(*v));
  }
  return words;
}

Step<TableLayout> GetTableLayout::start() {
  return Step<TableLayout>::send(
      {Request::read(name_ + ".FIELDS"), Request::read(name_ + ".ROW_WORDS")});
}

Step<TableLayout> GetTableLayout::on_replies(std::span<const Exchange> exchanges) {
  if (!layout_) {
    auto fields = expect_list(exchanges[0]);
    if (!fields) return Step<TableLayout>::done(fields.error());
    // Servers before 4.0 have no ROW_WORDS: an ERR there means "compute it".
    const auto rw = exchanges[1].reply.kind == Reply::Kind::value
                        ? parse_uint(exchanges[1].reply.text)
                        : std::nullopt;
    layout_ = TableLayout::parse(fields.value(), rw ? static_cast<unsigned>(*rw) : 0U);
    std::vector<Request> more;
    for (const auto& f : layout_->fields()) {
      if (f.subtype == "enum")
        more.push_back(Request::read(fmt::format("*ENUMS.{}[].{}", name_, f.name)));
      if (descriptions_) more.push_back(Request::read(fmt::format("*DESC.{}[].{}", name_, f.name)));
    }
    if (more.empty()) return Step<TableLayout>::done(std::move(*layout_));
    return Step<TableLayout>::send(std::move(more));
  }
  std::size_t k = 0;
  for (auto& f : layout_->fields()) {
    if (f.subtype == "enum") {
      auto labels = expect_list(exchanges[k++]);
      if (!labels) return Step<TableLayout>::done(labels.error());
      f.labels = std::move(labels.value());
    }
    if (descriptions_) {
      const auto& r = exchanges[k++].reply;
      if (r.kind == Reply::Kind::value) f.description = r.text;
    }
  }
  return Step<TableLayout>::done(std::move(*layout_));
}

}  // namespace pandafly::panda
