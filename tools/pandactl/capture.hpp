#pragma once
// `pandactl capture`: PandA data port → HDF5 files (one per acquisition).
#include <cstddef>
#include <cstdint>
#include <string>

namespace pandactl {

struct CaptureArgs {
  std::string out;  // OUT.h5; with --num N > 1: OUT_0001.h5 ...
  std::string host = "localhost";
  std::uint16_t control_port = 8888;
  std::uint16_t data_port = 8889;
  double connect_timeout_s = 5;
  bool arm = false;        // arm (and disarm on Ctrl-C) through the control port
  bool scaled = false;     // SCALED on the PandA; default RAW, scaled here
  bool store_raw = false;  // store RAW values as sent (integers + scale/offset attributes)
  double flush_period_s = 1;
  int num = 1;
  double timeout_s = 0;             // 0: wait for ever for data
  bool force = false;               // overwrite existing files
  std::size_t chunk_rows = 262144;  // HDF5 chunk length (PandaHdfWriter::Options::chunk_rows)
  bool json = false;
  bool quiet = false;  // no progress lines
};

/// Runs the capture; returns the process exit code (0 all complete, 3
/// connection, 4 malformed stream, 5 an acquisition ended incomplete).
int run_capture(const CaptureArgs& args);

}  // namespace pandactl
