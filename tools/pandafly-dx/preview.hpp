#pragma once
// `pandafly-dx preview`: grey PNGs of a scan's frames and a sinogram
// (dx::render_previews) written into a directory, listed with the windows
// used (and what was skipped and why) by --json. Exit codes: 0 written, 2
// the file cannot be read or a PNG cannot be written (or a bad --row /
// percentiles).
#include <cstddef>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "pandafly/dx/preview.hpp"

namespace pandafly_dx {

struct PreviewCmdOptions {
  std::string file;
  std::string out = "preview";
  long row = -1;  ///< -1: the middle row
  double low = 0.5, high = 99.5;
  std::size_t max_size = 0;
  std::string fields = "mean";
  bool json = false;
};

int cmd_preview(const PreviewCmdOptions& o);

/// The images (name, file, caption, size, window, index, values) and the
/// skipped ones (name, reason) as JSON, for preview and plots.
[[nodiscard]] nlohmann::json rendered_json(const pandafly::dx::Rendered& r);
/// One line per image and per skipped one.
void print_rendered(const pandafly::dx::Rendered& r);
/// f(), or Exit::unreadable with "pandafly-dx COMMAND: FILE: what" on stderr
/// for an exception.
int guarded(const char* command, const std::string& file, const std::function<int()>& f);

}  // namespace pandafly_dx
