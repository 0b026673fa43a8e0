#include "pandafly/scan/scan_devices.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/monitor.hpp"
#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/design.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "pandafly/util/overloaded.hpp"
#include "pandafly/util/stop.hpp"

namespace pandafly::scan {

namespace {

using namespace std::chrono_literals;

constexpr ca::Timeout kConnect{5.0};
constexpr ca::Timeout kPut{10.0};
/// A move's put-callback is not given up by time: the state machine owns
/// the deadline and stops the motor, which completes the callback.
constexpr ca::Timeout kMove{24.0 * 3600};
constexpr unsigned kSlipStall = 1u << 6;
constexpr unsigned kProblem = 1u << 9;

}  // namespace

struct ScanDevices::Impl {
  const ScanConfig& config;
  const ca::Context& context;
  PandaScanFields panda_fields;
  Post post;
  std::map<std::string, ca::Channel, std::less<>> pvs;
  panda::BlockingClient panda;
  std::mutex panda_mutex;
  std::vector<std::jthread> threads;
  util::StopSource stop_source;  ///< abandons every CA wait (join(), stop())
  std::vector<std::unique_ptr<ca::Monitor>> monitors;
  std::vector<std::jthread> watchers;
  std::atomic<double> last_rotation{0};
  bool has_sample = false;
  ScanKind kind = ScanKind::fly;               ///< step: no PandA; the camera's TriggerSoftware
  Trigger camera_trigger = Trigger::internal;  ///< as the last ConfigureCamera set it
  double camera_exposure = 0;                  ///< s, likewise

  Impl(const ScanConfig& c, const ca::Context& ctx, Post p, ScanKind k)
      : config(c), context(ctx), post(std::move(p)), kind(k) {}

  [[nodiscard]] std::string rot(std::string_view field) const {
    return fmt::format("{}.{}", config.rotation.motor, field);
  }
  [[nodiscard]] std::string smp(std::string_view field) const {
    return fmt::format("{}.{}", config.flats.sample_motor, field);
  }
  [[nodiscard]] std::string cam(std::string_view pv) const {
    return config.camera.prefix + config.camera.cam + std::string(pv);
  }
  [[nodiscard]] std::string image(std::string_view pv) const {
    return config.camera.prefix + config.camera.image + std::string(pv);
  }
  [[nodiscard]] std::string zmq(std::string_view pv) const {
    return config.camera.prefix + config.camera.zmq_plugin + std::string(pv);
  }

  [[nodiscard]] std::vector<std::string> required_pvs() const {
    std::vector<std::string> names;
    for (const char* f :
         {"VAL",  "RBV",  "DMOV", "VELO", "VMAX", "VBAS", "ACCL", "HLM", "LLM",  "DHLM", "DLLM",
          "MRES", "ERES", "RDBD", "EGU",  "DIR",  "STOP", "HLS",  "LLS", "LVIO", "MSTA"})
      names.push_back(rot(f));
    if (has_sample)
      for (const char* f : {"VAL", "RBV", "VELO", "STOP", "HLS", "LLS", "LVIO"})
        names.push_back(smp(f));
    for (const char* f : {"TriggerMode", "TriggerSource", "ImageMode", "NumImages", "AcquireTime",
                          "AcquirePeriod", "Acquire", "ArrayCallbacks", "ArrayCounter_RBV",
                          "DataType_RBV", "SizeX_RBV", "SizeY_RBV"})
      names.push_back(cam(f));
    if (kind == ScanKind::step && config.camera.step_trigger == StepTrigger::software)
      names.push_back(cam("TriggerSoftware"));
    if (kind == ScanKind::cont) names.push_back(cam("GC_AcqResFrameRate_RBV"));
    if (config.camera.frames == FrameSource::ca) {
      names.push_back(image("EnableCallbacks"));
      names.push_back(image("ArrayCallbacks"));
    } else {
      names.push_back(zmq("EnableCallbacks"));
    }
    if (!config.camera.frame_type_pv.empty()) names.push_back(config.camera.frame_type_pv);
    if (!config.shutter.command.empty()) names.push_back(config.shutter.command);
    return names;
  }

