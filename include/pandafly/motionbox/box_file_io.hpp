#pragma once
// Reading and writing the Motion Box's JSON file (box_file.hpp) on disk.
//
// Rules
//   - load_box_file(): FileError "<path>: cannot read: <reason>" for a
//     missing or unreadable file; parse errors as BoxFile::parse gives them
//     (with line and column).
//   - save_box_file() is atomic: the text goes to a temporary file in the same
//     directory (same permissions as the old file), is fsync'ed, renamed over
//     the file, and the directory is fsync'ed. A reader sees the old file or
//     the new one, never a half-written one; on any error the old file is
//     untouched and the temporary removed. FileError names the step.
//
// Example:
//   auto box = load_box_file("bench.json");
//   box.remove("C");
//   save_box_file("bench.json", box);
#include <filesystem>

#include "pandafly/motionbox/box_file.hpp"

namespace pandafly::motionbox {

[[nodiscard]] BoxFile load_box_file(const std::filesystem::path& path);
void save_box_file(const std::filesystem::path& path, const BoxFile& box);

}  // namespace pandafly::motionbox
