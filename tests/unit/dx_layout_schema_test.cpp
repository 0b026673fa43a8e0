// Issue 15 item 6: the shipped layouts follow ADCore's layout schema
// (XML_schema/hdf5_xml_layout_schema.xsd, file-formats.md §2) apart from the
// documented root-level /implements dataset. The rules are checked here by a
// small walker over the document (no xsd or xmllint needed at test time);
// each rule has a document that breaks it, so the checker cannot pass
// everything.
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <pugixml.hpp>

namespace {

using Names = std::set<std::string_view>;

std::vector<pugi::xml_node> elements(pugi::xml_node n) {
  std::vector<pugi::xml_node> out;
  for (const auto c : n.children())
    if (c.type() == pugi::node_element) out.push_back(c);
  return out;
}

bool is_namespace(std::string_view a) {
  return a == "xmlns" || a.starts_with("xmlns:") || a.starts_with("xsi:");
}

class SchemaCheck {
 public:
  std::vector<std::string> violations;

  void document(const std::string& xml) {
    pugi::xml_document doc;
    if (!doc.load_string(xml.c_str())) return add("not well-formed");
    const auto root = doc.document_element();
    if (std::string_view(root.name()) != "hdf5_layout") return add("root is not <hdf5_layout>");
    attributes(root, {});  // the xsd declares no attribute on the root
    for (const auto c : elements(root)) {
      const std::string_view kind = c.name();
      if (kind == "global") {
        global(c);
      } else if (kind == "group") {
        group(c);
      } else if (kind == "dataset" &&
                 std::string_view(c.attribute("name").value()) == "implements") {
        dataset(c);  // the documented exception (layouts/README.md): /implements
      } else {
        add(fmt::format("<{}> directly under <hdf5_layout> (only global, group)", kind));
      }
    }
  }

 private:
  void add(std::string v) { violations.push_back(std::move(v)); }

  void attributes(pugi::xml_node n, const Names& allowed) {
    for (const auto a : n.attributes()) {
      const std::string_view name = a.name();
      if (!is_namespace(name) && !allowed.contains(name))
        add(fmt::format("<{}>: attribute {}= is not in the schema", n.name(), name));
    }
  }
  void required(pugi::xml_node n, const char* attr) {
    if (!n.attribute(attr)) add(fmt::format("<{}>: {}= is required", n.name(), attr));
  }
  void one_of(pugi::xml_node n, const char* attr, std::initializer_list<std::string_view> values) {
    const auto a = n.attribute(attr);
    if (!a) return;
    for (const auto v : values)
      if (v == a.value()) return;
    add(fmt::format("<{}>: {}=\"{}\" is not an allowed value", n.name(), attr, a.value()));
  }
  void boolean(pugi::xml_node n, const char* attr) {
    one_of(n, attr, {"true", "false", "1", "0"});  // xs:boolean
  }
  void children(pugi::xml_node n, const Names& allowed) {
    for (const auto c : elements(n))
      if (!allowed.contains(c.name()))
        add(fmt::format("<{}> inside <{}> is not in the schema", c.name(), n.name()));
  }

