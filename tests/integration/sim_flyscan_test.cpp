// The PandA simulator as a whole over 127.0.0.1, driven by our own clients:
// panda/flyscan.sav on a turning encoder gives one captured row per PCOMP
// position with exactly the encoder count of that position; arm/disarm cycles,
// two data clients, a client leaving mid-capture and "Data clients still
// taking data".
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <doctest/doctest.h>

#include "pandafly/panda/columns.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/io/asio_client.hpp"
#include "pandafly/panda/io/asio_data_client.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "pandafly/panda/io/blocking_data_client.hpp"
#include "run_async.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim/ca/pv.hpp"
#include "sim/panda/fpga/motion.hpp"
#include "sim/panda/fpga_runner.hpp"
#include "sim/panda/server.hpp"
#include "sim/sim_clock.hpp"
#include "sim_fixture.hpp"

using namespace std::chrono_literals;
namespace panda = pandafly::panda;
namespace sim = pandafly::sim;
namespace test = pandafly::test;
using sim::fpga::kTicksPerSecond;

namespace {

/// The simulator with its FPGA (fast clock) and a control client.
class Box {
 public:
  explicit Box(const std::string& design = {}) : sim_({.fpga = true, .design = design}) {
    control.connect("127.0.0.1", sim_.port(), 5s);
  }

  void put(const std::string& name, const std::string& value) {
    auto r = control.call(panda::Put(name, value), 5s);
    REQUIRE_MESSAGE(r.ok(), name, "=", value, ": ", (r.ok() ? "" : r.error().what()));
  }
  /// Connects a data client (SCALED unless raw) and waits until the server counts it.
  std::unique_ptr<panda::BlockingDataClient> data_client(bool raw = false) {
    panda::DataOptions options;
    if (raw) options.processing = panda::Processing::raw;
    auto c = std::make_unique<panda::BlockingDataClient>(options);
    const std::size_t before = sim_->data_clients_ready();
    c->connect("127.0.0.1", sim_.data_port(), 5s);
    REQUIRE(sim_.wait_for_data_clients(before + 1));
    return c;
  }
  /// INENC1 from `from` to `to` counts at `velocity` counts/s, starting 1 ms of
  /// virtual time from now.
  void move(double from, double to, double velocity) {
    auto axis = std::make_shared<sim::fpga::TrapezoidMotion>(from);
    axis->move_to(sim_.fpga().now() + kTicksPerSecond / 1000, to, velocity, velocity * 20);
    sim_.fpga().set_motion(1, axis);
  }
  [[nodiscard]] std::uint16_t port() const { return sim_.port(); }
  [[nodiscard]] std::uint16_t data_port() const { return sim_.data_port(); }
  [[nodiscard]] sim::PandaFpga& fpga() { return sim_.fpga(); }
  [[nodiscard]] std::size_t data_backlog_bytes() { return sim_.data_backlog_bytes(); }

 private:
  test::Simulator sim_;  // first: outlives the client

 public:
  panda::BlockingClient control;
};

struct Acquisition {
  panda::StartData start;
  std::map<std::string, std::vector<double>> columns;  // "INENC1.VAL.Value" → values
  panda::EndData end;
  bool ended = false;
};

std::vector<double> as_doubles(const panda::ColumnValues& values) {
  return std::visit(
      [](const auto& column) {
        std::vector<double> out;
        for (const auto& v : column) {
          if constexpr (std::is_arithmetic_v<std::decay_t<decltype(v)>>)
            out.push_back(static_cast<double>(v));
        }
        return out;
      },
      values);
}

/// Decodes one acquisition from a data client, in as many steps as the test wants.
class Reader {
 public:
  explicit Reader(panda::BlockingDataClient& data) : data_(data) {}

