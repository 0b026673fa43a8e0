#pragma once
// Result<T>: the value of a finished command, or the CommandError it failed with.
#include <utility>
#include <variant>

#include "pandafly/panda/error.hpp"

namespace pandafly::panda {

/// The result of a command that answers only OK.
struct Ack {
  friend bool operator==(Ack, Ack) = default;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}             // NOLINT(google-explicit-constructor)
  Result(CommandError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; throws the CommandError when the command failed.
  [[nodiscard]] T& value() & { return ok() ? std::get<0>(v_) : throw std::get<1>(v_); }
  [[nodiscard]] const T& value() const& { return ok() ? std::get<0>(v_) : throw std::get<1>(v_); }
  [[nodiscard]] T&& value() && { return ok() ? std::get<0>(std::move(v_)) : throw std::get<1>(v_); }
  /// The error; only valid when !ok().
  [[nodiscard]] const CommandError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, CommandError> v_;
};

}  // namespace pandafly::panda