  void global(pugi::xml_node n) {
    attributes(n, {"name", "ndattribute"});
    required(n, "name");
    required(n, "ndattribute");
    one_of(n, "name", {"detector_data_destination"});
    children(n, {});
  }
  void group(pugi::xml_node n) {
    attributes(n, {"name", "ndattr_default"});
    required(n, "name");
    boolean(n, "ndattr_default");
    children(n, {"dataset", "attribute", "hardlink", "group"});
    for (const auto c : elements(n)) {
      const std::string_view kind = c.name();
      if (kind == "dataset") dataset(c);
      if (kind == "attribute") attribute(c);
      if (kind == "hardlink") hardlink(c);
      if (kind == "group") group(c);
    }
  }
  void dataset(pugi::xml_node n) {
    attributes(n, {"name", "source", "type", "value", "ndattribute", "det_default", "when"});
    required(n, "name");
    required(n, "source");
    one_of(n, "source", {"detector", "constant", "ndattribute"});
    one_of(n, "type", {"int", "float", "string"});
    boolean(n, "det_default");
    one_of(n, "when", {"OnFileOpen", "OnFileClose", "OnFileWrite"});
    children(n, {"attribute"});
    for (const auto c : n.children("attribute")) attribute(c);
  }
  void attribute(pugi::xml_node n) {
    attributes(n, {"name", "source", "when", "value", "type", "ndattribute"});
    required(n, "name");
    required(n, "source");
    one_of(n, "source", {"constant", "ndattribute"});
    one_of(n, "when", {"OnFileOpen", "OnFileClose"});
    one_of(n, "type", {"int", "float", "string"});
    children(n, {});
  }
  void hardlink(pugi::xml_node n) {
    attributes(n, {"name", "target"});
    required(n, "name");
    required(n, "target");
    children(n, {});
  }
};

std::vector<std::string> check(const std::string& xml) {
  SchemaCheck c;
  c.document(xml);
  return c.violations;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("layout schema: the shipped layouts follow ADCore's schema (but /implements)") {
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(PANDAFLY_SOURCE_DIR "/layouts")) {
    if (e.path().extension() != ".xml") continue;
    CAPTURE(e.path().string());
    const auto text = read(e.path());
    REQUIRE_FALSE(text.empty());
    CHECK(check(text) == std::vector<std::string>{});
    ++checked;
  }
  CHECK(checked >= 2);
}

TEST_CASE("layout schema: a document breaking each rule is caught") {
  const std::string ok =
      R"(<hdf5_layout xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" )"
      R"(xsi:noNamespaceSchemaLocation="hdf5_xml_layout_schema.xsd">)"
      R"(<global name="detector_data_destination" ndattribute="HDF5FrameLocation"/>)"
      R"(<group name="exchange" ndattr_default="false">)"
      R"(<dataset name="data" source="detector" det_default="true" when="OnFileWrite">)"
      R"(<attribute name="units" source="constant" value="counts" type="string"/></dataset>)"
      R"(<attribute name="a" source="ndattribute" ndattribute="X" when="OnFileClose"/>)"
      R"(<hardlink name="h" target="/exchange/data"/></group>)"
      R"(<dataset name="implements" source="constant" value="exchange"/></hdf5_layout>)";
  REQUIRE(check(ok).empty());
  struct Case {
    const char* rule;
    std::string from, to;
  };
  const Case cases[] = {
      {"no root attributes (auto_ndattr_default is not in the xsd)", "<hdf5_layout ",
       "<hdf5_layout auto_ndattr_default=\"false\" "},
      {"root children are global and group", "<dataset name=\"implements\"",
       "<dataset name=\"other\""},
      {"global name is detector_data_destination", "name=\"detector_data_destination\"",
       "name=\"destination\""},
      {"global needs ndattribute", " ndattribute=\"HDF5FrameLocation\"", ""},
      {"group needs a name", "<group name=\"exchange\"", "<group"},
      {"ndattr_default is a boolean", "ndattr_default=\"false\"", "ndattr_default=\"no\""},
      {"dataset source is detector, constant or ndattribute", "source=\"detector\"",
       "source=\"camera\""},
      {"dataset needs a source", " source=\"detector\"", ""},
      {"dataset when excludes OnFrame", "when=\"OnFileWrite\"", "when=\"OnFrame\""},
      {"det_default is a boolean", "det_default=\"true\"", "det_default=\"yes\""},
      {"dataset holds only attributes", "</dataset>", "<group name=\"x\"/></dataset>"},
      {"attribute source is constant or ndattribute", "source=\"ndattribute\" ndattribute=\"X\"",
       "source=\"detector\" ndattribute=\"X\""},
      {"attribute when is OnFileOpen or OnFileClose", "when=\"OnFileClose\"",
       "when=\"OnFileWrite\""},
      {"constant type is int, float or string", "type=\"string\"", "type=\"double\""},
      {"hardlink needs a target", " target=\"/exchange/data\"", ""},
      {"no undeclared attributes", "<hardlink name=\"h\"", "<hardlink name=\"h\" soft=\"1\""},
  };
  for (const auto& c : cases) {
    CAPTURE(c.rule);
    std::string bad = ok;
    const auto at = bad.find(c.from);
    REQUIRE(at != std::string::npos);
    bad.replace(at, c.from.size(), c.to);
    CHECK_FALSE(check(bad).empty());
  }
}
