#pragma once
// The PandA simulator on its own io_context and thread, on ephemeral ports of
// 127.0.0.1, for integration tests. With Options::fpga the simulated FPGA runs
// too (fast virtual clock: as fast as the CPU allows, paced by data clients),
// so `*PCAP.ARM=` starts real captures; Options::design loads a file of panda/
// first.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "sim/panda/design_file.hpp"
#include "sim/panda/fpga_runner.hpp"
#include "sim/panda/server.hpp"

namespace pandafly::test {

class Simulator {
 public:
  struct Options {
    bool fpga = false;
    std::string design;                                      // a file name in panda/
    std::size_t max_backlog_bytes = std::size_t{256} << 20;  // per data client
    sim::PandaFaults faults = {};                            // Options::fpga only
    std::function<void(std::string_view)> log = {};          // the FPGA's log hook
  };

  Simulator() : Simulator(Options{}) {}
  explicit Simulator(const Options& o) : server_(io_, server_options(o)) {
    if (!o.design.empty()) load(o.design);
    if (o.fpga) {
      sim::PandaFpga::Options f;
      f.clock = sim::PandaFpga::Clock::fast;
      f.faults = o.faults;
      f.log = o.log;
      fpga_ = std::make_unique<sim::PandaFpga>(io_, server_, f);
    }
    thread_ = std::thread([this] { io_.run(); });
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  ~Simulator() { stop(); }

  /// Closes listeners and connections; the io_context then runs out of work.
  void stop() {
    if (fpga_) fpga_->stop();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return server_.control_port(); }
  [[nodiscard]] std::uint16_t data_port() const { return server_.data_port(); }
  [[nodiscard]] std::size_t requests() const { return server_.requests_received(); }
  [[nodiscard]] sim::PandaServer& server() { return server_; }
  sim::PandaServer* operator->() { return &server_; }
  /// PandaServer::data_backlog_bytes(), read on the io thread (where it must be).
  [[nodiscard]] std::size_t data_backlog_bytes() {
    std::promise<std::size_t> bytes;
    auto result = bytes.get_future();
    boost::asio::post(io_, [&] { bytes.set_value(server_.data_backlog_bytes()); });
    return result.get();
  }
  /// The simulated FPGA (Options::fpga only).
  [[nodiscard]] sim::PandaFpga& fpga() {
    if (!fpga_) throw std::logic_error("Simulator started without Options::fpga");
    return *fpga_;
  }

  /// Waits (guard: 30 s, for a loaded machine) until `n` data clients are connected and ready.
  [[nodiscard]] bool wait_for_data_clients(std::size_t n) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (server_.data_clients_ready() < n) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  static sim::PandaServer::Options server_options(const Options& o) {
    sim::PandaServer::Options s;
    s.control_port = 0;
    s.data_port = 0;
    s.max_backlog_bytes = o.max_backlog_bytes;
    return s;
  }
  void load(const std::string& design) {
    std::ifstream in(std::string(PANDAFLY_SOURCE_DIR) + "/panda/" + design);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw std::runtime_error("cannot read panda/" + design);
    const sim::Status s = sim::load_design(server_.model(), text.str());
    if (!s.ok()) throw std::runtime_error("panda/" + design + ": " + s.error());
  }

  boost::asio::io_context io_;
  sim::PandaServer server_;
  std::unique_ptr<sim::PandaFpga> fpga_;  // destroyed after the thread has stopped
  std::thread thread_;
};

}  // namespace pandafly::test