  void connect_all() {
    const auto names = required_pvs();
    for (const auto& n : names) pvs.emplace(n, ca::Channel(context, n));
    std::vector<std::string> missing;
    // One deadline for all: the searches went out together, so a missing PV
    // must not cost the timeout again for every other one.
    const auto deadline = std::chrono::steady_clock::now() + kConnect;
    for (auto& [name, ch] : pvs) {
      try {
        const auto left =
            std::max(ca::Timeout{0.0}, ca::Timeout(deadline - std::chrono::steady_clock::now()));
        ch.wait_connected(left);
      } catch (const ca::Error&) {
        missing.push_back(name);
      }
    }
    std::string panda_error;
    try {
      if (kind == ScanKind::fly)
        panda.connect(config.panda.host, config.panda.control_port,
                      std::chrono::milliseconds(static_cast<long>(config.panda.timeout_s * 1000)));
    } catch (const std::exception& e) {
      panda_error = e.what();
    }
    if (missing.empty() && panda_error.empty()) return;
    std::string what = "the scan cannot start:";
    if (!missing.empty())
      what += fmt::format(" {} PV(s) did not connect within {:.0f} s: {}", missing.size(),
                          kConnect.count(), fmt::join(missing, ", "));
    if (!panda_error.empty())
      what += fmt::format("{} PandA control port: {}", missing.empty() ? "" : ";", panda_error);
    throw std::runtime_error(what);
  }

  [[nodiscard]] const ca::Channel& pv(const std::string& name) const {
    auto it = pvs.find(name);
    if (it == pvs.end()) throw std::logic_error("fly devices: PV not connected at start: " + name);
    return it->second;
  }

  /// Pops `monitor`'s updates on a thread of its own and hands each value
  /// (as double) to `on_value`, until join().
  void watch(const std::string& name, std::function<void(double)> on_value) {
    auto& m = monitors.emplace_back(std::make_unique<ca::Monitor>(
        pv(name), ca::MonitorOptions{.type = ca::FieldType::float64}));
    watchers.emplace_back(
        [monitor = m.get(), on_value = std::move(on_value)](std::stop_token stop) {
          while (!stop.stop_requested()) {
            auto u = monitor->pop(ca::Timeout{0.1});
            if (!u) {
              if (monitor->closed()) return;
              continue;
            }
            const auto& v = std::get<std::vector<double>>(u->value);
            if (!v.empty()) on_value(v.front());
          }
        });
  }

  void start_monitors() {
    // Stall: MSTA SLIP_STALL or PROBLEM, reported once per occurrence.
    auto stalled_before = std::make_shared<bool>(false);
    watch(rot("MSTA"), [this, stalled_before](double value) {
      const auto bits = static_cast<unsigned>(value);
      const bool stalled = (bits & (kSlipStall | kProblem)) != 0;
      if (stalled && !*stalled_before) {
        double where = last_rotation.load();
        try {  // the RBV monitor may be up to a poll behind: read where it stands
          where = pv(rot("RBV")).get<double>(ca::Timeout{1.0});
        } catch (const ca::Error&) {
        }
        post(MotorStatus{Axis::rotation, where, true});
      }
      *stalled_before = stalled;
    });
    // Progress: the positions the record posts while it moves.
    watch(rot("RBV"), [this](double value) {
      last_rotation = value;
      post(MotorStatus{Axis::rotation, value, false});
    });
    if (has_sample)
      watch(smp("RBV"), [this](double value) { post(MotorStatus{Axis::sample, value, false}); });
  }

  // ---- commands ----

