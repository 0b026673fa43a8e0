// pandafly-dx: check DXfile (HDF5 Data Exchange) files and the NDFileHDF5
// layout XML files they are written with.
//
// Exit codes (also in --help):
//   validate: 0 no errors (warnings allowed), 1 errors found, 2 the file (or
//   the layout) cannot be read. layout: 0 it loads, 1 it does not, 2 the file
//   cannot be read. Bad usage: 2.
#include <filesystem>
#include <functional>
#include <system_error>

#include <CLI/CLI.hpp>

#include "../shipped_layouts.hpp"
#include "commands.hpp"
#include "normalize.hpp"
#include "plots.hpp"
#include "preview.hpp"
#include "record.hpp"
#include "report.hpp"
#include "slice.hpp"
#include "xdi.hpp"

namespace {

using namespace pandafly_dx;

constexpr const char* exit_codes =
    "Exit codes: validate: 0 no errors (warnings allowed), 1 errors found, 2 the file or the\n"
    "layout cannot be read; layout: 0 it loads, 1 it does not (the message names file and\n"
    "line), 2 the file cannot be read; record: 0 complete, 2 cannot start, 3 written but\n"
    "incomplete (interrupted, timed out, frames lost); xdi: 0 written, 1 a column is missing\n"
    "or not in degrees, 2 a file cannot be read or written; normalize, slice: 0 written, 1 the\n"
    "scan cannot be normalised or reconstructed (no darks/flats, no 180 deg pair for the centre),\n"
    "2 a file cannot be read or written; preview, plots, report: 0 written, 2 the file cannot be\n"
    "read or an output cannot be written. Bad usage: 2.";

using pandafly::tools::shipped_layouts_dir;

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
  validate->add_flag("--repair", v.repair,
                     "first make a file whose writer died readable (what h5clear -s does), mark "
                     "it incomplete and add its NXtomo view");
  validate->callback([&] { action = [&] { return cmd_validate(v); }; });

  LayoutOptions l;
  auto* layout = app.add_subcommand(
      "layout", "load an NDFileHDF5 layout XML file as the DXfile writer would and summarise it");
  layout->footer(exit_codes);
  layout->add_option("FILE", l.file, "the layout XML file")->required();
  layout->add_flag("--print", l.print, "print the layout in canonical form");
  layout->callback([&] { action = [&] { return cmd_layout(l); }; });

  RecordOptions r;
  r.layout = (shipped_layouts_dir() / "dxfile_fly.xml").string();
  auto* record = app.add_subcommand(
      "record",
      "write camera frames from an areaDetector ADZMQ plugin (or pandafly-sim camera) into a "
      "DXfile laid out by a layout XML; frames are routed by their HDF5FrameLocation attribute");
  record->footer(exit_codes);
  record->add_option("FILE", r.file, "the DXfile to create")->required();
  record
      ->add_option("--zmq", r.server_host,
                   "the plugin's serverHost: \"tcp://*:1234\" (PUB: we connect to --ioc-host), "
                   "\"tcp://HOST:1234\" (PUSH connecting: we bind), or with PUB|PUSH BIND|CONNECT")
      ->required();
  record->add_option("--ioc-host", r.ioc_host, "host of a plugin bound to *")
      ->capture_default_str();
  record->add_option("--layout", r.layout, "NDFileHDF5 layout XML")->capture_default_str();
  record->add_option("--metadata", r.metadata,
                     "scan configuration TOML whose [metadata] table holds the data-policy fields");
  record->add_option("--compression", r.compression, "none, gzip, lz4 or bitshuffle-lz4")
      ->capture_default_str();
  record
      ->add_option("--angle-attribute", r.angle_attribute,
                   "NDAttribute holding each frame's rotation angle in degrees")
      ->capture_default_str();
  record->add_option("--frames", r.frames, "stop after this many frames (0: until --timeout)")
      ->capture_default_str();
  record->add_option("--expect", r.expect_text,
                     "frames the scan should deliver to a dataset, e.g. /exchange/data=1801 "
                     "(repeatable); the file is complete only if every count is met");
  record->add_option(
      "--set", r.set_text,
      "an NDAttribute for the layout's OnFileOpen datasets, NAME=VALUE (repeatable), "
      "e.g. --set Energy=20 --set RotationStart=0");
  record->add_option("--timeout", r.timeout_s, "end when no frame came for this long, s")
      ->capture_default_str();
  record->add_option("--start-timeout", r.start_timeout_s, "wait this long for the first frame, s")
      ->capture_default_str();
  record->add_flag("--force", r.force, "replace an existing FILE");
  record->add_flag("!--no-nxtomo", r.nxtomo, "do not add the NXtomo view (/entry)");
  record->add_flag("--quiet", r.quiet, "no progress on stderr");
  record->add_flag("--json", r.json, "print the end state as one JSON object");
  record->callback([&] { action = [&] { return cmd_record(r); }; });

