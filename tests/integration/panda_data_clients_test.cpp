// The data-port clients and the HDF5 capture against the PandA simulator over
// 127.0.0.1: every format, re-arm cycles, timeouts, a server that goes away,
// and the file read back by h5py.
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>

#include "check_panda_hdf.hpp"
#include "known_sequence.hpp"
#include "pandafly/capture/panda_capture.hpp"
#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/io/asio_data_client.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"
#include "sim/panda/capture_layout.hpp"
#include "sim_fixture.hpp"
#include "temp_dir.hpp"

namespace pandafly::panda {
namespace {

using namespace std::chrono_literals;
using sim::CapturedField;
using sim::CaptureLayout;
using test::Simulator;
namespace fs = std::filesystem;

constexpr auto kLocal = "127.0.0.1";

CaptureLayout layout() {
  return test::known_layout();
}

std::vector<std::byte> raw_samples(const CaptureLayout& l, std::size_t first, std::size_t n) {
  return test::known_raw_samples(l, first, n);
}

/// Everything a client saw, frames joined.
struct Seen {
  std::vector<StartData> starts;
  std::vector<std::byte> bytes;  // all samples of all acquisitions
  std::vector<EndData> ends;
  std::optional<DataError> error;
  std::optional<ColumnDecoder> decoder;
  std::optional<ColumnBlock> columns;  // the last acquisition, scaled