  /// Reads until `rows` rows of the acquisition arrived (or 10 s without data).
  std::size_t until_rows(std::size_t rows) {
    for (int idle = 0; idle < 100 && block_.rows() < rows && !a_.ended;)
      if (!step()) ++idle;
    return block_.rows();
  }
  /// Reads to the END (or 20 s without data) and returns the acquisition.
  Acquisition until_end() {
    for (int idle = 0; idle < 200 && !a_.ended;)
      if (!step()) ++idle;
    if (decoder_) {
      for (std::size_t c = 0; c < decoder_->specs().size(); ++c)
        a_.columns[decoder_->specs()[c].name] = as_doubles(block_.column(c));
    }
    return a_;
  }

 private:
  // One event; false on a read timeout.
  bool step() {
    panda::DataEvent ev = data_.next(100ms);
    if (auto* s = std::get_if<panda::StartData>(&ev)) {
      a_.start = *s;
      auto made = panda::ColumnDecoder::make(*s, panda::ColumnDecoder::Mode::scaled);
      REQUIRE(std::holds_alternative<panda::ColumnDecoder>(made));
      decoder_ = std::get<panda::ColumnDecoder>(std::move(made));
      block_ = decoder_->make_block();
    } else if (auto* f = std::get_if<panda::FrameData>(&ev)) {
      REQUIRE(decoder_);
      decoder_->append(*f, block_);
    } else if (auto* e = std::get_if<panda::EndData>(&ev)) {
      a_.end = *e;
      a_.ended = true;
    } else if (auto* err = std::get_if<panda::DataError>(&ev)) {
      if (err->code == panda::Errc::timed_out) return false;
      FAIL("data error: ", err->message);
    }
    return true;
  }

  panda::BlockingDataClient& data_;
  std::optional<panda::ColumnDecoder> decoder_;
  panda::ColumnBlock block_;
  Acquisition a_;
};

Acquisition read_acquisition(panda::BlockingDataClient& data) {
  return Reader(data).until_end();
}

}  // namespace

TEST_CASE("fly scan design on a turning encoder: one row per exposure, the encoder over it") {
  Box box("flyscan.sav");
  std::atomic<int> camera_triggers{0};  // TTLOUT1 rising edges, as the camera simulator sees them
  std::atomic<int> logged_triggers{0};  // a second subscriber (a trigger log)
  std::atomic<int> legacy_triggers{0};  // the legacy single slot still works beside them
  auto camera = box.fpga().subscribe_ttl_out([&](std::size_t n, bool level, sim::fpga::Tick) {
    if (n == 1 && level) ++camera_triggers;
  });
  auto logger = box.fpga().subscribe_ttl_out([&](std::size_t n, bool level, sim::fpga::Tick) {
    if (n == 1 && level) ++logged_triggers;
  });
  box.fpga().on_ttl_out([&](std::size_t n, bool level, sim::fpga::Tick) {
    if (n == 1 && level) ++legacy_triggers;
  });
  auto data = box.data_client();
  box.put("PCOMP1.PULSES", "50");
  auto armed = box.control.call(panda::Arm{}, 5s);  // PCAP.ACTIVE enables PCOMP1
  REQUIRE(armed.ok());
  box.move(-5000, 60'000, 100'000);  // 10 deg/s with the design's 0.0001 deg/count

  const Acquisition a = read_acquisition(*data);  // ends by itself: no disarm
  REQUIRE(a.ended);
  CHECK(a.end.reason == panda::EndReason::ok);
  CHECK(a.end.samples == 50);
  const auto& min = a.columns.at("INENC1.VAL.Min");
  const auto& max = a.columns.at("INENC1.VAL.Max");
  const auto& mean = a.columns.at("INENC1.VAL.Mean");
  const auto& ts_start = a.columns.at("PCAP.TS_START.Value");
  const auto& ts_end = a.columns.at("PCAP.TS_END.Value");
  const auto& trig = a.columns.at("PCAP.TS_TRIG.Value");
  REQUIRE(min.size() == 50);
  const double count = 0.0001;  // degrees
  for (std::size_t k = 0; k < min.size(); ++k) {
    INFO("row ", k);
    // START 0, STEP 1000 counts: each 1 ms exposure (PULSE1.WIDTH) opens two
    // ticks after the encoder reaches 1000·k (PCOMP, PULSE1: one register
    // each), long before the next count (1250 ticks apart at 100 000 counts/s),
    // and covers 100 counts: Min = 1000·k, Max = 1000·k + 100 within a count,
    // Mean (of the floored counts) = 1000·k + 49.5 within a count.
    CHECK(min[k] == doctest::Approx(0.1 * static_cast<double>(k)).epsilon(1e-12));
    CHECK(std::abs(max[k] - (0.1 * static_cast<double>(k) + 100 * count)) <= count * 1.001);
    CHECK(std::abs(mean[k] - (0.1 * static_cast<double>(k) + 49.5 * count)) <= count * 1.001);
    // The gate is the exposure: TS_END − TS_START = 1 ms; the capture is its end.
    CHECK(ts_end[k] - ts_start[k] == doctest::Approx(0.001).epsilon(1e-9));
    CHECK(trig[k] == ts_end[k]);
    // 1000 counts at 100 000 counts/s: 10 ms between exposures.
    if (k > 0) CHECK(trig[k] - trig[k - 1] == doctest::Approx(0.01).epsilon(1e-6));
  }
  auto done = box.control.call(panda::GetPcapCompletion{}, 5s);
  REQUIRE(done.ok());
  CHECK(done.value() == "Ok");
  CHECK(camera_triggers.load() == 50);  // one exposure per row
  CHECK(logged_triggers.load() == 50);
  CHECK(legacy_triggers.load() == 50);
}

