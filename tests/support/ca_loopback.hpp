#pragma once
// Test support: the CA simulator (sim/ca/server.hpp) on ephemeral 127.0.0.1
// ports on its own io_context thread, with this process's libca environment
// pointed at it. libca reads EPICS_CA_* when a Context creates its first
// channel, so construct this before any ca::Context is used; the server also
// answers the repeater port, so libca never tries to spawn caRepeater.
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "sim/ca/device.hpp"
#include "sim/ca/pv.hpp"
#include "sim/ca/server.hpp"

namespace pandafly::test {

class CaLoopback {
 public:
  CaLoopback(std::shared_ptr<sim::ca::PvDatabase> db,
             std::vector<std::shared_ptr<sim::ca::Device>> devices,
             std::function<void(std::string_view)> log = {},
             std::function<void(sim::ca::CaServer::Options&)> configure = {})
      : db_(std::move(db)) {
    sim::ca::CaServer::Options o;
    o.port = 0;
    o.repeater_port = 0;
    if (log) o.log = std::move(log);
    if (configure) configure(o);  // e.g. a shared SimClock, faults
    server_ = std::make_unique<sim::ca::CaServer>(io_, db_, std::move(devices), o);
    const auto port = std::to_string(server_->port());
    ::setenv("EPICS_CA_AUTO_ADDR_LIST", "NO", 1);
    ::setenv("EPICS_CA_ADDR_LIST", ("127.0.0.1:" + port).c_str(), 1);
    ::setenv("EPICS_CA_SERVER_PORT", port.c_str(), 1);
    ::setenv("EPICS_CA_REPEATER_PORT", std::to_string(server_->repeater_port()).c_str(), 1);
    thread_ = std::thread([this] { io_.run(); });
  }
  CaLoopback(const CaLoopback&) = delete;
  CaLoopback& operator=(const CaLoopback&) = delete;
  ~CaLoopback() {
    server_->stop();
    io_.stop();
    thread_.join();
  }

  [[nodiscard]] std::uint16_t port() const { return server_->port(); }
  [[nodiscard]] sim::ca::CaServer& server() { return *server_; }
  [[nodiscard]] sim::ca::PvDatabase& db() { return *db_; }
  /// Runs `f` on the server's thread (PVs have no locks) and returns its result.
  template <class F>
  auto on_server(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

 private:
  boost::asio::io_context io_;
  std::shared_ptr<sim::ca::PvDatabase> db_;
  std::unique_ptr<sim::ca::CaServer> server_;
  std::thread thread_;
};

}  // namespace pandafly::test
