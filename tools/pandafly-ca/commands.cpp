#include "commands.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "format.hpp"
#include "pandafly/ca/environment.hpp"

namespace pandafly_ca {

namespace ca = pandafly::ca;
using nlohmann::json;

namespace {

std::mutex stderr_mutex;

void warn(const ca::LogMessage& m) {
  std::scoped_lock lock(stderr_mutex);
  if (m.channel.empty()) {
    fmt::print(stderr, "pandafly-ca: warning: {}\n", m.text);
  } else {
    fmt::print(stderr, "pandafly-ca: warning: {}: {}\n", m.channel, m.text);
  }
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Without a caRepeater to spawn, libca would fork anyway and print "****" lines.
std::unique_ptr<ca::RepeaterStandIn> repeater_for(const Options& o) {
  if (o.no_stand_in || on_path("caRepeater")) return nullptr;
  try {
    return ca::RepeaterStandIn::start_if_free(ca::Environment::current().repeater_port);
  } catch (const std::system_error&) {
    return nullptr;  // cannot bind: libca does what it always does
  }
}

Shape shape_for(const ca::Channel& ch, const Options& o) {
  return {o.elements > 1 || (o.elements == 0 && ch.element_count() > 1), o.char_string};
}

void print_json(const json& j) {
  std::cout << j.dump(2) << '\n';
}

json error_json(const std::string& pv, const ca::Error& e) {
  return {{"pv", pv}, {"ok", false}, {"error", e.what()}, {"code", ca::eca_name(e.code().value())}};
}

// The put's elements for a channel of native type `native` (see cmd_put).
ca::Value values_for(const ca::Channel& ch, const std::vector<std::string>& words,
                     const Options& o) {
  const ca::FieldType native = ch.native_type();
  if (native == ca::FieldType::uint8 && o.char_string) {
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    std::vector<std::uint8_t> bytes(text.begin(), text.end());
    bytes.push_back(0);
    return bytes;
  }
  if (native == ca::FieldType::enumeration && words.size() == 1) {
    // A state name goes as DBR_STRING; a number that names no state is an index.
    const auto& w = words.front();
    const bool digits =
        !w.empty() && w.size() < 6 &&
        std::all_of(w.begin(), w.end(), [](unsigned char c) { return std::isdigit(c); });
    if (digits) {
      const auto states = ch.get_control(ca::Timeout(o.timeout_s)).enum_strings;
      if (std::find(states.begin(), states.end(), w) == states.end()) {
        return std::vector<std::uint16_t>{static_cast<std::uint16_t>(std::stoul(w))};
      }
    }
  }
  try {
    return parse_values(words, native);
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("{}: {} ({} PV)", ch.name(), e.what(), ca::to_string(native)));
  }
}

}  // namespace

int exit_code_for(const ca::Error& e) {
  if (e.code() == std::errc::timed_out) return Exit::not_found;
  if (e.code() == ca::Errc::string_too_big || e.code() == ca::Errc::bad_count) return Exit::usage;
  return Exit::pv_failed;
}

Session::Session(const Options& o) : options_(o), repeater_(repeater_for(o)), context_(warn) {}

void Session::error(std::string_view text) const {
  std::scoped_lock lock(stderr_mutex);
  fmt::print(stderr, "pandafly-ca: {}\n", text);
}

std::vector<std::optional<ca::Error>> connect_all(const Session& s,
                                                  std::vector<ca::Channel>& channels,
                                                  const std::vector<std::string>& pvs) {
  for (const auto& pv : pvs) channels.emplace_back(s.context(), pv);
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(s.timeout());
  std::vector<std::optional<ca::Error>> errors(pvs.size());
  for (std::size_t i = 0; i < channels.size(); ++i) {
    try {
      const ca::Timeout left = deadline - Clock::now();
      if (!channels[i].connected()) channels[i].wait_connected(std::max(left, ca::Timeout(0)));
    } catch (const ca::Error&) {
      // The message should name the whole timeout, not what was left of it.
      errors[i].emplace(ca::make_error_code(ca::Errc::timeout), pvs[i],
                        fmt::format("not found within {:g} s", s.timeout().count()));
    }
  }
  return errors;
}

ca::FieldType request_type(const ca::Channel& ch, const Options& o) {
  if (!o.type_name.empty()) {
    const auto t = ca::parse_field_type(o.type_name);
    if (!t) throw InputError(fmt::format("unknown type '{}'", o.type_name));
    return *t;
  }
  const auto native = ch.native_type();
  return native == ca::FieldType::enumeration && !o.numeric ? ca::FieldType::string : native;
}

int cmd_get(const Session& s, const std::vector<std::string>& pvs) {
  const auto& o = s.options();
  std::vector<ca::Channel> channels;
  const auto errors = connect_all(s, channels, pvs);
  json out = json::array();
  int rc = Exit::ok;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    try {
      if (errors[i]) throw *errors[i];
      const auto& ch = channels[i];
      const auto type = request_type(ch, o);
      const auto t = ch.get_time_value(type, o.elements, s.timeout());
      const auto shape = shape_for(ch, o);
      if (o.json) {
        json j{{"pv", pvs[i]},
               {"ok", true},
               {"type", ca::to_string(type)},
               {"count", ca::size(t.value)},
               {"value", value_json(t.value, shape)}};
        add_time_json(j, t.stamp, t.alarm);
        out.push_back(std::move(j));
      } else if (o.with_time) {
        fmt::print("{} {} {}{}\n", pvs[i], local_time_text(t.stamp), value_text(t.value, shape),
                   alarm_text(t.alarm));
      } else {
        fmt::print("{} {}\n", pvs[i], value_text(t.value, shape));
      }
    } catch (const ca::Error& e) {
      s.error(e.what());
      if (o.json) out.push_back(error_json(pvs[i], e));
      rc = std::max(rc, exit_code_for(e));
    }
  }
  if (o.json) print_json(out);
  return rc;
}

