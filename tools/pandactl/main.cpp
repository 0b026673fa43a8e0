// pandactl: talk to a PandA (or pandafly-sim) over its control port.
//
// Exit codes (also in --help):
//   0 success; 1 the PandA refused a command (ERR); 2 bad usage or input file;
//   3 cannot connect, connection lost or timed out; 4 the PandA's reply was malformed.
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "capture.hpp"
#include "output.hpp"
#include "pandafly/panda/changes.hpp"
#include "pandafly/panda/design.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "pandafly/panda/table_commands.hpp"

namespace {

namespace panda = pandafly::panda;
using nlohmann::json;

constexpr const char* exit_codes =
    "Exit codes: 0 success, 1 the PandA refused a command (ERR), 2 bad usage or input,\n"
    "3 cannot connect / connection lost / timed out, 4 malformed reply from the PandA,\n"
    "5 (capture) an acquisition ended incomplete: END not Ok, interrupted, disk full, timeout.";

struct Options {
  std::string host = "localhost";
  std::uint16_t control_port = 8888;
  std::uint16_t data_port = 8889;
  double timeout_s = 5.0;
  bool json = false;
};

/// A usage or input error: exit code 2.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int exit_code_for(const panda::CommandError& e) {
  if (e.code() == panda::Errc::server_error) return 1;
  if (e.code() == panda::Errc::invalid_request) return 2;
  if (e.code() == panda::Errc::malformed_reply || e.code() == panda::Errc::unexpected_reply)
    return 4;
  return 3;
}

class Session {
 public:
  explicit Session(const Options& o) : o_(o) {}

  panda::BlockingClient& client() {
    if (!client_.connected()) client_.connect(o_.host, o_.control_port, timeout());
    return client_;
  }
  [[nodiscard]] std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<long>(o_.timeout_s * 1000));
  }
  template <class C>
  typename C::result_type run(C command) {
    return client().run(std::move(command), timeout());
  }
  [[nodiscard]] bool json() const { return o_.json; }

 private:
  const Options& o_;
  panda::BlockingClient client_;
};

std::string read_input(const std::string& path) {
  std::ostringstream s;
  if (path == "-") {
    s << std::cin.rdbuf();
    return s.str();
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  s << f.rdbuf();
  return s.str();
}

// Writes via a temporary file and rename, so a failed save leaves no half file.
void write_output(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) throw InputError(fmt::format("cannot write '{}': {}", tmp, std::strerror(errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw InputError(
        fmt::format("cannot rename '{}' to '{}': {}", tmp, path, std::strerror(errno)));
  }
}

void print_json(const json& j) {
  std::cout << j.dump(2) << '\n';
}

// ---------------------------------------------------------------- subcommands

void cmd_idn(Session& s) {
  const auto id = s.run(panda::Identify{});
  if (s.json()) return print_json(pandactl::to_json(id));
  fmt::print("{}\n", id.text);
}

void cmd_blocks(Session& s) {
  const auto blocks = s.run(panda::GetBlocks{});
  if (s.json()) {
    json j = json::array();
    for (const auto& b : blocks) j.push_back(pandactl::to_json(b));
    return print_json(j);
  }
  for (const auto& b : blocks) fmt::print("{:<12} {:>2}  {}\n", b.name, b.count, b.description);
}

void cmd_fields(Session& s, const std::string& block) {
  const auto fields = s.run(panda::GetFieldInfo{block});
  if (s.json()) {
    json j = json::array();
    for (const auto& f : fields) j.push_back(pandactl::to_json(f));
    return print_json(j);
  }
  for (const auto& f : fields) fmt::print("{}\n", pandactl::field_text(f));
}

int cmd_get(Session& s, const std::vector<std::string>& names) {
  std::vector<panda::Get> gets;
  for (const auto& n : names) gets.emplace_back(n);
  const auto results = s.client().call_all(std::move(gets), s.timeout());
  json j = json::object();
  int rc = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!results[i]) {
      fmt::print(stderr, "pandactl: {}\n", results[i].error().what());
      rc = std::max(rc, exit_code_for(results[i].error()));
      continue;
    }
    const auto& v = results[i].value();
    if (const auto* text = std::get_if<std::string>(&v)) {
      j[names[i]] = *text;
      if (!s.json()) fmt::print("{}={}\n", names[i], *text);
    } else {
      const auto& lines = std::get<std::vector<std::string>>(v);
      j[names[i]] = lines;
      if (!s.json())
        fmt::print("{}<\n{}{}", names[i], fmt::format("{}", fmt::join(lines, "\n")),
                   lines.empty() ? "" : "\n");
    }
  }
  if (s.json()) print_json(j);
  return rc;
}

