#pragma once
// SystemCommands: the `*` command set of the simulated PandA (reference §1.4),
// run against a PandaModel on behalf of one connection's Session. Constructed
// per request; holds no state of its own.
#include <string_view>

#include "sim/panda/model.hpp"

namespace pandafly::sim {

class SystemCommands {
 public:
  SystemCommands(PandaModel& model, Session& session) : model_(model), session_(session) {}

  /// `command` is the request name after the `*` (e.g. `CHANGES.CONFIG`).
  [[nodiscard]] Reply read(std::string_view command);
  [[nodiscard]] Reply write(std::string_view command, std::string_view value);
  [[nodiscard]] Reply write_table(std::string_view command, const TableWrite& data);

 private:
  using Getter = Reply (SystemCommands::*)(std::string_view args);
  using Putter = Reply (SystemCommands::*)(std::string_view args, std::string_view value);
  struct Entry {
    std::string_view name;
    Getter get;
    Putter put;
  };
  static const Entry* lookup(std::string_view command, std::string_view& args);

  Reply idn(std::string_view args);
  Reply echo(std::string_view args);
  Reply who(std::string_view args);
  Reply blocks(std::string_view args);
  Reply desc(std::string_view args);
  Reply enums(std::string_view args);
  Reply get_changes(std::string_view args);
  Reply put_changes(std::string_view args, std::string_view value);
  Reply get_capture(std::string_view args);
  Reply put_capture(std::string_view args, std::string_view value);
  Reply positions(std::string_view args);
  Reply bits(std::string_view args);
  Reply get_pcap(std::string_view args);
  Reply put_pcap(std::string_view args, std::string_view value);
  Reply clock_freq(std::string_view args);
  Reply verbose(std::string_view args, std::string_view value);
  Reply savestate(std::string_view args, std::string_view value);
  Reply get_metadata(std::string_view args);
  Reply put_metadata(std::string_view args, std::string_view value);

  PandaModel& model_;
  Session& session_;
};

}  // namespace pandafly::sim
