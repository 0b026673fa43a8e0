#pragma once
// Reply values of the simulated PandA control port and the small result type the
// field store uses internally. Error texts are the server's own words without the
// leading "ERR " (reference §1.8).
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace pandafly::sim {

/// A failure as the server words it, e.g. Error{"No such field"}.
struct Error {
  std::string message;
};

/// A value of type T, or the server's error text.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected() : v_(T{}) {}
  Expected(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT: implicit on purpose

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  [[nodiscard]] const T& value() const { return std::get<0>(v_); }
  [[nodiscard]] T& value() { return std::get<0>(v_); }
  [[nodiscard]] const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

/// Success without a value.
struct Done {};
using Status = Expected<Done>;

/// A read result: one value (`OK =v`) or a list (`!a`, `!b`, `.`).
using ReadValue = std::variant<std::string, std::vector<std::string>>;

/// One complete reply in one of the four shapes of reference §1.2.
class Reply {
 public:
  enum class Shape { ok, value, error, list };

  [[nodiscard]] static Reply ok() { return Reply{Shape::ok, {}, {}}; }
  [[nodiscard]] static Reply value(std::string v) { return Reply{Shape::value, std::move(v), {}}; }
  [[nodiscard]] static Reply error(std::string m) { return Reply{Shape::error, std::move(m), {}}; }
  [[nodiscard]] static Reply list(std::vector<std::string> lines) {
    return Reply{Shape::list, {}, std::move(lines)};
  }
  /// `OK =v` or a list, from a read result.
  [[nodiscard]] static Reply from(const Expected<ReadValue>& read);
  /// `OK` or `ERR …`, from a write result.
  [[nodiscard]] static Reply from(const Status& status);

  [[nodiscard]] Shape shape() const { return shape_; }
  /// The value (Shape::value) or the message (Shape::error).
  [[nodiscard]] const std::string& text() const { return text_; }
  [[nodiscard]] const std::vector<std::string>& lines() const { return lines_; }
  /// The reply as it goes on the wire, every line LF-terminated.
  [[nodiscard]] std::string wire() const;

 private:
  Reply(Shape shape, std::string text, std::vector<std::string> lines)
      : shape_(shape), text_(std::move(text)), lines_(std::move(lines)) {}

  Shape shape_;
  std::string text_;
  std::vector<std::string> lines_;
};

}  // namespace pandafly::sim