int cmd_put(Session& s, const std::vector<std::string>& assignments) {
  std::vector<panda::Put> puts;
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("'{}' is not NAME=VALUE", a));
    puts.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
  const auto results = s.client().call_all(std::move(puts), s.timeout());
  int rc = 0;
  for (const auto& r : results) {
    if (r) continue;
    fmt::print(stderr, "pandactl: {}\n", r.error().what());
    rc = std::max(rc, exit_code_for(r.error()));
  }
  return rc;
}

void cmd_table_get(Session& s, const std::string& name, bool raw) {
  auto& c = s.client();
  auto layout_ticket = c.send(panda::GetTableLayout{name});
  auto words_ticket = c.send(panda::TableGet{name});
  const auto deadline = panda::BlockingClient::Clock::now() + s.timeout();
  const auto layout = c.wait(layout_ticket, deadline).value();
  const auto words = c.wait(words_ticket, deadline).value();
  // A table whose FIELDS list is empty has no named columns to show: print
  // its raw words (per ROW_WORDS) rather than blank rows.
  if (!raw && layout.fields().empty()) {
    fmt::print(stderr, "pandactl: {} lists no FIELDS: printing raw words\n", name);
    raw = true;
  }
  if (raw) {
    if (s.json()) return print_json(words);
    for (std::size_t i = 0; i < words.size(); i += layout.row_words()) {
      fmt::print("{}\n",
                 fmt::join(std::span(words).subspan(
                               i, std::min<std::size_t>(layout.row_words(), words.size() - i)),
                           " "));
    }
    return;
  }
  const auto rows = layout.unpack(words);
  if (s.json()) return print_json(pandactl::to_json(layout, rows));
  for (const auto& row : rows) fmt::print("{}\n", layout.format_row(row));
}

void cmd_table_put(Session& s, const std::string& name, const std::string& file,
                   panda::TableMode mode) {
  const std::string text = read_input(file);
  const auto layout = s.run(panda::GetTableLayout{name});
  std::vector<std::uint32_t> words;
  try {
    words = layout.words_from_text(text);
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("{}: {}", file == "-" ? "stdin" : file, e.what()));
  }
  (void)s.run(panda::TablePut{name, std::move(words), mode});
}

void cmd_changes(Session& s, const std::string& group, bool multiline) {
  const auto ch = s.run(panda::GetChanges{panda::parse_group(group), multiline});
  if (s.json()) {
    json j{{"values", json::object()}, {"multiline", ch.multiline}, {"errors", ch.in_error}};
    for (const auto& [k, v] : ch.values) j["values"][k] = v;
    for (const auto& [k, v] : ch.multiline_values) j["multiline_values"][k] = v;
    return print_json(j);
  }
  for (const auto& [k, v] : ch.values) fmt::print("{}={}\n", k, v);
  for (const auto& k : ch.in_error) fmt::print("{} (error)\n", k);
  for (const auto& k : ch.multiline) {
    fmt::print("{}<\n", k);
    for (const auto& [name, lines] : ch.multiline_values) {
      if (name == k) fmt::print("{}\n", fmt::join(lines, "\n"));
    }
  }
}

void cmd_save(Session& s, const std::string& file) {
  const auto design = s.run(panda::GetState{});
  write_output(file, design.to_text());
  if (s.json()) return print_json({{"file", file}, {"commands", design.commands().size()}});
  fmt::print(stderr, "saved {} commands to {}\n", design.commands().size(), file);
}

int cmd_load(Session& s, const std::string& file, bool all, bool dry_run) {
  panda::Design wanted;
  try {
    wanted = panda::Design::parse(read_input(file));
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("{}: {}", file, e.what()));
  }
  const auto to_send = (all ? panda::Design{} : s.run(panda::GetState{})).changes_to(wanted);
  if (dry_run) {
    fmt::print("{}", panda::Design(to_send).to_text());
    return 0;
  }
  const auto report = s.run(panda::SetState{to_send});
  for (const auto& e : report.errors) fmt::print(stderr, "pandactl: {}\n", e.what());
  if (s.json()) {
    print_json({{"file", file},
                {"in_file", wanted.commands().size()},
                {"sent", report.sent},
                {"refused", report.errors.size()}});
  } else {
    fmt::print(stderr, "{}: {} commands in the file, {} sent, {} refused\n", file,
               wanted.commands().size(), report.sent, report.errors.size());
  }
  return report.errors.empty() ? 0 : 1;
}

