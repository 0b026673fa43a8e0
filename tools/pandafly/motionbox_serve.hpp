#pragma once
// `pandafly motionbox serve json_path`: the Motion Box as a local web page.
// A small HTTP server (Boost.Beast, synchronous, one thread per connection)
// on 127.0.0.1 only, serving one page (motionbox_page.hpp) and a JSON API
// over the same library code as the CLI (BoxFile, save_box_file,
// HomingRunner).
//
// Rules
//   - Endpoints: GET / (the page); GET /api/motors (file + live status +
//     homing state); POST /api/motors {name, pv_root, lo_lim, center, hi_lim};
//     PUT /api/motors/NAME {pv_root, lo_lim, center, hi_lim}; DELETE
//     /api/motors/NAME; POST /api/home {motors: [NAME...] | "all", mode:
//     "hi"|"lo"} (202: runs on a worker thread; 409 while a homing runs);
//     GET /api/home (running, last reports); POST /api/stop (interrupts the
//     homing and writes STOP = 1 to every motor of the file); GET /events
//     (server-sent events: "status" per motor from CA monitors of RBV DMOV
//     HLS LLS HLM LLM, "progress" during homing, "home" when a homing ends,
//     "file" after every edit).
//   - Every error is a JSON object {"error": "..."} with a 4xx/5xx status:
//     400 bad JSON or values (BoxFile's checks), 404 unknown motor or path,
//     405 wrong method, 409 homing already running, 503 the server is
//     stopping, 500 anything else (e.g. a STOP that could not be written).
//   - File edits are serialised (one mutex) and written atomically.
//   - Every response but /events closes its connection.
//   - SIGINT/SIGTERM/SIGHUP: the homing is interrupted (moving motors
//     STOPped, limits restored), connections are shut down, threads joined,
//     exit 0 (7 if a homing was running and interrupted).
#include <cstdint>
#include <string>

namespace pandafly::tools {

struct ServeOptions {
  std::string json_path;
  std::uint16_t port = 8080;  ///< 0: a free one (printed)
  double connect_timeout = 5;
};

/// Runs until a signal; the exit code.
[[nodiscard]] int run_motionbox_serve(const ServeOptions& options);

}  // namespace pandafly::tools
