// `pandafly motionbox serve`: see motionbox_serve.hpp.
#include "motionbox_serve.hpp"

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include "motionbox_page.hpp"
#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/context.hpp"
#include "pandafly/ca/monitor.hpp"
#include "pandafly/motionbox/box_file_io.hpp"
#include "pandafly/motionbox/homing_runner.hpp"
#include "pandafly/util/signal_watch.hpp"

namespace pandafly::tools {

namespace mb = pandafly::motionbox;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

/// An error answered as {"error": message} with an HTTP status.
struct ApiError {
  http::status status;
  std::string message;
};

// ---------------------------------------------------------------- the event hub
/// Server-sent events to every /events connection: a numbered log of the
/// last events; readers wait for numbers past the one they have.
class Hub {
 public:
  void publish(const std::string& event, const json& data) {
    {
      std::scoped_lock lock(mutex_);
      log_.push_back({++last_, fmt::format("event: {}\ndata: {}\n\n", event, data.dump())});
      if (log_.size() > 1000) log_.pop_front();
    }
    cv_.notify_all();
  }
  /// Events after `seen` (which is updated); waits up to `wait`. Empty when
  /// closed or on timeout.
  std::string wait_after(std::uint64_t& seen, std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, wait, [&] { return closed_ || last_ > seen; });
    std::string out;
    for (const auto& [n, text] : log_) {
      if (n > seen) out += text;
    }
    seen = last_;
    return out;
  }
  std::uint64_t last() {
    std::scoped_lock lock(mutex_);
    return last_;
  }
  void close() {
    {
      std::scoped_lock lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  bool closed() {
    std::scoped_lock lock(mutex_);
    return closed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::uint64_t, std::string>> log_;
  std::uint64_t last_ = 0;
  bool closed_ = false;
};

// ---------------------------------------------------------------- live status
constexpr const char* kLiveFields[] = {"RBV", "DMOV", "HLS", "LLS", "HLM", "LLM"};

/// CA monitors of every motor of the file while the server runs (the
/// HomingRunner monitors only during its run). Rebuilt when the file changes.
class LiveStatus {
 public:
  LiveStatus(const ca::Context& context, Hub& hub) : context_(context), hub_(hub) {}
  ~LiveStatus() { stop(); }
  LiveStatus(const LiveStatus&) = delete;
  LiveStatus& operator=(const LiveStatus&) = delete;

  void start() {
    thread_ = std::jthread([this](std::stop_token st) { loop(st); });
  }
  void stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }
  /// The motors to watch (name -> pv_root); applied by the monitor thread.
  void watch(std::map<std::string, std::string> motors) {
    std::scoped_lock lock(mutex_);
    wanted_ = std::move(motors);
    changed_ = true;
  }
  /// {"NAME": {"connected", "RBV", ...}} as last seen.
  json snapshot() {
    std::scoped_lock lock(mutex_);
    json out = json::object();
    for (const auto& [name, m] : motors_) out[name] = m.values;
    return out;
  }

 private:
  struct Motor {
    std::string pv_root;
    std::vector<ca::Channel> channels;
    std::vector<std::unique_ptr<ca::Monitor>> monitors;
    json values;
  };

  void rebuild() {
    std::map<std::string, std::string> wanted;
    {
      std::scoped_lock lock(mutex_);
      if (!changed_) return;
      changed_ = false;
      wanted = wanted_;
    }
    std::map<std::string, Motor> next;
    for (const auto& [name, root] : wanted) {
      Motor m;
      m.pv_root = root;
      m.values = json{{"pv_root", root}, {"connected", false}};
      for (const char* f : kLiveFields) {
        m.channels.emplace_back(context_, root + "." + f);
        m.monitors.push_back(std::make_unique<ca::Monitor>(
            m.channels.back(), ca::MonitorOptions{.type = ca::FieldType::float64}));
        m.values[f] = nullptr;
      }
      next.emplace(name, std::move(m));
    }
    std::scoped_lock lock(mutex_);
    motors_ = std::move(next);
  }

  /// Drains one motor's monitors; true when something changed.
  bool drain(Motor& m) {
    bool changed = false;
    for (std::size_t i = 0; i < m.monitors.size(); ++i) {
      while (auto u = m.monitors[i]->try_pop()) {
        const auto* v = std::get_if<std::vector<double>>(&u->value);
        if (v == nullptr || v->empty()) continue;
        std::scoped_lock lock(mutex_);
        m.values[kLiveFields[i]] = v->front();
        changed = true;
      }
    }
    bool connected = true;
    for (const auto& c : m.channels) connected = connected && c.connected();
    std::scoped_lock lock(mutex_);
    if (m.values["connected"] != connected) {
      m.values["connected"] = connected;
      changed = true;
    }
    return changed;
  }

  void loop(const std::stop_token& st) {
    while (!st.stop_requested()) {
      try {
        rebuild();
      } catch (const std::exception& e) {
        hub_.publish("error", {{"error", fmt::format("monitors: {}", e.what())}});
      }
      for (auto& [name, m] : motors_) {
        if (drain(m)) {
          json data;
          {
            std::scoped_lock lock(mutex_);
            data = m.values;
          }
          data["name"] = name;
          hub_.publish("status", data);
        }
      }
      std::this_thread::sleep_for(50ms);
    }
    std::scoped_lock lock(mutex_);
    motors_.clear();
  }

  const ca::Context& context_;
  Hub& hub_;
  std::mutex mutex_;
  std::map<std::string, std::string> wanted_;
  bool changed_ = false;
  std::map<std::string, Motor> motors_;  // touched by the thread; values under mutex_
  std::jthread thread_;
};

// ---------------------------------------------------------------- JSON helpers
const char* dir_name(mb::Direction d) {
  return d == mb::Direction::hi ? "hi" : "lo";
}

json report_json(const mb::MotorReport& r) {
  const auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(); };
  return {{"name", r.name},
          {"pv_root", r.pv_root},
          {"direction", dir_name(r.direction)},
          {"ok", r.result.ok},
          {"interrupted", r.result.interrupted},
          {"error", r.result.error},
          {"failed_in", r.result.ok ? "" : mb::phase_name(r.result.failed_in)},
          {"rbv", r.result.last.rbv},
          {"hls", r.result.last.hls},
          {"lls", r.result.last.lls},
          {"dmov", r.result.last.dmov},
          {"switch_before", opt(r.result.switch_before)},
          {"switch_value", opt(r.result.switch_value)},
          {"hlm", r.plan.hlm},
          {"llm", r.plan.llm},
          {"center", r.plan.center},
          {"seconds", r.seconds}};
}

json parse_body(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    throw ApiError{http::status::bad_request, fmt::format("request body: {}", e.what())};
  }
}

