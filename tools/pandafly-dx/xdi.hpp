#pragma once
// `pandafly-dx xdi`: a PandA position capture (the HDF5 file `pandactl
// capture` writes, one dataset per captured field) as an XDI 1.0
// position-versus-time table (dx::XdiWriter): the angle column, the time
// column (seconds from the acquisition start), the facility and beamline
// from --metadata, Scan.start_time from the capture's start_time.
// Exit codes: 0 written, 1 the capture lacks a column or they differ in
// length, 2 a file cannot be read or written (an existing OUT without --force).
#include <string>

namespace pandafly_dx {

struct XdiOptions {
  std::string capture;
  std::string out;
  std::string angle = "INENC1.VAL.Value";
  std::string time = "PCAP.TS_TRIG.Value";
  std::string metadata;
  bool force = false;
};

int cmd_xdi(const XdiOptions& o);

}  // namespace pandafly_dx
