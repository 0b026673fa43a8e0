// motionbox::HomingRunner: see the Rules in homing_runner.hpp.
#include "pandafly/motionbox/homing_runner.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/error.hpp"
#include "pandafly/ca/monitor.hpp"
#include "pandafly/util/overloaded.hpp"

namespace pandafly::motionbox {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kFields[] = {"VAL",  "RBV",  "DMOV", "HLS",  "LLS",  "MSTA",
                                   "LVIO", "STOP", "SET",  "FOFF", "DHLM", "DLLM",
                                   "HLM",  "LLM",  "VELO", "ACCL", "SPMG"};
constexpr const char* kWatched[] = {"RBV", "DMOV", "HLS", "LLS", "MSTA", "LVIO"};

/// A monitored field's new value, merged into the status by the motor's thread.
struct FieldUpdate {
  std::string field;
  double value = 0;
};
using QueueItem = std::variant<FieldUpdate, Event>;

/// Unbounded on purpose: a few events per poll per motor; producers never block.
class Queue {
 public:
  void post(QueueItem item) {
    {
      std::scoped_lock lock(mutex_);
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
  }
  void clear() {
    std::scoped_lock lock(mutex_);
    items_.clear();
  }
  std::optional<QueueItem> pop_until(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_until(lock, deadline, [&] { return !items_.empty(); })) return std::nullopt;
    QueueItem item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<QueueItem> items_;
};

void merge(MotorStatus& s, const FieldUpdate& u) {
  if (u.field == "RBV") s.rbv = u.value;
  if (u.field == "DMOV") s.dmov = u.value != 0;
  if (u.field == "HLS") s.hls = u.value != 0;
  if (u.field == "LLS") s.lls = u.value != 0;
  if (u.field == "LVIO") s.lvio = u.value != 0;
  if (u.field == "MSTA") s.msta = static_cast<std::uint32_t>(u.value);
}

}  // namespace

/// One motor: its channels and, during run(), its queue.
struct Motor {
  MotorJob job;
  std::map<std::string, ca::Channel, std::less<>> pv;
  Queue queue;

  const ca::Channel& field(std::string_view f) const { return pv.find(f)->second; }

  MotorSettings read() const {
    MotorSettings s;
    const auto get = [&](const char* f) { return field(f).get<double>(ca::Timeout{5.0}); };
    s.status.rbv = get("RBV");
    s.status.dmov = get("DMOV") != 0;
    s.status.hls = get("HLS") != 0;
    s.status.lls = get("LLS") != 0;
    s.status.lvio = get("LVIO") != 0;
    s.status.msta = static_cast<std::uint32_t>(get("MSTA"));
    s.velo = get("VELO");
    s.accl = get("ACCL");
    s.dhlm = get("DHLM");
    s.dllm = get("DLLM");
    s.foff = field("FOFF").get<std::uint16_t>(ca::Timeout{5.0});
    s.spmg = field("SPMG").get<std::uint16_t>(ca::Timeout{5.0});
    return s;
  }
};

struct HomingRunner::Impl {
  Impl(const ca::Context& c, HomeOptions o) : context(c), options(std::move(o)) {}
  const ca::Context& context;
  HomeOptions options;
  std::vector<std::unique_ptr<Motor>> motors;
  std::mutex progress_mutex;
  std::mutex interrupt_mutex;
  std::optional<std::string> interrupted;  ///< set once interrupt() was called

  HomingParams params(const MotorEntry& e) const {
    HomingParams p = options.timing;
    p.direction = options.direction;
    p.lo_lim = e.lo_lim;
    p.center = e.center;
    p.hi_lim = e.hi_lim;
    p.tolerance = options.tolerance;
    return p;
  }