double number_field(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number())
    throw ApiError{http::status::bad_request, fmt::format("\"{}\": a number is required", key)};
  return j[key].get<double>();
}

std::string string_field(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty())
    throw ApiError{http::status::bad_request,
                   fmt::format("\"{}\": a non-empty string is required", key)};
  return j[key].get<std::string>();
}

/// %XX decoded (a motor name in a path; the page sends encodeURIComponent).
std::string url_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) != 0 &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2])) != 0) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

mb::MotorEntry entry_from(const json& j) {
  if (!j.is_object()) throw ApiError{http::status::bad_request, "the body must be a JSON object"};
  return {string_field(j, "pv_root"), number_field(j, "lo_lim"), number_field(j, "center"),
          number_field(j, "hi_lim")};
}

// ---------------------------------------------------------------- the server
class Server {
 public:
  explicit Server(const ServeOptions& o) : options_(o), live_(context_, hub_) {}

  json motors_json() {
    std::scoped_lock lock(file_mutex_);
    const auto box = mb::load_box_file(options_.json_path);
    const auto live = live_.snapshot();
    json list = json::array();
    for (const auto& name : box.names()) {
      const auto e = box.motor(name);
      list.push_back({{"name", name},
                      {"pv_root", e.pv_root},
                      {"lo_lim", e.lo_lim},
                      {"center", e.center},
                      {"hi_lim", e.hi_lim},
                      {"live", live.contains(name) ? live[name] : json()}});
    }
    return {{"file", options_.json_path},
            {"tolerance", box.tolerance()},
            {"motors", list},
            {"homing", homing_json()}};
  }