int cmd_raw(Session& s, const std::string& line) {
  const bool multiline = line.find('<') < line.find_first_of("?=");
  std::vector<std::string> data;
  if (multiline) {
    std::string l;
    while (std::getline(std::cin, l) && !l.empty()) data.push_back(l);
  }
  const auto reply = multiline ? s.run(panda::Raw{line, data}) : s.run(panda::Raw{line});
  switch (reply.kind) {
    case panda::Reply::Kind::ok:
      fmt::print("OK\n");
      break;
    case panda::Reply::Kind::value:
      fmt::print("OK ={}\n", reply.text);
      break;
    case panda::Reply::Kind::error:
      fmt::print("ERR {}\n", reply.text);
      break;
    case panda::Reply::Kind::list:
      for (const auto& l : reply.lines) fmt::print("!{}\n", l);
      fmt::print(".\n");
      break;
  }
  return reply.is_error() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"pandactl: configure and query a PandA (PandABlocks) over its control port",
               "pandactl"};
  app.footer(exit_codes);
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.add_option("--host", o.host, "PandA host name or address");
  app.add_option("--control-port", o.control_port, "control port");
  app.add_option("--data-port", o.data_port, "data port (used by capture commands)");
  app.add_option("--timeout", o.timeout_s, "seconds to wait for each reply")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", o.json, "print results as JSON");

  Session session(o);
  std::function<int()> action;
  auto sub = [&](const char* name, const char* help) {
    auto* c = app.add_subcommand(name, help);
    c->footer(exit_codes);
    return c;
  };

  sub("idn", "identify the PandA (*IDN?)")->callback([&] {
    action = [&] {
      cmd_idn(session);
      return 0;
    };
  });
  sub("blocks", "list the blocks with instance counts and descriptions")->callback([&] {
    action = [&] {
      cmd_blocks(session);
      return 0;
    };
  });
  std::string block;
  auto* fields = sub("fields", "list a block's fields with type, attributes and description");
  fields->add_option("BLOCK", block, "block name, e.g. PCOMP")->required();
  fields->callback([&] {
    action = [&] {
      cmd_fields(session, block);
      return 0;
    };
  });

  std::vector<std::string> names;
  auto* get = sub("get", "read fields or attributes (pipelined)");
  get->add_option("NAME", names, "e.g. PCAP.TRIG INENC1.VAL.SCALE *PCAP.STATUS")->required();
  get->callback([&] { action = [&] { return cmd_get(session, names); }; });

  auto* put = sub("put", "write fields or attributes (pipelined)");
  put->add_option("NAME=VALUE", names, "e.g. PULSE1.WIDTH=0.001 PCAP.TRIG=PULSE1.OUT")->required();
  put->callback([&] { action = [&] { return cmd_put(session, names); }; });

  auto* table = sub("table", "read or write a table field (e.g. SEQ1.TABLE)");
  table->require_subcommand(1);
  std::string table_name, table_file = "-";
  bool raw_words = false, append = false, append_last = false;
  auto* tget = table->add_subcommand("get", "print the rows as named fields (--raw: the words)");
  tget->add_option("NAME", table_name, "table field")->required();
  tget->add_flag("--raw", raw_words, "print raw words, one row per line");
  tget->callback([&] {
    action = [&] {
      cmd_table_get(session, table_name, raw_words);
      return 0;
    };
  });
  auto* tput = table->add_subcommand(
      "put", "write rows (NAME=VALUE pairs or raw words, one row per line), sent as base64");
  tput->add_option("NAME", table_name, "table field")->required();
  tput->add_option("FILE", table_file, "rows file, - for stdin");
  tput->add_flag("--append", append, "streaming append (<<)");
  tput->add_flag("--append-last", append_last, "last streaming append (<<|)");
  tput->callback([&] {
    action = [&] {
      const auto mode = append_last ? panda::TableMode::append_last
                        : append    ? panda::TableMode::append
                                    : panda::TableMode::replace;
      cmd_table_put(session, table_name, table_file, mode);
      return 0;
    };
  });

  std::string group = "all";
  bool fetch_multiline = false;
  auto* changes = sub("changes", "what changed since this connection last asked (*CHANGES)");
  changes->add_option("GROUP", group, "all, config, bits, posn, read, attr, table, metadata");
  changes->add_flag("--multiline", fetch_multiline, "also read tables and multi-line values");
  changes->callback([&] {
    action = [&] {
      cmd_changes(session, group, fetch_multiline);
      return 0;
    };
  });

  std::string file;
  auto* save = sub("save", "save the whole design (values, tables, metadata) to a .sav file");
  save->add_option("FILE", file, "output .sav file")->required();
  save->callback([&] {
    action = [&] {
      cmd_save(session, file);
      return 0;
    };
  });

  bool load_all = false, dry_run = false;
  auto* load = sub("load", "restore a .sav design, sending only what differs (pipelined)");
  load->add_option("FILE", file, ".sav file, - for stdin")->required();
  load->add_flag("--all", load_all, "send every line, not only what differs");
  load->add_flag("--dry-run", dry_run, "print what would be sent, send nothing");
  load->callback([&] { action = [&] { return cmd_load(session, file, load_all, dry_run); }; });

  sub("arm", "arm position capture (*PCAP.ARM=)")->callback([&] {
    action = [&] {
      (void)session.run(panda::Arm{});
      if (session.json()) print_json({{"command", "arm"}, {"ok", true}});
      return 0;
    };
  });
  sub("disarm", "disarm position capture (*PCAP.DISARM=)")->callback([&] {
    action = [&] {
      (void)session.run(panda::Disarm{});
      if (session.json()) print_json({{"command", "disarm"}, {"ok", true}});
      return 0;
    };
  });
  pandactl::CaptureArgs cap;
  auto* capture = sub("capture",
                      "write the PandA's captured rows to HDF5 (one file per acquisition); Ctrl-C "
                      "closes the file cleanly");
  capture->add_option("OUT", cap.out, "output file, e.g. scan.h5 (scan_0001.h5 ... with --num)")
      ->required();
  capture->add_flag("--arm", cap.arm,
                    "arm the PandA once the data port is ready (disarm on Ctrl-C)");
  auto* scaled = capture->add_flag("--scaled", cap.scaled, "let the PandA scale (SCALED)");
  capture
      ->add_flag("!--raw", cap.scaled, "capture RAW and scale here (default: faster, same values)")
      ->excludes(scaled);
  capture
      ->add_flag("--store-raw", cap.store_raw,
                 "store the RAW integers as sent, scale/offset/units as attributes "
                 "(smaller files, less CPU; with --raw)")
      ->excludes(scaled);
  capture
      ->add_option("--flush-period", cap.flush_period_s,
                   "seconds between flushes (SWMR readers see rows)")
      ->check(CLI::PositiveNumber);
  capture->add_option("--num", cap.num, "acquisitions to capture, one file each")
      ->check(CLI::PositiveNumber);
  capture
      ->add_option("--timeout", cap.timeout_s,
                   "end an acquisition after this many seconds without data (0: never)")
      ->check(CLI::NonNegativeNumber);
  capture->add_flag("--force", cap.force, "overwrite existing files");
  capture
      ->add_option("--chunk-rows", cap.chunk_rows,
                   "rows per HDF5 chunk; a full disk loses at most the chunk being written")
      ->check(CLI::Range(std::size_t{16}, std::size_t{1} << 24));
  capture->add_flag("--quiet", cap.quiet, "no progress lines on stderr");
  capture->callback([&] {
    action = [&] {
      cap.host = o.host;
      cap.control_port = o.control_port;
      cap.data_port = o.data_port;
      cap.connect_timeout_s = o.timeout_s;
      cap.json = o.json;
      return pandactl::run_capture(cap);
    };
  });

  std::string line;
  auto* raw = sub(
      "raw",
      "send one request line as is and print the reply (a NAME< line reads data lines from stdin)");
  raw->add_option("LINE", line, "e.g. '*ECHO hello?'")->required();
  raw->callback([&] { action = [&] { return cmd_raw(session, line); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return action();
  } catch (const panda::CommandError& e) {
    fmt::print(stderr, "pandactl: {}\n", e.what());
    return exit_code_for(e);
  } catch (const std::system_error& e) {
    fmt::print(stderr, "pandactl: {}\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    fmt::print(stderr, "pandactl: {}\n", e.what());
    return 2;
  }
}
