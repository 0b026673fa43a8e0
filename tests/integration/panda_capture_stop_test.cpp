// PandaCapture across acquisitions and stops, against the PandA simulator on
// 127.0.0.1: an acquisition left before its END does not leak into the next
// one (which starts at its own header), and a second stop request ends the
// wait for END at once while the file is still closed.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "check_panda_hdf.hpp"
#include "known_sequence.hpp"
#include "pandafly/capture/panda_capture.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"
#include "sim_fixture.hpp"
#include "temp_dir.hpp"

namespace pandafly::panda {
namespace {

using namespace std::chrono_literals;

struct StopFixture {
  test::Simulator sim;
  test::TempDir tmp{"capture_stop"};
  BlockingDataClient data{[] {
    DataOptions o;
    o.processing = Processing::raw;
    return o;
  }()};
  capture::CaptureSettings settings;
  std::atomic<std::uint64_t> rows_seen{0};
  StopFixture() {
    data.connect("127.0.0.1", sim.data_port(), 5s);
    REQUIRE(sim.wait_for_data_clients(1));
    settings.flush_period = 50ms;
    settings.progress_period = 5ms;
    settings.on_progress = [this](const capture::CaptureProgress& p) { rows_seen = p.rows; };
  }
  /// Waits (guard: 60 s) until the reader has decoded `n` rows.
  bool wait_rows(std::uint64_t n) const {
    const auto guard = std::chrono::steady_clock::now() + 60s;
    while (rows_seen.load() < n && std::chrono::steady_clock::now() < guard)
      std::this_thread::sleep_for(2ms);
    return rows_seen.load() >= n;
  }
};

TEST_CASE_FIXTURE(StopFixture, "PandaCapture: the rest of a timed-out acquisition is skipped") {
  const auto l = test::known_layout();
  settings.timeout = 2s;
  capture::PandaCapture cap(data, settings);
  std::atomic<bool> stop{false};
  auto first = std::async(std::launch::async, [&] { return cap.run_one(tmp.path / "1.h5", stop); });
  sim.server().begin_acquisition(l);
  sim.server().send_samples(test::known_raw_samples(l, 0, 1000));
  REQUIRE(first.wait_for(60s) == std::future_status::ready);  // the 2 s timeout
  const auto r1 = first.get();
  CHECK(r1.end.rows_written == 1000);
  CHECK(r1.stopped_because.starts_with("timed out"));

  // The first acquisition goes on and ends; the second follows.
  sim.server().send_samples(test::known_raw_samples(l, 1000, 500));
  sim.server().end_acquisition("Ok");
  sim.server().begin_acquisition(l);
  sim.server().send_samples(test::known_raw_samples(l, 0, 700));
  sim.server().end_acquisition("Ok");
  auto second =
      std::async(std::launch::async, [&] { return cap.run_one(tmp.path / "2.h5", stop); });
  REQUIRE(second.wait_for(60s) == std::future_status::ready);
  const auto r2 = second.get();  // before: the rest decoded without a header, SIGSEGV
  CHECK(r2.file_written);
  CHECK(r2.end.complete);
  CHECK(r2.end.rows_written == 700);
  CHECK(r2.skipped_rows == 500);
  CHECK(r2.skipped_end);
  const auto r = test::check_panda_hdf(tmp.path / "2.h5");
  CHECK(r.at("rows.PCAP.BITS0.Value") == "700");
  CHECK(r.at("end.reason") == "Ok");
}

TEST_CASE_FIXTURE(StopFixture, "PandaCapture: a stop before any header skips, then says why") {
  const auto l = test::known_layout();
  settings.timeout = 2s;
  capture::PandaCapture cap(data, settings);
  std::atomic<bool> stop{false};
  auto first = std::async(std::launch::async, [&] { return cap.run_one(tmp.path / "1.h5", stop); });
  sim.server().begin_acquisition(l);
  sim.server().send_samples(test::known_raw_samples(l, 0, 300));
  REQUIRE(first.wait_for(60s) == std::future_status::ready);
  CHECK(first.get().end.rows_written == 300);
  sim.server().send_samples(test::known_raw_samples(l, 300, 200));
  sim.server().end_acquisition("Ok");  // and no second acquisition
  auto second =
      std::async(std::launch::async, [&] { return cap.run_one(tmp.path / "2.h5", stop); });
  REQUIRE(second.wait_for(60s) == std::future_status::ready);
  const auto r2 = second.get();
  CHECK_FALSE(r2.file_written);
  CHECK_FALSE(std::filesystem::exists(tmp.path / "2.h5"));
  CHECK(r2.skipped_rows == 200);
  CHECK(r2.stopped_because ==
        "timed out: no data for 2.0 s and no header, after skipping the rest of an earlier "
        "acquisition (200 rows and its END)");
}

TEST_CASE_FIXTURE(StopFixture, "PandaCapture: hurry() ends the wait for END; the file is closed") {
  const auto l = test::known_layout();
  std::atomic<bool> stop{false};
  std::atomic<bool> again{false};
  settings.on_stop = [] {};  // a disarm whose END never comes
  settings.stop_grace = 600s;
  settings.hurry = [&] { return again.load(); };
  settings.stop_reason = "interrupted by SIGTERM";
  capture::PandaCapture cap(data, settings);
  auto run = std::async(std::launch::async, [&] { return cap.run_one(tmp.path / "h.h5", stop); });
  sim.server().begin_acquisition(l);
  sim.server().send_samples(test::known_raw_samples(l, 0, 500));
  REQUIRE(wait_rows(500));
  stop = true;
  CHECK(run.wait_for(300ms) == std::future_status::timeout);  // waiting for END (grace 600 s)
  again = true;
  REQUIRE(run.wait_for(60s) == std::future_status::ready);
  const auto result = run.get();
  CHECK(result.end.rows_written == 500);
  CHECK(result.stopped_because == "interrupted by SIGTERM; stopped waiting for END");
  const auto r = test::check_panda_hdf(tmp.path / "h.h5");  // opened without SWMR: closed
  CHECK(r.at("end.reason") == "interrupted by SIGTERM; stopped waiting for END");
  CHECK(r.at("rows.INENC1.VAL.Value") == "500");
}

}  // namespace
}  // namespace pandafly::panda
