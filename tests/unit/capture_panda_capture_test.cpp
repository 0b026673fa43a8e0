// PandaCapture's one reader loop with its sinks, fed data-port bytes built by
// hand from the protocol reference (§3; tests/unit/panda_fly_stream.hpp)
// through a DataEventSource that decodes them with the real DataConnection —
// no simulator, no socket. The rows sink (typed fly rows, the table, the
// header's times), the HDF sink and both at once from the same loop; missing
// columns; stops from another thread; a consumer that throws.
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>

#include "check_panda_hdf.hpp"
#include "panda_fly_stream.hpp"
#include "pandafly/capture/panda_capture.hpp"
#include "pandafly/capture/row_sink.hpp"
#include "pandafly/panda/error.hpp"
#include "temp_dir.hpp"

namespace pandafly::capture {
namespace {

using namespace std::chrono_literals;
using panda::test::fly_sample;
using panda::test::fly_samples;

/// Bytes pushed by the test (any thread), decoded by a real DataConnection on
/// the capture's thread. next() waits for bytes until its timeout, as the
/// socket client does.
class ScriptedSource final : public DataEventSource {
 public:
  void push(std::string bytes) {
    {
      std::scoped_lock lock(mutex_);
      pending_.push_back(std::move(bytes));
    }
    cv_.notify_all();
  }
  panda::DataEvent next(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto ev = conn_.next_event();
      if (!std::holds_alternative<panda::NeedData>(ev)) return ev;
      std::unique_lock lock(mutex_);
      if (!cv_.wait_until(lock, deadline, [this] { return !pending_.empty(); }))
        return panda::DataError{panda::make_error_code(panda::Errc::timed_out), "timed out"};
      current_ = std::move(pending_.front());  // every byte of the last is used up
      pending_.pop_front();
      lock.unlock();
      conn_.receive(std::as_bytes(std::span{current_.data(), current_.size()}));
    }
  }
  bool reconnect(std::chrono::milliseconds) override { return false; }

 private:
  panda::DataConnection conn_{panda::DataOptions{}};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> pending_;
  std::string current_;
};

std::string fly_header(std::uint64_t missed = 0) {
  return panda::test::header_xml(panda::test::scaled_fly_fields(), "Scaled",
                                 panda::test::scaled_fly_sample_bytes, missed);
}

/// What a PandaRowSink handed out.
struct Collected {
  std::mutex mutex;
  std::vector<PandaRow> rows;
  int blocks = 0;
  std::optional<PandaAcquisition> acquisition;
  std::optional<FinishInfo> end;
  std::condition_variable cv;

  PandaRowSink::Options options() {
    return {.on_start = [this](const PandaAcquisition& a) { acquisition = a; },
            .on_rows =
                [this](std::span<const PandaRow> r) {
                  {
                    std::scoped_lock lock(mutex);
                    rows.insert(rows.end(), r.begin(), r.end());
                    ++blocks;
                  }
                  cv.notify_all();
                },
            .on_end = [this](const FinishInfo& f) { end = f; }};
  }
  /// Waits (guard: 60 s) until `n` rows have come.
  bool wait_rows(std::size_t n) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 60s, [&] { return rows.size() >= n; });
  }
};

void check_rows(const std::vector<PandaRow>& rows, std::uint64_t first, std::size_t n) {
  REQUIRE(rows.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto want = fly_sample(first + i);
    CAPTURE(i);
    CHECK(rows[i].index == first + i);
    CHECK(rows[i].mean_deg == want.mean);
    CHECK(rows[i].min_deg == want.min);
    CHECK(rows[i].max_deg == want.max);
    CHECK(rows[i].ts_start_s == want.ts_start);
    CHECK(rows[i].ts_end_s == want.ts_end);
    CHECK(rows[i].ts_trig_s == want.ts_trig);
  }
}

CaptureSettings small_blocks() {
  CaptureSettings s;
  s.chunk_rows = 4;  // blocks of at most 4 rows: several blocks per frame
  s.batch_age = 5ms;
  s.flush_period = 50ms;
  s.timeout = 60s;  // a guard: every test ends on an event
  return s;
}