namespace {

/// CLOCK1 at 1 kHz triggers PCAP (always enabled and gated); TS_TRIG captured.
void clocked_capture(Box& box) {
  box.put("CLOCK1.PERIOD.RAW", "125000");
  box.put("CLOCK1.ENABLE", "ONE");
  box.put("PCAP.TRIG", "CLOCK1.OUT");
  box.put("PCAP.GATE", "ONE");
  box.put("PCAP.ENABLE", "ONE");
  box.put("PCAP.TS_TRIG.CAPTURE", "Value");
}

}  // namespace

TEST_CASE("arm/disarm cycles with two data clients, RAW and SCALED, each getting every row") {
  Box box;
  clocked_capture(box);
  auto scaled = box.data_client();
  auto raw = box.data_client(true);
  for (int cycle = 0; cycle < 3; ++cycle) {
    CAPTURE(cycle);
    REQUIRE(box.control.call(panda::Arm{}, 5s).ok());
    Reader ra(*scaled), rb(*raw);
    CHECK(ra.until_rows(100) >= 100);
    REQUIRE(box.control.call(panda::Disarm{}, 5s).ok());
    const Acquisition a = ra.until_end();
    const Acquisition b = rb.until_end();
    REQUIRE(a.ended);
    REQUIRE(b.ended);
    CHECK(a.end.reason == panda::EndReason::disarmed);
    CHECK(b.end.reason == panda::EndReason::disarmed);
    CHECK(a.end.samples == b.end.samples);
    CHECK(a.end.samples >= 100);
    // The RAW client decoded every row of the acquisition itself: 1 ms apart.
    const auto& t = b.columns.at("PCAP.TS_TRIG.Value");
    REQUIRE(t.size() == b.end.samples);
    for (std::size_t k = 1; k < t.size(); ++k) REQUIRE(t[k] - t[k - 1] == doctest::Approx(0.001));
  }
}

TEST_CASE("a data client leaving mid-capture does not disturb the other, nor the next arm") {
  Box box;
  clocked_capture(box);
  auto stays = box.data_client();
  auto leaves = box.data_client();
  REQUIRE(box.control.call(panda::Arm{}, 5s).ok());
  CHECK(Reader(*leaves).until_rows(10) >= 10);
  leaves->close();
  Reader r(*stays);
  CHECK(r.until_rows(500) >= 500);
  REQUIRE(box.control.call(panda::Disarm{}, 5s).ok());
  const Acquisition a = r.until_end();
  REQUIRE(a.ended);
  CHECK(a.end.reason == panda::EndReason::disarmed);
  REQUIRE(box.control.call(panda::Arm{}, 5s).ok());
  REQUIRE(box.control.call(panda::Disarm{}, 5s).ok());
  CHECK(read_acquisition(*stays).ended);
}

