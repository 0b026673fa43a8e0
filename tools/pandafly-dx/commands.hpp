#pragma once
// pandafly-dx subcommands: thin shells over dx::parse_layout and dx::validate.
// Each returns the process exit code and prints to stdout (results) and
// stderr (why a file could not be read).
#include <optional>
#include <string>
#include <variant>

#include "pandafly/dx/layout.hpp"

namespace pandafly_dx {

/// Exit codes (also in --help).
enum Exit : int { ok = 0, findings = 1, unreadable = 2 };

struct ValidateOptions {
  std::string file;
  std::string layout;  ///< "" = conventions only
  bool json = false;
  bool repair = false;  ///< first dx::repair() a file whose writer died (messages on stderr)
};

struct LayoutOptions {
  std::string file;
  bool print = false;  ///< print the canonical layout text
};

/// The whole file, or nullopt if it cannot be read.
std::optional<std::string> read_text(const std::string& path);
/// The layout at `path`, or an exit code after printing why not to stderr
/// (unreadable: 2; does not parse: 1, with file and line).
std::variant<pandafly::dx::Layout, int> load_layout(const std::string& path);

/// `validate FILE [--layout L] [--json]`: 0 no errors (warnings allowed),
/// 1 errors found, 2 the file or the layout cannot be read.
int cmd_validate(const ValidateOptions& o);

/// `layout FILE [--print]`: 0 the layout loads, 1 it does not (the message
/// names the file and line), 2 the file cannot be read.
int cmd_layout(const LayoutOptions& o);

}  // namespace pandafly_dx