TEST_CASE("PandaCapture → PandaRowSink: typed rows, the table and the header's times") {
  ScriptedSource source;
  // 12 exposures in frames of 5, 5 and 2 samples, then END 12 Ok.
  source.push("OK\n" + fly_header() + panda::test::frames(fly_samples(0, 12), 5) + "END 12 Ok\n");
  Collected got;
  PandaRowSink sink(got.options());
  PandaCapture cap(source, small_blocks());
  std::atomic<bool> stop{false};
  const auto r = cap.run_one(sink, stop);

  check_rows(got.rows, 0, 12);
  CHECK(got.blocks >= 3);  // 12 rows in blocks of at most 4
  CHECK(r.file_written);
  CHECK(r.path.empty());
  CHECK(r.stopped_because == "");
  CHECK(r.end.complete);
  CHECK(r.end.reason == "Ok");
  CHECK(r.end.rows_received == 12);
  CHECK(r.end.rows_lost == 0);
  CHECK(sink.rows_delivered() == 12);
  REQUIRE(got.acquisition);
  CHECK(got.acquisition->start_time == "2026-01-15T10:00:00.004000000Z");
  CHECK(got.acquisition->start_epics_s == doctest::Approx(1137319200.004).epsilon(1e-15));
  REQUIRE(got.end);
  REQUIRE(got.end->end);
  CHECK(got.end->end->samples == 12);
  CHECK(got.end->end->reason == panda::EndReason::ok);
  // The raw columns, for the DXfile's PandA tables.
  const auto& t = sink.table();
  REQUIRE(t.size() == 7);
  CHECK(t[5].name == "PCAP.TS_TRIG.Value");
  CHECK(t[5].units == "s");
  REQUIRE(t[5].values.size() == 12);
  CHECK(t[5].values[11] == fly_sample(11).ts_trig);
}

TEST_CASE("PandaCapture: one loop feeds the rows and the HDF file the same rows") {
  test::TempDir tmp("capture_sinks");
  ScriptedSource source;
  source.push("OK\n" + fly_header() + panda::test::frames(fly_samples(0, 10), 3) + "END 10 Ok\n");
  Collected got;
  PandaRowSink rows(got.options());
  PandaHdfSink file({.path = tmp.path / "both.h5", .chunk_rows = 4});
  RowSinkTee both({&rows, &file});
  PandaCapture cap(source, small_blocks());
  std::atomic<bool> stop{false};
  const auto r = cap.run_one(both, stop);
  check_rows(got.rows, 0, 10);
  CHECK(r.end.complete);

  // The file's columns hold exactly the rows' values (little-endian float64).
  auto write_expected = [&](const std::string& column, auto member) {
    std::ofstream out(tmp.path / (column + ".bin"), std::ios::binary);
    for (const auto& row : got.rows) {
      const double v = row.*member;
      out.write(reinterpret_cast<const char*>(&v), sizeof v);
    }
  };
  write_expected("INENC1.VAL.Mean", &PandaRow::mean_deg);
  write_expected("INENC1.VAL.Min", &PandaRow::min_deg);
  write_expected("INENC1.VAL.Max", &PandaRow::max_deg);
  write_expected("PCAP.TS_START.Value", &PandaRow::ts_start_s);
  write_expected("PCAP.TS_END.Value", &PandaRow::ts_end_s);
  write_expected("PCAP.TS_TRIG.Value", &PandaRow::ts_trig_s);
  {  // the bit word as the table kept it, back to uint32
    std::ofstream out(tmp.path / "PCAP.BITS0.Value.bin", std::ios::binary);
    for (const double v : rows.table().at(0).values) {
      const auto w = static_cast<std::uint32_t>(v);
      out.write(reinterpret_cast<const char*>(&w), sizeof w);
    }
  }
  const auto h =
      test::check_panda_hdf(tmp.path / "both.h5", "--expect '" + tmp.path.string() + "'");
  INFO(h.at("output"));
  CHECK(h.at("rows.INENC1.VAL.Mean") == "10");
  CHECK(h.at("match.INENC1.VAL.Mean") == "yes");
  CHECK(h.at("match.INENC1.VAL.Min") == "yes");
  CHECK(h.at("match.INENC1.VAL.Max") == "yes");
  CHECK(h.at("match.PCAP.TS_START.Value") == "yes");
  CHECK(h.at("match.PCAP.TS_END.Value") == "yes");
  CHECK(h.at("match.PCAP.TS_TRIG.Value") == "yes");
  CHECK(h.at("match.PCAP.BITS0.Value") == "yes");
  CHECK(h.at("attr.INENC1.VAL.Mean.units") == "deg");
  CHECK(h.at("end.reason") == "Ok");
  CHECK(h.at("end.complete") == "1");

  SUBCASE("run_one(path): the HDF sink alone, as pandactl capture uses it") {
    source.push(fly_header() + panda::test::frames(fly_samples(0, 6), 4) + "END 6 Ok\n");
    const auto r2 = cap.run_one(tmp.path / "alone.h5", stop);
    CHECK(r2.path == tmp.path / "alone.h5");
    CHECK(r2.file_written);
    CHECK(r2.end.complete);
    const auto h2 = test::check_panda_hdf(tmp.path / "alone.h5");
    CHECK(h2.at("rows.INENC1.VAL.Mean") == "6");
    CHECK(h2.at("end.reason") == "Ok");
  }
}