TEST_CASE("ARM is refused while a data client has not taken the last acquisition's data") {
  Box box;
  clocked_capture(box);
  box.put("CLOCK1.PERIOD.RAW", "125");  // 1 MHz: megabytes within a moment
  box.put("INENC1.VAL.CAPTURE", "Value Min Max Mean");
  auto sleeper = box.data_client(true);  // connected, never reads
  REQUIRE(box.control.call(panda::Arm{}, 5s).ok());
  // The fast clock fills the socket, then the server's backlog: wait for that
  // (guard 60 s), not for a time a loaded machine may need more than.
  const auto guard = std::chrono::steady_clock::now() + 60s;
  while (box.data_backlog_bytes() == 0 && std::chrono::steady_clock::now() < guard)
    std::this_thread::sleep_for(5ms);
  REQUIRE(box.data_backlog_bytes() > 0);
  REQUIRE(box.control.call(panda::Disarm{}, 5s).ok());
  auto refused = box.control.call(panda::Arm{}, 5s);
  REQUIRE_FALSE(refused.ok());
  CHECK(std::string(refused.error().what()).find("Data clients still taking data") !=
        std::string::npos);
  // Once the client has read everything, arming works again.
  CHECK(read_acquisition(*sleeper).ended);
  CHECK(box.control.call(panda::Arm{}, 5s).ok());
}

TEST_CASE(
    "a data client with a 256 KiB low-water mark gets its OK at once and small acquisitions "
    "whole") {
  Box box;
  clocked_capture(box);
  panda::BlockingDataClient data;
  data.set_min_read(256u << 10);
  // Before the fix the OK was held back by the low-water mark until the
  // connect deadline; 30 s against a loopback reply of microseconds.
  const auto t0 = std::chrono::steady_clock::now();
  data.connect("127.0.0.1", box.data_port(), 30s);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  box.put("PCAP.ENABLE", "BITS.OUTA");
  box.put("BITS.A", "1");
  REQUIRE(box.control.call(panda::Arm{}, 5s).ok());
  Reader r(data);
  CHECK(r.until_rows(20) >= 20);
  box.put("BITS.A", "0");  // ENABLE falls: END Ok
  const Acquisition a = r.until_end();
  REQUIRE(a.ended);
  CHECK(a.end.reason == panda::EndReason::ok);
  CHECK(a.end.samples == a.columns.at("PCAP.TS_TRIG.Value").size());
}

