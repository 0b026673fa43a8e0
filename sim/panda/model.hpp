#pragma once
// PandaModel: the field store of the simulated PandA — every block instance and
// field of the current firmware layout (blocks.cpp), metadata, capture/arm state
// and the change stamps behind `*CHANGES`. Sans-IO: no sockets, threads or clocks;
// not thread-safe (one owner, e.g. a single-threaded io_context).
//
// Requests arrive already split by kind (PandaControlConnection does that):
// read("PCAP.TRIG"), write("PCAP.TRIG", "PULSE1.OUT"), write_table("SEQ1.TABLE",
// …). Names starting with `*` go to the system commands (system_commands.cpp).
// Per-connection state (change indexes) lives in a Session from open_session().
//
// Example:
//   PandaModel model;
//   auto session = model.open_session("config", "127.0.0.1:5000", "2026-01-01T00:00:00.000Z");
//   Reply r = model.write("PULSE1.DELAY", "2.5", *session);   // r.wire() == "OK\n"
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/panda/blocks.hpp"
#include "sim/panda/field.hpp"
#include "sim/panda/reply.hpp"

namespace pandafly::sim {

class PandaModel;

/// One connection's view of the model: its `*CHANGES` indexes and its `*WHO?`
/// line. Closes itself in the model on destruction; must not outlive the model.
class Session {
 public:
  Session(PandaModel& model, std::uint64_t id) : model_(&model), id_(id) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  [[nodiscard]] std::uint64_t id() const { return id_; }
  /// Per group: changes with a stamp above this were not yet reported (0: all).
  std::array<std::uint64_t, kChangeGroupCount> seen{};
  /// The next `*CHANGES.ATTR?` lists the polled attributes (set on connect and
  /// by every `*CHANGES[.ATTR]=`, cleared by that query).
  bool polled_attrs_due = true;

 private:
  PandaModel* model_;
  std::uint64_t id_;
};

/// A block with its instances; instances[n][i] is field i of instance n+1.
struct Block {
  const BlockSpec* spec = nullptr;
  std::vector<std::vector<std::unique_ptr<Field>>> instances;
  /// "PCAP" for single-instance blocks, else "TTLIN3" (0-based `number`).
  [[nodiscard]] std::string instance_name(std::size_t number) const;
};

/// A parsed entity name `BLOCK[n][.FIELD[.ATTR]]` or with `*` (reference §1.3).
struct EntityRef {
  Block* block = nullptr;
  std::size_t number = 0;  // 0-based instance
  std::size_t field_index = 0;
  Field* field = nullptr;  // null for `BLOCK.*`
  std::string attr;        // empty unless `.ATTR`
  bool star = false;       // `BLOCK.*` or `BLOCK.FIELD.*`
};

/// A metadata key (`*METADATA.KEY`): single-line text or multi-line lines.
struct MetadataEntry {
  std::string key;
  bool multiline = false;
  std::string value;
  std::vector<std::string> lines;
  std::uint64_t stamp = 1;
};

/// A connection as `*WHO?` lists it.
struct SessionInfo {
  std::string kind;          // config | data
  std::string peer;          // ip:port
  std::string connected_at;  // ISO-8601 UTC, milliseconds
};

class PandaModel {
 public:
  PandaModel();
  PandaModel(const PandaModel&) = delete;
  PandaModel& operator=(const PandaModel&) = delete;

  // ---- requests: `name` is the text before the `?`, `=` or `<`.
  [[nodiscard]] Reply read(std::string_view name, Session& session);
  [[nodiscard]] Reply write(std::string_view name, std::string_view value, Session& session);
  [[nodiscard]] Reply write_table(std::string_view name, const TableWrite& data, Session& session);

  // ---- connections
  [[nodiscard]] std::unique_ptr<Session> open_session(std::string kind, std::string peer,
                                                      std::string connected_at);
  [[nodiscard]] const std::map<std::uint64_t, SessionInfo>& sessions() const { return sessions_; }
  [[nodiscard]] std::size_t data_sessions() const;

