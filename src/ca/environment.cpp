#include "pandafly/ca/environment.hpp"

#include <charconv>
#include <cstdlib>
#include <sstream>

namespace pandafly::ca {
namespace {

template <class T>
void number(const Environment::Lookup& lookup, std::string_view name, T& out) {
  const auto text = lookup(name);
  if (!text || text->empty()) return;
  T value{};
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec == std::errc() && ptr == end) out = value;
}

// libca's boolean variables: a value starting with N or n means NO.
void yes_no(const Environment::Lookup& lookup, std::string_view name, bool& out) {
  const auto text = lookup(name);
  if (!text || text->empty()) return;
  out = !(text->front() == 'n' || text->front() == 'N');
}

}  // namespace

Environment Environment::from(const Lookup& lookup) {
  Environment e;
  if (const auto list = lookup("EPICS_CA_ADDR_LIST")) {
    std::istringstream words(*list);
    for (std::string w; words >> w;) e.addr_list.push_back(w);
  }
  yes_no(lookup, "EPICS_CA_AUTO_ADDR_LIST", e.auto_addr_list);
  number(lookup, "EPICS_CA_SERVER_PORT", e.server_port);
  number(lookup, "EPICS_CA_REPEATER_PORT", e.repeater_port);
  number(lookup, "EPICS_CA_CONN_TMO", e.conn_tmo);
  number(lookup, "EPICS_CA_MAX_SEARCH_PERIOD", e.max_search_period);
  if (e.max_search_period < 60.0) e.max_search_period = 60.0;  // libca's lower bound
  number(lookup, "EPICS_CA_BEACON_PERIOD", e.beacon_period);
  yes_no(lookup, "EPICS_CA_AUTO_ARRAY_BYTES", e.auto_array_bytes);
  number(lookup, "EPICS_CA_MAX_ARRAY_BYTES", e.max_array_bytes);
  return e;
}

Environment Environment::current() {
  return from([](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  });
}

}  // namespace pandafly::ca
