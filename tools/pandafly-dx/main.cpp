// pandafly-dx: check DXfile (HDF5 Data Exchange) files and the NDFileHDF5
// layout XML files they are written with.
//
// Exit codes (also in --help):
//   validate: 0 no errors (warnings allowed), 1 errors found, 2 the file (or
//   the layout) cannot be read. layout: 0 it loads, 1 it does not, 2 the file
//   cannot be read. Bad usage: 2.
#include <functional>

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace {

using namespace pandafly_dx;

constexpr const char* exit_codes =
    "Exit codes: validate: 0 no errors (warnings allowed), 1 errors found, 2 the file or the\n"
    "layout cannot be read; layout: 0 it loads, 1 it does not (the message names file and\n"
    "line), 2 the file cannot be read. Bad usage: 2.";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pandafly-dx: check DXfile HDF5 files and NDFileHDF5 layout XML files",
               "pandafly-dx"};
  app.footer(exit_codes);
  app.require_subcommand(1);
  std::function<int()> action;

  ValidateOptions v;
  auto* validate = app.add_subcommand(
      "validate",
      "check a DXfile against the Data Exchange conventions (/implements, /exchange data, theta, "
      "tomoscan attributes, end state) and, with --layout, against a layout; one finding per "
      "line: SEVERITY PATH: MESSAGE");
  validate->footer(exit_codes);
  validate->add_option("FILE", v.file, "the HDF5 file")->required();
  validate->add_option("--layout", v.layout, "also check everything this layout XML declares");
  validate->add_flag("--json", v.json, "print the report as one JSON object");
  validate->callback([&] { action = [&] { return cmd_validate(v); }; });

  LayoutOptions l;
  auto* layout = app.add_subcommand(
      "layout", "load an NDFileHDF5 layout XML file as the DXfile writer would and summarise it");
  layout->footer(exit_codes);
  layout->add_option("FILE", l.file, "the layout XML file")->required();
  layout->add_flag("--print", l.print, "print the layout in canonical form");
  layout->callback([&] { action = [&] { return cmd_layout(l); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? Exit::ok : Exit::unreadable;
  }
  return action();
}
