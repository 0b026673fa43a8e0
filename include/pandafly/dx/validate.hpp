#pragma once
// validate: checks a DXfile (HDF5 Data Exchange, file-formats.md §1) against
// the conventions tomography readers rely on and, when given one, against the
// layout it was written with. What `pandafly-dx validate` runs.
//
// Rules:
//   - Opens the file read-only; throws h5::Error only if it cannot be opened
//     as HDF5 at all. Anything unreadable inside becomes a finding.
//   - Findings are errors (readers would fail or mislead: a wrong rank, a
//     theta that does not match the frames) or warnings (allowed but not
//     recommended: no /implements, a missing tomoscan attribute, an
//     acquisition marked incomplete). Order: the checks below, in order.
//   - Convention checks:
//       /implements        scalar string dataset (not an attribute, not a
//                          group) listing the top-level Data Exchange groups
//                          present (exchange[_N], measurement[_N], process),
//                          colon-separated; missing → warning; a listed name
//                          absent → error; a present one unlisted → warning
//       /exchange          group → error if missing
//       /exchange/data     3-D dataset → error if missing or another rank
//       data_dark/white    if present: 3-D with data's (y, x) → error
//       theta              1-D, length = data frames, @units degrees/degree/deg
//                          (missing theta or units → warning; rank, length or
//                          other units → error); theta_dark / theta_white the
//                          same against data_dark / data_white when present
//       tomoscan attrs     @description ImageData/DarkData/WhiteData,
//                          @axes theta:y:x (theta_dark:y:x / theta_white:y:x
//                          also accepted), @units counts: missing or
//                          different → warning
//       /process/acquisition end state (layouts/README.md), each dataset if
//                          present, first value: complete 0 → warning;
//                          frames_received ≠ the frames stored in data +
//                          data_dark + data_white, or (files whose detector
//                          datasets carry no @frames_expected) ≠
//                          frames_expected → error, only a warning when
//                          complete is 0 (the file says so itself);
//                          end_reason is quoted in the messages
//       completeness       dx::judge_completeness (completeness.hpp), the
//                          writer's own rule, on what the file holds: each
//                          stack's @frames_expected against its frames, and
//                          every /exchange/theta value finite (NaN or
//                          "Undefined" angles) → error "incomplete scan: …",
//                          a warning when complete is 0. A slotted stack
//                          (dx::Writer Rules, "Slots": @slot_status names its
//                          status dataset) holds the frames of the slots
//                          whose status is not 0 (missing); the reason names
//                          the first missing slots, and only filled slots'
//                          angles must be finite. A @slot_status that names
//                          no dataset, a status length ≠ the frames or a
//                          status code other than 0, 1, 2 → error
//   - Layout checks (with a layout): every group is a group, every dataset a
//     dataset, every hardlink names the same object as its target, every
//     attribute exists on its object → error otherwise. Detector datasets are
//     3-D; `when` OnFileOpen/OnFileClose ndattribute datasets hold ≤ 1 value
//     (warning when not).
//
// Example:
//   auto report = dx::validate("scan_0001.h5", layout);   // or validate(path)
//   for (const auto& f : report.findings) print(to_string(f.severity), f.path, f.message);
//   return report.errors() > 0 ? 1 : 0;
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "pandafly/dx/layout.hpp"

namespace pandafly::dx {

enum class Severity { error, warning };

[[nodiscard]] std::string_view to_string(Severity s) noexcept;

struct Finding {
  Severity severity = Severity::error;
  std::string path;  ///< HDF5 path the finding is about ("/exchange/theta")
  std::string message;
  friend bool operator==(const Finding&, const Finding&) = default;
};

struct ValidationReport {
  std::vector<Finding> findings;
  [[nodiscard]] std::size_t errors() const noexcept;
  [[nodiscard]] std::size_t warnings() const noexcept;
  /// No errors (warnings allowed).
  [[nodiscard]] bool valid() const noexcept { return errors() == 0; }
};

/// Checks the DXfile conventions (Rules). Throws h5::Error if `file` cannot be opened.
[[nodiscard]] ValidationReport validate(const std::filesystem::path& file);
/// Also checks that everything `layout` declares is in the file.
[[nodiscard]] ValidationReport validate(const std::filesystem::path& file, const Layout& layout);

}  // namespace pandafly::dx
