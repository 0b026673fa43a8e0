#pragma once
// ca::Environment: the EPICS_CA_* settings libca will use, for reports.
//
// libca reads the environment itself when a Context is created; this only
// reads the same variables with the defaults compiled into Debian's libCom
// (EPICS base 7.0.3.1), so tools can show what a client will do (e.g.
// `pandafly-ca info` prints the search address list). Setting anything here
// changes nothing in libca.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pandafly::ca {

struct Environment {
  std::vector<std::string> addr_list;   ///< EPICS_CA_ADDR_LIST, split at white space
  bool auto_addr_list = true;           ///< EPICS_CA_AUTO_ADDR_LIST (only "NO"/"no"... disables)
  std::uint16_t server_port = 5064;     ///< EPICS_CA_SERVER_PORT
  std::uint16_t repeater_port = 5065;   ///< EPICS_CA_REPEATER_PORT
  double conn_tmo = 30.0;               ///< EPICS_CA_CONN_TMO, seconds
  double max_search_period = 300.0;     ///< EPICS_CA_MAX_SEARCH_PERIOD, seconds (at least 60)
  double beacon_period = 15.0;          ///< EPICS_CA_BEACON_PERIOD, seconds
  bool auto_array_bytes = true;         ///< EPICS_CA_AUTO_ARRAY_BYTES
  std::size_t max_array_bytes = 16384;  ///< EPICS_CA_MAX_ARRAY_BYTES

  using Lookup = std::function<std::optional<std::string>(std::string_view name)>;
  /// The settings from `lookup` (a variable that is unset, empty or does not
  /// parse keeps its default).
  [[nodiscard]] static Environment from(const Lookup& lookup);
  /// The settings of this process (getenv).
  [[nodiscard]] static Environment current();
};

}  // namespace pandafly::ca