  /// Loads, edits and saves the file under the file mutex; republishes.
  template <class Edit>
  json edit(Edit&& change) {
    {
      std::scoped_lock lock(file_mutex_);
      auto box = mb::load_box_file(options_.json_path);
      change(box);
      mb::save_box_file(options_.json_path, box);
      watch(box);
    }
    auto all = motors_json();
    hub_.publish("file", all);
    return all;
  }

  void watch(const mb::BoxFile& box) {
    std::map<std::string, std::string> roots;
    for (const auto& n : box.names()) roots[n] = box.motor(n).pv_root;
    live_.watch(std::move(roots));
  }

  json homing_json() {
    std::scoped_lock lock(home_mutex_);
    return home_state_;
  }

  json start_home(const json& body) {
    if (!body.is_object()) throw ApiError{http::status::bad_request, "the body must be an object"};
    const std::string mode = body.value("mode", "");
    if (mode != "hi" && mode != "lo")
      throw ApiError{http::status::bad_request,
                     fmt::format("\"mode\" must be \"hi\" or \"lo\", got \"{}\"", mode)};
    std::vector<mb::MotorJob> jobs;
    double tolerance = 0;
    {
      std::scoped_lock lock(file_mutex_);
      const auto box = mb::load_box_file(options_.json_path);
      tolerance = box.tolerance();
      const json& motors = body.contains("motors") ? body["motors"] : json();
      if (motors == "all") {
        for (const auto& n : box.names()) jobs.push_back({n, box.motor(n)});
      } else if (motors.is_array()) {
        for (const auto& n : motors) {
          if (!n.is_string())
            throw ApiError{http::status::bad_request, "\"motors\": names must be strings"};
          if (!box.has(n.get<std::string>()))
            throw ApiError{
                http::status::not_found,
                fmt::format("no motor \"{}\" in {}", n.get<std::string>(), options_.json_path)};
          jobs.push_back({n, box.motor(n.get<std::string>())});
        }
      } else {
        throw ApiError{http::status::bad_request,
                       "\"motors\" must be \"all\" or a list of motor names"};
      }
    }
    if (jobs.empty()) throw ApiError{http::status::bad_request, "no motors to home"};
    mb::HomeOptions ho;
    ho.direction = mode == "hi" ? mb::Direction::hi : mb::Direction::lo;
    ho.tolerance = tolerance;
    ho.connect_timeout = options_.connect_timeout;
    json names = json::array();
    for (const auto& j : jobs) names.push_back(j.name);
    std::scoped_lock lock(home_mutex_);
    if (stopping_) throw ApiError{http::status::service_unavailable, "the server is stopping"};
    if (home_state_.value("running", false))
      throw ApiError{http::status::conflict, "a homing is already running; stop it first"};
    if (worker_.joinable()) worker_.join();  // the last one has finished
    runner_ = std::make_shared<mb::HomingRunner>(context_, jobs, ho);
    home_state_ = {{"running", true},
                   {"mode", mode},
                   {"motors", names},
                   {"reports", json::array()},
                   {"error", ""}};
    worker_ = std::thread([this, runner = runner_, mode, names] { home(runner, mode, names); });
    hub_.publish("home", home_state_);
    return home_state_;
  }

  void home(const std::shared_ptr<mb::HomingRunner>& runner, const std::string& mode,
            const json& names) {
    json state{{"running", false},
               {"mode", mode},
               {"motors", names},
               {"reports", json::array()},
               {"error", ""}};
    try {
      runner->connect();
      for (const auto& r : runner->run([this](const mb::MotorProgress& p) {
             hub_.publish("progress", {{"name", p.name},
                                       {"phase", mb::phase_name(p.phase)},
                                       {"RBV", p.status.rbv},
                                       {"HLS", p.status.hls ? 1 : 0},
                                       {"LLS", p.status.lls ? 1 : 0},
                                       {"DMOV", p.status.dmov ? 1 : 0},
                                       {"MSTA", p.status.msta}});
           })) {
        state["reports"].push_back(report_json(r));
      }
    } catch (const std::exception& e) {
      state["error"] = e.what();
    }
    print_reports(state);
    {
      std::scoped_lock lock(home_mutex_);
      home_state_ = state;
    }
    hub_.publish("home", state);
  }