TEST_CASE("every data format and processing gets the same rows from the simulated PCAP") {
  Box box;
  clocked_capture(box);
  box.put("PCAP.ENABLE", "BITS.OUTA");
  box.put("COUNTER1.ENABLE", "ONE");
  box.put("COUNTER1.TRIG", "CLOCK1.OUT");
  box.put("COUNTER1.OUT.CAPTURE", "Value Mean");
  box.put("COUNTER1.OUT.SCALE", "0.5");
  std::vector<std::unique_ptr<panda::BlockingDataClient>> clients;
  for (auto format : {panda::DataFormat::framed, panda::DataFormat::unframed,
                      panda::DataFormat::ascii, panda::DataFormat::base64}) {
    for (auto processing : {panda::Processing::raw, panda::Processing::scaled}) {
      panda::DataOptions options;
      options.format = format;
      options.processing = processing;
      clients.push_back(std::make_unique<panda::BlockingDataClient>(options));
      clients.back()->connect("127.0.0.1", box.data_port(), 5s);
    }
  }
  REQUIRE(box.control.call(panda::Arm{}, 5s).ok());
  box.put("BITS.A", "1");
  std::vector<Reader> readers;
  for (auto& c : clients) readers.emplace_back(*c);
  CHECK(readers.front().until_rows(300) >= 300);
  box.put("BITS.A", "0");
  std::vector<Acquisition> got;
  for (auto& r : readers) got.push_back(r.until_end());
  const auto& first = got.front();
  REQUIRE(first.ended);
  REQUIRE(first.end.samples >= 300);
  const auto& counts = first.columns.at("COUNTER1.OUT.Value");
  // COUNTER1 counts the same clock edges PCAP triggers on: the value at
  // trigger k (each a tick after the edge the counter saw) grows by one per row.
  for (std::size_t k = 1; k < counts.size(); ++k) REQUIRE(counts[k] - counts[k - 1] == 0.5);
  for (std::size_t i = 1; i < got.size(); ++i) {
    CAPTURE(i);
    REQUIRE(got[i].ended);
    CHECK(got[i].end.samples == first.end.samples);
    // RAW also carries the gate tick count the client divides Mean by; the
    // captured fields are in every stream.
    for (const char* name : {"COUNTER1.OUT.Value", "COUNTER1.OUT.Mean", "PCAP.TS_TRIG.Value"}) {
      CAPTURE(name);
      REQUIRE(got[i].columns.count(name) == 1);
      const auto& values = first.columns.at(name);
      const auto& other = got[i].columns.at(name);
      REQUIRE(other.size() == values.size());
      // ASCII SCALED prints %.10g: compare to 10 significant digits.
      for (std::size_t k = 0; k < values.size(); ++k)
        REQUIRE(other[k] == doctest::Approx(values[k]).epsilon(1e-9));
    }
  }
}

TEST_CASE("the Asio clients drive the simulated PCAP: arm, rows, disarm, END, re-arm") {
  Box box;
  clocked_capture(box);
  test::run_async([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
    panda::AsioClient control(ex);
    panda::AsioDataClient data(ex);
    co_await control.connect("127.0.0.1", box.port(), 2s);
    co_await data.connect("127.0.0.1", box.data_port(), 2s);
    for (int cycle = 0; cycle < 2; ++cycle) {
      CAPTURE(cycle);
      REQUIRE((co_await control.call(panda::Arm{})).ok());
      std::uint64_t rows = 0;
      bool started = false, disarmed = false;
      std::optional<panda::EndData> end;
      for (int idle = 0; idle < 100 && !end;) {
        panda::DataEvent ev = co_await data.next(100ms);
        if (std::holds_alternative<panda::StartData>(ev)) started = true;
        if (auto* f = std::get_if<panda::FrameData>(&ev)) rows += f->samples;
        if (auto* e = std::get_if<panda::EndData>(&ev)) end = *e;
        if (std::holds_alternative<panda::DataError>(ev)) ++idle;
        if (rows >= 200 && !disarmed) {
          REQUIRE((co_await control.call(panda::Disarm{})).ok());
          disarmed = true;
        }
      }
      CHECK(started);
      REQUIRE(end);
      CHECK(end->reason == panda::EndReason::disarmed);
      CHECK(end->samples == rows);
    }
  });
}

