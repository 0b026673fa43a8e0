#include "pandafly/panda/error.hpp"

#include <fmt/format.h>

namespace pandafly::panda {
namespace {

class PandaCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "panda"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::server_error:
        return "the PandA answered ERR";
      case Errc::invalid_request:
        return "invalid request";
      case Errc::malformed_reply:
        return "malformed reply";
      case Errc::unexpected_reply:
        return "reply with no request waiting for it";
      case Errc::connection_lost:
        return "connection lost";
      case Errc::timed_out:
        return "timed out";
      case Errc::cancelled:
        return "cancelled";
      case Errc::not_connected:
        return "not connected";
    }
    return "unknown panda error";
  }
};

std::string describe(const std::error_code& code, const std::string& command,
                     const std::string& message) {
  if (code == Errc::server_error) return fmt::format("{}: ERR {}", command, message);
  return fmt::format("{}: {}: {}", command, code.message(), message);
}

}  // namespace

const std::error_category& panda_category() noexcept {
  static const PandaCategory category;
  return category;
}

std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), panda_category()};
}

CommandError::CommandError(std::error_code code, std::string command, std::string message)
    : std::runtime_error(describe(code, command, message)),
      code_(code),
      command_(std::move(command)),
      message_(std::move(message)) {}

}  // namespace pandafly::panda