  /// One line per motor on stdout (the server's log): where each stands.
  static void print_reports(const json& state) {
    if (!state["error"].get<std::string>().empty())
      fmt::print("home {}: {}\n", state["mode"].get<std::string>(),
                 state["error"].get<std::string>());
    for (const auto& r : state["reports"]) {
      const bool ok = r["ok"].get<bool>();
      fmt::print("{}: {} {}{}{}; stands at RBV {:g} (HLS {:d}, LLS {:d}, DMOV {:d})\n",
                 r["name"].get<std::string>(),
                 ok                             ? "homed"
                 : r["interrupted"].get<bool>() ? "INTERRUPTED"
                                                : "FAILED",
                 r["direction"].get<std::string>(),
                 ok ? "" : " in " + r["failed_in"].get<std::string>(),
                 ok ? "" : ": " + r["error"].get<std::string>(), r["rbv"].get<double>(),
                 r["hls"].get<bool>(), r["lls"].get<bool>(), r["dmov"].get<bool>());
    }
    std::fflush(stdout);
  }

  json stop_all() {
    {
      std::scoped_lock lock(home_mutex_);
      if (runner_) runner_->interrupt("stopped from the page");
    }
    std::vector<std::string> roots;
    {
      std::scoped_lock lock(file_mutex_);
      const auto box = mb::load_box_file(options_.json_path);
      for (const auto& n : box.names()) roots.push_back(box.motor(n).pv_root);
    }
    json stopped = json::array(), failed = json::array();
    for (const auto& root : roots) {
      try {
        auto c = ca::Channel::connect(context_, root + ".STOP", ca::Timeout{2.0});
        c.put_wait(std::int32_t{1}, ca::Timeout{2.0});
        stopped.push_back(root);
      } catch (const std::exception& e) {
        failed.push_back({{"pv_root", root}, {"error", e.what()}});
      }
    }
    return {{"stopped", stopped}, {"failed", failed}};
  }

  // ------------------------------------------------------------ HTTP
  http::response<http::string_body> route(const http::request<http::string_body>& req) {
    const std::string target(req.target());
    const auto method = req.method();
    const std::string motors_prefix = "/api/motors/";
    if (target == "/" || target == "/index.html") {
      require(method, http::verb::get);
      return reply(http::status::ok, kMotionboxPage, "text/html; charset=utf-8");
    }
    if (target == "/api/motors") {
      if (method == http::verb::get) return ok(motors_json());
      require(method, http::verb::post);
      const auto body = parse_body(req.body());
      const auto name = string_field(body, "name");
      const auto entry = entry_from(body);
      return reply_json(http::status::created, edit([&](mb::BoxFile& b) { b.add(name, entry); }));
    }
    if (target.rfind(motors_prefix, 0) == 0) {
      const auto name = url_decode(target.substr(motors_prefix.size()));
      if (method == http::verb::delete_) return ok(edit([&](mb::BoxFile& b) { b.remove(name); }));
      require(method, http::verb::put);
      const auto entry = entry_from(parse_body(req.body()));
      return ok(edit([&](mb::BoxFile& b) { b.change(name, entry); }));
    }
    if (target == "/api/home") {
      if (method == http::verb::get) return ok(homing_json());
      require(method, http::verb::post);
      return reply_json(http::status::accepted, start_home(parse_body(req.body())));
    }
    if (target == "/api/stop") {
      require(method, http::verb::post);
      return ok(stop_all());
    }
    throw ApiError{http::status::not_found, fmt::format("no such path: {}", target)};
  }

  static void require(http::verb got, http::verb want) {
    if (got != want)
      throw ApiError{
          http::status::method_not_allowed,
          fmt::format("method {} not allowed here (use {})", std::string(http::to_string(got)),
                      std::string(http::to_string(want)))};
  }

  static http::response<http::string_body> reply(http::status s, std::string body,
                                                 const char* type) {
    http::response<http::string_body> res{s, 11};
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(false);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }
  static http::response<http::string_body> reply_json(http::status s, const json& j) {
    return reply(s, j.dump(), "application/json");
  }
  static http::response<http::string_body> ok(const json& j) {
    return reply_json(http::status::ok, j);
  }