  // ---- structure
  [[nodiscard]] std::vector<Block>& blocks() { return blocks_; }
  [[nodiscard]] const Buses& buses() const { return *buses_; }
  /// Parses and looks up an entity name. `allow_star` permits the `BLOCK.*` and
  /// `BLOCK.FIELD.*` forms; `need_number` requires the instance number of a
  /// multi-instance block before a field. `field` stays null for a bare `BLOCK[n]`.
  [[nodiscard]] Expected<EntityRef> resolve(std::string_view name, bool allow_star,
                                            bool need_number);
  /// The field called `full_name` ("PULSE1.OUT", "PCAP.TRIG"), or null.
  [[nodiscard]] Field* find_field(std::string_view full_name);
  /// Calls fn(field) for every field of every instance, in `*BLOCKS?` order.
  template <class Fn>
  void for_each_field(Fn&& fn) {
    for (auto& block : blocks_)
      for (auto& instance : block.instances)
        for (auto& field : instance) fn(*field);
  }

  // ---- change stamps
  /// A fresh stamp, greater than every earlier one.
  [[nodiscard]] std::uint64_t next_stamp() { return ++stamp_; }
  [[nodiscard]] std::uint64_t current_stamp() const { return stamp_; }
  /// `!…` lines of `group` changed after `since`, as `*CHANGES.GROUP?` lists them;
  /// `with_polled`: ATTR also lists every polled attribute (Field::attr_polled).
  [[nodiscard]] std::vector<std::string> changes(ChangeGroup group, std::uint64_t since,
                                                 bool with_polled = false);

  // ---- metadata
  [[nodiscard]] std::vector<MetadataEntry>& metadata() { return metadata_; }
  [[nodiscard]] MetadataEntry* find_metadata(std::string_view key);

  // ---- simulation side (values the FPGA would produce); false if no such field
  bool set_bit(std::string_view full_name, bool value);
  bool set_position(std::string_view full_name, std::int32_t value);
  bool set_read(std::string_view full_name, std::uint64_t raw);

  // ---- position capture
  struct Pcap {
    bool armed = false;
    std::uint64_t captured = 0;
    std::string completion = "Ok";
  };
  [[nodiscard]] Pcap& pcap() { return pcap_; }
  /// `FIELD OPTIONS` of every field with CAPTURE other than `No`.
  [[nodiscard]] std::vector<std::string> capture_list();

  // ---- hooks for the simulation (the FPGA engine, the server)
  /// Called after every successful write of a field's value, attribute or table.
  std::function<void(Field&)> on_field_written;
  /// `*PCAP.ARM=` after the model's own checks; an error refuses the arm.
  std::function<Status()> on_arm;
  /// `*PCAP.DISARM=` while armed.
  std::function<void()> on_disarm;
  /// `*SAVESTATE=`: write the persistence file; an error is the reply.
  std::function<Status()> on_save_state;

 private:
  friend class Session;
  void close_session(std::uint64_t id) { sessions_.erase(id); }
  void build();
  [[nodiscard]] Reply read_entity(std::string_view name);
  [[nodiscard]] Status write_entity(std::string_view name, std::string_view value);
  [[nodiscard]] Status write_attr(Field& field, const std::string& attr, std::string_view value);
  [[nodiscard]] Status write_table_entity(std::string_view name, const TableWrite& data);
  [[nodiscard]] Expected<EntityRef> resolve_field(std::string_view name);
  [[nodiscard]] Status resolve_field_part(std::string_view name, std::size_t& pos, EntityRef& ref,
                                          bool allow_star, bool number_missing) const;
  void field_changes(Field& field, ChangeGroup group, std::uint64_t since, bool with_polled,
                     std::vector<std::string>& out);

  std::shared_ptr<Buses> buses_;
  std::vector<Block> blocks_;
  std::vector<MetadataEntry> metadata_;
  std::map<std::uint64_t, SessionInfo> sessions_;
  std::uint64_t next_session_ = 1;
  std::uint64_t stamp_ = 1;
  Pcap pcap_;
};

}  // namespace pandafly::sim
