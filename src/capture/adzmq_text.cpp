#include "adzmq_text.hpp"

#include <cstddef>
#include <cstdint>

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

// ------------------------------------------------------------------ ndattr

namespace {

bool is_token_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '-' || c == '.';
}

/// The readings of an ndattr body, computed right to left so that every
/// question about a position depends only on later positions: O(n).
class NdattrReadings {
 public:
  explicit NdattrReadings(std::string_view s)
      : s_(s), n_(s.size()), ok_(n_ + 2, 0), next_quote_(n_ + 2, npos), next_close_(n_ + 2, npos) {
    for (std::size_t i = n_; i-- > 0;) {
      ok_[i] = s_[i] == '"' && entry_at(i).has_value();
      next_quote_[i] = s_[i] == '"' ? i : next_quote_[i + 1];
      next_close_[i] = is_close(i) ? i : next_close_[i + 1];
    }
  }

  /// The entries from the start, or nullopt when no reading fits.
  std::optional<std::vector<RawAttribute>> read() const {
    std::vector<RawAttribute> out;
    if (n_ == 0) return out;
    if (!ok_[0]) return std::nullopt;
    for (std::size_t p = 0;;) {
      auto e = *entry_at(p);
      out.push_back(std::move(e.attribute));
      if (e.end == n_) return out;
      p = e.end + 1;
    }
  }

 private:
  static constexpr std::size_t npos = std::string_view::npos;
  struct Entry {
    RawAttribute attribute;
    std::size_t end;  // index after the value: n_, or a ',' followed by a good entry
  };

  /// A value ending at `e` can be followed: the end, or `,` and a good entry.
  bool follows(std::size_t e) const { return e == n_ || (s_[e] == ',' && ok_[e + 1] != 0); }
  /// s_[j] is a quote that can close a string value.
  bool is_close(std::size_t j) const { return s_[j] == '"' && follows(j + 1); }

  /// The preferred reading of the entry opening at s_[p] (a quote).
  std::optional<Entry> entry_at(std::size_t p) const {
    const std::size_t q = next_quote_[p + 1];
    if (q == npos || q + 2 > n_ || s_[q + 1] != ':') return std::nullopt;
    const std::size_t v = q + 2;
    if (v >= n_) return std::nullopt;
    std::string name{s_.substr(p + 1, q - p - 1)};
    using K = RawAttribute::Kind;
    const auto make = [&](K kind, std::size_t from, std::size_t to, std::size_t end) {
      return Entry{{std::move(name), kind, std::string{s_.substr(from, to - from)}}, end};
    };
    if (s_[v] != '"' && is_token_char(s_[v])) {  // a number or bare word of 2+ characters
      std::size_t k = v;
      while (k < n_ && is_token_char(s_[k])) ++k;
      if (k - v >= 2 && follows(k)) return make(K::token, v, k, k);
    }
    if (follows(v + 1)) {  // one byte: a digit is a number, anything else a raw int8/uint8
      return make(s_[v] >= '0' && s_[v] <= '9' ? K::token : K::byte, v, v + 1, v + 1);
    }
    if (s_[v] == '"') {  // the shortest string after which the rest reads
      const std::size_t j = next_close_[v + 1];
      if (j != npos) return make(K::text, v + 1, j, j + 1);
    }
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t n_;
  std::vector<std::uint8_t> ok_;  // an entry opening here reads to the end
  std::vector<std::size_t> next_quote_;
  std::vector<std::size_t> next_close_;
};

}  // namespace

std::optional<std::vector<RawAttribute>> split_plugin_ndattr(std::string_view body) {
  if (body.size() > (std::size_t{256} << 10)) return std::nullopt;
  return NdattrReadings(body).read();
}

std::string utf8_repaired(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out += s[i++];
    } else if (const auto n = utf8_length(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {  // Latin-1: U+0080..U+00FF in two bytes
      out += static_cast<char>(0xC0 | (b >> 6));
      out += static_cast<char>(0x80 | (b & 0x3F));
      ++i;
    }
  }
  return out;
}

}  // namespace pandafly::capture::detail