  XdiOptions x;
  auto* xdi =
      app.add_subcommand("xdi",
                         "write a PandA position capture (pandactl capture's HDF5) as an XDI 1.0 "
                         "position-versus-time table");
  xdi->footer(exit_codes);
  xdi->add_option("CAPTURE", x.capture, "the capture HDF5 file")->required();
  xdi->add_option("OUT", x.out, "the XDI file to create")->required();
  xdi->add_option("--angle", x.angle, "the angle dataset (degrees)")->capture_default_str();
  xdi->add_option("--time", x.time, "the time dataset (seconds from the start)")
      ->capture_default_str();
  xdi->add_option("--metadata", x.metadata, "scan configuration TOML ([metadata]: facility, ...)");
  xdi->add_flag("--force", x.force, "replace an existing OUT");
  xdi->callback([&] { action = [&] { return cmd_xdi(x); }; });

  NormalizeCmdOptions n;
  auto* normalize = app.add_subcommand(
      "normalize",
      "normalise every projection: (data - dark) / (flat - dark), flats before and after "
      "interpolated by the frames' time stamps, optionally -log, with the per-pixel uncertainty "
      "(Poisson + read noise) into a new DXfile (float32) with provenance under /process");
  normalize->footer(exit_codes);
  normalize->add_option("IN", n.in, "the DXfile")->required();
  normalize->add_option("OUT", n.out, "the normalised DXfile to create")->required();
  normalize->add_option("--fields", n.fields, "combine darks and flats by their mean or median")
      ->check(CLI::IsMember({"mean", "median"}))
      ->capture_default_str();
  normalize->add_flag("--minus-log", n.minus_log, "write -ln of the transmission");
  normalize->add_option("--gain", n.gain, "detected quanta (e-) per ADU, for the Poisson noise")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  normalize->add_option("--read-noise", n.read_noise, "read noise, ADU rms")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  normalize
      ->add_option("--min-denominator", n.min_denominator,
                   "flag pixels whose flat - dark is at or below this (ADU)")
      ->capture_default_str();
  normalize->add_flag("--force", n.force, "replace an existing OUT");
  normalize->add_flag("--json", n.json, "print the counts as one JSON object");
  normalize->callback([&] { action = [&] { return cmd_normalize(n); }; });

  SliceCmdOptions s;
  auto* slice = app.add_subcommand(
      "slice",
      "reconstruct one detector row (filtered back-projection, parallel beam, the file's "
      "measured angles; centre of rotation from the 0/180 deg pair) into a PNG and an HDF5 "
      "dataset");
  slice->footer(exit_codes);
  slice->add_option("IN", s.file, "the DXfile")->required();
  slice->add_option("--row", s.row, "detector row (default: the middle one)")
      ->check(CLI::NonNegativeNumber);
  slice->add_option("--out", s.out, "the PNG to write")->capture_default_str();
  slice->add_option("--h5", s.h5, "the HDF5 file for /slice (default: --out with .h5)");
  slice->add_option("--filter", s.filter, "ramp or shepp-logan")
      ->check(CLI::IsMember({"ramp", "shepp-logan"}))
      ->capture_default_str();
  slice->add_option("--method", s.method, "gridrec (Fourier gridding) or direct")
      ->check(CLI::IsMember({"gridrec", "direct"}))
      ->capture_default_str();
  slice->add_option("--centre", s.centre,
                    "detector column of the rotation axis (default: estimated)");
  slice->add_option("--fields", s.fields, "combine darks and flats by their mean or median")
      ->check(CLI::IsMember({"mean", "median"}))
      ->capture_default_str();
  slice->add_option("--threads", s.threads, "threads (0: every core)")->capture_default_str();
  slice->add_option("--low", s.low, "PNG window: this percentile is black")->capture_default_str();
  slice->add_option("--high", s.high, "PNG window: this percentile is white")
      ->capture_default_str();
  slice->add_flag("--force", s.force, "replace existing outputs");
  slice->add_flag("--json", s.json, "print the centre, sizes and timings as one JSON object");
  slice->callback([&] { action = [&] { return cmd_slice(s); }; });

