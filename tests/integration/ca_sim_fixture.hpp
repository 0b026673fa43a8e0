#pragma once
// The CA simulator (sim/ca/server.hpp) in-process for the CA client tests:
// one server per test process on ephemeral 127.0.0.1 ports, on its own
// io_context thread, and the client environment pointed at it (libca reads
// EPICS_CA_* when a Context creates its first channel, so every Context made
// after instance() talks only to this server; the server also answers the
// repeater port, so libca never tries to spawn caRepeater).
//
// PVs (names "itest:*"):
//   double  DOUBLE 3.5 (mm, PREC 3, display ±100, control ±10, alarm ±90, warning ±80)
//   float 2.5   long 42   short -7   char 200   string "hello"
//   enum  ENUM Off/On/Auto = On           readonly DOUBLE 1.0, not writable
//   waveform CHAR[64] "hello waveform"    shorts SHORT[100] with 3 valid {1,2,3}
//   empty DOUBLE[10] with 0 valid         image SHORT[307200] = i % 1000
//   cli:* copies for the command-line tests (long 42, enum On, double 3.5)
//   big DOUBLE[1048576] (zeros)           many:0 … many:199 LONG = their number
//   m1 motor record (VELO 10 deg/s, ACCL 0.1 s): m1.VAL, .RBV, .DMOV, .STOP ...
//   an ADSpinnaker camera itest:cam5:*, itest:image1:*, itest:ZMQ1:* (8 x 4
//   UInt16, AcquireTime 0.05 s, plugin_delay 2 s so the plugin's lag shows)
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "ca_loopback.hpp"
#include "sim/ca/camera.hpp"
#include "sim/ca/motor_record.hpp"
#include "sim/ca/pv.hpp"
#include "sim/ca/server.hpp"

namespace ca_itest {

namespace sim = pandafly::sim::ca;

class CaSim {
 public:
  static CaSim& instance() {
    static CaSim sim;
    return sim;
  }
  CaSim(const CaSim&) = delete;
  CaSim& operator=(const CaSim&) = delete;

  [[nodiscard]] std::uint16_t port() const { return loopback_->port(); }
  [[nodiscard]] sim::CaServer& server() { return loopback_->server(); }
  /// Runs `f` on the server's thread (PVs have no locks) and returns its result.
  template <class F>
  auto on_server(F f) -> decltype(f()) {
    return loopback_->on_server(std::move(f));
  }
  /// The server's log lines so far (protocol errors would show here).
  [[nodiscard]] std::vector<std::string> log() const {
    std::scoped_lock lock(mutex_);
    return log_;
  }

 private:
  CaSim() : db_(std::make_shared<sim::PvDatabase>()) {
    add_pvs();
    sim::MotorConfig m;
    m.prefix = "itest:m1";
    m.velo = 10;
    m.accl = 0.1;
    sim::CameraConfig c;
    c.prefix = "itest:";
    c.size_x = 8;
    c.size_y = 4;
    c.acquire_time = 0.05;
    c.plugin_delay = 2.0;
    loopback_ = std::make_unique<pandafly::test::CaLoopback>(
        db_,
        std::vector<std::shared_ptr<sim::Device>>{std::make_shared<sim::MotorRecord>(m),
                                                  std::make_shared<sim::Camera>(c)},
        [this](std::string_view line) {
          std::scoped_lock lock(mutex_);
          log_.emplace_back(line);
        });
  }

  void add(std::string name, sim::Elements v, sim::Metadata m = {}, bool writable = true,
           std::size_t nelm = 0) {
    db_->add(
        std::make_shared<sim::Pv>("itest:" + name, std::move(v), std::move(m), writable, nelm));
  }

  void add_pvs() {
    sim::Metadata mm;
    mm.units = "mm";
    mm.precision = 3;
    mm.upper_disp = 100, mm.lower_disp = -100, mm.upper_ctrl = 10, mm.lower_ctrl = -10;
    mm.upper_alarm = 90, mm.lower_alarm = -90, mm.upper_warning = 80, mm.lower_warning = -80;
    sim::Metadata modes;
    modes.enum_strings = {"Off", "On", "Auto"};
    const std::string text = "hello waveform";
    sim::Shorts image(307200);
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<std::int16_t>(i % 1000);
    add("double", sim::Doubles{3.5}, mm);
    add("float", sim::Floats{2.5f});
    add("long", sim::Longs{42});
    add("short", sim::Shorts{-7});
    add("char", sim::Chars{200});
    add("string", sim::Strings{"hello"});
    add("enum", sim::Enums{1}, modes);
    add("readonly", sim::Doubles{1.0}, {}, false);
    add("waveform", sim::Chars(text.begin(), text.end()), {}, true, 64);
    add("shorts", sim::Shorts{1, 2, 3}, {}, true, 100);
    add("empty", sim::Doubles{}, {}, true, 10);
    add("image", std::move(image), {}, true, 307200);
    add("cli:long", sim::Longs{42});
    add("cli:enum", sim::Enums{1}, modes);
    add("cli:double", sim::Doubles{3.5}, mm);
    add("big", sim::Doubles(1u << 20, 0.0), {}, true, 1u << 20);
    for (int i = 0; i < 200; ++i) add("many:" + std::to_string(i), sim::Longs{i});
  }

  std::shared_ptr<sim::PvDatabase> db_;
  mutable std::mutex mutex_;
  std::vector<std::string> log_;
  std::unique_ptr<pandafly::test::CaLoopback> loopback_;  // last: stopped first
};

}  // namespace ca_itest
