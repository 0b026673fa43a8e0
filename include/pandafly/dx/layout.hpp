#pragma once
// Layout: the tree an areaDetector NDFileHDF5 layout XML file describes
// (file-formats.md §2), as plain values. parse_layout() reads the XML;
// dx::Writer builds the HDF5 file from the tree; `pandafly-dx validate`
// checks a file against it. Part of the sans-IO core: no I/O here, the caller
// reads the file and passes its text.
//
// Rules (the plugin's parser, NDFileHDF5LayoutXML.cpp, as the reference
// describes it — layout files beamline staff already have must load as they are):
//   - Root <hdf5_layout>, optional attribute auto_ndattr_default (true|false,
//     default true); XML namespace declarations (xmlns, xmlns:xsi) and
//     namespace-qualified attributes (xsi:noNamespaceSchemaLocation, on every
//     stock ADCore example layout) are ignored; any other root attribute is
//     an error.
//   - Items the plugin keeps but never writes are accepted and left out of
//     the model (their names still count for duplicates): a dataset or
//     attribute with no source= (NDFileHDF5's built-in default layout has
//     <dataset name="timestamp"/>), and a source="ndattribute" one with no
//     or an empty ndattribute= (the NeXus example's <dataset
//     name="timestamp" source="ndattribute"/>, the plugin's performance
//     data, which we do not write). A source= that names none of the
//     sources stays an error: a typo would silently lose data.
//   - <global name="detector_data_destination" ndattribute="X"/>: frames are
//     routed by the string NDAttribute X (e.g. HDF5FrameLocation) to the
//     detector dataset with exactly that full path, else to the default one.
//     Any other global name is an error.
//   - <group name ndattr_default?> holds datasets, attributes, hardlinks and
//     groups in any order. <dataset name source=detector|ndattribute|constant>
//     holds attributes. <attribute name source=constant|ndattribute>.
//     <hardlink name target="/absolute/path">.
//   - `when`: exactly "OnFileOpen" or "OnFileClose" select those; absent,
//     "OnFileWrite" or any other text means per frame (the plugin's own
//     behaviour). Attributes default to OnFileOpen.
//   - constant `type`: int → int32, float → float64, string (default);
//     a constant value "1,2,3" is an array.
//   - ndattribute dataset `type` (the xsd allows it, the plugin ignores it):
//     int or float make dx::Writer store the NDAttribute as int32 / float64
//     whatever the value's text looked like (`--set Energy=20` is a float
//     when the layout says so); absent or string: the value's own type.
//   - Names must be non-empty and contain no '/'; duplicate names within one
//     group are an error (groups, datasets and hardlinks share one namespace,
//     attributes of one object another). Unknown elements are an error.
//   - Booleans (auto_ndattr_default, ndattr_default, det_default) are "true"
//     or "false"; anything else is an error (the plugin would silently read
//     it as false). At most one dataset has det_default="true".
//   - <hdf5_layout> may also hold datasets, attributes and hardlinks (e.g.
//     the /implements dataset). The plugin only places root-level items after
//     a group has closed, so layout files put them after the first group;
//     to_xml() writes them after the groups.
//   - Unknown XML attributes on elements other than the root are ignored, as
//     by the plugin; so are those that do not apply to the element's source
//     (e.g. value= on a detector dataset) — they are not kept in the model.
//     Text inside elements is ignored; text outside the root is an error.
//   - Attributes are never When::on_frame. Groups nest at most 64 deep.
//   - LayoutError's message is the whole text to show; the parser never
//     throws on bad input (only std::bad_alloc).
//   - Errors name the line and what is wrong:
//     "line 12: <dataset name="data">: source="detektor" is not detector,
//     ndattribute or constant".
//
// Example:
//   auto r = dx::parse_layout(text);
//   if (auto* e = std::get_if<dx::LayoutError>(&r)) fail(path + ": " + e->message);
//   const dx::Layout& layout = std::get<dx::Layout>(r);
//   for (const auto& p : layout.detector_paths()) ...   // "/exchange/data", ...
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pandafly::dx {

enum class Source { detector, ndattribute, constant };
enum class When { on_file_open, on_frame, on_file_close };
enum class ValueType { int32, float64, string };

struct Attribute {
  std::string name{};
  Source source = Source::constant;  ///< constant or ndattribute
  std::string value{};               ///< constant: the text as written
  ValueType type = ValueType::string;
  std::string ndattribute{};  ///< ndattribute: the NDAttribute's name
  When when = When::on_file_open;
  int line = 0;  ///< where it was declared, for messages
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

struct Dataset {
  std::string name{};
  Source source = Source::detector;
  std::string ndattribute{};           ///< source ndattribute
  std::string value{};                 ///< source constant
  ValueType type = ValueType::string;  ///< constant; ndattribute: int/float declared, else string
  bool det_default = false;            ///< source detector: frames go here unless routed elsewhere
  When when = When::on_frame;
  std::vector<Attribute> attributes{};
  int line = 0;
  friend bool operator==(const Dataset&, const Dataset&) = default;
};

struct Hardlink {
  std::string name{};
  std::string target{};  ///< absolute path of an object in the same file
  int line = 0;
  friend bool operator==(const Hardlink&, const Hardlink&) = default;
};

struct Group {
  std::string name{};  ///< "" for the root
  bool ndattr_default = false;
  std::vector<Attribute> attributes{};
  std::vector<Dataset> datasets{};
  std::vector<Hardlink> hardlinks{};
  std::vector<Group> groups{};
  int line = 0;
  friend bool operator==(const Group&, const Group&) = default;
};

struct Layout {
  Group root{};
  bool auto_ndattr_default = true;
  /// The NDAttribute named by <global name="detector_data_destination">.
  std::optional<std::string> destination_attribute{};

  /// Full paths ("/exchange/data") of every detector dataset, in tree order:
  /// a group's datasets in document order, then its subgroups, depth first.
  [[nodiscard]] std::vector<std::string> detector_paths() const;
  /// The detector dataset frames go to by default: the one with det_default,
  /// else the first detector dataset in alphabetical order of full path (the
  /// plugin's rule); nullopt if the layout has none.
  [[nodiscard]] std::optional<std::string> default_detector_path() const;
  /// Full path of the group with ndattr_default="true" (the first, depth
  /// first in document order), or nullopt.
  [[nodiscard]] std::optional<std::string> ndattr_default_path() const;
  friend bool operator==(const Layout&, const Layout&) = default;
};

struct LayoutError {
  int line = 0;         ///< 1-based; 0 when the XML did not parse far enough to know
  std::string message;  ///< includes "line N: " when line > 0
};

/// Parses a layout XML document. Never throws on bad input.
[[nodiscard]] std::variant<Layout, LayoutError> parse_layout(std::string_view xml);

/// The layout's canonical XML text (parse_layout(to_xml(l)) == l, ignoring
/// `line` fields): what `pandafly-dx layout --print` shows.
[[nodiscard]] std::string to_xml(const Layout& layout);

/// `layout` with every `line` field 0: two layouts that describe the same
/// tree compare equal this way whatever text they came from.
[[nodiscard]] Layout without_lines(Layout layout);

}  // namespace pandafly::dx
