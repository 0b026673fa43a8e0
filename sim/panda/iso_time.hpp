#pragma once
// ISO-8601 UTC time stamps as the PandA server writes them (`*WHO?`, the data
// header's arm_time/start_time).
#include <chrono>
#include <string>

namespace pandafly::sim {

/// `YYYY-MM-DDThh:mm:ss.fffZ` (digits = 3) or with nanoseconds (digits = 9).
[[nodiscard]] std::string iso_utc(std::chrono::system_clock::time_point t, int digits);

}  // namespace pandafly::sim
