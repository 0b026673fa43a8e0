// DXfile checks (rules in include/pandafly/dx/validate.hpp). One Checker per
// file: the convention checks run in a fixed order, each guarded so that an
// unreadable object becomes a finding and the rest still run.
#include "pandafly/dx/validate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "h5_probe.hpp"
#include "pandafly/dx/completeness.hpp"
#include "pandafly/h5/error.hpp"
#include "pandafly/h5/file.hpp"

namespace pandafly::dx {
namespace {

struct Stack {
  const char* path;
  const char* description;  // tomoscan's @description
  const char* theta;        // the angle dataset for its frames
  const char* spec_axes;    // the spec's @axes besides tomoscan's "theta:y:x"
};
constexpr std::array<Stack, 3> kStacks = {{
    {"/exchange/data", "ImageData", "/exchange/theta", "theta:y:x"},
    {"/exchange/data_dark", "DarkData", "/exchange/theta_dark", "theta_dark:y:x"},
    {"/exchange/data_white", "WhiteData", "/exchange/theta_white", "theta_white:y:x"},
}};

std::string join(const std::string& parent, const std::string& name) {
  return (parent == "/" ? "" : parent) + "/" + name;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    const auto next = s.find(sep, at);
    out.push_back(s.substr(at, next - at));
    if (next == std::string::npos) return out;
    at = next + 1;
  }
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  return dims.empty() ? "scalar" : fmt::format("({})", fmt::join(dims, ", "));
}

class Checker {
 public:
  explicit Checker(const H5Probe& probe) : p_(probe) {}

  ValidationReport report;

  void conventions() {
    guarded("/implements", [&] { implements(); });
    guarded("/exchange", [&] { exchange(); });
    guarded("/process/acquisition", [&] { end_state(); });
    guarded("/exchange", [&] { completeness(); });
  }

  void layout(const Layout& l) { group(l.root, "/"); }

 private:
  void add(Severity s, std::string path, std::string message) {
    report.findings.push_back({s, std::move(path), std::move(message)});
  }
  void error(std::string path, std::string message) {
    add(Severity::error, std::move(path), std::move(message));
  }
  void warning(std::string path, std::string message) {
    add(Severity::warning, std::move(path), std::move(message));
  }

  template <class F>
  void guarded(const std::string& path, F&& check) {
    try {
      check();
    } catch (const h5::Error& e) {
      error(path, fmt::format("cannot read: {}", e.what()));
    }
  }

  // ---------------------------------------------------------------- /implements
  void implements() {
    const std::string path = "/implements";
    const auto kind = p_.kind(path);
    if (kind == ObjectKind::missing) {
      if (p_.has_attribute("/", "implements"))
        return error(path, "is an attribute of /; it must be a string dataset of shape (1,)");
      return warning(path, "missing (a conforming DXfile lists its top-level groups there)");
    }
    if (kind != ObjectKind::dataset) return error(path, "is not a dataset");
    if (!p_.is_string(path)) return error(path, "is not a string dataset");
    const auto dims = p_.shape(path);
    // NDFileHDF5 writes constant strings with shape (1,); Debian's dxchange
    // read_hdf_meta fails on a scalar (file-formats.md 1.1).
    if (dims.empty()) {
      warning(path,
              "is scalar: NDFileHDF5 writes shape (1,) and dxchange's read_hdf_meta fails on it");
    } else if (dims != std::vector<hsize_t>{1}) {
      error(path, fmt::format("must have shape (1,), has shape {}", shape_text(dims)));
    }
    const auto text = p_.first_string(path).value_or("");
    implements_lists(path, split(text, ':'));
  }

  void implements_lists(const std::string& path, const std::vector<std::string>& listed) {
    for (const auto& name : listed)
      if (p_.kind("/" + name) != ObjectKind::group)
        error(path, fmt::format("lists \"{}\", which is not a group of the file", name));
    static const std::regex component("(exchange|measurement)(_[0-9]+)?|process");
    for (const auto& name : p_.names("/")) {
      if (!std::regex_match(name, component) || p_.kind("/" + name) != ObjectKind::group) continue;
      if (std::find(listed.begin(), listed.end(), name) == listed.end())
        warning(path, fmt::format("does not list the group \"{}\"", name));
    }
  }

