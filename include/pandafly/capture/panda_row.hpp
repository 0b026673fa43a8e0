#pragma once
// PandaRow: one PandA capture row of a fly scan — one camera exposure — as the
// merger (capture::Merger) takes it. Pure data; any thread.
//
// The design (panda/flyscan.sav) triggers PCAP on the exposure's falling edge,
// gated by the exposure, so one row holds the encoder over exactly one
// exposure: its mean, and its values at both ends (Min/Max; the stage moves
// monotonically within an exposure), plus the PandA's time stamps of the
// gate's start and end and of the trigger, in seconds since the acquisition
// started (the data header's start_time).
#include <cstdint>

namespace pandafly::capture {

struct PandaRow {
  std::uint64_t index = 0;  ///< 0 for the acquisition's first row
  double mean_deg = 0;      ///< encoder mean over the exposure, degrees
  double min_deg = 0;       ///< encoder minimum over the exposure, degrees
  double max_deg = 0;       ///< encoder maximum over the exposure, degrees
  double ts_start_s = 0;    ///< PCAP.TS_START: gate (exposure) start
  double ts_end_s = 0;      ///< PCAP.TS_END: gate (exposure) end
  double ts_trig_s = 0;     ///< PCAP.TS_TRIG: the capture trigger
};

}  // namespace pandafly::capture
