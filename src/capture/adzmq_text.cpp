#include "adzmq_text.hpp"

#include <cstddef>

#include <fmt/format.h>

namespace pandafly::capture::detail {

namespace {

bool is_structural(char c) {
  return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  // Sequence length and the second byte's range (no overlongs, surrogates or > U+10FFFF).
  std::size_t n = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    lo = b == 0xE0 ? 0xA0 : 0x80;
    hi = b == 0xED ? 0x9F : 0xBF;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    lo = b == 0xF0 ? 0x90 : 0x80;
    hi = b == 0xF4 ? 0x8F : 0xBF;
  }
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return 0;
  }
  return n;
}

/// Appends `s` as the inside of a JSON string.
void append_escaped(std::string_view s, std::string& out) {
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20 || b >= 0x80) {
      if (const auto n = b >= 0x80 ? utf8_length(s, i) : 0; n > 0) {
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
      out += fmt::format("\\u{:04x}", b);  // a control byte, or Latin-1
    } else {
      out += c;
    }
    ++i;
  }
}

/// Appends the string that opens at in[i] (a quote); returns the index after it.
std::size_t copy_string(std::string_view in, std::size_t i, std::string& out) {
  for (std::size_t j = i + 1; j < in.size(); ++j) {
    if (in[j] != '"') continue;
    std::size_t k = j + 1;
    while (k < in.size() && is_space(in[k])) ++k;
    if (k == in.size() || (is_structural(in[k]) && in[k] != '{' && in[k] != '[')) {
      out += '"';
      append_escaped(in.substr(i + 1, j - i - 1), out);
      out += '"';
      return j + 1;
    }
  }
  out += '"';  // unterminated: left for the parser to reject
  append_escaped(in.substr(i + 1), out);
  return in.size();
}

void append_bare(std::string_view word, std::string& out) {
  const bool digit = word[0] >= '0' && word[0] <= '9';
  const bool negative = word.size() > 1 && word[0] == '-' && word[1] >= '0' && word[1] <= '9';
  if (digit || negative || word == "true" || word == "false" || word == "null") {
    out.append(word);
    return;
  }
  if (word.size() == 1) {
    out += fmt::format("\"\\u0001{}\"", static_cast<unsigned char>(word[0]));  // char_mark
    return;
  }
  out += "\"\\u0000";  // bare_mark
  append_escaped(word, out);
  out += '"';
}

}  // namespace

std::string plugin_text_to_json(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 8 + 16);
  for (std::size_t i = 0; i < in.size();) {
    const char c = in[i];
    if (c == '"') {
      i = copy_string(in, i, out);
    } else if (is_structural(c) || is_space(c)) {
      out += c;
      ++i;
    } else {
      std::size_t j = i;
      while (j < in.size() && in[j] != '"' && !is_structural(in[j]) && !is_space(in[j])) ++j;
      append_bare(in.substr(i, j - i), out);
      i = j;
    }
  }
  return out;
}

}  // namespace pandafly::capture::detail