int cmd_put(const Session& s, const std::string& pv, const std::vector<std::string>& words) {
  const auto& o = s.options();
  auto ch = ca::Channel::connect(s.context(), pv, s.timeout());
  const auto shape = shape_for(ch, o);
  const auto type = request_type(ch, o);
  const auto value = values_for(ch, words, o);
  const auto old_value = ch.get_value(type, o.elements, s.timeout());
  if (o.wait) {
    ch.put_value_wait(value, ca::Timeout(o.wait_timeout_s));
  } else {
    ch.put_value(value);
  }
  // The read-back travels behind the write on the same circuit: when it
  // returns, a refusal of the plain put has been reported too.
  const auto new_value = ch.get_value(type, o.elements, s.timeout());
  if (auto refused = ch.take_async_error()) throw *refused;
  if (o.json) {
    print_json({{"pv", pv},
                {"ok", true},
                {"wait", o.wait},
                {"old", value_json(old_value, shape)},
                {"new", value_json(new_value, shape)}});
  } else {
    fmt::print("Old : {} {}\nNew : {} {}\n", pv, value_text(old_value, shape), pv,
               value_text(new_value, shape));
  }
  return Exit::ok;
}

namespace {

std::string access_text(const ca::ChannelInfo& i) {
  if (i.read_access && i.write_access) return "read, write";
  if (i.read_access) return "read only";
  if (i.write_access) return "write only";
  return "none";
}

void print_info_text(const ca::ChannelInfo& i, const std::optional<ca::Control>& c,
                     const std::string& problem) {
  fmt::print("{}\n    State:            {}{}\n", i.name, ca::to_string(i.state),
             problem.empty() ? "" : fmt::format(" ({})", problem));
  if (i.state != ca::ConnectionState::connected) return;
  fmt::print("    Host:             {}\n    Access:           {}\n", i.host, access_text(i));
  fmt::print("    Native data type: {}\n    Element count:    {}\n", ca::to_string(*i.native_type),
             i.element_count);
  if (!c) return;
  if (!c->enum_strings.empty()) {
    for (std::size_t k = 0; k < c->enum_strings.size(); ++k) {
      fmt::print("    {:<17} {} {}\n", k == 0 ? "States:" : "", k, c->enum_strings[k]);
    }
  } else if (c->native != ca::FieldType::string) {
    fmt::print("    Units:            {}\n", c->units);
    if (c->precision) fmt::print("    Precision:        {}\n", *c->precision);
    fmt::print("    Display limits:   {} .. {}\n", c->display_limits.lower,
               c->display_limits.upper);
    fmt::print("    Control limits:   {} .. {}\n", c->control_limits.lower,
               c->control_limits.upper);
    fmt::print("    Alarm limits:     {} .. {}\n", c->alarm_limits.lower, c->alarm_limits.upper);
    fmt::print("    Warning limits:   {} .. {}\n", c->warning_limits.lower,
               c->warning_limits.upper);
  }
  fmt::print("    Alarm:            {} {}\n", ca::to_string(c->alarm.status),
             ca::to_string(c->alarm.severity));
}

json info_json(const ca::ChannelInfo& i, const std::optional<ca::Control>& c,
               const std::string& problem) {
  json j{{"pv", i.name}, {"state", ca::to_string(i.state)}};
  if (!problem.empty()) j["error"] = problem;
  if (i.state != ca::ConnectionState::connected) return j;
  j.update({{"host", i.host},
            {"read_access", i.read_access},
            {"write_access", i.write_access},
            {"native_type", ca::to_string(*i.native_type)},
            {"element_count", i.element_count}});
  if (!c) return j;
  if (!c->enum_strings.empty()) j["enum_strings"] = c->enum_strings;
  if (c->native != ca::FieldType::string && c->native != ca::FieldType::enumeration) {
    j["units"] = c->units;
    if (c->precision) j["precision"] = *c->precision;
    const auto limits = [](const ca::Limits& l) { return json::array({l.lower, l.upper}); };
    j["display_limits"] = limits(c->display_limits);
    j["control_limits"] = limits(c->control_limits);
    j["alarm_limits"] = limits(c->alarm_limits);
    j["warning_limits"] = limits(c->warning_limits);
  }
  j["status"] = ca::to_string(c->alarm.status);
  j["severity"] = ca::to_string(c->alarm.severity);
  return j;
}

json client_json(const Session& s) {
  const auto env = ca::Environment::current();
  return {{"libca", ca::Context::version()},      {"addr_list", env.addr_list},
          {"auto_addr_list", env.auto_addr_list}, {"server_port", env.server_port},
          {"repeater_port", env.repeater_port},   {"repeater_stand_in", s.stand_in()}};
}

void print_client_text(const Session& s) {
  const auto env = ca::Environment::current();
  fmt::print("CA client (libca {})\n", ca::Context::version());
  fmt::print("    EPICS_CA_ADDR_LIST:      {}\n",
             env.addr_list.empty() ? "(empty)" : fmt::format("{}", fmt::join(env.addr_list, " ")));
  fmt::print("    EPICS_CA_AUTO_ADDR_LIST: {}\n", env.auto_addr_list ? "YES" : "NO");
  fmt::print("    EPICS_CA_SERVER_PORT:    {}\n", env.server_port);
  fmt::print("    EPICS_CA_REPEATER_PORT:  {}{}\n", env.repeater_port,
             s.stand_in() ? " (answered by this process: no caRepeater here)" : "");
}

}  // namespace

int cmd_info(const Session& s, const std::vector<std::string>& pvs) {
  std::vector<ca::Channel> channels;
  const auto errors = connect_all(s, channels, pvs);
  json out = json::array();
  int rc = Exit::ok;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    std::string problem;
    std::optional<ca::Control> control;
    if (errors[i]) {
      problem = errors[i]->detail();
      rc = std::max(rc, exit_code_for(*errors[i]));
    } else {
      try {
        control = channels[i].get_control(s.timeout());
      } catch (const ca::Error& e) {
        problem = e.detail();
        rc = std::max(rc, exit_code_for(e));
      }
    }
    const auto info = channels[i].info();
    if (s.options().json) {
      out.push_back(info_json(info, control, problem));
    } else {
      print_info_text(info, control, problem);
    }
  }
  if (s.options().json) {
    print_json({{"pvs", out}, {"client", client_json(s)}});
  } else {
    print_client_text(s);
  }
  return rc;
}

}  // namespace pandafly_ca