  /// Takes one event; false when it ends the reading (End or error).
  bool take(const DataEvent& ev) {
    if (auto* s = std::get_if<StartData>(&ev)) {
      starts.push_back(*s);
      decoder.emplace(
          std::get<ColumnDecoder>(ColumnDecoder::make(*s, ColumnDecoder::Mode::scaled)));
      columns = decoder->make_block();
    }
    if (auto* f = std::get_if<FrameData>(&ev)) {
      bytes.insert(bytes.end(), f->bytes.begin(), f->bytes.end());
      decoder->append(*f, *columns);
    }
    if (auto* e = std::get_if<EndData>(&ev)) ends.push_back(*e);
    if (auto* e = std::get_if<DataError>(&ev); e != nullptr && e->code != Errc::timed_out)
      error = *e;
    return !is<EndData>(ev) && !error;
  }
};

Seen read_acquisition(BlockingDataClient& c) {
  Seen seen;
  while (seen.take(c.next(5s))) {
  }
  return seen;
}

DataOptions options(DataFormat format, Processing processing) {
  DataOptions o;
  o.format = format;
  o.processing = processing;
  return o;
}

void acquire(Simulator& sim, const CaptureLayout& l, std::size_t n, std::size_t pieces,
             std::string reason = "Ok") {
  sim.server().begin_acquisition(l);
  for (std::size_t p = 0; p < pieces; ++p) {
    const std::size_t from = n * p / pieces;
    sim.server().send_samples(raw_samples(l, from, n * (p + 1) / pieces - from));
  }
  sim.server().end_acquisition(std::move(reason));
}

TEST_CASE("BlockingDataClient: every sample of an acquisition, in order, then END") {
  Simulator sim;
  BlockingDataClient data{options(DataFormat::framed, Processing::raw)};
  data.connect(kLocal, sim.data_port(), 2s);
  REQUIRE(sim.wait_for_data_clients(1));
  const auto l = layout();
  acquire(sim, l, 20000, 7);
  const Seen seen = read_acquisition(data);
  REQUIRE_FALSE(seen.error);
  REQUIRE(seen.starts.size() == 1);
  CHECK(seen.starts[0].fields == l.raw_header().fields);
  CHECK(seen.bytes == raw_samples(l, 0, 20000));
  REQUIRE(seen.ends.size() == 1);
  CHECK(seen.ends[0].samples == 20000);
  CHECK(seen.ends[0].reason == EndReason::ok);
  CHECK(data.connected());
}

TEST_CASE("every format and processing decodes to the same values") {
  Simulator sim;
  struct Client {
    DataOptions opts;
    std::unique_ptr<BlockingDataClient> client;
  };
  std::vector<Client> clients;
  for (auto format :
       {DataFormat::framed, DataFormat::unframed, DataFormat::base64, DataFormat::ascii}) {
    for (auto processing : {Processing::raw, Processing::scaled}) {
      clients.push_back({options(format, processing), nullptr});
      clients.back().client = std::make_unique<BlockingDataClient>(clients.back().opts);
      clients.back().client->connect(kLocal, sim.data_port(), 2s);
    }
  }
  REQUIRE(sim.wait_for_data_clients(clients.size()));
  acquire(sim, layout(), 500, 3);
  std::vector<Seen> seen;
  for (auto& c : clients) seen.push_back(read_acquisition(*c.client));
  const ColumnBlock& reference = *seen[0].columns;  // FRAMED RAW, scaled here
  REQUIRE(reference.rows() == 500);
  for (std::size_t k = 0; k < seen.size(); ++k) {
    CAPTURE(clients[k].opts.connect_line());
    REQUIRE_FALSE(seen[k].error);
    REQUIRE(seen[k].ends.size() == 1);
    CHECK(seen[k].ends[0].samples == 500);
    const ColumnBlock& got = *seen[k].columns;
    REQUIRE(got.rows() == 500);
    const auto& names = seen[k].decoder->specs();
    for (std::size_t c = 0; c < got.columns(); ++c) {
      // Server-side and client-side scaling agree (SCALED ASCII to its %.10g digits).
      std::size_t rc = 0;
      while (seen[0].decoder->specs()[rc].name != names[c].name) ++rc;
      const auto ref = std::get_if<Column<double>>(&reference.column(rc));
      const auto val = std::get_if<Column<double>>(&got.column(c));
      if (ref == nullptr || val == nullptr) {
        CHECK_MESSAGE(reference.bytes(rc).size() == got.bytes(c).size(), names[c].name);
        CHECK_MESSAGE(std::equal(reference.bytes(rc).begin(), reference.bytes(rc).end(),
                                 got.bytes(c).begin()),
                      names[c].name);
        continue;
      }
      for (std::size_t r = 0; r < 500; ++r) {
        CHECK_MESSAGE((*val)[r] == doctest::Approx((*ref)[r]).epsilon(1e-9),
                      names[c].name << " row " << r);
      }
    }
  }
}

TEST_CASE("acquisitions repeat on one data connection (arm, data, END, re-arm)") {
  Simulator sim;
  BlockingDataClient data{options(DataFormat::framed, Processing::raw)};
  data.connect(kLocal, sim.data_port(), 2s);
  REQUIRE(sim.wait_for_data_clients(1));
  const CaptureLayout second({CapturedField::pos_out("COUNTER1.OUT", {"Value"})});
  for (int round = 0; round < 3; ++round) {
    const auto& l = round == 1 ? second : layout();
    acquire(sim, l, 100 + 10 * static_cast<std::size_t>(round), 2, round == 2 ? "Disarmed" : "Ok");
    const Seen seen = read_acquisition(data);
    REQUIRE_FALSE(seen.error);
    CHECK(seen.starts.at(0).fields == l.raw_header().fields);
    CHECK(seen.ends.at(0).samples == 100 + 10 * static_cast<std::size_t>(round));
    CHECK(seen.ends.at(0).reason == (round == 2 ? EndReason::disarmed : EndReason::ok));
  }
}

TEST_CASE("a timeout is not the end; the server going away mid-acquisition is, with the count") {
  Simulator sim;
  BlockingDataClient data{options(DataFormat::framed, Processing::raw)};
  data.connect(kLocal, sim.data_port(), 2s);
  const auto ev = data.next(50ms);
  REQUIRE(is<DataError>(ev));
  CHECK(std::get<DataError>(ev).code == Errc::timed_out);
  CHECK(data.connected());
  REQUIRE(sim.wait_for_data_clients(1));
  const auto l = layout();
  sim.server().begin_acquisition(l);
  sim.server().send_samples(raw_samples(l, 0, 100));
  Seen seen;
  while (seen.bytes.size() < 100 * l.raw_sample_bytes()) REQUIRE(seen.take(data.next(5s)));
  sim.stop();
  while (seen.take(data.next(5s))) {
  }
  REQUIRE(seen.error);
  CHECK(seen.error->code == DataErrc::closed_before_end);
  CHECK(seen.error->samples_before == 100);
  CHECK(seen.error->message.find("100") != std::string::npos);
  CHECK_FALSE(data.connected());
  CHECK_THROWS_AS(data.reconnect(500ms), std::system_error);  // nobody listens any more
}

TEST_CASE("AsioDataClient: the same acquisition through coroutines") {
  Simulator sim;
  boost::asio::io_context io;
  AsioDataClient data(io.get_executor(), options(DataFormat::framed, Processing::scaled));
  Seen seen;
  const auto l = layout();
  auto done = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await data.connect(kLocal, sim.data_port(), 2s);
        const auto idle = co_await data.next(30ms);
        CHECK(std::get<DataError>(idle).code == Errc::timed_out);
        while (sim.server().data_clients_ready() < 1) std::this_thread::sleep_for(1ms);
        acquire(sim, l, 3000, 4);
        while (seen.take(co_await data.next(5s))) {
        }
      },
      boost::asio::use_future);
  io.run();
  done.get();
  REQUIRE_FALSE(seen.error);
  CHECK(seen.ends.at(0).samples == 3000);
  std::vector<std::byte> scaled;
  l.scale(raw_samples(l, 0, 3000), scaled);
  CHECK(seen.bytes == scaled);  // SCALED: the server's scaling, byte for byte
}

