// XDI 1.0 formatter and strict reader (rules in include/pandafly/dx/xdi.hpp).
#include "pandafly/dx/xdi.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace pandafly::dx {
namespace {

constexpr std::size_t kMaxColumns = 128;
constexpr std::size_t kMaxLine = 2048;
constexpr std::array<std::string_view, 8> kStandardFamilies = {
    "Facility", "Beamline", "Mono", "Detector", "Sample", "Scan", "Element", "Column"};

bool is_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// XDI's column "angle" is the monochromator angle (it needs Mono.d_spacing,
// and libxdifile warns "no mono.d_spacing given with angle array" without
// it): a rotation stage's angle must not be called that.
void check_angle_columns(const XdiHeader& h) {
  const bool d_spacing = std::any_of(h.fields.begin(), h.fields.end(), [](const XdiField& f) {
    return iequal(f.family, "Mono") && iequal(f.tag, "d_spacing");
  });
  for (const auto& c : h.columns) {
    if (iequal(c.name, "angle") && !d_spacing)
      throw std::invalid_argument(
          "XDI column 'angle' is the monochromator angle (it needs Mono.d_spacing); name a "
          "rotation column otherwise, e.g. " +
          std::string(xdi_rotation_column));
  }
}

// libxdifile: ^[A-Za-z_][A-Za-z_0-9]+$ (at least two characters).
bool valid_family(std::string_view f) {
  if (f.size() < 2 || !(is_alpha(f[0]) || f[0] == '_')) return false;
  return std::all_of(f.begin(), f.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

// libxdifile: [A-Za-z0-9_]+ (the spec's '-' is rejected there).
bool valid_tag(std::string_view t) {
  return !t.empty() &&
         std::all_of(t.begin(), t.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

bool one_line(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

bool is_standard(std::string_view family) {
  return std::any_of(kStandardFamilies.begin(), kStandardFamilies.end(),
                     [&](std::string_view f) { return iequal(f, family); });
}

bool has_application(const XdiHeader& h, std::string_view family) {
  return std::any_of(h.applications.begin(), h.applications.end(), [&](const std::string& a) {
    return iequal(std::string_view(a).substr(0, a.find('/')), family);
  });
}

void check_field(const XdiHeader& h, const XdiField& f) {
  const std::string name = f.family + "." + f.tag;
  if (!valid_family(f.family))
    throw std::invalid_argument(
        fmt::format("XDI field {}: family must match [A-Za-z_][A-Za-z0-9_]+", name));
  if (!valid_tag(f.tag))
    throw std::invalid_argument(fmt::format("XDI field {}: tag must match [A-Za-z0-9_]+", name));
  if (!one_line(f.value))
    throw std::invalid_argument(fmt::format("XDI field {}: value spans lines", name));
  if (iequal(f.family, "Column"))
    throw std::invalid_argument(
        fmt::format("XDI field {}: columns come from XdiHeader::columns", name));
  if (!is_standard(f.family) && !has_application(h, f.family))
    throw std::invalid_argument(
        fmt::format("XDI field {}: extension family {} is not an application on the version line",
                    name, f.family));
}

void check_column(const XdiColumn& c, std::size_t n) {
  auto bad = [&](std::string_view why) {
    return std::invalid_argument(fmt::format("XDI Column.{} '{}': {}", n, c.name, why));
  };
  if (!valid_tag(c.name)) throw bad("name must match [A-Za-z0-9_]+");
  if (!one_line(c.units) || c.units.find(' ') != std::string::npos)
    throw bad("units must be one word");
}

void append_line(std::string& out, std::string line) {
  if (line.size() > kMaxLine)
    throw std::invalid_argument(
        fmt::format("XDI header line longer than {} characters: {:.40}...", kMaxLine, line));
  out += line;
  out += '\n';
}

}  // namespace

std::string format_xdi_header(const XdiHeader& h) {
  if (h.columns.empty()) throw std::invalid_argument("XDI: at least one column is needed");
  if (h.columns.size() > kMaxColumns)
    throw std::invalid_argument(fmt::format("XDI: {} columns, the reference reader takes {}",
                                            h.columns.size(), kMaxColumns));
  if (h.decimals < 1 || h.decimals > 17) throw std::invalid_argument("XDI: decimals must be 1..17");
  std::string out = "# XDI/1.0";
  for (const auto& a : h.applications) {
    if (a.empty() || a.find_first_of(" \t\r\n") != std::string::npos)
      throw std::invalid_argument(fmt::format("XDI application token '{}' has blanks", a));
    out += ' ' + a;
  }
  out += '\n';
  check_angle_columns(h);
  for (std::size_t i = 0; i < h.columns.size(); ++i) {
    const auto& c = h.columns[i];
    check_column(c, i + 1);
    append_line(out, fmt::format("# Column.{}: {}{}{}", i + 1, c.name, c.units.empty() ? "" : " ",
                                 c.units));
  }
  for (const auto& f : h.fields) {
    check_field(h, f);
    append_line(out, fmt::format("# {}.{}: {}", f.family, f.tag, f.value));
  }
  out += "# ///\n";
  for (const auto& c : h.comments) {
    if (!one_line(c) || c.find(':') != std::string::npos)
      throw std::invalid_argument(
          fmt::format("XDI comment '{}': one line without ':' (libxdifile cuts it there)", c));
    append_line(out, "# " + c);
  }
  out += "#----\n#";
  for (const auto& c : h.columns) out += ' ' + c.name;
  out += '\n';
  return out;
}

std::string format_xdi_row(const XdiHeader& h, std::span<const double> values) {
  if (values.size() != h.columns.size())
    throw std::invalid_argument(
        fmt::format("XDI row has {} values for {} columns", values.size(), h.columns.size()));
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]))
      throw std::invalid_argument(fmt::format("XDI column {} ({}): {} is not a finite number",
                                              i + 1, h.columns[i].name, values[i]));
    fmt::format_to(std::back_inserter(out), "  {:.{}f}", values[i], h.decimals);
  }
  out += '\n';
  return out;
}

std::string XdiDocument::field(std::string_view family, std::string_view tag) const {
  std::string value;
  for (const auto& f : header.fields)
    if (iequal(f.family, family) && iequal(f.tag, tag)) value = f.value;
  return value;
}

}  // namespace pandafly::dx