  void panda_puts(const FieldList& fields) {
    if (fields.empty()) return;
    std::vector<panda::Put> puts;
    for (const auto& [k, v] : fields) puts.emplace_back(k, v);
    std::scoped_lock lock(panda_mutex);
    const auto results = panda.call_all(std::move(puts), timeout());
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (!results[i])
        throw std::runtime_error(fmt::format("PandA refused {}={}: {}", fields[i].first,
                                             fields[i].second, results[i].error().what()));
    }
  }
  [[nodiscard]] std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<long>(config.panda.timeout_s * 1000));
  }

  [[nodiscard]] util::StopToken tok() const { return stop_source.get_token(); }

  void run(const SetShutter& c) {
    pv(config.shutter.command)
        .put_wait(c.open ? config.shutter.open : config.shutter.close, ca::Timeout{60.0}, tok());
  }
  void run(const SetFrameType& c) {
    pv(config.camera.frame_type_pv).put_wait(static_cast<std::uint16_t>(c.kind), kPut, tok());
  }
  void run(const ConfigureCamera& c) {
    pv(cam("Acquire")).put_wait(std::int32_t{0}, kPut, tok());
    const bool single = c.trigger == Trigger::single;
    camera_trigger = c.trigger;
    camera_exposure = c.exposure;
    pv(cam("ImageMode")).put_wait(single ? "Single" : "Multiple", kPut, tok());
    pv(cam("NumImages")).put_wait(static_cast<std::int32_t>(single ? 1 : c.images), kPut, tok());
    pv(cam("AcquireTime")).put_wait(c.exposure, kPut, tok());
    pv(cam("AcquirePeriod")).put_wait(c.trigger == Trigger::internal ? c.period : 0.0, kPut, tok());
    if (c.trigger == Trigger::external) {
      pv(cam("TriggerMode")).put_wait("On", kPut, tok());
      pv(cam("TriggerSource")).put_wait(config.camera.trigger_source.c_str(), kPut, tok());
    } else if (c.trigger == Trigger::software) {
      pv(cam("TriggerMode")).put_wait("On", kPut, tok());
      pv(cam("TriggerSource")).put_wait("Software", kPut, tok());
    } else {
      pv(cam("TriggerMode")).put_wait("Off", kPut, tok());
    }
    pv(cam("ArrayCallbacks")).put_wait("Enable", kPut, tok());
    if (config.camera.frames == FrameSource::ca) {
      pv(image("EnableCallbacks")).put_wait("Enable", kPut, tok());
      pv(image("ArrayCallbacks")).put_wait("Enable", kPut, tok());
    } else {
      pv(zmq("EnableCallbacks")).put_wait("Enable", kPut, tok());
    }
  }
  void run(const StartCamera&) {
    // Not a put-callback: it would complete only when the acquisition ends.
    // A read of the same PV on the same circuit is answered after the put.
    auto& acquire = pv(cam("Acquire"));
    acquire.put(std::int32_t{1});
    (void)acquire.get<std::int32_t>(kPut, tok());
  }
  /// In software trigger: TriggerSoftware = 1 as a put-callback, a GenICam
  /// command the driver completes when the camera accepted it (not when the
  /// frame is out: the scan waits on the frame itself). In single image:
  /// Acquire = 1 as a put-callback, complete when the acquisition ended
  /// (exposure and readout; the plugins may not have the frame yet), so the
  /// next Acquire finds the camera idle.
  void run(const TriggerCamera&) {
    if (camera_trigger == Trigger::single) {
      pv(cam("Acquire")).put_wait(std::int32_t{1}, ca::Timeout{camera_exposure} + kPut, tok());
      return;
    }
    pv(cam("TriggerSoftware")).put_wait(std::int32_t{1}, kPut, tok());
  }
  void run(const StopCamera&) { pv(cam("Acquire")).put_wait(std::int32_t{0}, kPut, tok()); }
  void run(const PutPandaFields&) { panda_puts(panda_fields.fields); }
  void run(const ArmPanda&) {
    {
      std::scoped_lock lock(panda_mutex);
      panda.run(panda::Arm{}, timeout());
    }
    panda_puts(panda_fields.after_arm);
  }
  void run(const DisarmPanda&) {
    panda_puts(panda_fields.before_disarm);
    std::scoped_lock lock(panda_mutex);
    panda.run(panda::Disarm{}, timeout());
  }
  void run(const SetSpeed& c) {
    pv(c.axis == Axis::rotation ? rot("VELO") : smp("VELO")).put_wait(c.speed, kPut, tok());
  }
  void run(const StopMotor& c) {
    auto& stop = pv(c.axis == Axis::rotation ? rot("STOP") : smp("STOP"));
    stop.put(std::int32_t{1});
    (void)stop.get<std::int32_t>(kPut, tok());
  }
  MoveDone run_move(std::uint64_t id, const Move& c) {
    auto f = [&](std::string_view field) {
      return c.axis == Axis::rotation ? rot(field) : smp(field);
    };
    pv(f("VAL")).put_wait(c.position, kMove, tok());
    MoveDone done;
    done.id = id;
    done.position = pv(f("RBV")).get<double>(kPut, tok());
    done.high_limit = pv(f("HLS")).get<std::int32_t>(kPut, tok()) != 0;
    done.low_limit = pv(f("LLS")).get<std::int32_t>(kPut, tok()) != 0;
    done.soft_limit = pv(f("LVIO")).get<std::int32_t>(kPut, tok()) != 0;
    return done;
  }

  void execute(const Command& command) {
    threads.emplace_back([this, command] {
      try {
        std::visit(util::Overloaded{[&](const Move& m) { post(run_move(command.id, m)); },
                                    [&](const CloseFile&) {
                                      throw std::logic_error("CloseFile is not a device command");
                                    },
                                    [&](const auto& c) {
                                      run(c);
                                      post(StepDone{command.id});
                                    }},
                   command.body);
      } catch (const std::exception& e) {
        post(StepFailed{command.id, e.what()});
      }
    });
  }
};