TEST_CASE("PandaCapture: a header without the rows' columns is a clear error; the next works") {
  test::TempDir tmp("capture_missing");
  auto fields = panda::test::scaled_fly_fields();
  fields.erase(fields.begin() + 5);  // no PCAP.TS_TRIG
  std::vector<panda::test::FlySample> s(3);
  panda::test::Packer p;
  for (const auto& x : s)
    p.put(x.bits).put(x.min).put(x.max).put(x.ts_start).put(x.ts_end).put(x.mean);
  ScriptedSource source;
  source.push("OK\n" + panda::test::header_xml(fields, "Scaled", 4 + 5 * 8) +
              panda::test::bin_frame(p.str()) + "END 3 Ok\n");
  // The next acquisition has them.
  source.push(fly_header() + panda::test::frames(fly_samples(0, 4), 4) + "END 4 Ok\n");
  Collected got;
  PandaRowSink rows(got.options());
  PandaHdfSink file({.path = tmp.path / "refused.h5"});
  RowSinkTee both({&file, &rows});  // the file starts first, then the rows refuse
  PandaCapture cap(source, small_blocks());
  std::atomic<bool> stop{false};
  CHECK_THROWS_WITH_AS(cap.run_one(both, stop),
                       "the PandA data header lacks PCAP.TS_TRIG.Value needed for fly-scan rows; "
                       "it has: PCAP.BITS0.Value, INENC1.VAL.Min, INENC1.VAL.Max, "
                       "PCAP.TS_START.Value, PCAP.TS_END.Value, INENC1.VAL.Mean",
                       MissingColumns);
  CHECK(got.rows.empty());
  // The sink that had started was finished, saying why.
  const auto h = test::check_panda_hdf(tmp.path / "refused.h5");
  CHECK(h.at("end.reason") ==
        "refused by another sink: the PandA data header lacks PCAP.TS_TRIG.Value needed for "
        "fly-scan rows; it has: PCAP.BITS0.Value, INENC1.VAL.Min, INENC1.VAL.Max, "
        "PCAP.TS_START.Value, PCAP.TS_END.Value, INENC1.VAL.Mean");
  CHECK(h.at("end.complete") == "0");

  // The refused acquisition's rest is skipped; the next one is captured.
  const auto r = cap.run_one(rows, stop);
  CHECK(r.skipped_rows == 3);
  CHECK(r.skipped_end);
  CHECK(r.end.complete);
  check_rows(got.rows, 0, 4);
}

TEST_CASE("PandaCapture: a stop from another thread, then the END the disarm brings") {
  ScriptedSource source;
  source.push("OK\n" + fly_header() + panda::test::frames(fly_samples(0, 5), 5));
  Collected got;
  PandaRowSink sink(got.options());
  auto settings = small_blocks();
  std::atomic<int> on_stop_calls{0};
  // What a disarm on the control port makes the PandA send (§3.6).
  settings.on_stop = [&] {
    ++on_stop_calls;
    source.push("END 5 Disarmed\n");
  };
  PandaCapture cap(source, settings);
  std::atomic<bool> stop{false};
  auto run = std::async(std::launch::async, [&] { return cap.run_one(sink, stop); });
  REQUIRE(got.wait_rows(5));  // the last row arrives once its block is batch_age old
  std::thread stopper([&] { stop = true; });
  stopper.join();
  REQUIRE(run.wait_for(60s) == std::future_status::ready);
  const auto r = run.get();
  CHECK(on_stop_calls == 1);
  CHECK(r.stopped_because == "stopped on request");
  CHECK(r.end.reason == "stopped on request; END Disarmed");
  CHECK_FALSE(r.end.complete);
  CHECK(r.end.rows_received == 5);
  check_rows(got.rows, 0, 5);
  REQUIRE(got.end);
  REQUIRE(got.end->end);
  CHECK(got.end->end->reason == panda::EndReason::disarmed);
}