  // ---------------------------------------------------------------- /exchange
  void exchange() {
    if (p_.kind("/exchange") != ObjectKind::group)
      return error("/exchange", "missing: the one mandatory Data Exchange group");
    const auto data = stack(kStacks[0], true, {});
    if (!data) return;
    for (const auto& s : {kStacks[1], kStacks[2]})
      guarded(s.path, [&] { (void)stack(s, false, data); });
  }

  // The shape of a 3-D image stack, or nullopt after a finding (or when an
  // optional one is absent).
  std::optional<std::vector<hsize_t>> stack_shape(const Stack& s, bool required) {
    const auto kind = p_.kind(s.path);
    if (kind == ObjectKind::missing) {
      if (required) error(s.path, "missing: the projections must be here");
      return std::nullopt;
    }
    if (kind != ObjectKind::dataset) {
      error(s.path, "is not a dataset");
      return std::nullopt;
    }
    auto dims = p_.shape(s.path);
    if (dims.size() == 3) return dims;
    error(s.path, fmt::format("must be 3-D (frames, y, x), has shape {}", shape_text(dims)));
    return std::nullopt;
  }

  // One image stack, its tomoscan attributes and its angles. Returns its shape.
  std::optional<std::vector<hsize_t>> stack(const Stack& s, bool required,
                                            const std::optional<std::vector<hsize_t>>& data) {
    auto dims = stack_shape(s, required);
    if (!dims) return std::nullopt;
    const auto& d = *dims;
    if (data && (d[1] != (*data)[1] || d[2] != (*data)[2]))
      error(s.path, fmt::format("frames are {}x{} (y, x), /exchange/data's are {}x{}", d[1], d[2],
                                (*data)[1], (*data)[2]));
    tomoscan_attributes(s);
    const auto filled = slots(s.path, d[0]);
    guarded(s.theta, [&] { theta(s, d[0], required, filled); });
    const hsize_t stored =
        filled ? static_cast<hsize_t>(std::count(filled->begin(), filled->end(), true)) : d[0];
    frames_stored_ += stored;
    facts_.stored[s.path] = stored;
    if (const auto n = p_.number_attribute(s.path, "frames_expected"))
      facts_.expected[s.path] = static_cast<std::uint64_t>(*n);
    return dims;
  }

  void tomoscan_attributes(const Stack& s) {
    expect_attribute(s.path, "description", {s.description});
    expect_attribute(s.path, "axes", {"theta:y:x", s.spec_axes});
    expect_attribute(s.path, "units", {"counts"});
  }

  void expect_attribute(const std::string& path, const std::string& name,
                        std::initializer_list<std::string_view> accepted) {
    const auto value = p_.string_attribute(path, name);
    const auto first = *accepted.begin();
    if (!value)
      return warning(path,
                     fmt::format("no string attribute {} (tomoscan writes \"{}\")", name, first));
    if (std::find(accepted.begin(), accepted.end(), *value) == accepted.end())
      warning(path, fmt::format("@{} is \"{}\", tomoscan writes \"{}\"", name, *value, first));
  }