  MotorReport home(Motor& m, const OnProgress& on_progress);
  void execute(Motor& m, const Command& c, std::vector<std::jthread>& threads,
               util::StopToken stop);
};

void HomingRunner::Impl::execute(Motor& m, const Command& c, std::vector<std::jthread>& threads,
                                 util::StopToken stop) {
  const ca::Channel* ch = nullptr;
  std::function<void()> action;
  std::visit(util::Overloaded{
                 [&](const Put& p) {
                   ch = &m.field(p.field);
                   action = [ch, p, stop] {
                     if (p.as_enum) {
                       ch->put_wait(static_cast<std::uint16_t>(p.value), ca::Timeout{5.0}, stop);
                     } else {
                       ch->put_wait(p.value, ca::Timeout{5.0}, stop);
                     }
                   };
                 },
                 [&](const Move& mv) {
                   ch = &m.field("VAL");
                   action = [ch, mv, stop] {
                     ch->put_wait(mv.target, ca::Timeout{mv.timeout + 5.0}, stop);
                   };
                 },
                 [&](const Stop&) {
                   ch = &m.field("STOP");
                   action = [ch, stop] { ch->put_wait(std::int16_t{1}, ca::Timeout{5.0}, stop); };
                 }},
             c.body);
  threads.emplace_back([&m, id = c.id, action = std::move(action)] {
    try {
      action();
      m.queue.post(Event{Done{id}});
    } catch (const std::exception& e) {
      m.queue.post(Event{Failed{id, e.what()}});
    }
  });
}

MotorReport HomingRunner::Impl::home(Motor& m, const OnProgress& on_progress) {
  const auto t0 = Clock::now();
  const auto now = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  MotorReport report{m.job.name, m.job.entry.pv_root, options.direction, {}, {}, 0};
  Homing homing(params(m.job.entry));
  util::StopSource commands_stop;
  std::vector<std::jthread> threads;
  std::vector<std::unique_ptr<ca::Monitor>> monitors;
  std::vector<std::jthread> watchers;
  MotorStatus status;
  {
    // Nothing left from an earlier run (its ids would match this one's); an
    // interrupt() that came before this run still counts, once.
    std::scoped_lock lock(interrupt_mutex);
    m.queue.clear();
    if (interrupted) m.queue.post(Event{Interrupted{*interrupted}});
  }
  try {
    for (const char* f : kWatched) {
      auto& mon = monitors.emplace_back(std::make_unique<ca::Monitor>(
          m.field(f), ca::MonitorOptions{.type = ca::FieldType::float64}));
      watchers.emplace_back([&m, mon = mon.get(), field = std::string(f)](std::stop_token st) {
        while (!st.stop_requested()) {
          auto u = mon->pop(ca::Timeout{0.1});
          if (!u) {
            if (mon->closed()) return;
            continue;
          }
          const auto& v = std::get<std::vector<double>>(u->value);
          if (!v.empty()) m.queue.post(FieldUpdate{field, v.front()});
        }
      });
    }
    const MotorSettings settings = m.read();
    status = settings.status;
    report.plan = plan(params(m.job.entry), settings);
    homing.start(settings, now());
  } catch (const std::exception& e) {
    homing.handle(Event{Interrupted{fmt::format("cannot read the motor: {}", e.what())}}, now());
  }
  Phase shown = Phase::idle;
  MotorStatus shown_status;
  while (!homing.finished()) {
    for (const auto& c : homing.take_commands()) execute(m, c, threads, commands_stop.get_token());
    const auto d = homing.deadline();
    const auto wake = t0 + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(d ? *d : now() + 1.0));
    auto item = m.queue.pop_until(std::max(wake, Clock::now()));
    if (!item) {
      homing.handle(Event{Tick{}}, now());
    } else if (const auto* u = std::get_if<FieldUpdate>(&*item)) {
      merge(status, *u);
      homing.handle(Event{Status{status}}, now());
    } else {
      homing.handle(std::get<Event>(*item), now());
    }
    if (on_progress && (homing.phase() != shown || homing.status() != shown_status)) {
      shown = homing.phase();
      shown_status = homing.status();
      std::scoped_lock lock(progress_mutex);
      on_progress({m.job.name, shown, shown_status});
    }
  }
  // Shutdown order: command threads (a put-callback still waiting is
  // abandoned: the motor was stopped or has arrived), then the monitors.
  commands_stop.request_stop();
  threads.clear();
  for (auto& mon : monitors) mon->close();
  watchers.clear();
  report.result = homing.result();
  // Where it stands: read once more at the end. The monitors' updates come
  // through one thread per field, so the last status the machine saw may
  // have RBV one poll behind DMOV.
  try {
    report.result.last = m.read().status;
  } catch (const std::exception&) {  // disconnected: keep the last status seen
  }
  report.seconds = now();
  if (on_progress) {
    std::scoped_lock lock(progress_mutex);
    on_progress({m.job.name, Phase::done, report.result.last});
  }
  return report;
}

HomingRunner::HomingRunner(const ca::Context& context, std::vector<MotorJob> jobs,
                           HomeOptions options)
    : impl_(std::make_unique<Impl>(context, std::move(options))) {
  for (auto& j : jobs) {
    auto m = std::make_unique<Motor>();
    m->job = std::move(j);
    impl_->motors.push_back(std::move(m));
  }
}

HomingRunner::~HomingRunner() = default;

void HomingRunner::connect() {
  for (auto& m : impl_->motors)
    for (const char* f : kFields)
      m->pv.emplace(f, ca::Channel(impl_->context, m->job.entry.pv_root + "." + f));
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(impl_->options.connect_timeout));
  std::vector<std::string> missing;
  for (auto& m : impl_->motors) {
    for (auto& [f, ch] : m->pv) {
      const double left =
          std::max(0.01, std::chrono::duration<double>(deadline - Clock::now()).count());
      try {
        ch.wait_connected(ca::Timeout{left});
      } catch (const ca::Error&) {
        missing.push_back(fmt::format("{} (motor {})", ch.name(), m->job.name));
      }
    }
  }
  if (missing.empty()) return;
  std::string text;
  for (const auto& s : missing) text += "\n  " + s;
  throw ConnectError(fmt::format("{} PV(s) did not connect within {:g} s:{}", missing.size(),
                                 impl_->options.connect_timeout, text));
}

std::vector<MotorPlan> HomingRunner::plans() {
  std::vector<MotorPlan> out;
  for (auto& m : impl_->motors) {
    const MotorSettings s = m->read();
    out.push_back({m->job.name, s, plan(impl_->params(m->job.entry), s)});
  }
  return out;
}

std::vector<MotorReport> HomingRunner::run(OnProgress on_progress) {
  std::vector<MotorReport> reports(impl_->motors.size());
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < impl_->motors.size(); ++i)
      threads.emplace_back([this, i, &reports, &on_progress] {
        impl_->context.attach();
        reports[i] = impl_->home(*impl_->motors[i], on_progress);
      });
  }
  std::scoped_lock lock(impl_->interrupt_mutex);
  impl_->interrupted.reset();  // the next run() starts afresh
  return reports;
}

void HomingRunner::interrupt(std::string reason) {
  std::scoped_lock lock(impl_->interrupt_mutex);
  impl_->interrupted = reason;
  for (auto& m : impl_->motors) m->queue.post(Event{Interrupted{reason}});
}

}  // namespace pandafly::motionbox
