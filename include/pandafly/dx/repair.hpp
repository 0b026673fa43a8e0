#pragma once
// dx::repair: makes a DXfile whose writer died without finish() (SIGKILL, a
// power cut) readable by plain HDF5 readers, and says so inside it.
//
// Rules
//   - Clears the superblock status flags a killed SWMR writer leaves set
//     (h5::File::clear_status_flags, what `h5clear -s` does): before, the file
//     opens only as an SWMR reader; after, h5py and dxchange read every frame
//     flushed before the writer died.
//   - When the end state still says "acquisition in progress"
//     (/process/acquisition/pandafly_end/reason), it becomes "incomplete: the
//     writer stopped without finishing (repaired)", complete stays 0.
//   - When /entry is missing and /exchange/data exists, adds the NXtomo view
//     over the frames present (image_key, rotation_angle from theta*), as
//     finish() would have. OnFileClose items (end_date, …) cannot be known and
//     stay missing.
//   - A file that was finished is left as it is (nothing to do is not an
//     error). Throws h5::Error when the file cannot be opened read-write.
//
// Example:
//   auto r = dx::repair("scan.h5");
//   for (const auto& what : r.done) fmt::print("repaired: {}\n", what);
#include <filesystem>
#include <string>
#include <vector>

namespace pandafly::dx {

struct RepairResult {
  std::vector<std::string> done;  ///< what was changed, one line each
  bool readable = false;          ///< the file now opens without SWMR
};

[[nodiscard]] RepairResult repair(const std::filesystem::path& path);

}  // namespace pandafly::dx
