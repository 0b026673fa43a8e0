#pragma once
// H5Probe: read-only questions about an open HDF5 file, for dx::validate
// (private to src/dx). Every HDF5 call goes through h5::call; a question
// about a path that does not exist answers "missing"/nullopt, other HDF5
// failures throw h5::Error.
//
// Example:
//   auto f = h5::File::open(path);
//   H5Probe p(f.id());
//   if (p.kind("/exchange/data") == ObjectKind::dataset) auto s = p.shape("/exchange/data");
#include <optional>
#include <string>
#include <vector>

#include "pandafly/h5/handle.hpp"

namespace pandafly::dx {

enum class ObjectKind { missing, group, dataset, other };

struct ObjectId {
  unsigned long fileno = 0;
  haddr_t addr = 0;
  friend bool operator==(const ObjectId&, const ObjectId&) = default;
};

class H5Probe {
 public:
  explicit H5Probe(hid_t file) : file_(file) {}

  /// What `path` (absolute) names; `missing` also when a parent is missing
  /// or the link dangles.
  [[nodiscard]] ObjectKind kind(const std::string& path) const;
  /// The object `path` names (for hard-link identity), or nullopt if missing.
  [[nodiscard]] std::optional<ObjectId> object(const std::string& path) const;
  /// Dimensions of a dataset ({} for a scalar).
  [[nodiscard]] std::vector<hsize_t> shape(const std::string& dataset) const;
  /// True if the dataset holds strings (fixed or variable length).
  [[nodiscard]] bool is_string(const std::string& dataset) const;
  /// The first element of a string dataset (scalar or not), or nullopt if empty.
  [[nodiscard]] std::optional<std::string> first_string(const std::string& dataset) const;
  /// The first element of a numeric dataset as double, or nullopt if empty or
  /// not numeric.
  [[nodiscard]] std::optional<double> first_number(const std::string& dataset) const;
  /// Every element of a numeric dataset as double (C order); {} if not numeric.
  [[nodiscard]] std::vector<double> numbers(const std::string& dataset) const;
  /// A numeric attribute's value as double; nullopt if missing or not numeric.
  [[nodiscard]] std::optional<double> number_attribute(const std::string& object,
                                                       const std::string& name) const;
  /// Names of the links in a group (by name), e.g. "/" for the root.
  [[nodiscard]] std::vector<std::string> names(const std::string& group) const;
  [[nodiscard]] bool has_attribute(const std::string& object, const std::string& name) const;
  /// A string attribute's text; nullopt if missing or not a string.
  [[nodiscard]] std::optional<std::string> string_attribute(const std::string& object,
                                                            const std::string& name) const;

 private:
  [[nodiscard]] h5::Handle open(const std::string& path) const;
  hid_t file_;
};

}  // namespace pandafly::dx
