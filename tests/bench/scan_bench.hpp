#pragma once
// What the scan benchmarks (bench_fly_scan, bench_step_scan) share: the scan
// file's tables that no benchmark varies, and main().
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "pandafly/util/frame_memory.hpp"

namespace pandafly::bench {

/// The scan file's end: no darks, flats or shutter, `file` overwritten, the
/// data policy's required metadata.
inline std::string scan_file_tail(const std::filesystem::path& file) {
  return fmt::format(R"([darks]
count = 0
[flats]
count = 0
[shutter]
command = ""
[output]
file = "{}"
overwrite = true
[metadata]
proposal_id = "bench"
principal_investigator = "bench"
)",
                     file.string());
}

/// main() of a scan benchmark: the frame memory kept as the pandafly tool keeps it.
inline int scan_bench_main(int argc, char** argv) {
  util::keep_frame_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace pandafly::bench