  PreviewCmdOptions pv;
  auto* preview = app.add_subcommand(
      "preview",
      "PNGs (8-bit grey, percentile window) of the first, middle and last projection, a dark, a "
      "flat, the middle projection normalised and the sinogram of one row, into a directory");
  preview->footer(exit_codes);
  preview->add_option("IN", pv.file, "the DXfile")->required();
  preview->add_option("--out", pv.out, "the directory to write into")->capture_default_str();
  preview->add_option("--row", pv.row, "detector row of the sinogram (default: the middle one)")
      ->check(CLI::NonNegativeNumber);
  preview->add_option("--low", pv.low, "this percentile is black")->capture_default_str();
  preview->add_option("--high", pv.high, "this percentile is white")->capture_default_str();
  preview
      ->add_option("--max-size", pv.max_size,
                   "shrink images (block means) so neither side exceeds this (0: full size)")
      ->capture_default_str();
  preview->add_option("--fields", pv.fields, "combine darks and flats by their mean or median")
      ->check(CLI::IsMember({"mean", "median"}))
      ->capture_default_str();
  preview->add_flag("--json", pv.json, "list the files and the windows used as one JSON object");
  preview->callback([&] { action = [&] { return cmd_preview(pv); }; });

  PlotsCmdOptions pl;
  auto* plots = app.add_subcommand(
      "plots",
      "PNG charts of how the scan went: theta against projection index, theta minus the "
      "planned angle, trigger intervals, camera against PandA time stamps (and their "
      "difference), missing and "
      "angle-less slots; plots the file has no data for are skipped (and --json says why)");
  plots->footer(exit_codes);
  plots->add_option("IN", pl.file, "the DXfile")->required();
  plots->add_option("--out", pl.out, "the directory to write into")->capture_default_str();
  plots->add_flag("--json", pl.json,
                  "list the plots, the skipped ones and the slots marked as one JSON object");
  plots->callback([&] { action = [&] { return cmd_plots(pl); }; });

  ReportCmdOptions rp;
  auto* report = app.add_subcommand(
      "report",
      "one self-contained HTML page about a scan, from the file alone: complete or not and why, "
      "projections expected/stored/missing, darks, flats, slot events, the data-policy fields, "
      "the acquisition, the previews, a slice and the plots (images embedded)");
  report->footer(exit_codes);
  report->add_option("IN", rp.file, "the DXfile")->required();
  report->add_option("--out", rp.out, "the page to write (default: IN with .html; replaced)");
  report
      ->add_option("--row", rp.row,
                   "detector row of the sinogram and the slice (default: the middle one)")
      ->check(CLI::NonNegativeNumber);
  report->add_option("--centre", rp.centre,
                     "the slice's rotation axis, detector column (default: estimated)");
  report->add_option("--fields", rp.fields, "combine darks and flats by their mean or median")
      ->check(CLI::IsMember({"mean", "median"}))
      ->capture_default_str();
  report
      ->add_option("--max-size", rp.max_size,
                   "shrink previews so neither side exceeds this (0: full size)")
      ->capture_default_str();
  report->add_option("--threads", rp.threads, "the slice's threads (0: every core)")
      ->capture_default_str();
  report->add_flag("--json", rp.json, "print what the page holds as one JSON object");
  report->callback([&] { action = [&] { return cmd_report(rp); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? Exit::ok : Exit::unreadable;
  }
  return action();
}
