#pragma once
// Errors of the PandA protocol layer.
//
// Protocol code reports `std::error_code`s of `panda_category()`; a command that
// fails carries a `CommandError` value that names the request it failed on.
// `CommandError` is also an exception, thrown by `Result<T>::value()` and by
// the clients' throwing overloads.
#include <stdexcept>
#include <string>
#include <system_error>

namespace pandafly::panda {

enum class Errc {
  server_error = 1,  ///< the PandA answered `ERR <message>`
  invalid_request,   ///< rejected before any byte was produced (newline, NUL, too long, ...)
  malformed_reply,   ///< the reply is not one of the four shapes, or its content does not parse
  unexpected_reply,  ///< a reply arrived with no request waiting for it
  connection_lost,   ///< the TCP connection closed or failed with the command in flight
  timed_out,         ///< the caller's deadline passed first
  cancelled,         ///< the caller withdrew the request
  not_connected,     ///< no connection to send on
};

[[nodiscard]] const std::error_category& panda_category() noexcept;
[[nodiscard]] std::error_code make_error_code(Errc e) noexcept;

/// A failed command: which request failed (`command`, e.g. `PCAP.FOO?`), the
/// error class (`code`) and the human text (`message`, for `server_error`
/// exactly what followed `ERR `).
class CommandError : public std::runtime_error {
 public:
  CommandError(std::error_code code, std::string command, std::string message);

  [[nodiscard]] std::error_code code() const noexcept { return code_; }
  [[nodiscard]] const std::string& command() const noexcept { return command_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

 private:
  std::error_code code_;
  std::string command_;
  std::string message_;
};

}  // namespace pandafly::panda

template <>
struct std::is_error_code_enum<pandafly::panda::Errc> : std::true_type {};