  /// Answers one request (any error as JSON), or streams /events.
  void session(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    boost::system::error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    if (req.target() == "/events" && req.method() == http::verb::get) return events(socket);
    http::response<http::string_body> res;
    try {
      res = route(req);
    } catch (const ApiError& e) {
      res = reply_json(e.status, {{"error", e.message}});
    } catch (const mb::FileError& e) {
      const std::string what = e.what();
      const bool unknown = what.find("no motor") != std::string::npos;
      res = reply_json(unknown ? http::status::not_found : http::status::bad_request,
                       {{"error", what}});
    } catch (const std::exception& e) {
      res = reply_json(http::status::internal_server_error, {{"error", e.what()}});
    }
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  void events(tcp::socket& socket) {
    boost::system::error_code ec;
    std::uint64_t seen = hub_.last();
    std::string first =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "Connection: close\r\n\r\nretry: 1000\n\n";
    const json live = live_.snapshot();
    for (const auto& [name, values] : live.items()) {
      auto data = values;
      data["name"] = name;
      first += fmt::format("event: status\ndata: {}\n\n", data.dump());
    }
    asio::write(socket, asio::buffer(first), ec);
    while (!ec && !hub_.closed()) {
      auto text = hub_.wait_after(seen, 10s);
      if (text.empty()) text = ": keep-alive\n\n";
      asio::write(socket, asio::buffer(text), ec);
    }
  }

  // ------------------------------------------------------------ lifetime
  int run() {
    {
      std::scoped_lock lock(file_mutex_);
      watch(mb::load_box_file(options_.json_path));
    }
    live_.start();
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), options_.port});
    const int listen_fd = acceptor.native_handle();
    fmt::print("pandafly motionbox: serving {} on http://127.0.0.1:{}/\n", options_.json_path,
               acceptor.local_endpoint().port());
    std::fflush(stdout);
    util::SignalWatch signals([this, listen_fd](int, int) {
      stopping_ = true;
      {
        std::scoped_lock lock(home_mutex_);
        if (runner_ && home_state_.value("running", false)) {
          interrupted_ = true;
          runner_->interrupt("interrupted: the server is stopping");
        }
      }
      ::shutdown(listen_fd, SHUT_RDWR);  // wakes accept()
    });
    accept_loop(acceptor);
    shutdown();
    return interrupted_ ? 7 : 0;
  }

  void accept_loop(tcp::acceptor& acceptor) {
    while (!stopping_) {
      boost::system::error_code ec;
      tcp::socket socket(acceptor.get_executor());
      acceptor.accept(socket, ec);
      if (ec) {
        if (stopping_) break;
        std::this_thread::sleep_for(10ms);
        continue;
      }
      std::scoped_lock lock(conn_mutex_);
      const int fd = socket.native_handle();
      fds_.insert(fd);
      ++active_;
      std::thread([this, fd, s = std::move(socket)]() mutable {
        session(std::move(s));
        std::scoped_lock l(conn_mutex_);
        fds_.erase(fd);
        --active_;
        conn_cv_.notify_all();
      }).detach();
    }
  }

  void shutdown() {
    std::thread worker;
    {
      std::scoped_lock lock(home_mutex_);  // no homing starts once stopping_ is set
      worker = std::move(worker_);
    }
    if (worker.joinable()) worker.join();  // the homing ends (interrupted)
    hub_.close();
    {
      std::unique_lock lock(conn_mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
      conn_cv_.wait_for(lock, 10s, [&] { return active_ == 0; });
    }
    live_.stop();
    fmt::print("pandafly motionbox: stopped\n");
  }

 private:
  ServeOptions options_;
  ca::Context context_;
  Hub hub_;
  LiveStatus live_;
  std::mutex file_mutex_;
  std::mutex home_mutex_;
  json home_state_{{"running", false}, {"reports", json::array()}, {"error", ""}};
  std::shared_ptr<mb::HomingRunner> runner_;
  std::thread worker_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> interrupted_{false};
  std::mutex conn_mutex_;
  std::condition_variable conn_cv_;
  std::set<int> fds_;
  int active_ = 0;
};

}  // namespace

int run_motionbox_serve(const ServeOptions& options) {
  try {
    Server server(options);
    return server.run();
  } catch (const mb::FileError& e) {
    fmt::print(stderr, "pandafly motionbox serve: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandafly motionbox serve: {}\n", e.what());
    return 3;
  }
}

}  // namespace pandafly::tools
