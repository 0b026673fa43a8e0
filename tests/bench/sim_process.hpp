#pragma once
// A pandafly-sim process for the benchmarks that run against the simulator
// in its own process (bench_fly_scan, bench_step_scan): started with
// posix_spawn, its stdout and stderr into a log file, waited for until it
// printed its ready line, SIGTERMed and reaped by the destructor. Needs
// PANDAFLY_SIM_PATH and PANDAFLY_SOURCE_DIR (compile definitions).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace pandafly::bench {

namespace fs = std::filesystem;

inline std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// pandafly-sim (`args` after the program) in its own process, stdout and
/// stderr into `log`, until it printed `ready`.
class Simulator {
 public:
  Simulator(std::vector<std::string> args, const fs::path& log, const std::string& ready) {
    args.insert(args.begin(), PANDAFLY_SIM_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start pandafly-sim");
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 600 && read_all(log).find(ready) == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text_ = read_all(log);
    if (text_.find(ready) == std::string::npos)
      throw std::runtime_error("pandafly-sim did not start: " + text_);
  }
  /// `pandafly-sim beamline` with the fly-scan design, a truth log, real time.
  static Simulator beamline(const fs::path& config, const fs::path& log, const fs::path& truth) {
    return Simulator(
        {"beamline", "--config", config.string(), "--panda-design",
         PANDAFLY_SOURCE_DIR "/panda/flyscan.sav", "--truth-log", truth.string(), "--speed", "1"},
        log, "export EPICS_CA");
  }
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;
  ~Simulator() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  /// The number after `key` in the simulator's start-up lines.
  [[nodiscard]] std::string after(const std::string& key) const {
    const auto at = text_.find(key);
    if (at == std::string::npos) throw std::runtime_error("no '" + key + "' in: " + text_);
    const auto start = at + key.size();
    return text_.substr(start, text_.find_first_of(" \n", start) - start);
  }
  /// Exports the EPICS_CA_* settings it printed.
  void export_ca() const {
    std::istringstream line(text_.substr(text_.find("export EPICS_CA") + 7));
    std::string kv;
    while (line >> kv) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) break;
      ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
  }

 private:
  pid_t pid_ = 0;
  std::string text_;
};

}  // namespace pandafly::bench
