// pandafly-ca monitor: camonitor's habits. One line per update:
//   NAME YYYY-MM-DD HH:MM:SS.uuuuuu VALUE [STATUS SEVERITY]
// or one JSON object per line (--json). Connection changes are reported as
// "NAME *** disconnected" / {"pv": NAME, "event": "disconnected"}.
//
// Threads: libca's callbacks only append connection events to `events`; the
// main thread creates Monitors for channels that connected and drains them.
#include "pandafly/ca/monitor.hpp"

#include <atomic>
#include <csignal>
#include <deque>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "format.hpp"

namespace pandafly_ca {

namespace ca = pandafly::ca;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t interrupted = 0;
void on_signal(int) {
  interrupted = 1;
}

unsigned parse_mask(const std::string& letters) {
  unsigned mask = 0;
  for (char c : letters) {
    switch (c) {
      case 'v':
        mask |= ca::events::value;
        break;
      case 'a':
        mask |= ca::events::alarm;
        break;
      case 'l':
        mask |= ca::events::archive;
        break;
      case 'p':
        mask |= ca::events::property;
        break;
      default:
        throw InputError(fmt::format("-m: '{}' is none of v, a, l, p", c));
    }
  }
  if (mask == 0) throw InputError("-m: empty event mask");
  return mask;
}

struct Event {
  std::size_t index;
  ca::ConnectionState state;
};

// Connection changes, appended on libca's threads.
class Events {
 public:
  void push(Event e) {
    std::scoped_lock lock(mutex_);
    events_.push_back(e);
  }
  std::deque<Event> take() {
    std::scoped_lock lock(mutex_);
    return std::exchange(events_, {});
  }

 private:
  std::mutex mutex_;
  std::deque<Event> events_;
};

struct Entry {
  ca::Channel channel;
  std::optional<ca::Monitor> monitor;
  Shape shape;
  bool ever_connected = false;
};

class Printer {
 public:
  explicit Printer(bool json) : json_(json) {}

  void update(const std::string& pv, const ca::Update& u, const Shape& shape) {
    if (json_) {
      json j{{"pv", pv}, {"value", value_json(u.value, shape)}};
      add_time_json(j, u.stamp, u.alarm);
      fmt::print("{}\n", j.dump());
    } else {
      fmt::print("{} {} {}{}\n", pv, local_time_text(u.stamp), value_text(u.value, shape),
                 alarm_text(u.alarm));
    }
    std::fflush(stdout);
  }

  void event(const std::string& pv, std::string_view what) {
    if (json_) {
      fmt::print("{}\n", json{{"pv", pv}, {"event", what}}.dump());
    } else {
      fmt::print("{} *** {}\n", pv, what);
    }
    std::fflush(stdout);
  }

 private:
  bool json_;
};

}  // namespace

int cmd_monitor(const Session& s, const std::vector<std::string>& pvs) {
  const auto& o = s.options();
  const unsigned mask = parse_mask(o.mask);
  Events events;
  std::vector<Entry> entries;
  entries.reserve(pvs.size());
  for (std::size_t i = 0; i < pvs.size(); ++i) {
    entries.push_back({ca::Channel(s.context(), pvs[i],
                                   [&events, i](ca::ConnectionState st) {
                                     events.push({i, st});
                                   }),
                       std::nullopt,
                       {},
                       false});
  }
  interrupted = 0;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Printer print(o.json);
  const auto deadline = std::chrono::steady_clock::now() + s.timeout();
  bool reported_missing = false;
  std::uint64_t shown = 0;
  while (interrupted == 0 && (o.count == 0 || shown < o.count)) {
    for (const auto& e : events.take()) {
      auto& entry = entries[e.index];
      if (e.state == ca::ConnectionState::disconnected) print.event(pvs[e.index], "disconnected");
      if (e.state != ca::ConnectionState::connected || entry.monitor) continue;
      entry.ever_connected = true;
      entry.shape = {o.elements > 1 || (o.elements == 0 && entry.channel.element_count() > 1),
                     o.char_string};
      entry.monitor.emplace(
          entry.channel,
          ca::MonitorOptions{
              .type = request_type(entry.channel, o), .count = o.elements, .mask = mask});
    }
    if (!reported_missing && std::chrono::steady_clock::now() >= deadline) {
      reported_missing = true;
      std::size_t missing = 0;
      for (std::size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].ever_connected) continue;
        ++missing;
        print.event(pvs[i], fmt::format("not connected (not found within {:g} s)", o.timeout_s));
      }
      if (missing == entries.size()) return Exit::not_found;
    }
    bool any = false;
    for (std::size_t i = 0; i < entries.size() && (o.count == 0 || shown < o.count); ++i) {
      if (!entries[i].monitor) continue;
      while (auto u = entries[i].monitor->try_pop()) {
        print.update(pvs[i], *u, entries[i].shape);
        any = true;
        if (o.count != 0 && ++shown >= o.count) break;
      }
    }
    if (!any) std::this_thread::sleep_for(10ms);
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].monitor && entries[i].monitor->dropped() > 0) {
      s.error(fmt::format("{}: {} updates dropped (printing fell behind)", pvs[i],
                          entries[i].monitor->dropped()));
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return Exit::ok;
}

}  // namespace pandafly_ca
