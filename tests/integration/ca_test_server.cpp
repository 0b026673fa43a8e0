// ca_test_server: the CA simulator serving one PV of every native type, for
// tests with real CA clients (tests/integration/sim_ca_pyepics_test.py).
//
//   test:string  STRING "hello"           test:short   SHORT 7 (units, limits)
//   test:float   FLOAT 2.5 (PREC 2)       test:enum    ENUM Off/On/Auto = On
//   test:char    CHAR 65                  test:long    LONG 42
//   test:double  DOUBLE 3.14159 (PREC 3, units mm, display ±100, control ±10, alarms)
//   test:waveform  CHAR[64] "hello waveform"      test:array  DOUBLE[1 000 000] i/2
//   test:readonly  DOUBLE 1.0, not writable
//   test:slow      DOUBLE; a put completes (and the value changes) 0.5 s later
//   test:ticker    LONG, +1 every 100 ms      test:m1.VAL  DOUBLE (also as test:m1)
//   test:kill      LONG; a put drops every client connection (an IOC restart)
//
// Usage: ca_test_server [--port N] [--repeater-port N]   (0: ephemeral)
// Prints "port <tcp/udp port> repeater <repeater port>" on stdout once
// serving; runs until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "sim/ca/device.hpp"
#include "sim/ca/pv.hpp"
#include "sim/ca/server.hpp"

namespace {

using namespace pandafly::sim;
using namespace pandafly::sim::ca;

constexpr Tick kPutDelay = kTicksPerSecond / 2;
constexpr Tick kTickerPeriod = kTicksPerSecond / 10;
constexpr std::size_t kArraySize = 1'000'000;

Metadata numeric(std::string units, std::int16_t precision, double display, double control) {
  Metadata m;
  m.units = std::move(units);
  m.precision = precision;
  m.upper_disp = display, m.lower_disp = -display;
  m.upper_alarm = 0.9 * display, m.upper_warning = 0.8 * display;
  m.lower_warning = -0.8 * display, m.lower_alarm = -0.9 * display;
  m.upper_ctrl = control, m.lower_ctrl = -control;
  return m;
}

// Owns the test PVs: keeps their put time current, completes test:slow's puts
// after kPutDelay and counts test:ticker up.
class TestDevice final : public Device {
 public:
  void publish(PvDatabase& db) override {
    Metadata modes;
    modes.enum_strings = {"Off", "On", "Auto"};
    const std::string text = "hello waveform";
    Doubles ramp(kArraySize);
    for (std::size_t i = 0; i < kArraySize; ++i) ramp[i] = static_cast<double>(i) / 2;
    slow_ = add(db, std::make_shared<Pv>("test:slow", Doubles{0.0}, numeric("deg", 2, 360, 360)));
    ticker_ = add(db, std::make_shared<Pv>("test:ticker", Longs{0}));
    add(db, std::make_shared<Pv>("test:string", Strings{"hello"}));
    add(db, std::make_shared<Pv>("test:short", Shorts{7}, numeric("cnt", 0, 1000, 500)));
    add(db, std::make_shared<Pv>("test:float", Floats{2.5f}, numeric("V", 2, 10, 5)));
    add(db, std::make_shared<Pv>("test:enum", Enums{1}, modes));
    add(db, std::make_shared<Pv>("test:char", Chars{65}));
    add(db, std::make_shared<Pv>("test:long", Longs{42}, numeric("counts", 0, 1e6, 1e5)));
    add(db, std::make_shared<Pv>("test:double", Doubles{3.14159}, numeric("mm", 3, 100, 10)));
    add(db, std::make_shared<Pv>("test:waveform", Chars(text.begin(), text.end()), Metadata{}, true,
                                 64));
    add(db, std::make_shared<Pv>("test:array", std::move(ramp), Metadata{}, true, kArraySize));
    add(db, std::make_shared<Pv>("test:readonly", Doubles{1.0}, Metadata{}, false));
    add(db, std::make_shared<Pv>("test:m1.VAL", Doubles{0.0}, numeric("deg", 3, 360, 360)));
    add(db, std::make_shared<Pv>("test:kill", Longs{0}));
    slow_->on_put([this](Pv&, Elements value, Pv::Completion done) {
      puts_.push_back({now_ + kPutDelay, std::move(value), std::move(done)});
      return kEcaNormal;
    });
  }

  void advance(Tick now, EpicsTime wall) override {
    now_ = now;
    for (auto& pv : pvs_) pv->set_put_time(wall);
    while (!puts_.empty() && puts_.front().due <= now) {
      Put put = std::move(puts_.front());
      puts_.pop_front();
      slow_->set(std::move(put.value), wall, true);
      put.done(kEcaNormal);
    }
    if (now >= next_tick_) {
      ticker_->set(Longs{++count_}, wall);
      next_tick_ = now + kTickerPeriod;
    }
  }

  [[nodiscard]] Tick next_wake() const override {
    return puts_.empty() ? next_tick_ : std::min(next_tick_, puts_.front().due);
  }

 private:
  struct Put {
    Tick due;
    Elements value;
    Pv::Completion done;
  };

  std::shared_ptr<Pv> add(PvDatabase& db, std::shared_ptr<Pv> pv) {
    db.add(pv);
    pvs_.push_back(pv);
    return pv;
  }

  std::vector<std::shared_ptr<Pv>> pvs_;
  std::shared_ptr<Pv> slow_, ticker_;
  std::deque<Put> puts_;
  Tick now_ = 0;
  Tick next_tick_ = 0;
  std::int32_t count_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("CA simulator serving one test PV of every native type");
  CaServer::Options options{.port = 0, .repeater_port = 0};
  app.add_option("--port", options.port, "TCP and UDP search port (0: ephemeral)");
  app.add_option("--repeater-port", options.repeater_port, "repeater port (0: ephemeral)");
  CLI11_PARSE(app, argc, argv);

  try {
    boost::asio::io_context io;
    auto db = std::make_shared<PvDatabase>();
    CaServer server(io, db, {std::make_shared<TestDevice>()}, options);
    db->find("test:kill")->on_put([&server](Pv& pv, Elements value, Pv::Completion done) {
      pv.set(std::move(value), {}, true);
      done(kEcaNormal);
      server.kill_connections();  // posted: runs after this request is answered
      return kEcaNormal;
    });
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
      server.stop();
      io.stop();
    });
    fmt::print("port {} repeater {}\n", server.port(), server.repeater_port());
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "ca_test_server: {}\n", e.what());
    return 1;
  }
  return 0;
}
