// MotorRecord: its fields as PVs and the handling of client writes. The
// motion state machine is in motor_record_motion.cpp.
#include "sim/ca/motor_record.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>

namespace pandafly::sim::ca {
namespace {

constexpr std::string_view kDoubleFields[] = {
    "VAL",  "RBV",  "DVAL", "DRBV", "VELO", "VBAS", "VMAX", "ACCL", "ACCS", "HVEL", "HLM",
    "LLM",  "DHLM", "DLLM", "RDBD", "MRES", "OFF",  "TWV",  "DLY",  "MSTA", "JVEL", "JAR",
    "BDST", "BVEL", "BACC", "HOPR", "LOPR", "DIFF", "ERES", "RRES", "UREV"};
constexpr std::string_view kShortFields[] = {"DMOV", "MOVN", "STOP", "HOMF", "HOMR", "HLS",
                                             "LLS",  "TDIR", "ATHM", "PREC", "TWF",  "TWR",
                                             "LVIO", "JOGF", "JOGR", "MISS"};
constexpr std::string_view kLongFields[] = {"RVAL", "RRBV", "SREV"};
// Fields only the record writes.
constexpr std::string_view kReadOnly[] = {"RBV",  "DRBV", "DMOV", "MOVN", "HLS",  "LLS",
                                          "TDIR", "ATHM", "MSTA", "LVIO", "DIFF", "RRBV",
                                          "MISS", "STAT", "SEVR", "NAME", "RTYP"};
// Speeds: "<EGU>/sec" (the record's get_units); ACCL and BACC: "sec"; JAR
// "<EGU>/s/s"; SREV "steps/rev", UREV "<EGU>/rev" (CA keeps 7 characters);
// every other numeric field: EGU.
constexpr std::string_view kSpeedFields[] = {"VELO", "VBAS", "VMAX", "HVEL", "JVEL", "BVEL"};
// menuAlarmStat: CA carries the first 16 of its 22 choices.
const Strings kAlarmStat{"NO_ALARM", "READ", "WRITE",   "HIHI",    "HIGH", "LOLO", "LOW",  "STATE",
                         "COS",      "COMM", "TIMEOUT", "HWLIMIT", "CALC", "SCAN", "LINK", "SOFT"};
const Strings kAlarmSevr{"NO_ALARM", "MINOR", "MAJOR", "INVALID"};

bool contains(std::span<const std::string_view> list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

Metadata units(std::string units, std::int16_t precision) {
  Metadata m;
  m.units = std::move(units);
  if (m.units.size() > 7) m.units.resize(7);  // dbr_units_size - 1, as the record cuts it
  m.precision = precision;
  return m;
}

Metadata limits(Metadata m, double lower, double upper) {
  m.lower_disp = m.lower_ctrl = lower;
  m.upper_disp = m.upper_ctrl = upper;
  return m;
}

Metadata states(Strings strings) {
  Metadata m;
  m.enum_strings = std::move(strings);
  return m;
}

}  // namespace

MotorRecord::MotorRecord(MotorConfig config)
    : config_(std::move(config)),
      motion_(std::make_shared<MotorMotion>(config_.position)),
      velo_(config_.velo),
      vbas_(config_.vbas),
      vmax_(config_.vmax),
      accl_(config_.accl),
      hvel_(config_.hvel),
      dhlm_(config_.dhlm),
      dllm_(config_.dllm),
      mres_(config_.mres),
      off_(config_.off),
      twv_(config_.twv),
      rdbd_(config_.rdbd),
      dly_(config_.dly),
      dir_negative_(config_.dir_negative),
      prec_(config_.prec),
      egu_(config_.egu) {
  if (vmax_ > 0) velo_ = std::min(velo_, vmax_), hvel_ = std::min(hvel_, vmax_);
  velo_ = std::max(velo_, vbas_);
  hvel_ = std::max(hvel_, vbas_);
  accs_ = (velo_ - vbas_) / accl_;
  jvel_ = velo_;
  jar_ = velo_ / accl_;
  drbv_ = quantize(config_.position);
  dval_ = drbv_;
  val_ = to_user(dval_);
  make_fields();
  read_back(0);
  post_msta();
}

MotorRecord::~MotorRecord() {
  // The PVs may outlive the record in a PvDatabase: refuse writes from then on.
  for (auto& [name, pv] : pvs_)
    if (pv->writable()) pv->on_put([](Pv&, Elements, Pv::Completion) { return kEcaPutFail; });
}

void MotorRecord::add(std::string_view field, Elements initial, bool writable) {
  auto pv = std::make_shared<Pv>(config_.prefix + "." + std::string(field), std::move(initial),
                                 Metadata{}, writable);
  if (writable) {
    pv->on_put([this, name = std::string(field)](Pv&, Elements value, Pv::Completion done) {
      stamp_ = wall_;
      if (is_callback(done) && busy() && queues(name)) {  // a put-notify to a busy record waits
        queued_.push_back({name, std::move(value), std::move(done)});
        return kEcaNormal;
      }
      const std::uint32_t eca = on_put(name, value, done);
      // Handlers that complete later have taken `done`; the others complete now.
      if (eca == kEcaNormal && done) done(kEcaNormal);
      return eca;
    });
  }
  pvs_.emplace(std::string(field), std::move(pv));
}

bool MotorRecord::queues(std::string_view field) {
  return field == "VAL" || field == "DVAL" || field == "TWF" || field == "TWR" || field == "HOMF" ||
         field == "HOMR";
}

void MotorRecord::make_fields() {
  const double hlm = to_user(dir_negative_ ? dllm_ : dhlm_);
  const double llm = to_user(dir_negative_ ? dhlm_ : dllm_);
  const std::map<std::string_view, double> doubles{
      {"VAL", val_},   {"RBV", to_user(drbv_)}, {"DVAL", dval_},        {"DRBV", drbv_},
      {"VELO", velo_}, {"VBAS", vbas_},         {"VMAX", vmax_},        {"ACCL", accl_},
      {"ACCS", accs_}, {"HVEL", hvel_},         {"HLM", hlm},           {"LLM", llm},
      {"DHLM", dhlm_}, {"DLLM", dllm_},         {"RDBD", rdbd_},        {"MRES", mres_},
      {"OFF", off_},   {"TWV", twv_},           {"DLY", dly_},          {"MSTA", 0.0},
      {"JVEL", jvel_}, {"JAR", jar_},           {"BDST", 0.0},          {"BVEL", velo_},
      {"BACC", 0.5},   {"HOPR", 0.0},           {"LOPR", 0.0},          {"DIFF", 0.0},
      {"ERES", mres_}, {"RRES", 0.0},           {"UREV", mres_ * srev_}};
  for (auto f : kDoubleFields) add(f, Doubles{doubles.at(f)}, !contains(kReadOnly, f));
  for (auto f : kShortFields) {
    const std::int16_t v = f == "DMOV" ? 1 : f == "PREC" ? prec_ : 0;
    add(f, Shorts{v}, !contains(kReadOnly, f));
  }
  for (auto f : kLongFields) add(f, Longs{f == "SREV" ? srev_ : 0}, !contains(kReadOnly, f));
  add("FRAC", Floats{1.0F}, true);
  add("EGU", Strings{egu_}, true);
  add("DESC", Strings{config_.description}, true);
  add("NAME", Strings{config_.prefix}, false);
  add("RTYP", Strings{"motor"}, false);
  add("SPMG", Enums{spmg_}, true);
  add("DIR", Enums{static_cast<std::uint16_t>(dir_negative_ ? 1 : 0)}, true);
  add("SET", Enums{0}, true);
  add("FOFF", Enums{0}, true);
  for (auto f : {"CNEN", "UEIP", "URIP"}) add(f, Enums{0}, true);
  add("STAT", Enums{0}, false);
  add("SEVR", Enums{0}, false);
  post_metadata();
}

void MotorRecord::publish(PvDatabase& db) {
  for (const auto& [name, pv] : pvs_) db.add(pv);
}

std::shared_ptr<Pv> MotorRecord::field(std::string_view name) const {
  const auto it = pvs_.find(name);
  return it == pvs_.end() ? nullptr : it->second;
}

std::shared_ptr<const fpga::MotionSource> MotorRecord::encoder_motion(double counts_per_unit,
                                                                      double offset_counts) const {
  return std::make_shared<EncoderMotion>(motion_, counts_per_unit, offset_counts);
}

double MotorRecord::quantize(double dial) const {
  const double step = std::abs(mres_);
  const double steps = std::round(dial / step);
  // A decimal step (0.001) divides by its exact integer inverse so that 0.3
  // stays 0.3 rather than 3 * 0.1 = 0.30000000000000004.
  const double inverse = std::round(1.0 / step);
  if (inverse >= 1 && std::abs(inverse * step - 1.0) < 1e-12) return steps / inverse;
  return steps * step;
}

// ------------------------------------------------------------ posting

void MotorRecord::post(std::string_view field, double v) {
  pvs_.find(field)->second->set(Doubles{v}, stamp_);
}

void MotorRecord::post_dval() {
  post("DVAL", dval_);
  pvs_.find("RVAL")->second->set(Longs{raw(dval_)}, stamp_);
}

std::int32_t MotorRecord::raw(double dial) const {
  const double steps = std::round(dial / mres_);
  if (!(std::abs(steps) < 2147483647.0)) return steps > 0 ? 2147483647 : -2147483647;
  return static_cast<std::int32_t>(steps);
}

void MotorRecord::post_short(std::string_view field, std::int16_t v) {
  pvs_.find(field)->second->set(Shorts{v}, stamp_);
}

void MotorRecord::post_enum(std::string_view field, std::uint16_t v) {
  pvs_.find(field)->second->set(Enums{v}, stamp_);
}

void MotorRecord::post_positions() {
  val_ = to_user(dval_);
  post("VAL", val_);
  post_dval();
  post("DRBV", drbv_);
  post("RBV", to_user(drbv_));
  post("DHLM", dhlm_);
  post("DLLM", dllm_);
  post("HLM", to_user(dir_negative_ ? dllm_ : dhlm_));
  post("LLM", to_user(dir_negative_ ? dhlm_ : dllm_));
  post_metadata();
}

void MotorRecord::post_metadata() {
  // As the record's get_units / get_control_double / get_graphic_double give
  // them: VAL RBV in [LLM, HLM], DVAL DRBV in [DLLM, DHLM], RVAL RRBV in raw
  // steps, VELO in [VBAS, VMAX]; every other field the full range of its type
  // (recGbl: a DOUBLE +-1e300, so HLM and LLM too).
  const double hlm = to_user(dir_negative_ ? dllm_ : dhlm_);
  const double llm = to_user(dir_negative_ ? dhlm_ : dllm_);
  const double raw_a = dllm_ / mres_, raw_b = dhlm_ / mres_;
  for (const auto& [name, pv] : pvs_) {
    const std::string_view f = name;
    const DbrType type = pv->native_type();
    if (type == DbrType::string || type == DbrType::enum_) continue;
    std::string unit = egu_;
    if (contains(kSpeedFields, f)) unit = egu_ + "/sec";
    if (f == "ACCL" || f == "BACC") unit = "sec";
    if (f == "JAR") unit = egu_ + "/s/s";
    if (f == "SREV") unit = "steps/rev";
    if (f == "UREV") unit = egu_ + "/rev";
    Metadata m = units(unit, f == "RRBV" ? std::int16_t{0} : prec_);
    if (f == "VAL" || f == "RBV") {
      m = limits(std::move(m), llm, hlm);
    } else if (f == "DVAL" || f == "DRBV") {
      m = limits(std::move(m), dllm_, dhlm_);
    } else if (f == "RVAL" || f == "RRBV") {
      m = limits(std::move(m), std::min(raw_a, raw_b), std::max(raw_a, raw_b));
    } else if (f == "VELO") {
      m = limits(std::move(m), vbas_, vmax_);
    } else if (type == DbrType::double_) {
      m = limits(std::move(m), -1e300, 1e300);
    } else if (type == DbrType::float_) {
      m = limits(std::move(m), -1e30, 1e30);
    } else if (type == DbrType::short_) {
      m = limits(std::move(m), -32768, 32767);
    } else if (type == DbrType::long_) {
      m = limits(std::move(m), -2147483648.0, 2147483647.0);
    }
    pv->set_metadata(std::move(m));
  }
  pvs_.find("SPMG")->second->set_metadata(states({"Stop", "Pause", "Move", "Go"}));
  pvs_.find("DIR")->second->set_metadata(states({"Pos", "Neg"}));
  pvs_.find("SET")->second->set_metadata(states({"Use", "Set"}));
  pvs_.find("FOFF")->second->set_metadata(states({"Variable", "Frozen"}));
  pvs_.find("CNEN")->second->set_metadata(states({"Disable", "Enable"}));
  pvs_.find("UEIP")->second->set_metadata(states({"No", "Yes"}));
  pvs_.find("URIP")->second->set_metadata(states({"No", "Yes"}));
  pvs_.find("STAT")->second->set_metadata(states(kAlarmStat));
  pvs_.find("SEVR")->second->set_metadata(states(kAlarmSevr));
}

// ------------------------------------------------------------ puts

std::uint32_t MotorRecord::on_put(std::string_view field, const Elements& value,
                                  Pv::Completion& done) {
  if (size_of(value) != 1) return kEcaBadCount;
  if (const auto* d = std::get_if<Doubles>(&value)) return put_double(field, d->front(), done);
  if (const auto* s = std::get_if<Shorts>(&value)) return put_short(field, s->front(), done);
  if (const auto* e = std::get_if<Enums>(&value)) return put_enum(field, e->front(), done);
  if (const auto* l = std::get_if<Longs>(&value)) return put_long(field, l->front(), done);
  if (const auto* f = std::get_if<Floats>(&value)) {  // FRAC: kept (no closed loop here)
    pvs_.find(field)->second->set(*f, stamp_, true);
    return kEcaNormal;
  }
  if (const auto* text = std::get_if<Strings>(&value)) {
    if (field == "EGU") {
      egu_ = text->front();
      post_metadata();
    }
    pvs_.find(field)->second->set(*text, stamp_, true);
    return kEcaNormal;
  }
  return kEcaBadType;
}

std::uint32_t MotorRecord::put_double(std::string_view field, double v, Pv::Completion& done) {
  if (!std::isfinite(v)) return kEcaPutFail;
  if (field == "VAL") return put_val(v, done);
  if (field == "DVAL") return set_mode_ ? kEcaPutFail : request_move(v, to_user(v), done);
  if (field == "JVEL" || field == "JAR") return put_jog_speed(field, v);
  if (field == "VELO" || field == "VBAS" || field == "VMAX" || field == "HVEL" || field == "ACCL" ||
      field == "ACCS")
    return put_speed(field, v);
  if (field == "HLM" || field == "LLM" || field == "DHLM" || field == "DLLM")
    return put_limit(field, v);
  if (field == "UREV") {  // EGU per revolution: MRES = UREV / SREV
    if (v == 0) return kEcaPutFail;
    return put_double("MRES", v / srev_, done);
  }
  if ((field == "RDBD" || field == "DLY") && v < 0) return kEcaPutFail;
  if (field == "MRES") {
    if (v == 0) return kEcaPutFail;
    mres_ = v;
    drbv_ = quantize(motion_->position(now_));
    post("UREV", mres_ * srev_);
  } else if (field == "OFF") {
    off_ = v;
  } else if (field == "TWV") {
    twv_ = v;
  } else if (field == "RDBD") {
    rdbd_ = v;
  } else if (field == "DLY") {
    dly_ = v;
  }
  pvs_.find(field)->second->set(Doubles{v}, stamp_, true);
  post_positions();
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_speed(std::string_view field, double v) {
  if (v < 0 || (v == 0 && field != "VBAS" && field != "VMAX")) return kEcaPutFail;
  if (field == "VELO") velo_ = v;
  if (field == "HVEL") hvel_ = v;
  if (field == "VBAS") vbas_ = v;
  if (field == "VMAX") vmax_ = v;
  if (field == "ACCL") accl_ = v;
  // VELO and HVEL stay in [VBAS, VMAX] (VMAX 0: no upper bound), silently.
  if (vmax_ > 0) velo_ = std::min(velo_, vmax_), hvel_ = std::min(hvel_, vmax_);
  velo_ = std::max(velo_, vbas_);
  hvel_ = std::max(hvel_, vbas_);
  // VELO - VBAS = ACCL * ACCS: ACCS follows ACCL unless ACCS was written.
  if (field == "ACCS" && velo_ > vbas_) accl_ = (velo_ - vbas_) / v;
  accs_ = (velo_ - vbas_) / accl_;
  const std::pair<std::string_view, double> posts[] = {{"VELO", velo_}, {"HVEL", hvel_},
                                                       {"VBAS", vbas_}, {"VMAX", vmax_},
                                                       {"ACCL", accl_}, {"ACCS", accs_}};
  for (const auto& [name, value] : posts) {
    // The written field is posted even when clamped back to its old value.
    pvs_.find(name)->second->set(Doubles{value}, stamp_, name == field);
  }
  post_metadata();  // VELO's limits are [VBAS, VMAX]
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_jog_speed(std::string_view field, double v) {
  if (field == "JVEL") {
    if (v <= 0) return kEcaPutFail;
    jvel_ = std::max(vmax_ > 0 ? std::min(v, vmax_) : v, vbas_);  // range_check [VBAS, VMAX]
  } else {
    jar_ = v > 0 ? v : jvel_ / 0.1;  // the record: JAR <= 0 becomes JVEL / 0.1 s
  }
  pvs_.find("JVEL")->second->set(Doubles{jvel_}, stamp_, field == "JVEL");
  pvs_.find("JAR")->second->set(Doubles{jar_}, stamp_, field == "JAR");
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_long(std::string_view field, std::int32_t v, Pv::Completion& done) {
  if (field == "RVAL") {  // a raw target: DVAL = RVAL * MRES
    if (set_mode_) return kEcaPutFail;
    const double dial = static_cast<double>(v) * mres_;
    return request_move(dial, to_user(dial), done);
  }
  // SREV: steps per revolution (<= 0 becomes 200, as the record does); UREV follows.
  srev_ = v > 0 ? v : 200;
  pvs_.find(field)->second->set(Longs{srev_}, stamp_, true);
  post("UREV", mres_ * srev_);
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_limit(std::string_view field, double v) {
  // User limits map to dial limits; with DIR = Neg the high user limit is the low dial one.
  const double dial = (v - off_) * sign();
  if (field == "DHLM") dhlm_ = v;
  if (field == "DLLM") dllm_ = v;
  if (field == "HLM") (dir_negative_ ? dllm_ : dhlm_) = dial;
  if (field == "LLM") (dir_negative_ ? dhlm_ : dllm_) = dial;
  pvs_.find(field)->second->set(Doubles{v}, stamp_, true);
  post_positions();
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_val(double user, Pv::Completion& done) {
  if (!set_mode_) return request_move(to_dial(user), user, done);
  // FOFF Frozen: the record would keep OFF and redefine the controller's
  // position (DVAL, a LOAD_POS to the driver) — not simulated: refused, as
  // DVAL writes in SET mode are.
  if (foff_frozen_) return kEcaPutFail;
  // Calibration (FOFF Variable): the current position becomes `user`, by a
  // new offset; the dial position, the dial limits and the switches stay.
  off_ = user - drbv_ * sign();
  dval_ = drbv_;
  post("OFF", off_);
  pvs_.find("VAL")->second->set(Doubles{user}, stamp_, true);
  post_positions();
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_short(std::string_view field, std::int16_t v, Pv::Completion& done) {
  if (field == "HOMF" || field == "HOMR") {
    if (v == 0) return kEcaPutFail;
    return request_home(field == "HOMF" ? 1 : -1, done);
  }
  if (field == "JOGF" || field == "JOGR") {
    pvs_.find(field)->second->set(Shorts{v}, stamp_, true);
    jog(field == "JOGF" ? 1 : -1, v != 0);
    return kEcaNormal;
  }
  pvs_.find(field)->second->set(Shorts{v}, stamp_, true);
  if (field == "PREC") {
    prec_ = std::clamp<std::int16_t>(v, 0, 15);
    post_metadata();
  } else if (field == "STOP" && v != 0) {
    post_short("STOP", 0);
    stop_motion(Ending::stop);
  } else if ((field == "TWF" || field == "TWR") && v != 0) {
    const double user = val_ + (field == "TWF" ? twv_ : -twv_);
    const std::uint32_t eca = request_move(to_dial(user), user, done);
    post_short(field, 0);
    return eca;
  }
  return kEcaNormal;
}

std::uint32_t MotorRecord::put_enum(std::string_view field, std::uint16_t v, Pv::Completion&) {
  // An index past the menu's choices is taken as the record takes a numeric
  // put to a DBF_MENU: stored as is; the record only compares it with its
  // choices (SPMG 4 acts as Go, DIR 2 as Neg, SET 2 as Set).
  pvs_.find(field)->second->set(Enums{v}, stamp_, true);
  if (field == "DIR") {
    dir_negative_ = v != 0;
    post_positions();
  } else if (field == "SET") {
    set_mode_ = v != 0;
  } else if (field == "FOFF") {
    foff_frozen_ = v != 0;
  } else if (field == "SPMG") {
    spmg_ = v;
    if (v == 0) stop_motion(Ending::stop);
    if (v == 1) stop_motion(Ending::pause);
    if (v >= 2) resume();
  }
  return kEcaNormal;
}

}  // namespace pandafly::sim::ca