TEST_CASE("PandaCapture: a stop with no disarm to wait for ends at once, rows kept") {
  ScriptedSource source;
  source.push("OK\n" + fly_header() + panda::test::frames(fly_samples(0, 3), 3));
  Collected got;
  PandaRowSink sink(got.options());
  PandaCapture cap(source, small_blocks());  // timeout 60 s: only the stop ends it
  std::atomic<bool> stop{false};
  auto run = std::async(std::launch::async, [&] { return cap.run_one(sink, stop); });
  REQUIRE(got.wait_rows(3));
  stop = true;
  REQUIRE(run.wait_for(60s) == std::future_status::ready);
  const auto r = run.get();
  CHECK(r.stopped_because == "stopped on request");
  CHECK(r.end.reason == "stopped on request");
  CHECK_FALSE(r.end.complete);
  check_rows(got.rows, 0, 3);
  CHECK(sink.table().at(0).values.size() == 3);
}

TEST_CASE("PandaCapture: a row consumer that throws stops the acquisition like a full disk") {
  ScriptedSource source;
  source.push("OK\n" + fly_header() + panda::test::frames(fly_samples(0, 12), 12));
  int calls = 0;
  PandaRowSink sink({.on_rows = [&](std::span<const PandaRow>) {
    if (++calls == 2) throw std::runtime_error("merger full");
  }});
  auto settings = small_blocks();
  settings.on_stop = [&] { source.push("END 12 Disarmed\n"); };
  PandaCapture cap(source, settings);
  std::atomic<bool> stop{false};
  const auto r = cap.run_one(sink, stop);
  CHECK(r.stopped_because == "row consumer failed: merger full");
  CHECK(r.end.reason == "row consumer failed: merger full");
  CHECK_FALSE(r.end.complete);
  CHECK(r.end.rows_received == 12);   // all handed to the sink…
  CHECK(sink.rows_delivered() == 4);  // …the first block taken, the second thrown at
  CHECK(r.end.rows_lost == 8);
  CHECK(calls == 2);
}

}  // namespace
}  // namespace pandafly::capture

namespace pandafly::capture {
namespace {

TEST_CASE("PandaCapture: a consumer refusing the start ends the acquisition before any row") {
  ScriptedSource source;
  source.push("OK\n" + fly_header() + panda::test::frames(fly_samples(0, 4), 4));
  int row_calls = 0;
  PandaRowSink sink({.on_start = [](const PandaAcquisition&) { throw std::runtime_error("busy"); },
                     .on_rows = [&](std::span<const PandaRow>) { ++row_calls; }});
  PandaCapture cap(source, small_blocks());  // no on_stop: it ends at once
  std::atomic<bool> stop{false};
  const auto r = cap.run_one(sink, stop);
  CHECK(r.file_written);
  CHECK(r.stopped_because == "row consumer failed: busy");
  CHECK(r.end.reason == "row consumer failed: busy");
  CHECK_FALSE(r.end.complete);
  CHECK(row_calls == 0);
}

}  // namespace
}  // namespace pandafly::capture

namespace pandafly::capture {
namespace {

TEST_CASE("PandaCapture: rows of a slow steady stream reach the sink while it streams") {
  // One sample every 2 ms, never a pause as long as batch_age: before, rows
  // waited for a whole chunk (or END) because only an idle wait handed a
  // block over — a fly scan's merger (or a SWMR reader) saw nothing.
  ScriptedSource source;
  source.push("OK\n" + fly_header());
  Collected got;
  PandaRowSink sink(got.options());
  auto settings = small_blocks();
  settings.chunk_rows = 1u << 20;
  settings.batch_age = 60s;  // no idle hand-over in this test
  settings.max_block_age = 20ms;
  PandaCapture cap(source, settings);
  std::atomic<bool> stop{false};
  auto run = std::async(std::launch::async, [&] { return cap.run_one(sink, stop); });
  std::uint64_t sent = 0;
  std::size_t seen_while_streaming = 0;
  const auto guard = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < guard) {
    source.push(panda::test::frames({fly_sample(sent++)}, 1));
    std::this_thread::sleep_for(2ms);  // pacing the stream, not a wait for a result
    std::scoped_lock lock(got.mutex);
    if ((seen_while_streaming = got.rows.size()) > 0) break;
  }
  source.push(fmt::format("END {} Ok\n", sent));
  REQUIRE(run.wait_for(60s) == std::future_status::ready);
  const auto r = run.get();
  CHECK(seen_while_streaming > 0);
  CHECK(r.end.complete);
  check_rows(got.rows, 0, sent);
}

}  // namespace
}  // namespace pandafly::capture
