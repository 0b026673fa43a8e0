#pragma once
// PNG files through libpng (Debian libpng-dev 1.6: the reference PNG
// library, maintained, already on the image; nothing else is needed for
// grey-level previews).
//
// Rules
//   - 8-bit grey (colour type 0), one row after another (row-major,
//     width × height bytes), no interlace, default compression.
//   - The file is written to PATH.tmp and renamed over PATH when complete, so
//     a reader never sees half a PNG; on error the temporary is removed and
//     std::runtime_error names the file and libpng's (or the system's) reason.
//   - Any thread; no shared state.
//
// Example:
//   util::write_png_gray8("slice.png", 256, 256, grey);  // grey.size() == 65536
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace pandafly::util {

void write_png_gray8(const std::filesystem::path& path, std::size_t width, std::size_t height,
                     std::span<const std::uint8_t> pixels);

}  // namespace pandafly::util
