#pragma once
// load_fly_scan_config(): reads a scan file and parses it with
// parse_scan_config() (scan_config.hpp), the file's path naming it in
// messages and anchoring its relative paths. The only file I/O of the scan
// configuration, kept out of the sans-IO core (library pandafly_scan_io).
// Any thread.
#include <string>

#include "pandafly/scan/scan_config.hpp"

namespace pandafly::scan {

/// Throws ConfigError: "<path>: cannot read: <reason>" when the file cannot
/// be read, else what parse_scan_config() throws.
[[nodiscard]] ScanConfig load_fly_scan_config(const std::string& path,
                                              ScanKind kind = ScanKind::fly);

}  // namespace pandafly::scan