TEST_CASE("on one SimClock and thread the encoder follows a motor record: rests, moves, a STOP") {
  // The beamline's arrangement: the PandA runner (real_time on a SimClock at
  // 10 simulated s per wall s) and a motor record driven by a 1 ms timer on
  // the same io_context thread, the record's on_motion_change wired to
  // PandaFpga::motion_changed. At every timer tick INENC1.VAL must equal
  // floor(dial * counts/deg + offset) at the FPGA's time, and the FPGA must
  // never be ahead of the clock — also while the clock is held.
  constexpr double kCpu = 10000.0, kOffset = 0.5;
  auto clock = std::make_shared<sim::SimClock>(10.0);
  boost::asio::io_context io;
  sim::PandaServer::Options so;
  so.control_port = 0;
  so.data_port = 0;
  sim::PandaServer server(io, so);
  sim::PandaFpga::Options fo;
  fo.sim_clock = clock;
  sim::PandaFpga fpga(io, server, fo);
  sim::ca::MotorConfig mc;
  mc.prefix = "m";
  mc.velo = 10;
  mc.accl = 0.5;
  mc.position = 3;
  sim::ca::MotorRecord motor(mc);
  sim::ca::PvDatabase db;
  motor.publish(db);
  fpga.set_motion(1, motor.encoder_motion(kCpu, kOffset));
  const auto follow =
      motor.subscribe_motion_change([&](sim::Tick from) { fpga.motion_changed(1, from); });
  const auto dial = motor.motion();
  const auto val = fpga.engine().pos_index("INENC1.VAL");
  sim::Tick motor_now = 0;  // the record's time (the io thread's)

  auto at = [](double s) {
    return static_cast<sim::Tick>(s * static_cast<double>(kTicksPerSecond));
  };
  // The script, one step at a time, each after the previous one's effect (a
  // loaded machine may run the 1 ms timer late; times are simulated).
  int completed = 0;
  sim::Tick done_at = 0;  // when the last put-callback completed
  auto put = [&](const char* field, sim::ca::Elements v) {
    (void)db.find(std::string("m.") + field)->put(std::move(v), [&](std::uint32_t) {
      ++completed;
      done_at = motor_now;
    });
  };
  int step = 0, held_ticks = 0, checks = 0, mismatches = 0, ahead = 0;
  sim::Tick long_move_at = 0;
  std::promise<void> finished;
  boost::asio::steady_timer timer(io);
  std::function<void()> tick = [&] {
    motor_now = clock->now();
    motor.advance(motor_now, sim::ca::EpicsTime::from_unix_ns(clock->unix_ns(motor_now)));
    const sim::Tick now = motor_now;
    if (step == 0 && now >= at(0.5)) {  // at rest on 3, then 5 deg up
      put("VAL", sim::ca::Doubles{8.0});
      ++step;
    } else if (step == 1 && completed == 1 && now >= done_at + at(0.5)) {  // 10 deg back
      put("VAL", sim::ca::Doubles{-2.0});
      ++step;
    } else if (step == 2 && completed == 2 && now >= done_at + at(0.5)) {
      clock->hold();
      ++step;
    } else if (step == 3 && ++held_ticks == 30) {  // 30 timer ticks held, then a long move
      clock->release();
      // Long (200 s simulated, 20 s wall at 10x), so that the STOP 1 s into it
      // lands mid-move even when a loaded machine (an ASan build) stalls the
      // io thread for seconds: it once reached 200 before the STOP at 200.
      put("VAL", sim::ca::Doubles{2000.0});
      long_move_at = now;
      ++step;
    } else if (step == 4 && now >= long_move_at + at(1.0)) {  // stopped mid-move
      put("STOP", sim::ca::Shorts{1});
      ++step;
    }
    const sim::Tick t = fpga.engine().now();
    if (t > clock->now()) ++ahead;
    // Once the FPGA has processed its tick t (nothing pending at or before t).
    if (fpga.engine().next_event() > t) {
      ++checks;
      if (fpga.engine().pos(val) !=
          static_cast<std::int32_t>(std::floor(dial->position(t) * kCpu + kOffset)))
        ++mismatches;
    }
    if (step == 5 && completed == 4 && t > done_at + at(0.5)) return finished.set_value();
    timer.expires_after(1ms);
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  boost::asio::post(io, tick);
  std::thread thread([&] { io.run(); });
  const bool done = finished.get_future().wait_for(60s) == std::future_status::ready;
  io.stop();
  thread.join();
  fpga.stop();
  REQUIRE(done);
  CHECK(mismatches == 0);
  CHECK(ahead == 0);
  CHECK(checks > 50);
  CHECK(held_ticks == 30);
  CHECK(fpga.late_motion_changes() == 0);
  CHECK(completed == 4);  // three moves (the last one ended by the STOP) and the STOP itself
  // At rest between -2 and 2000: the STOP cut the long move; the encoder shows where.
  const double rest = dial->position(fpga.now());
  CHECK(rest > 5.0);
  CHECK(rest < 1900.0);
  CHECK(dial->position(sim::kNever - 1) == rest);
  CHECK(fpga.engine().pos(val) == static_cast<std::int32_t>(std::floor(rest * kCpu + kOffset)));
}

TEST_CASE("on a SimClock the data header's arm and start times are the clock's, PCAP ticks its") {
  // At 50 simulated s per wall s, 5 simulated s pass in 0.1 s of wall time: a
  // header dated by the host clock (or a clock of the runner's own) would say
  // ~0.1 s after the start; the shared clock's says >= 5 s.
  auto clock = std::make_shared<sim::SimClock>(50.0);
  boost::asio::io_context io;
  sim::PandaServer::Options so;
  so.control_port = 0;
  so.data_port = 0;
  sim::PandaServer server(io, so);
  sim::PandaFpga::Options fo;
  fo.sim_clock = clock;
  sim::PandaFpga fpga(io, server, fo);
  REQUIRE(fpga.clock() == clock);
  std::thread thread([&] { io.run(); });
  {
    panda::BlockingClient control;
    control.connect("127.0.0.1", server.control_port(), 5s);
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"CLOCK1.PERIOD.RAW", "1250000"},  // 10 ms of simulated time
             {"CLOCK1.ENABLE", "ONE"},
             {"PCAP.TRIG", "CLOCK1.OUT"},
             {"PCAP.GATE", "ONE"},
             {"PCAP.ENABLE", "ONE"},
             {"PCAP.TS_TRIG.CAPTURE", "Value"}})
      REQUIRE(control.call(panda::Put(name, value), 5s).ok());
    panda::BlockingDataClient data;
    data.connect("127.0.0.1", server.data_port(), 5s);
    const auto guard = std::chrono::steady_clock::now() + 30s;
    while ((server.data_clients_ready() < 1 || clock->now() < 5 * kTicksPerSecond) &&
           std::chrono::steady_clock::now() < guard)
      std::this_thread::sleep_for(1ms);
    REQUIRE(clock->now() >= 5 * kTicksPerSecond);
    const std::string before = clock->iso_utc(clock->now());
    REQUIRE(control.call(panda::Arm{}, 5s).ok());
    const std::string after = clock->iso_utc(clock->now());
    Reader reader(data);
    CHECK(reader.until_rows(3) >= 3);
    REQUIRE(control.call(panda::Disarm{}, 5s).ok());
    const Acquisition a = reader.until_end();
    REQUIRE(a.ended);
    INFO("arm_time ", a.start.arm_time, " not in [", before, ", ", after, "]");
    CHECK(before <= a.start.arm_time);  // same fixed-width ISO form: compares as time
    CHECK(a.start.arm_time <= after);
    CHECK(a.start.arm_time <= a.start.start_time);
    CHECK(a.start.start_time <= after);
    // TS_TRIG counts simulated time since the start: CLOCK1's 10 ms period.
    const auto& ts = a.columns.at("PCAP.TS_TRIG.Value");
    REQUIRE(ts.size() >= 3);
    for (std::size_t k = 1; k < ts.size(); ++k) CHECK(ts[k] - ts[k - 1] == doctest::Approx(0.01));
  }
  io.stop();
  thread.join();
  fpga.stop();
}