// ------------------------------------------------------------------ capture to HDF5

/// The simulator, a scratch directory and a FRAMED RAW data client connected
/// and ready, for the capture tests.
struct CaptureFixture {
  Simulator sim;
  test::TempDir tmp{"capture"};
  BlockingDataClient data{options(DataFormat::framed, Processing::raw)};
  capture::CaptureSettings settings;
  std::atomic<std::uint64_t> rows_read{0};  // as the reader last reported (on_progress)
  CaptureFixture() {
    data.connect(kLocal, sim.data_port(), 2s);
    REQUIRE(sim.wait_for_data_clients(1));
    settings.flush_period = 50ms;
    settings.progress_period = 5ms;
    settings.on_progress = [this](const capture::CaptureProgress& p) { rows_read = p.rows; };
  }
  /// Waits until the reader has taken `n` rows (guard: 60 s): the event a stop
  /// must come after, instead of a sleep that a loaded machine outlasts.
  [[nodiscard]] bool wait_rows_read(std::uint64_t n) const {
    const auto guard = std::chrono::steady_clock::now() + 60s;
    while (rows_read.load() < n) {
      if (std::chrono::steady_clock::now() > guard) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }
};

/// Writes the columns `raw` decodes to (scaled) as DIR/<column>.bin for check_panda_hdf.py
/// --expect.
void write_expected(const CaptureLayout& l, const std::vector<std::byte>& raw,
                    const fs::path& dir) {
  const auto start = l.raw_header();
  const auto dec = std::get<ColumnDecoder>(ColumnDecoder::make(start, ColumnDecoder::Mode::scaled));
  auto block = dec.make_block();
  dec.append(FrameData{raw, raw.size() / start.sample_bytes, start.sample_bytes}, block);
  fs::create_directories(dir);
  for (std::size_t c = 0; c < block.columns(); ++c) {
    std::ofstream out(dir / (dec.specs()[c].name + ".bin"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(block.bytes(c).data()),
              static_cast<std::streamsize>(block.bytes(c).size()));
  }
}

TEST_CASE_FIXTURE(
    CaptureFixture,
    "PandaCapture: the file h5py reads equals what was sent; SWMR readers see it grow") {
  settings.timeout = 20s;
  capture::PandaCapture cap(data, settings);
  std::atomic<bool> stop{false};
  capture::CaptureResult result;
  const auto file = tmp.path / "scan.h5";
  std::thread reader([&] { result = cap.run_one(file, stop); });

  const auto l = layout();
  constexpr std::size_t n = 200000;
  sim.server().begin_acquisition(l);
  sim.server().send_samples(raw_samples(l, 0, n / 2));
  // Mid-capture: a SWMR reader sees rows, then more rows.
  std::size_t first_seen = 0;
  for (int i = 0; i < 1200 && first_seen == 0; ++i) {  // guard: 60 s
    std::this_thread::sleep_for(50ms);
    if (!fs::exists(file)) continue;
    const auto r = test::check_panda_hdf(file, "--swmr");
    if (r.count("rows.INENC1.VAL.Value") != 0)
      first_seen = std::stoul(r.at("rows.INENC1.VAL.Value"));
  }
  CHECK(first_seen > 0);
  CHECK(first_seen <= n / 2);
  sim.server().send_samples(raw_samples(l, n / 2, n / 2));
  std::size_t later = first_seen;
  for (int i = 0; i < 1200 && later < n; ++i) {  // guard: 60 s
    std::this_thread::sleep_for(50ms);
    const auto r = test::check_panda_hdf(file, "--swmr");
    if (r.count("rows.INENC1.VAL.Value") != 0) later = std::stoul(r.at("rows.INENC1.VAL.Value"));
  }
  CHECK(later > first_seen);
  sim.server().end_acquisition();
  reader.join();

  REQUIRE(result.file_written);
  CHECK(result.end.complete);
  CHECK(result.end.rows_written == n);
  CHECK(result.stopped_because.empty());
  write_expected(l, raw_samples(l, 0, n), tmp.path / "expected");
  const auto r = test::check_panda_hdf(file, "--expect '" + (tmp.path / "expected").string() + "'");
  CHECK_MESSAGE(r.at("status") == "0", r.at("output"));
  for (const char* col :
       {"PCAP.GATE_DURATION.Value", "PCAP.BITS0.Value", "INENC1.VAL.Value", "INENC1.VAL.Min",
        "INENC1.VAL.Max", "INENC1.VAL.Mean", "PCAP.TS_TRIG.Value"}) {
    CHECK_MESSAGE(r.count(std::string{"match."} + col) == 1, col);
    if (r.count(std::string{"match."} + col) == 0) continue;
    CHECK_MESSAGE(r.at(std::string{"match."} + col) == "yes", col);
    CHECK(r.at(std::string{"rows."} + col) == std::to_string(n));
  }
  CHECK(r.at("attr.INENC1.VAL.Value.units") == "deg");
  CHECK(r.at("end.reason") == "Ok");
  CHECK(r.at("end.complete") == "1");
}

TEST_CASE_FIXTURE(
    CaptureFixture,
    "PandaCapture: a stop request or a lost connection still leaves a complete record") {
  settings.stop_reason = "interrupted by SIGINT";
  capture::PandaCapture cap(data, settings);
  const auto l = layout();

  SUBCASE("stop") {
    std::atomic<bool> stop{false};
    capture::CaptureResult result;
    std::thread reader([&] { result = cap.run_one(tmp.path / "stopped.h5", stop); });
    sim.server().begin_acquisition(l);
    sim.server().send_samples(raw_samples(l, 0, 1000));
    REQUIRE(wait_rows_read(1000));
    stop = true;
    reader.join();
    CHECK(result.file_written);
    CHECK_FALSE(result.end.complete);
    CHECK(result.end.rows_written == 1000);
    CHECK(result.stopped_because == "interrupted by SIGINT");
    const auto r = test::check_panda_hdf(tmp.path / "stopped.h5");
    CHECK(r.at("end.reason") == "interrupted by SIGINT");
    CHECK(r.at("rows.INENC1.VAL.Value") == "1000");
  }
  SUBCASE("stop with a disarm: the END it brings is recorded with the reason") {
    settings.on_stop = [&] { sim.server().end_acquisition("Disarmed"); };
    capture::PandaCapture disarming(data, settings);
    std::atomic<bool> stop{false};
    capture::CaptureResult result;
    std::thread reader([&] { result = disarming.run_one(tmp.path / "disarmed.h5", stop); });
    sim.server().begin_acquisition(l);
    sim.server().send_samples(raw_samples(l, 0, 500));
    REQUIRE(wait_rows_read(500));
    stop = true;
    reader.join();
    CHECK_FALSE(result.end.complete);
    CHECK(result.end.rows_written == 500);
    CHECK(result.end.reason == "interrupted by SIGINT; END Disarmed");
    const auto r = test::check_panda_hdf(tmp.path / "disarmed.h5");
    CHECK(r.at("end.reason") == "interrupted by SIGINT; END Disarmed");
    CHECK(r.at("end.panda_end_reason") == "Disarmed");
    CHECK(data.connected());  // the connection serves the next acquisition
  }
  SUBCASE("connection lost") {
    std::atomic<bool> stop{false};
    capture::CaptureResult result;
    std::thread reader([&] { result = cap.run_one(tmp.path / "lost.h5", stop); });
    sim.server().begin_acquisition(l);
    sim.server().send_samples(raw_samples(l, 0, 777));
    REQUIRE(wait_rows_read(777));
    sim.stop();
    reader.join();
    CHECK_FALSE(result.end.complete);
    CHECK(result.end.rows_written == 777);
    CHECK(result.stopped_because.find("connection lost after 777 rows") == 0);
    CHECK_FALSE(result.reconnected);
    const auto r = test::check_panda_hdf(tmp.path / "lost.h5");
    CHECK(r.at("end.reason").find("connection lost after 777 rows") == 0);
  }
}

}  // namespace
}  // namespace pandafly::panda
