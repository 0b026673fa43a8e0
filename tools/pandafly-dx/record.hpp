#pragma once
// `pandafly-dx record`: camera frames from an areaDetector ADZMQ plugin (or
// `pandafly-sim camera`) into one DXfile — the separate ZMQ → DXfile writer a
// beamline runs next to its camera IOC, as a shell over capture::ZmqReceiver
// and dx::Writer.
//
// Rules
//   - Before any frame: the layout (and the --metadata file) must load and
//     the output must not exist (unless --force); else exit 2 at once.
//   - The first frame fixes the geometry (a 2-D mono frame: shape {y, x});
//     the file is created then. NDAttributes for the layout's OnFileOpen
//     datasets come from --metadata, --set NAME=VALUE (an integer, a number
//     or else a string) and, unless set, DetectorSizeX/Y (the geometry),
//     NumAngles, NumDarkFields and NumFlatFields (the --expect counts). Frames are routed by the
//     layout's destination attribute (HDF5FrameLocation); each frame's angle is the NDAttribute
//     --angle-attribute (degrees), when present.
//   - Ends when --frames frames have arrived, when no frame came for
//     --timeout seconds after the first, or on SIGINT/SIGTERM/SIGHUP (the
//     file is closed however many arrive). Frames the receiver lost (missing numbers, overruns,
//     bad messages) make the scan incomplete, with the counts in the reason.
//   - Exit codes: 0 complete, 1 bad usage, 2 cannot start (layout, metadata,
//     existing file, socket, no first frame before --start-timeout), 3 the
//     file was written but the scan is incomplete (interrupted, timed out,
//     frames lost).
#include <cstdint>
#include <string>
#include <vector>

namespace pandafly_dx {

struct RecordOptions {
  std::string file;
  std::string server_host;  ///< the plugin's serverHost ("tcp://*:1234", ...)
  std::string ioc_host = "127.0.0.1";
  std::string layout;  ///< default: the shipped layouts/dxfile_fly.xml
  std::string metadata;
  std::string compression = "none";
  std::string angle_attribute = "theta_readout";
  std::uint64_t frames = 0;              ///< 0: until --timeout or a signal
  std::vector<std::string> expect_text;  ///< "PATH=N" per detector dataset
  std::vector<std::string> set_text;     ///< "NAME=VALUE" NDAttributes known at file open
  double timeout_s = 10;
  double start_timeout_s = 60;
  bool force = false;
  bool nxtomo = true;
  bool quiet = false;
  bool json = false;
};

int cmd_record(const RecordOptions& o);

}  // namespace pandafly_dx
