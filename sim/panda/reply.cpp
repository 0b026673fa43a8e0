#include "sim/panda/reply.hpp"

namespace pandafly::sim {

Reply Reply::from(const Expected<ReadValue>& read) {
  if (!read.ok()) return error(read.error());
  if (const auto* lines = std::get_if<std::vector<std::string>>(&read.value())) return list(*lines);
  return value(std::get<std::string>(read.value()));
}

Reply Reply::from(const Status& status) {
  return status.ok() ? ok() : error(status.error());
}

std::string Reply::wire() const {
  switch (shape_) {
    case Shape::ok:
      return "OK\n";
    case Shape::value:
      return "OK =" + text_ + "\n";
    case Shape::error:
      return "ERR " + text_ + "\n";
    case Shape::list:
      break;
  }
  std::string out;
  for (const auto& line : lines_) out += "!" + line + "\n";
  return out + ".\n";
}

}  // namespace pandafly::sim
