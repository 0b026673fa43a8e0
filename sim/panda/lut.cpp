#include "sim/panda/lut.hpp"

#include <cctype>
#include <optional>

#include "sim/panda/parse.hpp"

namespace pandafly::sim {
namespace {

// Recursive-descent evaluator over 32-bit truth tables. Each level parses one
// precedence class; a failure anywhere poisons the result (nullopt).
class LutParser {
 public:
  explicit LutParser(std::string_view text) : text_(text) {}

  std::optional<std::uint32_t> run() {
    auto v = conditional();
    skip_blanks();
    if (!v || pos_ != text_.size() || depth_ < 0) return std::nullopt;
    return v;
  }

 private:
  using Value = std::optional<std::uint32_t>;

  Value conditional() {
    Value test = binary(0);
    if (!test || !take('?')) return test;
    Value yes = conditional();
    if (!yes || !take(':')) return std::nullopt;
    Value no = conditional();
    if (!no) return std::nullopt;
    return (*test & *yes) | (~*test & *no);
  }

  // Binary levels from loosest (0: =>) to tightest (4: =).
  Value binary(int level) {
    if (level > 4) return unary();
    Value left = binary(level + 1);
    while (left && take_operator(level)) {
      Value right = binary(level + 1);
      if (!right) return std::nullopt;
      left = apply(level, *left, *right);
    }
    return left;
  }

  static std::uint32_t apply(int level, std::uint32_t a, std::uint32_t b) {
    switch (level) {
      case 0:
        return ~a | b;  // =>
      case 1:
        return a | b;  // |
      case 2:
        return a ^ b;  // ^
      case 3:
        return a & b;  // &
      default:
        return ~(a ^ b);  // =
    }
  }

  bool take_operator(int level) {
    skip_blanks();
    std::string_view rest = text_.substr(pos_);
    bool implies = rest.starts_with("=>");
    switch (level) {
      case 0:
        return implies && advance(2);
      case 1:
        return take('|');
      case 2:
        return take('^');
      case 3:
        return take('&');
      default:
        if (implies) return false;
        if (rest.starts_with("==")) return advance(2);
        return take('=');
    }
  }

  Value unary() {
    if (take('~')) {
      Value v = unary();
      return v ? Value{~*v} : std::nullopt;
    }
    if (take('(')) {
      if (++depth_ > 40) return std::nullopt;
      Value v = conditional();
      --depth_;
      return v && take(')') ? v : std::nullopt;
    }
    return constant();
  }

  Value constant() {
    skip_blanks();
    if (pos_ >= text_.size()) return std::nullopt;
    // An operator where an operand belongs (`A&&B`): the server's words.
    if (std::string_view("&|^=?:)").find(text_[pos_]) != std::string_view::npos) {
      error_ = "Missing value";
      return std::nullopt;
    }
    switch (text_[pos_++]) {
      case '0':
        return 0x00000000u;
      case '1':
        return 0xFFFFFFFFu;
      case 'A':
        return 0xFFFF0000u;
      case 'B':
        return 0xFF00FF00u;
      case 'C':
        return 0xF0F0F0F0u;
      case 'D':
        return 0xCCCCCCCCu;
      case 'E':
        return 0xAAAAAAAAu;
      default:
        return std::nullopt;
    }
  }

  bool take(char c) {
    skip_blanks();
    if (pos_ < text_.size() && text_[pos_] == c) return advance(1);
    return false;
  }
  bool advance(std::size_t n) {
    pos_ += n;
    return true;
  }
  void skip_blanks() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  const char* error_ = "Invalid token";

 public:
  /// Why run() failed.
  [[nodiscard]] const char* error() const { return error_; }
};

bool is_hex_literal(std::string_view text) {
  return text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

}  // namespace

Expected<std::uint32_t> compile_lut(std::string_view expression) {
  if (is_hex_literal(expression)) {
    std::size_t pos = 0;
    auto n = scan_c_integer(expression, pos);
    if (n && pos == expression.size() && !n->negative && n->magnitude <= 0xFFFFFFFFu) {
      return static_cast<std::uint32_t>(n->magnitude);
    }
    return Error{"Invalid token"};
  }
  LutParser parser(expression);
  auto table = parser.run();
  if (!table) return Error{parser.error()};
  return *table;
}

}  // namespace pandafly::sim
