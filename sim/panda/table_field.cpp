#include "sim/panda/table_field.hpp"

#include <cctype>
#include <cstring>

#include "pandafly/panda/base64.hpp"
#include "sim/panda/parse.hpp"

namespace pandafly::sim {
namespace {

bool is_blank(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// Appends the numbers of one ASCII line to `words`. As the server: after
// each number either the line ends or blanks and another number follow, so a
// trailing blank or a `,` separator is `Number missing`.
Status parse_ascii_line(std::string_view line, std::vector<std::uint32_t>& words) {
  std::size_t pos = 0;
  while (true) {
    auto number = scan_c_integer(line, pos);  // skips leading blanks
    if (!number) return Error{"Number missing"};
    words.push_back(number->wrapped32());
    if (pos == line.size()) return {};
    if (!is_blank(line[pos])) return Error{"Number missing"};
  }
}

}  // namespace

Expected<std::vector<std::uint32_t>> parse_ascii_words(const std::vector<std::string>& lines) {
  std::vector<std::uint32_t> words;
  for (const auto& line : lines) {
    if (auto status = parse_ascii_line(line, words); !status.ok()) return Error{status.error()};
  }
  return words;
}

Expected<std::vector<std::uint32_t>> parse_base64_words(const std::vector<std::string>& lines) {
  std::vector<std::uint32_t> words;
  for (const auto& line : lines) {
    // Padding, when present, must complete the last 4-character group.
    bool bad_padding = line.find('=') != std::string::npos && line.size() % 4 != 0;
    auto bytes = bad_padding ? std::nullopt : panda::base64::decode(line);
    if (!bytes) return Error{"Malformed base64 string"};
    if (bytes->size() % 4 != 0) return Error{"Invalid data length"};
    std::size_t first = words.size();
    words.resize(first + bytes->size() / 4);
    for (std::size_t i = 0; i < bytes->size(); ++i) {  // little endian, any host
      words[first + i / 4] |= std::to_integer<std::uint32_t>((*bytes)[i]) << (8 * (i % 4));
    }
  }
  return words;
}

Expected<ReadValue> TableField::get() const {
  std::vector<std::string> lines;
  lines.reserve(words_.size());
  for (auto word : words_) lines.push_back(std::to_string(word));
  return ReadValue{std::move(lines)};
}

Status TableField::put_table(const TableWrite& write) {
  if (write.streaming) return Error{"Table do not support streaming mode"};
  auto words = write.binary ? parse_base64_words(*write.lines) : parse_ascii_words(*write.lines);
  if (!words.ok()) return Error{words.error()};
  if (words.value().size() % spec().row_words != 0) {
    return Error{"Table write is not a whole number of rows"};
  }
  if (words.value().size() > kTableMaxLength) return Error{"Too many points for table"};
  words_ = std::move(words.value());
  mode_ = words_.empty() ? "INIT" : "FIXED";
  return {};
}

std::vector<std::string> TableField::attributes() const {
  return {"MAX_LENGTH", "LENGTH", "B", "FIELDS", "ROW_WORDS", "QUEUED_LINES", "MODE"};
}

Expected<ReadValue> TableField::get_attr(std::string_view attr) const {
  if (attr == "MAX_LENGTH") return ReadValue{std::to_string(kTableMaxLength)};
  if (attr == "LENGTH") return ReadValue{std::to_string(words_.size())};
  if (attr == "B") return ReadValue{panda::base64::encode_words(words_, 48)};
  if (attr == "ROW_WORDS") return ReadValue{std::to_string(spec().row_words)};
  if (attr == "QUEUED_LINES") return ReadValue{"0"};
  if (attr == "MODE") return ReadValue{mode_};
  std::vector<std::string> lines;
  for (const auto& c : spec().columns) {
    lines.push_back(std::to_string(c.high) + ":" + std::to_string(c.low) + " " + c.name + " " +
                    c.subtype);
  }
  return ReadValue{std::move(lines)};
}

const TableColumn* TableField::column(std::string_view name) const {
  for (const auto& c : spec().columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace pandafly::sim
