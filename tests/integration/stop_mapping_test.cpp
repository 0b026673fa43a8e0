// One util::StopSource stops the components that keep their own stop
// mechanism, through the adapters util/stop.hpp documents: a StopCallback
// calling ZmqReceiver::stop(), a StopFlag feeding PandaCapture::run_one's
// flag (against the PandA simulator on 127.0.0.1). Each test requests stop
// from another thread while the component waits and checks it returns (a
// 60 s guard, not a speed goal) with what was acquired kept.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <doctest/doctest.h>

#include "check_panda_hdf.hpp"
#include "known_sequence.hpp"
#include "pandafly/capture/panda_capture.hpp"
#include "pandafly/capture/zmq_receiver.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"
#include "pandafly/util/stop.hpp"
#include "sim_fixture.hpp"
#include "temp_dir.hpp"

namespace pandafly {
namespace {

using namespace std::chrono_literals;

TEST_CASE("stop token -> ZmqReceiver::stop(): a pop() blocked for 60 s returns") {
  util::StopSource stop;
  capture::ZmqReceiver rx("tcp://127.0.0.1:0 PUB CONNECT");  // we bind; nobody sends
  const util::StopCallback on_stop(stop.get_token(), [&] { rx.stop(); });
  auto popped = std::async(std::launch::async, [&] { return rx.pop(60s); });
  CHECK(popped.wait_for(50ms) == std::future_status::timeout);  // it waits
  const auto t0 = std::chrono::steady_clock::now();
  stop.request_stop();
  REQUIRE(popped.wait_for(30s) == std::future_status::ready);
  CHECK_FALSE(popped.get().has_value());
  CHECK(rx.stopped());
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);
}

TEST_CASE("stop token -> StopFlag -> PandaCapture: the file is closed with the rows so far") {
  test::Simulator sim;
  test::TempDir tmp{"stop_mapping"};
  panda::DataOptions o;
  o.processing = panda::Processing::raw;
  panda::BlockingDataClient data(o);
  data.connect("127.0.0.1", sim.data_port(), 5s);
  REQUIRE(sim.wait_for_data_clients(1));
  std::atomic<std::uint64_t> rows_seen{0};
  capture::CaptureSettings settings;
  settings.progress_period = 5ms;
  settings.on_progress = [&](const capture::CaptureProgress& p) { rows_seen = p.rows; };
  capture::PandaCapture cap(data, settings);

  util::StopSource stop;
  const util::StopFlag flag(stop.get_token());
  auto run =
      std::async(std::launch::async, [&] { return cap.run_one(tmp.path / "s.h5", flag.flag()); });
  const auto l = test::known_layout();
  sim.server().begin_acquisition(l);
  sim.server().send_samples(test::known_raw_samples(l, 0, 400));
  const auto guard = std::chrono::steady_clock::now() + 60s;
  while (rows_seen.load() < 400 && std::chrono::steady_clock::now() < guard)
    std::this_thread::sleep_for(2ms);  // polls the progress callback's count (no event API)
  REQUIRE(rows_seen.load() == 400);
  CHECK(run.wait_for(0s) == std::future_status::timeout);  // no END: still capturing
  stop.request_stop();
  REQUIRE(run.wait_for(60s) == std::future_status::ready);
  const auto result = run.get();
  CHECK(result.end.rows_written == 400);
  CHECK(result.stopped_because == "stopped on request");
  const auto r = test::check_panda_hdf(tmp.path / "s.h5");
  CHECK(r.at("end.reason") == "stopped on request");
}

}  // namespace
}  // namespace pandafly