  // A slotted stack (writer.hpp Rules, "Slots"): which slots hold a frame,
  // from the status dataset its @slot_status names; nullopt when not slotted
  // (every frame is stored) or the status is unusable (a finding).
  std::optional<std::vector<bool>> slots(const std::string& stack, hsize_t frames) {
    const auto status = p_.string_attribute(stack, "slot_status");
    if (!status) return std::nullopt;
    if (p_.kind(*status) != ObjectKind::dataset) {
      error(stack, fmt::format("@slot_status names {}, which is not a dataset", *status));
      return std::nullopt;
    }
    const auto codes = p_.numbers(*status);
    if (codes.size() != frames) {
      error(*status, fmt::format("has {} slots, {} has {} frames", codes.size(), stack, frames));
      return std::nullopt;
    }
    std::vector<bool> filled(codes.size());
    auto& missing = facts_.missing_slots[stack];
    const auto odd = std::find_if(codes.begin(), codes.end(), [](double c) { return c > 2; });
    if (odd != codes.end())  // SlotStatus: 0 missing, 1 ok, 2 no_angle
      error(*status, fmt::format("slot {} has status {}, not 0, 1 or 2 (see its @legend)",
                                 odd - codes.begin(), *odd));
    for (std::size_t k = 0; k < codes.size(); ++k) {
      filled[k] = codes[k] != 0;  // SlotStatus::missing
      if (!filled[k] && missing.size() < missing_slots_named) missing.push_back(k);
    }
    return filled;
  }

  void theta(const Stack& s, hsize_t frames, bool required,
             const std::optional<std::vector<bool>>& filled) {
    const std::string path = s.theta;
    const auto kind = p_.kind(path);
    if (kind == ObjectKind::missing) {
      if (required)
        warning(path, "missing: readers fall back to rotation_start/step or to 0..180 degrees");
      return;
    }
    if (kind != ObjectKind::dataset) return error(path, "is not a dataset");
    const auto dims = p_.shape(path);
    if (dims.size() != 1)
      return error(path, fmt::format("must be 1-D, has shape {}", shape_text(dims)));
    if (dims[0] != frames)
      error(path, fmt::format("has {} angles, {} has {} frames", dims[0], s.path, frames));
    if (required) {  // the projections' angles: NaN/inf means the geometry is unknown
      const auto angles = p_.numbers(path);  // an empty slot's NaN is a missing frame, not this
      for (std::size_t k = 0; k < angles.size(); ++k)
        if (!std::isfinite(angles[k]) && (!filled || (k < filled->size() && (*filled)[k])))
          ++facts_.projections_without_angle;
    }
    const auto units = p_.string_attribute(path, "units");
    if (!units) return warning(path, "no @units (theta is in degrees: say so)");
    if (*units != "degrees" && *units != "degree" && *units != "deg")
      error(path, fmt::format("@units is \"{}\"; readers take theta as degrees", *units));
  }

  // ---------------------------------------------------------------- end state
  std::optional<double> number(const std::string& path) {
    if (p_.kind(path) != ObjectKind::dataset) return std::nullopt;
    return p_.first_number(path);
  }

  void end_state() {
    const std::string acq = "/process/acquisition";
    if (p_.kind(acq) != ObjectKind::group) return;
    auto complete = number(acq + "/complete");
    if (!complete) complete = number(acq + "/pandafly_end/complete");  // the writer's own copy
    const auto expected = number(acq + "/frames_expected");
    const auto received = number(acq + "/frames_received");
    std::string reason;
    if (p_.kind(acq + "/end_reason") == ObjectKind::dataset)
      reason = p_.first_string(acq + "/end_reason").value_or("");
    const std::string why = reason.empty() ? "" : fmt::format(" (end_reason: \"{}\")", reason);
    if (complete && *complete == 0)
      warning(acq + "/complete", "the acquisition is marked incomplete" + why);
    const Severity s = complete && *complete == 0 ? Severity::warning : Severity::error;
    marked_incomplete_ = complete && *complete == 0;
    end_reason_ = why;
    if (const auto lost = number(acq + "/pandafly_end/frames_lost"); lost && !received)
      facts_.frames_lost = static_cast<std::uint64_t>(*lost);  // else checked just below
    // A file that says which dataset expected what is judged per dataset by
    // completeness(); the total is only checked for files that do not.
    const bool per_dataset = !facts_.expected.empty();
    if (!per_dataset && expected && received && *expected != *received)
      add(s, acq + "/frames_received",
          fmt::format("{} frames received, {} expected{}", *received, *expected, why));
    if (received && *received != static_cast<double>(frames_stored_))
      add(s, acq + "/frames_received",
          fmt::format("{} frames received, the detector datasets hold {}{}", *received,
                      frames_stored_, why));
  }

