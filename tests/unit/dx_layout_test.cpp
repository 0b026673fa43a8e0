// The NDFileHDF5 layout XML parser, its canonical text and the shipped
// layouts (layouts/*.xml). The parser takes a whole document, so instead of
// byte-at-a-time splitting the fuzz target (tests/fuzz/fuzz_layout.cpp) covers
// arbitrary input.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <variant>

#include <doctest/doctest.h>

#include "pandafly/dx/layout.hpp"
#include "pandafly/dx/metadata.hpp"

using namespace pandafly;

namespace {

dx::Layout parse_ok(const std::string& xml) {
  auto r = dx::parse_layout(xml);
  if (const auto* e = std::get_if<dx::LayoutError>(&r)) FAIL("rejected: " << e->message);
  return std::get<dx::Layout>(std::move(r));
}

dx::LayoutError parse_error(const std::string& xml) {
  auto r = dx::parse_layout(xml);
  if (std::holds_alternative<dx::Layout>(r)) FAIL("accepted: " << xml);
  return std::get<dx::LayoutError>(r);
}

std::string wrap(const std::string& body) {
  return "<hdf5_layout>\n" + body + "\n</hdf5_layout>\n";
}

void check_round_trip(const dx::Layout& l) {
  const std::string text = dx::to_xml(l);
  const auto again = parse_ok(text);
  CHECK(dx::without_lines(again) == dx::without_lines(l));
  CHECK(dx::to_xml(again) == text);  // canonical text is a fixed point
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string layout_path(const std::string& name) {
  return std::string(PANDAFLY_SOURCE_DIR) + "/layouts/" + name;
}

const dx::Group& child(const dx::Group& g, const std::string& name) {
  for (const auto& s : g.groups)
    if (s.name == name) return s;
  FAIL("no group " << name << " in " << g.name);
  return g;
}

const dx::Dataset& dataset(const dx::Group& g, const std::string& name) {
  for (const auto& d : g.datasets)
    if (d.name == name) return d;
  FAIL("no dataset " << name << " in " << g.name);
  return g.datasets.front();
}

void collect_ndattributes(const dx::Group& g, std::set<std::string>& out) {
  for (const auto& d : g.datasets)
    if (d.source == dx::Source::ndattribute) out.insert(d.ndattribute);
  for (const auto& s : g.groups) collect_ndattributes(s, out);
}

}  // namespace

TEST_CASE("layout: groups, datasets, attributes and their defaults") {
  const auto l = parse_ok(R"(<?xml version="1.0"?>
<!-- a comment -->
<hdf5_layout>
  <group name="exchange">
    <attribute name="note" source="constant" value="hi"/>
    <dataset name="data" source="detector" det_default="true">
      <attribute name="axes" source="constant" value="theta:y:x" type="string"/>
    </dataset>
    <dataset name="theta_rbv" source="ndattribute" ndattribute="theta_readout"/>
  </group>
</hdf5_layout>)");
  CHECK(l.auto_ndattr_default);
  CHECK_FALSE(l.destination_attribute);
  REQUIRE(l.root.groups.size() == 1);
  const auto& ex = l.root.groups[0];
  CHECK(ex.name == "exchange");
  CHECK(ex.line == 4);
  CHECK_FALSE(ex.ndattr_default);
  REQUIRE(ex.attributes.size() == 1);
  CHECK(ex.attributes[0].source == dx::Source::constant);
  CHECK(ex.attributes[0].type == dx::ValueType::string);
  CHECK(ex.attributes[0].value == "hi");
  CHECK(ex.attributes[0].when == dx::When::on_file_open);
  REQUIRE(ex.datasets.size() == 2);
  CHECK(ex.datasets[0].source == dx::Source::detector);
  CHECK(ex.datasets[0].det_default);
  CHECK(ex.datasets[0].line == 6);
  CHECK(ex.datasets[0].attributes.at(0).value == "theta:y:x");
  CHECK(ex.datasets[0].attributes.at(0).line == 7);
  CHECK(ex.datasets[1].source == dx::Source::ndattribute);
  CHECK(ex.datasets[1].ndattribute == "theta_readout");
  CHECK(ex.datasets[1].when == dx::When::on_frame);
  check_round_trip(l);
}

TEST_CASE("layout: `when` follows the plugin: only OnFileOpen and OnFileClose change it") {
  const auto l = parse_ok(wrap(R"(<group name="g">
  <dataset name="a" source="ndattribute" ndattribute="A" when="OnFileOpen"/>
  <dataset name="b" source="ndattribute" ndattribute="B" when="OnFileClose"/>
  <dataset name="c" source="ndattribute" ndattribute="C" when="OnFileWrite"/>
  <dataset name="d" source="ndattribute" ndattribute="D"/>
  <dataset name="e" source="ndattribute" ndattribute="E" when="OnFrame"/>
  <dataset name="f" source="ndattribute" ndattribute="F" when="onfileclose"/>
  <attribute name="x" source="ndattribute" ndattribute="X"/>
  <attribute name="y" source="ndattribute" ndattribute="Y" when="OnFileClose"/>
  <attribute name="z" source="ndattribute" ndattribute="Z" when="OnFrame"/>
</group>)"));
  const auto& g = l.root.groups.at(0);
  CHECK(g.datasets[0].when == dx::When::on_file_open);
  CHECK(g.datasets[1].when == dx::When::on_file_close);
  CHECK(g.datasets[2].when == dx::When::on_frame);
  CHECK(g.datasets[3].when == dx::When::on_frame);
  CHECK(g.datasets[4].when == dx::When::on_frame);
  CHECK(g.datasets[5].when == dx::When::on_frame);  // case matters, as in the plugin
  CHECK(g.attributes[0].when == dx::When::on_file_open);
  CHECK(g.attributes[1].when == dx::When::on_file_close);
  CHECK(g.attributes[2].when == dx::When::on_file_open);
  check_round_trip(l);
}

TEST_CASE("layout: constant types and arrays") {
  const auto l = parse_ok(wrap(R"(<group name="c">
  <dataset name="i" source="constant" value="42" type="int"/>
  <dataset name="ia" source="constant" value="1,2,3" type="int"/>
  <dataset name="ib" source="constant" value=" -1 , +2 " type="int"/>
  <dataset name="f" source="constant" value="2.5e-3" type="float"/>
  <dataset name="fa" source="constant" value="1,2.5,-3e2" type="float"/>
  <dataset name="s" source="constant" value="a,b"/>
  <dataset name="e" source="constant"/>
  <attribute name="signal" source="constant" value="1" type="int"/>
</group>)"));
  const auto& g = l.root.groups.at(0);
  CHECK(g.datasets[0].type == dx::ValueType::int32);
  CHECK(g.datasets[0].value == "42");
  CHECK(g.datasets[1].value == "1,2,3");  // kept as written; the writer splits it
  CHECK(g.datasets[2].value == " -1 , +2 ");
  CHECK(g.datasets[3].type == dx::ValueType::float64);
  CHECK(g.datasets[4].type == dx::ValueType::float64);
  CHECK(g.datasets[5].type == dx::ValueType::string);
  CHECK(g.datasets[5].value == "a,b");
  CHECK(g.datasets[6].value.empty());
  CHECK(g.attributes[0].type == dx::ValueType::int32);
  check_round_trip(l);
}

TEST_CASE("layout: root options, routing, hardlinks, nested groups, root-level items") {
  const auto l = parse_ok(R"(<hdf5_layout auto_ndattr_default="false">
  <global name="detector_data_destination" ndattribute="HDF5FrameLocation"/>
  <group name="entry">
    <group name="instrument">
      <group name="detector">
        <dataset name="data" source="detector"/>
      </group>
      <group name="NDAttributes" ndattr_default="true"/>
    </group>
    <group name="data">
      <hardlink name="data" target="/entry/instrument/detector/data"/>
    </group>
  </group>
  <dataset name="implements" source="constant" value="exchange" type="string"/>
  <attribute name="creator" source="constant" value="pandafly &amp; &quot;friends&quot;"/>
</hdf5_layout>)");
  CHECK_FALSE(l.auto_ndattr_default);
  CHECK(l.destination_attribute == "HDF5FrameLocation");
  const auto& data = child(child(l.root, "entry"), "data");
  REQUIRE(data.hardlinks.size() == 1);
  CHECK(data.hardlinks[0].target == "/entry/instrument/detector/data");
  CHECK(data.hardlinks[0].line == 11);
  CHECK(dataset(l.root, "implements").value == "exchange");
  CHECK(l.root.attributes.at(0).value == "pandafly & \"friends\"");
  CHECK(l.detector_paths() == std::vector<std::string>{"/entry/instrument/detector/data"});
  CHECK(l.default_detector_path() == "/entry/instrument/detector/data");
  CHECK(l.ndattr_default_path() == "/entry/instrument/NDAttributes");
  check_round_trip(l);
  CHECK(parse_ok("<hdf5_layout auto_ndattr_default=\"true\"/>").auto_ndattr_default);
}

TEST_CASE("layout: the default detector dataset and the NDAttribute group") {
  SUBCASE("det_default wins over alphabetical order") {
    const auto l = parse_ok(wrap(R"(<group name="b"><dataset name="z" source="detector"/></group>
<group name="a"><dataset name="y" source="detector"/>
  <dataset name="x" source="detector" det_default="true"/></group>)"));
    CHECK(l.detector_paths() == std::vector<std::string>{"/b/z", "/a/y", "/a/x"});
    CHECK(l.default_detector_path() == "/a/x");
  }
  SUBCASE("without det_default: the first full path in alphabetical order") {
    const auto l = parse_ok(wrap(R"(<group name="b"><dataset name="a" source="detector"/></group>
<group name="a"><dataset name="z" source="detector" det_default="false"/></group>)"));
    CHECK(l.default_detector_path() == "/a/z");
  }
  SUBCASE("none") {
    const auto l =
        parse_ok(wrap(R"(<group name="a"><dataset name="c" source="constant"/></group>)"));
    CHECK(l.detector_paths().empty());
    CHECK_FALSE(l.default_detector_path());
    CHECK_FALSE(l.ndattr_default_path());
  }
  SUBCASE("the first ndattr_default group, depth first") {
    const auto l =
        parse_ok(wrap(R"(<group name="a"><group name="deep" ndattr_default="true"/></group>
<group name="b" ndattr_default="true"/>)"));
    CHECK(l.ndattr_default_path() == "/a/deep");
  }
}

TEST_CASE("layout: the error message names the line, the element and what is wrong") {
  const auto e = parse_error(R"(<hdf5_layout>
  <group name="exchange">
    <dataset name="data" source="detektor"/>
  </group>
</hdf5_layout>)");
  CHECK(e.line == 3);
  CHECK(e.message ==
        "line 3: <dataset name=\"data\">: source=\"detektor\" is not detector, ndattribute or "
        "constant");
}

// Issue 15 item 5: layouts NDFileHDF5 loads must load. Test documents written
// from the facts (file-formats.md §2 and ADCore's NDFileHDF5LayoutXML
// behaviour), in the shapes of the stock files.
TEST_CASE("layout: the schema namespace attributes of the stock example layouts are accepted") {
  const auto l = parse_ok(R"(<?xml version="1.0" standalone="no" ?>
<hdf5_layout xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:noNamespaceSchemaLocation="../../../../../ADCore/XML_schema/hdf5_xml_layout_schema.xsd"
    auto_ndattr_default="false">
  <group name="entry">
    <dataset name="data" source="detector" det_default="true"/>
  </group>
</hdf5_layout>)");
  CHECK_FALSE(l.auto_ndattr_default);
  CHECK(l.detector_paths() == std::vector<std::string>{"/entry/data"});
  // Still refused: a plain unknown attribute (a typo of auto_ndattr_default).
  CHECK(parse_error("<hdf5_layout auto_ndattr_defualt=\"false\"/>").line == 1);
}

TEST_CASE("layout: datasets NDFileHDF5 creates nothing for load, and are left out") {
  // The NeXus example's special performance timestamp, and the built-in
  // default layout's source-less one; an attribute without source too.
  const auto l = parse_ok(R"(<hdf5_layout>
  <group name="entry">
    <attribute name="NX_class" source="constant" value="NXentry" type="string"/>
    <group name="instrument">
      <group name="detector">
        <dataset name="data" source="detector" det_default="true">
          <attribute name="signal" source="constant" value="1" type="int"/>
          <attribute name="interpretation"/>
        </dataset>
      </group>
      <group name="NDAttributes" ndattr_default="true"/>
      <group name="performance">
        <dataset name="timestamp" source="ndattribute"/>
      </group>
      <group name="performance2">
        <dataset name="timestamp"></dataset>
        <dataset name="other" source="ndattribute" ndattribute=""/>
      </group>
    </group>
    <group name="data">
      <hardlink name="data" target="/entry/instrument/detector/data"/>
    </group>
  </group>
</hdf5_layout>)");
  const auto& instrument = l.root.groups.at(0).groups.at(0);
  CHECK(instrument.groups.at(0).datasets.at(0).attributes.size() == 1);  // "signal" only
  CHECK(instrument.groups.at(2).name == "performance");
  CHECK(instrument.groups.at(2).datasets.empty());
  CHECK(instrument.groups.at(3).datasets.empty());
  CHECK(l.ndattr_default_path() == "/entry/instrument/NDAttributes");
  // Their names still count: a second "timestamp" in the same group is an error.
  const auto e = parse_error(
      "<hdf5_layout>\n<group name=\"p\">\n<dataset name=\"timestamp\"/>\n"
      "<dataset name=\"timestamp\" source=\"detector\"/>\n</group>\n</hdf5_layout>");
  CHECK(e.line == 4);
  CHECK(e.message.find("name \"timestamp\" is already used here (line 3)") != std::string::npos);
}

TEST_CASE("layout: every rejected input") {
  struct Case {
    const char* what;
    std::string xml;
    int line;
    const char* message;
  };
  const std::string g1 = "<hdf5_layout>\n<group name=\"g\">\n";
  const std::string g2 = "\n</group>\n</hdf5_layout>";
  const Case cases[] = {
      {"unknown root attribute", "<hdf5_layout version=\"2\"/>", 1,
       "unknown attribute version= (only auto_ndattr_default"},
      {"root boolean", "<hdf5_layout auto_ndattr_default=\"yes\"/>", 1,
       "auto_ndattr_default=\"yes\" is not true or false"},
      {"unknown global name", wrap("<global name=\"other\" ndattribute=\"X\"/>"), 2,
       "unknown global name \"other\""},
      {"global without ndattribute", wrap("<global name=\"detector_data_destination\"/>"), 2,
       "a global needs a non-empty ndattribute="},
      {"global twice",
       wrap("<global name=\"detector_data_destination\" ndattribute=\"A\"/>\n"
            "<global name=\"detector_data_destination\" ndattribute=\"B\"/>"),
       3, "detector_data_destination is given twice"},
      {"global inside a group",
       g1 + "<global name=\"detector_data_destination\" ndattribute=\"A\"/>" + g2, 3,
       "<global> belongs directly under <hdf5_layout>"},
      {"unknown element at the root", wrap("<grop name=\"g\"/>"), 2, "unknown element <grop>"},
      {"unknown element in a group", g1 + "<datset name=\"d\"/>" + g2, 3,
       "unknown element <datset>"},
      {"element inside a dataset",
       g1 + "<dataset name=\"d\" source=\"detector\">\n<group name=\"x\"/></dataset>" + g2, 4,
       "unexpected element inside <dataset>"},
      {"element inside an attribute",
       g1 + "<attribute name=\"a\" source=\"constant\"><x/></attribute>" + g2, 3,
       "unexpected element inside <attribute>"},
      {"element inside a hardlink", g1 + "<hardlink name=\"h\" target=\"/g\"><x/></hardlink>" + g2,
       3, "unexpected element inside <hardlink>"},
      {"empty name", wrap("<group name=\"\"/>"), 2, "name= is empty"},
      {"missing name", g1 + "<dataset source=\"detector\"/>" + g2, 3,
       "<dataset>: name= is missing"},
      {"slash in a name", g1 + "<dataset name=\"a/b\" source=\"detector\"/>" + g2, 3,
       "name= must not contain '/'"},
      {"two datasets of one name",
       g1 + "<dataset name=\"d\" source=\"detector\"/>\n<dataset name=\"d\" source=\"detector\"/>" +
           g2,
       4, "name \"d\" is already used here (line 3)"},
      {"a group and a dataset of one name",
       g1 + "<group name=\"d\"/>\n<dataset name=\"d\" source=\"detector\"/>" + g2, 4,
       "name \"d\" is already used here (line 3)"},
      {"a hardlink and a group of one name",
       g1 + "<hardlink name=\"d\" target=\"/x\"/>\n<group name=\"d\"/>" + g2, 4,
       "already used here"},
      {"two attributes of one name",
       g1 +
           "<dataset name=\"d\" source=\"detector\">\n<attribute name=\"u\" source=\"constant\"/>" +
           "\n<attribute name=\"u\" source=\"constant\"/></dataset>" + g2,
       5, "name \"u\" is already used here (line 4)"},
      {"two root groups of one name", wrap("<group name=\"g\"/><group name=\"g\"/>"), 2,
       "already used here"},
      {"relative hardlink target", g1 + "<hardlink name=\"h\" target=\"entry/data\"/>" + g2, 3,
       "target=\"entry/data\" is not an absolute path"},
      {"hardlink without target", g1 + "<hardlink name=\"h\"/>" + g2, 3,
       "a hardlink needs a non-empty target="},
      {"int that does not parse",
       g1 + "<dataset name=\"d\" source=\"constant\" value=\"1.5\" type=\"int\"/>" + g2, 3,
       "value=\"1.5\" is not an int32"},
      {"int out of range",
       g1 + "<attribute name=\"a\" source=\"constant\" value=\"2147483648\" type=\"int\"/>" + g2, 3,
       "is not an int32"},
      {"int array with a hole",
       g1 + "<dataset name=\"d\" source=\"constant\" value=\"1,,3\" type=\"int\"/>" + g2, 3,
       "is not an int32"},
      {"empty int", g1 + "<dataset name=\"d\" source=\"constant\" type=\"int\"/>" + g2, 3,
       "value=\"\" is not an int32"},
      {"float that does not parse",
       g1 + "<dataset name=\"d\" source=\"constant\" value=\"1.0.0\" type=\"float\"/>" + g2, 3,
       "value=\"1.0.0\" is not a float"},
      {"unknown type",
       g1 + "<dataset name=\"d\" source=\"constant\" value=\"1\" type=\"double\"/>" + g2, 3,
       "type=\"double\" is not int, float or string"},
      {"attribute with a detector source", g1 + "<attribute name=\"a\" source=\"detector\"/>" + g2,
       3, "source=\"detector\" is not constant or ndattribute"},
      {"det_default not a boolean",
       g1 + "<dataset name=\"d\" source=\"detector\" det_default=\"True\"/>" + g2, 3,
       "det_default=\"True\" is not true or false"},
      {"ndattr_default not a boolean", wrap("<group name=\"g\" ndattr_default=\"1\"/>"), 2,
       "ndattr_default=\"1\" is not true or false"},
      {"two det_default datasets",
       g1 + "<dataset name=\"a\" source=\"detector\" det_default=\"true\"/>\n" +
           "<dataset name=\"b\" source=\"detector\" det_default=\"true\"/>" + g2,
       4, "a second det_default=\"true\" (the first is on line 3)"},
      {"an XML attribute given twice", wrap("<group name=\"a\" name=\"b\"/>"), 2,
       "attribute name= is given twice"},
      {"not well-formed", "<hdf5_layout>\n<group name=\"g\">\n</hdf5_layout>", 3,
       "not well-formed XML"},
      {"unclosed attribute value", "<hdf5_layout>\n\n<group name=\"g/>\n", 3,
       "not well-formed XML"},
      {"wrong root element", "<layout/>", 1, "the root element must be <hdf5_layout>"},
      {"empty document", "", 0, "no root element"},
      {"only a comment", "<!-- nothing -->", 0, "no root element"},
      {"a second root element", "<hdf5_layout/>\n<hdf5_layout/>", 2, "a second root element"},
      {"text before the root", "\nabc<hdf5_layout/>", 2, "text outside the root element"},
      {"text after the root", "<hdf5_layout/>\n\nabc", 3, "text outside the root element"},
  };
  for (const auto& c : cases) {
    const std::string what = c.what;
    CAPTURE(what);
    const auto e = parse_error(c.xml);
    CHECK(e.line == c.line);
    CHECK(e.message.find(c.message) != std::string::npos);
    if (c.line > 0) CHECK(e.message.rfind("line " + std::to_string(c.line) + ": ", 0) == 0);
  }
}

TEST_CASE("layout: groups nested past the depth limit are an error, not a stack overflow") {
  std::string xml = "<hdf5_layout>";
  for (int i = 0; i < 70; ++i) xml += "<group name=\"g\">";
  for (int i = 0; i < 70; ++i) xml += "</group>";
  xml += "</hdf5_layout>";
  CHECK(parse_error(xml).message.find("nested deeper than 64") != std::string::npos);
  std::string ok = "<hdf5_layout>";
  for (int i = 0; i < 60; ++i) ok += "<group name=\"g\">";
  for (int i = 0; i < 60; ++i) ok += "</group>";
  check_round_trip(parse_ok(ok + "</hdf5_layout>"));
}

TEST_CASE("layout: canonical text escapes what XML needs and keeps every value") {
  dx::Layout l;
  l.auto_ndattr_default = false;
  l.destination_attribute = "Where \"to\"";
  dx::Group g;
  g.name = "a<b>&c";
  dx::Dataset d;
  d.name = "tab\there";
  d.source = dx::Source::constant;
  d.value = "line1\nline2\r\n  'quoted'";
  g.datasets.push_back(d);
  dx::Attribute a;
  a.name = "x";
  a.source = dx::Source::ndattribute;
  a.ndattribute = "N";
  a.when = dx::When::on_file_close;
  g.attributes.push_back(a);
  l.root.groups.push_back(g);
  check_round_trip(l);
  CHECK(dx::to_xml(l).find("&lt;") != std::string::npos);
}

TEST_CASE("layout: both shipped layouts are well-formed XML (xmllint)") {
  for (const std::string name : {"dxfile_fly.xml", "dxfile_step.xml"}) {
    CAPTURE(name);
    const std::string cmd = "xmllint --noout '" + layout_path(name) + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  // The check itself can fail: xmllint rejects what is not well-formed.
  CHECK(std::system("echo '<a><b></a>' | xmllint --noout - 2>/dev/null") != 0);
}

TEST_CASE("layout: the shipped DXfile layouts") {
  for (const std::string name : {"dxfile_fly.xml", "dxfile_step.xml"}) {
    CAPTURE(name);
    const auto l = parse_ok(read_file(layout_path(name)));
    CHECK(l.auto_ndattr_default);
    CHECK(l.destination_attribute == "HDF5FrameLocation");
    CHECK(l.detector_paths() == std::vector<std::string>{"/exchange/data", "/exchange/data_dark",
                                                         "/exchange/data_white"});
    CHECK(l.default_detector_path() == "/exchange/data");
    CHECK(l.ndattr_default_path() == "/defaults");
    const auto& implements = dataset(l.root, "implements");
    CHECK(implements.source == dx::Source::constant);
    CHECK(implements.value == "exchange:measurement:process");
    const auto& exchange = child(l.root, "exchange");
    for (const auto& d : exchange.datasets) {
      CAPTURE(d.name);
      REQUIRE(d.attributes.size() == 3);
      CHECK(d.attributes[0].name == "description");
      CHECK(d.attributes[1].value == "theta:y:x");
      CHECK(d.attributes[2].value == "counts");
    }
    const auto& acq = child(child(l.root, "process"), "acquisition");
    CHECK(dataset(acq, "start_date").when == dx::When::on_file_open);
    CHECK(dataset(acq, "end_date").when == dx::When::on_file_close);
    CHECK(dataset(acq, "end_date").ndattribute == "DateTimeEnd");
    CHECK(dataset(acq, "image_theta").when == dx::When::on_frame);
    CHECK(dataset(acq, "image_theta").attributes.at(0).value == "degrees");
    CHECK(dataset(acq, "time_stamp").when == dx::When::on_frame);
    const auto& rotation = child(acq, "rotation");
    CHECK(dataset(rotation, "rotation_start").ndattribute == "RotationStart");
    CHECK(dataset(rotation, "num_angles").ndattribute == "NumAngles");
    CHECK(dataset(child(acq, "dark_fields"), "dark_field_value").ndattribute == "DarkFieldValue");
    CHECK(dataset(child(acq, "flat_fields"), "flat_field_value").ndattribute == "FlatFieldValue");
    const auto& sample = child(child(l.root, "measurement"), "sample");
    CHECK(dataset(child(sample, "experiment"), "proposal").ndattribute == "ProposalId");
    CHECK(dataset(child(sample, "experimenter"), "email").ndattribute == "ExperimenterEmail");
    const auto& instrument = child(child(l.root, "measurement"), "instrument");
    CHECK(dataset(child(instrument, "source"), "beamline").ndattribute == "Beamline");
    CHECK(dataset(child(instrument, "monochromator"), "energy").ndattribute == "Energy");
    check_round_trip(l);
  }
  const auto fly = parse_ok(read_file(layout_path("dxfile_fly.xml")));
  const auto step = parse_ok(read_file(layout_path("dxfile_step.xml")));
  const auto& fly_acq = child(child(fly.root, "process"), "acquisition");
  const auto& step_acq = child(child(step.root, "process"), "acquisition");
  CHECK(dataset(fly_acq, "image_theta").ndattribute == "PandaTheta");
  CHECK(dataset(step_acq, "image_theta").ndattribute == "theta_readout");
  CHECK(dataset(fly_acq, "scan_type").value == "fly");
  CHECK(dataset(step_acq, "scan_type").value == "step");
}

TEST_CASE("layout: every data-policy NDAttribute of dx::ScanMetadata has a place in both layouts") {
  dx::ScanMetadata m;
  m.proposal_id = "20261042";
  m.principal_investigator = "R. Haddad";
  auto names = dx::start_attributes(m, "2026-11-23T09:00:00Z");
  const auto end = dx::end_attributes(m, "2026-11-23T09:20:00Z");
  names.insert(names.end(), end.begin(), end.end());
  for (const std::string file : {"dxfile_fly.xml", "dxfile_step.xml"}) {
    std::set<std::string> placed;
    collect_ndattributes(parse_ok(read_file(layout_path(file))).root, placed);
    for (const auto& [name, value] : names) {
      CAPTURE(file);
      CAPTURE(name);
      CHECK(placed.count(name) == 1);
    }
  }
}