TEST_CASE("a motion change from another thread is posted; a held clock keeps the FPGA before it") {
  // The motor record on the test thread (as a CA server on its own thread
  // would run it), the PandA on the io thread; the clock is held while the
  // move is planned, so the FPGA cannot pass the move's start before the
  // posted change reaches the encoder.
  constexpr double kCpu = 10000.0;
  auto clock = std::make_shared<sim::SimClock>(4.0);
  clock->hold();
  boost::asio::io_context io;
  sim::PandaServer::Options so;
  so.control_port = 0;
  so.data_port = 0;
  sim::PandaServer server(io, so);
  sim::PandaFpga::Options fo;
  fo.sim_clock = clock;
  sim::PandaFpga fpga(io, server, fo);
  sim::ca::MotorConfig mc;
  mc.prefix = "m";
  sim::ca::MotorRecord motor(mc);
  sim::ca::PvDatabase db;
  motor.publish(db);
  fpga.set_motion(1, motor.encoder_motion(kCpu, 0.0));
  const auto follow =
      motor.subscribe_motion_change([&](sim::Tick from) { fpga.motion_changed(1, from); });
  std::thread thread([&] { io.run(); });
  auto on_io = [&](auto fn) {  // runs fn on the io thread, after everything posted before
    std::promise<decltype(fn())> result;
    boost::asio::post(io, [&] { result.set_value(fn()); });
    return result.get_future().get();
  };
  const sim::Tick start = clock->now();
  motor.advance(start, sim::ca::EpicsTime::from_unix_ns(clock->unix_ns(start)));
  (void)db.find("m.VAL")->put(sim::ca::Doubles{1.0}, [](std::uint32_t) {});  // 0 -> 1 deg
  const sim::Tick end = motor.motion()->end_tick();
  REQUIRE(end > start);
  CHECK(on_io([&] { return fpga.engine().now(); }) <= start);  // the change is applied now
  clock->release();
  const auto guard = std::chrono::steady_clock::now() + 30s;
  while (fpga.now() <= end && std::chrono::steady_clock::now() < guard)
    std::this_thread::sleep_for(1ms);
  REQUIRE(fpga.now() > end);
  const auto val = fpga.engine().pos_index("INENC1.VAL");
  CHECK(on_io([&] { return fpga.engine().pos(val); }) == 10000);
  CHECK(fpga.late_motion_changes() == 0);
  io.stop();
  thread.join();
  fpga.stop();
}

