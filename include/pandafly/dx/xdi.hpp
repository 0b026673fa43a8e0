#pragma once
// XDI 1.0 (XAS Data Interchange) text for position-versus-time tables
// (file-formats.md §4): the sans-IO formatter and a strict reader. The file
// shell is dx::XdiWriter (xdi_writer.hpp).
//
// Rules
//   - What we write passes the reference library (libxdifile) and the spec
//     alike, so the formatter refuses what either would reject:
//     families match [A-Za-z_][A-Za-z0-9_]+ (two characters at least), tags
//     [A-Za-z0-9_]+ (no dashes: libxdifile rejects them), values and
//     comments on one line with no ':' in comments (libxdifile cuts
//     comments there), at most 128 columns and 2048 characters per header
//     line. An extension family (not one of Facility, Beamline, Mono,
//     Detector, Sample, Scan, Element, Column) must be named as an
//     application token on the version line ("pandafly/0.1" → family
//     "pandafly"), else libxdifile warns (104).
//   - A column named "angle" (any case) is XDI's monochromator angle: without
//     a Mono.d_spacing field format_xdi_header refuses it. A rotation stage's
//     angle is xdi_rotation_column ("rotation_angle"), which no XDI reader
//     takes for a mono angle (libxdifile then notes only warning 105, Column.1
//     is neither energy nor angle — true for a rotation scan).
//   - Column.N fields come from `columns` (N from 1, "name units"); the first
//     column is the abscissa. Numbers are written in fixed notation with
//     `decimals` digits (the reference reader misreads a first data line of 3
//     characters or fewer, and nan/inf are not numbers in XDI), so
//     format_xdi_row refuses non-finite values and a wrong column count.
//   - parse_xdi is stricter than libxdifile: everything the formatter refuses
//     is an error naming the line, and so are nan/inf/hex numbers, ragged
//     rows, a missing "#----" header end and a file without data.
//   - Errors: std::invalid_argument from the formatters (the message names
//     the field or column); XdiParseError values from the reader.
//
// Example:
//   dx::XdiHeader h;
//   h.columns = {{std::string(dx::xdi_rotation_column), "degrees"}, {"elapsed_time", "seconds"}};
//   h.fields = {{"Facility", "name", "SESAME"}, {"Scan", "start_time", "2026-01-15T10:29:41"}};
//   std::string text = dx::format_xdi_header(h) + dx::format_xdi_row(h, {{0.0, 0.0}});
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pandafly::dx {

/// The name of a rotation-angle column (never XDI's mono "angle").
inline constexpr std::string_view xdi_rotation_column = "rotation_angle";

struct XdiColumn {
  std::string name;   ///< e.g. "rotation_angle"
  std::string units;  ///< e.g. "degrees"; may be empty
  friend bool operator==(const XdiColumn&, const XdiColumn&) = default;
};

struct XdiField {
  std::string family;  ///< "Facility", "Scan", "pandafly", ...
  std::string tag;     ///< "name", "start_time", ...
  std::string value;
  friend bool operator==(const XdiField&, const XdiField&) = default;
};

struct XdiHeader {
  std::vector<std::string> applications{"pandafly/0.1"};  ///< version-line tokens after XDI/1.0
  std::vector<XdiColumn> columns;
  std::vector<XdiField> fields;  ///< in the order written (Column.N are added first)
  std::vector<std::string> comments;
  int decimals = 6;  ///< digits after the point in data rows
  friend bool operator==(const XdiHeader&, const XdiHeader&) = default;
};

/// The header text from the version line to the column-label line, each
/// line ending in '\n'. Throws std::invalid_argument (see Rules).
[[nodiscard]] std::string format_xdi_header(const XdiHeader& header);
/// One data line for `values` (one per column). Throws std::invalid_argument.
[[nodiscard]] std::string format_xdi_row(const XdiHeader& header, std::span<const double> values);

/// A parsed file: the header (decimals unknown: left at its default) and the
/// rows.
struct XdiDocument {
  XdiHeader header;
  std::vector<std::vector<double>> rows;
  /// The last value of Family.tag (case-insensitive names), or "".
  [[nodiscard]] std::string field(std::string_view family, std::string_view tag) const;
};

struct XdiParseError {
  int line = 0;  ///< 1-based
  std::string message;
};

[[nodiscard]] std::variant<XdiDocument, XdiParseError> parse_xdi(std::string_view text);

}  // namespace pandafly::dx