ScanDevices::ScanDevices(const ScanConfig& config, const ca::Context& context, Post post,
                         ScanKind kind)
    : impl_(std::make_unique<Impl>(config, context, std::move(post), kind)) {
  const bool flats = config.flats.count > 0 && config.flats.when != When::none;
  impl_->has_sample = flats;
  impl_->connect_all();
  impl_->start_monitors();
}

ScanDevices::~ScanDevices() {
  join();
}

std::size_t ScanDevices::load_design(const std::string& design_text) {
  const auto wanted = panda::Design::parse(design_text);
  std::scoped_lock lock(impl_->panda_mutex);
  const auto now = impl_->panda.run(panda::GetState{}, impl_->timeout());
  const auto report = impl_->panda.run(panda::SetState{now.changes_to(wanted)}, impl_->timeout());
  if (!report.errors.empty())
    throw std::runtime_error(fmt::format("the PandA refused {} line(s) of the design; first: {}",
                                         report.errors.size(), report.errors.front().what()));
  return report.sent;
}

MotorFacts ScanDevices::read_motor_facts() const {
  auto d = [&](const char* f) { return impl_->pv(impl_->rot(f)).get<double>(kPut); };
  MotorFacts m;
  m.velo = d("VELO");
  m.vmax = d("VMAX");
  m.vbas = d("VBAS");
  m.accl = d("ACCL");
  m.hlm = d("HLM");
  m.llm = d("LLM");
  m.dhlm = d("DHLM");
  m.dllm = d("DLLM");
  m.mres = d("MRES");
  m.eres = d("ERES");
  m.rdbd = d("RDBD");
  m.rbv = d("RBV");
  m.egu = impl_->pv(impl_->rot("EGU")).get<std::string>(kPut);
  m.dir_neg = impl_->pv(impl_->rot("DIR")).get<std::uint16_t>(kPut) != 0;
  return m;
}

CameraFacts ScanDevices::read_camera_facts() const {
  CameraFacts c;
  c.data_type = impl_->pv(impl_->cam("DataType_RBV")).get<std::string>(kPut);
  c.size_x = impl_->pv(impl_->cam("SizeX_RBV")).get<std::int32_t>(kPut);
  c.size_y = impl_->pv(impl_->cam("SizeY_RBV")).get<std::int32_t>(kPut);
  try {  // optional: not every camera IOC serves it
    c.model = ca::Channel::connect(impl_->context, impl_->cam("Model_RBV"), ca::Timeout{1.0})
                  .get<std::string>(kPut);
  } catch (const ca::Error&) {
  }
  return c;
}

std::optional<double> ScanDevices::sample_position() const {
  if (!impl_->has_sample) return std::nullopt;
  return impl_->pv(impl_->smp("RBV")).get<double>(kPut);
}

double ScanDevices::configure_frame_rate(double exposure, double period) {
  auto& i = *impl_;
  i.pv(i.cam("AcquireTime")).put_wait(exposure, kPut, i.tok());
  i.pv(i.cam("AcquirePeriod")).put_wait(period, kPut, i.tok());
  return i.pv(i.cam("GC_AcqResFrameRate_RBV")).get<double>(kPut, i.tok());
}

double ScanDevices::sample_speed() const {
  if (!impl_->has_sample) return 1.0;
  return impl_->pv(impl_->smp("VELO")).get<double>(kPut);
}

void ScanDevices::set_panda_fields(PandaScanFields fields) {
  impl_->panda_fields = std::move(fields);
}

void ScanDevices::execute(const Command& command) {
  impl_->execute(command);
}

std::optional<std::uint64_t> ScanDevices::camera_frame_counter() const {
  try {
    const auto n = impl_->pv(impl_->cam("ArrayCounter_RBV")).get<std::int32_t>(kPut);
    return n < 0 ? std::nullopt : std::optional<std::uint64_t>(static_cast<std::uint64_t>(n));
  } catch (const ca::Error&) {
    return std::nullopt;
  }
}

void ScanDevices::stop() {
  impl_->stop_source.request_stop();
}

void ScanDevices::join() {
  // Commands still waiting (a put-callback the IOC never completes) give up.
  impl_->stop_source.request_stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
  for (auto& w : impl_->watchers) w.request_stop();
  for (auto& w : impl_->watchers)
    if (w.joinable()) w.join();
  impl_->watchers.clear();
  for (auto& m : impl_->monitors) m->close();
}

}  // namespace pandafly::scan
