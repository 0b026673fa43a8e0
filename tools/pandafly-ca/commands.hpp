#pragma once
// pandafly-ca subcommands: thin loops over pandafly::ca, in caget/caput/
// camonitor/cainfo habits. Each returns the process exit code.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/repeater_stand_in.hpp"

namespace pandafly_ca {

/// Exit codes (also in --help).
enum Exit : int { ok = 0, pv_failed = 1, usage = 2, not_found = 3 };

struct Options {
  double timeout_s = 1.0;  ///< -w: connect and reply timeout
  bool json = false;
  bool no_stand_in = false;
  // get / monitor
  std::string type_name;     ///< -d: request type ("" = native)
  std::size_t elements = 0;  ///< -#: elements (0 = all valid)
  bool numeric = false;      ///< -n: enums as indices
  bool char_string = false;  ///< -S: char arrays as text
  bool with_time = false;    ///< -a: time stamp and alarm (get)
  // put
  bool wait = false;           ///< --wait: put with completion callback
  double wait_timeout_s = 60;  ///< --wait-timeout
  // monitor
  std::uint64_t count = 0;  ///< --count: stop after N updates (0 = Ctrl-C)
  std::string mask = "va";  ///< -m: v(alue) a(larm) l(og) p(roperty)
};

/// A usage or input error: exit code 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// 3 for timeouts (not found, no reply), 2 for values that cannot be sent, 1 otherwise.
int exit_code_for(const pandafly::ca::Error& e);

/// The CA client of one invocation: a repeater stand-in when Debian's libca
/// would otherwise try to spawn the caRepeater it lacks, then the Context.
/// libca's asynchronous messages go to stderr as "pandafly-ca: warning: ...".
class Session {
 public:
  explicit Session(const Options& o);
  [[nodiscard]] const pandafly::ca::Context& context() const { return context_; }
  [[nodiscard]] bool stand_in() const { return repeater_ != nullptr; }
  [[nodiscard]] pandafly::ca::Timeout timeout() const {
    return pandafly::ca::Timeout(options_.timeout_s);
  }
  [[nodiscard]] const Options& options() const { return options_; }
  /// "pandafly-ca: <text>" on stderr; safe from any thread.
  void error(std::string_view text) const;

 private:
  const Options& options_;
  std::unique_ptr<pandafly::ca::RepeaterStandIn> repeater_;  // outlives context_
  pandafly::ca::Context context_;
};

/// Opens every PV at once (searches go out together), then waits for each
/// with one shared deadline. Entry i is the error of PV i, if it did not connect.
std::vector<std::optional<pandafly::ca::Error>> connect_all(
    const Session& s, std::vector<pandafly::ca::Channel>& channels,
    const std::vector<std::string>& pvs);

/// The request type for a read: -d, else the native type (enums as strings
/// unless -n).
pandafly::ca::FieldType request_type(const pandafly::ca::Channel& ch, const Options& o);

int cmd_get(const Session& s, const std::vector<std::string>& pvs);
int cmd_put(const Session& s, const std::string& pv, const std::vector<std::string>& values);
int cmd_info(const Session& s, const std::vector<std::string>& pvs);
int cmd_monitor(const Session& s, const std::vector<std::string>& pvs);

}  // namespace pandafly_ca
