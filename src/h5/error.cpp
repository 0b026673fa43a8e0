#include "pandafly/h5/error.hpp"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace pandafly::h5 {
namespace {

struct StackText {
  std::string text;
  int os_errno = 0;
};

std::string message_of(hid_t msg_id) {
  char buf[256] = {};
  H5E_type_t type{};
  if (H5Eget_msg(msg_id, &type, buf, sizeof buf) < 0) return {};
  return buf;
}

// The sec2 driver writes "..., errno = 28, error message = '...'" into its entry.
int errno_in(std::string_view desc) {
  constexpr std::string_view key = "errno = ";
  auto pos = desc.find(key);
  if (pos == std::string_view::npos) return 0;
  auto digits = desc.substr(pos + key.size());
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

herr_t append_entry(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<StackText*>(data);
  std::string_view desc = e->desc ? e->desc : "";
  fmt::format_to(std::back_inserter(out->text), "#{} {} ({}:{}): {} [{}: {}]\n", n,
                 e->func_name ? e->func_name : "?", e->file_name ? e->file_name : "?", e->line,
                 desc, message_of(e->maj_num), message_of(e->min_num));
  if (out->os_errno == 0) out->os_errno = errno_in(desc);
  return 0;
}

StackText current_stack() {
  StackText out;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, append_entry, &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

// "/INENC1.VAL.Mean in /data/scan.h5"; falls back to the name given.
std::string describe(const At& at) {
  if (at.object < 0 || H5Iis_valid(at.object) <= 0) return std::string(at.name);
  char path[1024] = {};
  char file[1024] = {};
  H5Iget_name(at.object, path, sizeof path);
  H5Fget_name(at.object, file, sizeof file);
  std::string out = path[0] ? fmt::format("{} in {}", path, file) : std::string(file);
  if (!at.name.empty()) out = fmt::format("{} ({})", at.name, out);
  return out;
}

std::string summary(const std::string& operation, const std::string& object,
                    const std::string& stack, int os_errno) {
  std::string out = fmt::format("{} failed", operation);
  if (!object.empty()) out += fmt::format(" on {}", object);
  if (os_errno != 0) out += fmt::format(": {}", std::strerror(os_errno));
  if (!stack.empty()) out += fmt::format("\nHDF5 error stack:\n{}", stack);
  return out;
}

}  // namespace

Error::Error(std::string operation, std::string object, std::string stack, int os_errno)
    : std::runtime_error(summary(operation, object, stack, os_errno)),
      operation_(std::move(operation)),
      object_(std::move(object)),
      stack_(std::move(stack)),
      errno_(os_errno) {}

void quiet_this_thread() noexcept {
  thread_local bool quiet = false;
  if (quiet) return;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  quiet = true;
}

void throw_error(const At& at) {
  auto stack = current_stack();  // before any other HDF5 call clears it
  throw Error(std::string(at.operation), describe(at), std::move(stack.text), stack.os_errno);
}

}  // namespace pandafly::h5
