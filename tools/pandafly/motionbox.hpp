#pragma once
// `pandafly motionbox ...`: the Motion Box (issue 19) — the testing bench's
// motor homing tool with the seed's five commands (help, add, change, remove,
// home) and its JSON file.
#include <CLI/CLI.hpp>

namespace pandafly::tools {

struct MotionboxCommand;

/// Adds the `motionbox` subcommand (and its own subcommands) to `app`.
[[nodiscard]] MotionboxCommand& add_motionbox_command(CLI::App& app);
/// Runs it once parsed; the exit code.
[[nodiscard]] int run_motionbox(MotionboxCommand& command);
/// Whether it was the command given.
[[nodiscard]] bool motionbox_parsed(const MotionboxCommand& command);

}  // namespace pandafly::tools