  // ---------------------------------------------------------------- completeness
  // The writer's rule (completeness.hpp) on what the file holds: an error,
  // or a warning when the file already says it is incomplete.
  void completeness() {
    const Completeness c = judge_completeness(facts_);
    const Severity s = marked_incomplete_ ? Severity::warning : Severity::error;
    for (const auto& r : c.reasons)
      add(s, "/exchange", fmt::format("incomplete scan: {}{}", r, end_reason_));
  }

  // ---------------------------------------------------------------- layout
  bool expect_kind(const std::string& path, ObjectKind want, const char* what, int line) {
    const auto kind = p_.kind(path);
    if (kind == want) return true;
    error(path, fmt::format("the layout (line {}) declares a {}; the file has {}", line, what,
                            kind == ObjectKind::missing ? "none" : "another kind of object"));
    return false;
  }

  void attributes(const std::string& path, const std::vector<Attribute>& list) {
    for (const auto& a : list)
      if (!p_.has_attribute(path, a.name))
        error(path, fmt::format("the layout (line {}) declares attribute @{}; it is missing",
                                a.line, a.name));
  }

  void dataset(const Dataset& d, const std::string& path) {
    if (!expect_kind(path, ObjectKind::dataset, "dataset", d.line)) return;
    attributes(path, d.attributes);
    const auto dims = p_.shape(path);
    if (d.source == Source::detector && dims.size() != 3)
      error(path, fmt::format("a detector dataset must be 3-D, has shape {}", shape_text(dims)));
    const bool once = d.source == Source::ndattribute && d.when != When::on_frame;
    if (once && !dims.empty() && dims[0] > 1)
      warning(path, fmt::format("written {} holds {} values",
                                d.when == When::on_file_open ? "on file open" : "on file close",
                                dims[0]));
  }

  void hardlink(const Hardlink& h, const std::string& path) {
    const auto link = p_.object(path);
    if (!link)
      return error(path, fmt::format("the layout (line {}) declares a hardlink to {}; it "
                                     "is missing",
                                     h.line, h.target));
    if (p_.object(h.target) != link)
      error(path, fmt::format("is not the same object as {} (layout line {})", h.target, h.line));
  }

  void group(const Group& g, const std::string& path) {
    if (path != "/" && !expect_kind(path, ObjectKind::group, "group", g.line)) return;
    guarded(path, [&] { attributes(path, g.attributes); });
    for (const auto& d : g.datasets) {
      const auto p = join(path, d.name);
      guarded(p, [&] { dataset(d, p); });
    }
    for (const auto& h : g.hardlinks) {
      const auto p = join(path, h.name);
      guarded(p, [&] { hardlink(h, p); });
    }
    for (const auto& s : g.groups) group(s, join(path, s.name));
  }

  const H5Probe& p_;
  hsize_t frames_stored_ = 0;
  CompletenessFacts facts_;
  bool marked_incomplete_ = false;
  std::string end_reason_;
};

ValidationReport run(const std::filesystem::path& file, const Layout* layout) {
  const auto f = h5::File::open(file);
  const H5Probe probe(f.id());
  Checker c(probe);
  c.conventions();
  if (layout) c.layout(*layout);
  return std::move(c.report);
}

}  // namespace

std::string_view to_string(Severity s) noexcept {
  return s == Severity::error ? "error" : "warning";
}

std::size_t ValidationReport::errors() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(),
                    [](const Finding& f) { return f.severity == Severity::error; }));
}

std::size_t ValidationReport::warnings() const noexcept {
  return findings.size() - errors();
}

ValidationReport validate(const std::filesystem::path& file) {
  return run(file, nullptr);
}

ValidationReport validate(const std::filesystem::path& file, const Layout& layout) {
  return run(file, &layout);
}

}  // namespace pandafly::dx