TEST_CASE("catch_up holds a clock it is behind: afterwards the clock is held or the FPGA close") {
  // An encoder counting 1 M/s (simulated) on a clock at 100 simulated s per
  // wall s: 2 ms of wall time leave the FPGA ~200 ms and ~200 k count events
  // behind, more than a wall millisecond of work. A catch_up that let the
  // clock run while it computed would leave it seconds behind, each call
  // longer than the last (an ASan beamline's io thread froze for 20 s so).
  class Fast final : public sim::fpga::MotionSource {
   public:
    [[nodiscard]] double position(sim::Tick t) const override {
      return static_cast<double>(t) / 125.0;
    }
    [[nodiscard]] sim::Tick next_change(sim::Tick t) const override { return (t / 125 + 1) * 125; }
  };
  const sim::Tick threshold = kTicksPerSecond / 100;
  auto clock = std::make_shared<sim::SimClock>(100.0);
  boost::asio::io_context io;
  sim::PandaServer::Options so;
  so.control_port = 0;
  so.data_port = 0;
  sim::PandaServer server(io, so);
  sim::PandaFpga::Options fo;
  fo.sim_clock = clock;
  fo.hold_clock_when_behind = threshold;
  sim::PandaFpga fpga(io, server, fo);
  fpga.set_motion(1, std::make_shared<Fast>());
  io.poll();  // the motion reaches INENC1; from here on only this thread runs the FPGA
  const auto val = fpga.engine().pos_index("INENC1.VAL");
  int behind_unheld = 0, held_after = 0;
  for (int k = 0; k < 20; ++k) {
    std::this_thread::sleep_for(2ms);
    fpga.catch_up(clock->now());
    if (clock->held()) {
      ++held_after;
    } else if (clock->now() - fpga.now() > threshold) {
      ++behind_unheld;
      break;  // the next call would take seconds, and the one after it minutes
    }
  }
  CHECK(behind_unheld == 0);
  CHECK(held_after > 0);  // the clock ran ahead by more than the threshold at least once
  CHECK(fpga.now() > kTicksPerSecond / 10);
  CHECK(fpga.engine().pos(val) == static_cast<std::int32_t>(fpga.now() / 125));
  fpga.stop();
}
