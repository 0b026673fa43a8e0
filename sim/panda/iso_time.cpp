#include "sim/panda/iso_time.hpp"

#include <ctime>

#include <fmt/format.h>

namespace pandafly::sim {

std::string iso_utc(std::chrono::system_clock::time_point t, int digits) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  const long long fraction = digits == 9 ? ns % 1000000000 : ns / 1000000 % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction, digits);
}

}  // namespace pandafly::sim
