#include "sim/panda/system_commands.hpp"

#include <array>
#include <cctype>

#include "sim/panda/fields.hpp"
#include "sim/panda/table_field.hpp"
#include "sim/panda/time_units.hpp"

namespace pandafly::sim {
namespace {

constexpr std::string_view kIdentity =
    "PandA SW: 4.1 FPGA: 0.1.17 00000000 00000000 rootfs: pandafly simulator";

// A single-value result must fit the server's result buffer (with its NUL);
// the server answers a longer one with `ERR Result too long`. 256 is this
// simulator's choice of that buffer size; the fact it reproduces is that a
// 1000-character *ECHO is refused.
constexpr std::size_t kMaxResultLength = 256;

constexpr std::array<std::string_view, kChangeGroupCount> kGroupNames{
    "CONFIG", "BITS", "POSN", "READ", "ATTR", "TABLE", "METADATA"};

const char* attr_description(std::string_view attr) {
  static const std::array<std::pair<std::string_view, const char*>, 19> table{{
      {"INFO", "Class information for field"},
      {"MAX", "Maximum valid value for this field"},
      {"RAW", "Raw register value"},
      {"UNITS", "Units of the value"},
      {"SCALE", "Scale applied to the raw value"},
      {"OFFSET", "Offset added after scaling"},
      {"SCALED", "Value after scale and offset"},
      {"CAPTURE", "Capture options for this field"},
      {"CAPTURE_WORD", "PCAP.BITS word holding this bit"},
      {"BITS", "Bit bus names in this capture word"},
      {"DELAY", "Clock ticks of delay on this input"},
      {"MAX_DELAY", "Largest DELAY allowed"},
      {"MAX_LENGTH", "Most words the table can hold"},
      {"LENGTH", "Words in the table"},
      {"B", "Table contents in base64"},
      {"FIELDS", "Bit layout of a table row"},
      {"ROW_WORDS", "Words per table row"},
      {"QUEUED_LINES", "Streamed lines waiting to be used"},
      {"MODE", "How the table was last written"},
  }};
  for (const auto& [name, text] : table) {
    if (name == attr) return text;
  }
  return nullptr;
}

// Splits `.ENTITY[].SUB` into entity and sub-field name (empty without `[]`).
Expected<std::pair<std::string_view, std::string_view>> split_entity(std::string_view args) {
  if (!args.starts_with('.')) return Error{"Character '.' expected"};
  args.remove_prefix(1);
  auto bracket = args.find("[]");
  if (bracket == std::string_view::npos) return std::pair{args, std::string_view{}};
  if (args.substr(bracket + 2, 1) != ".") return Error{"Character '.' expected"};
  return std::pair{args.substr(0, bracket), args.substr(bracket + 3)};
}

Reply list_or(std::optional<std::vector<std::string>> labels, const char* error) {
  if (!labels) return Reply::error(error);
  return Reply::list(std::move(*labels));
}

std::string_view command_name(std::string_view command, std::string_view& args) {
  std::size_t n = 0;
  while (n < command.size() &&
         (std::isalnum(static_cast<unsigned char>(command[n])) != 0 || command[n] == '_')) {
    ++n;
  }
  args = command.substr(n);
  return command.substr(0, n);
}

// The KEY of `.KEY`: letters, digits and `_`; anything after it is refused.
Expected<std::string_view> metadata_key(std::string_view args) {
  if (!args.starts_with('.')) return Error{"Character '.' expected"};
  std::string_view rest;
  std::string_view key = command_name(args.substr(1), rest);
  if (key.empty()) return Error{"No name found"};
  if (!rest.empty()) return Error{"Unexpected character after input"};
  return key;
}

}  // namespace

const SystemCommands::Entry* SystemCommands::lookup(std::string_view command,
                                                    std::string_view& args) {
  using S = SystemCommands;
  static const std::array<Entry, 15> table{{
      {"IDN", &S::idn, nullptr},
      {"ECHO", &S::echo, nullptr},
      {"WHO", &S::who, nullptr},
      {"BLOCKS", &S::blocks, nullptr},
      {"DESC", &S::desc, nullptr},
      {"ENUMS", &S::enums, nullptr},
      {"CHANGES", &S::get_changes, &S::put_changes},
      {"CAPTURE", &S::get_capture, &S::put_capture},
      {"POSITIONS", &S::positions, nullptr},
      {"BITS", &S::bits, nullptr},
      {"PCAP", &S::get_pcap, &S::put_pcap},
      {"CLOCK_FREQ", &S::clock_freq, nullptr},
      {"VERBOSE", nullptr, &S::verbose},
      {"SAVESTATE", nullptr, &S::savestate},
      {"METADATA", &S::get_metadata, &S::put_metadata},
  }};
  std::string_view name = command_name(command, args);
  for (const auto& entry : table) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

Reply SystemCommands::read(std::string_view command) {
  std::string_view args;
  const Entry* entry = lookup(command, args);
  if (command_name(command, args).empty()) return Reply::error("No name found");
  if (entry == nullptr) return Reply::error("Unknown command");
  if (entry->get == nullptr) return Reply::error("Command not readable");
  return (this->*entry->get)(args);
}

Reply SystemCommands::write(std::string_view command, std::string_view value) {
  std::string_view args;
  const Entry* entry = lookup(command, args);
  if (command_name(command, args).empty()) return Reply::error("No name found");
  if (entry == nullptr) return Reply::error("Unknown command");
  if (entry->put == nullptr) return Reply::error("Command not writeable");
  return (this->*entry->put)(args, value);
}

Reply SystemCommands::write_table(std::string_view command, const TableWrite& data) {
  std::string_view args;
  const Entry* entry = lookup(command, args);
  if (entry == nullptr) return Reply::error("Unknown command");
  if (entry->name != "METADATA") return Reply::error("Not a table");
  if (data.streaming) return Reply::error("Streaming mode not supported");
  if (data.binary) return Reply::error("Binary writes not supported");
  auto key = metadata_key(args);
  if (!key.ok()) return Reply::error(key.error());
  MetadataEntry* m = model_.find_metadata(key.value());
  if (m == nullptr) return Reply::error("Metadata key " + std::string(key.value()) + " not found");
  if (!m->multiline) return Reply::error("Not a multi-line field");
  m->lines = *data.lines;
  m->stamp = model_.next_stamp();
  return Reply::ok();
}

// ---------------------------------------------------------------- simple reads

Reply SystemCommands::idn(std::string_view args) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  return Reply::value(std::string(kIdentity));
}

Reply SystemCommands::echo(std::string_view args) {
  if (!args.starts_with(' ')) return Reply::error("Character ' ' expected");
  if (args.size() - 1 >= kMaxResultLength) return Reply::error("Result too long");
  return Reply::value(std::string(args.substr(1)));
}

Reply SystemCommands::who(std::string_view args) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  std::vector<std::string> lines;
  for (const auto& [id, s] : model_.sessions()) {
    lines.push_back(s.connected_at + " " + s.kind + " " + s.peer + " ");
  }
  return Reply::list(std::move(lines));
}

Reply SystemCommands::blocks(std::string_view args) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  std::vector<std::string> lines;
  for (const auto& b : model_.blocks()) {
    lines.push_back(b.spec->name + " " + std::to_string(b.spec->count));
  }
  return Reply::list(std::move(lines));
}

Reply SystemCommands::positions(std::string_view args) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  return Reply::list(model_.buses().positions);
}

Reply SystemCommands::bits(std::string_view args) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  return Reply::list(model_.buses().bits);
}

Reply SystemCommands::clock_freq(std::string_view args) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  return Reply::value(std::to_string(kClockHz));
}

// ---------------------------------------------------------------- *DESC, *ENUMS

Reply SystemCommands::desc(std::string_view args) {
  auto parts = split_entity(args);
  if (!parts.ok()) return Reply::error(parts.error());
  auto ref = model_.resolve(parts.value().first, false, false);
  if (!ref.ok()) return Reply::error(ref.error());
  const EntityRef& e = ref.value();
  if (!parts.value().second.empty()) {
    const auto* table = dynamic_cast<const TableField*>(e.field);
    if (table == nullptr) return Reply::error("Field is not a table");
    const TableColumn* column = table->column(parts.value().second);
    if (column == nullptr) return Reply::error("Table sub-field not found");
    return Reply::value(column->description);
  }
  if (!e.attr.empty()) {
    const char* text = attr_description(e.attr);
    return text ? Reply::value(text) : Reply::error("No description for attribute");
  }
  if (e.field != nullptr) return Reply::value(e.field->spec().description);
  return Reply::value(e.block->spec->description);
}

Reply SystemCommands::enums(std::string_view args) {
  auto parts = split_entity(args);
  if (!parts.ok()) return Reply::error(parts.error());
  auto ref = model_.resolve(parts.value().first, false, false);
  if (!ref.ok()) return Reply::error(ref.error());
  const EntityRef& e = ref.value();
  if (e.field == nullptr) return Reply::error("Missing field name");
  if (!parts.value().second.empty()) {
    const auto* table = dynamic_cast<const TableField*>(e.field);
    if (table == nullptr) return Reply::error("Field is not a table");
    const TableColumn* column = table->column(parts.value().second);
    if (column == nullptr) return Reply::error("Table sub-field not found");
    if (column->subtype != "enum") return Reply::error("Table sub-field is not an enumeration");
    return Reply::list(column->labels);
  }
  if (!e.attr.empty()) {
    return list_or(e.field->attr_enums(e.attr), "Attribute is not an enumeration");
  }
  return list_or(e.field->enums(), "Field is not an enumeration");
}

// ---------------------------------------------------------------- *CHANGES

namespace {

// Parses `[.GROUP]`; nullopt group means all groups.
Expected<std::optional<std::size_t>> change_group(std::string_view args) {
  if (args.empty()) return std::optional<std::size_t>{};
  if (!args.starts_with('.')) return Error{"Unexpected character after input"};
  for (std::size_t g = 0; g < kGroupNames.size(); ++g) {
    if (kGroupNames[g] == args.substr(1)) return std::optional<std::size_t>{g};
  }
  return Error{"Unknown changes selection"};
}

}  // namespace

Reply SystemCommands::get_changes(std::string_view args) {
  auto group = change_group(args);
  if (!group.ok()) return Reply::error(group.error());
  std::vector<std::string> lines;
  for (std::size_t g = 0; g < kChangeGroupCount; ++g) {
    if (group.value() && *group.value() != g) continue;
    const bool attr = static_cast<ChangeGroup>(g) == ChangeGroup::attr;
    auto more = model_.changes(static_cast<ChangeGroup>(g), session_.seen[g],
                               attr && session_.polled_attrs_due);
    if (attr) session_.polled_attrs_due = false;
    lines.insert(lines.end(), more.begin(), more.end());
    session_.seen[g] = model_.current_stamp();
  }
  return Reply::list(std::move(lines));
}

Reply SystemCommands::put_changes(std::string_view args, std::string_view value) {
  auto group = change_group(args);
  if (!group.ok()) return Reply::error(group.error());
  if (value != "" && value != "E" && value != "S") return Reply::error("Invalid reset option");
  std::uint64_t seen = value == "S" ? 0 : model_.current_stamp();
  for (std::size_t g = 0; g < kChangeGroupCount; ++g) {
    if (!group.value() || *group.value() == g) session_.seen[g] = seen;
  }
  if (!group.value() || *group.value() == static_cast<std::size_t>(ChangeGroup::attr)) {
    session_.polled_attrs_due = true;
  }
  return Reply::ok();
}

// ---------------------------------------------------------------- *CAPTURE

Reply SystemCommands::get_capture(std::string_view args) {
  if (args.empty()) return Reply::list(model_.capture_list());
  if (args == ".OPTIONS") return Reply::list(capture_options());
  if (args == ".ENUMS") return Reply::list(capture_enums());
  if (args != ".*") return Reply::error("Invalid *CAPTURE option");
  std::vector<std::string> names;
  model_.for_each_field([&](Field& field) {
    auto attrs = field.attributes();
    if (!attrs.empty() && attrs[0] == "CAPTURE") names.push_back(field.full_name());
  });
  return Reply::list(std::move(names));
}

Reply SystemCommands::put_capture(std::string_view args, std::string_view value) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  if (!value.empty()) return Reply::error("Unexpected character after input");
  model_.for_each_field([&](Field& field) {
    auto attrs = field.attributes();
    if (attrs.empty() || attrs[0] != "CAPTURE") return;
    auto current = field.get_attr("CAPTURE");
    if (current.ok() && std::get<std::string>(current.value()) == "No") return;
    if (field.put_attr("CAPTURE", "No").ok()) field.set_attr_stamp("CAPTURE", model_.next_stamp());
  });
  return Reply::ok();
}

// ---------------------------------------------------------------- *PCAP

Reply SystemCommands::get_pcap(std::string_view args) {
  auto& pcap = model_.pcap();
  if (!args.starts_with('.')) return Reply::error("Character '.' expected");
  if (args == ".STATUS") {
    std::size_t readers = model_.data_sessions();
    std::string state = pcap.armed ? "Busy " : "Idle ";
    return Reply::value(state + std::to_string(readers) + " " +
                        std::to_string(pcap.armed ? readers : 0));
  }
  if (args == ".CAPTURED") return Reply::value(std::to_string(pcap.captured));
  if (args == ".COMPLETION") return Reply::value(pcap.armed ? "Busy" : pcap.completion);
  return Reply::error("Invalid *PCAP field");
}

Reply SystemCommands::put_pcap(std::string_view args, std::string_view value) {
  auto& pcap = model_.pcap();
  if (!args.starts_with('.')) return Reply::error("Character '.' expected");
  // ARM and DISARM are actions that take no value (the server parses the end
  // of input right after the `=`).
  if ((args == ".ARM" || args == ".DISARM") && !value.empty()) {
    return Reply::error("Unexpected character after input");
  }
  if (args == ".ARM") {
    if (pcap.armed) return Reply::error("Data capture already in progress");
    if (model_.capture_list().empty()) return Reply::error("Nothing configured for capture");
    if (model_.on_arm) {
      Status status = model_.on_arm();
      if (!status.ok()) return Reply::error(status.error());
    }
    pcap.armed = true;
    pcap.captured = 0;
    return Reply::ok();
  }
  if (args == ".DISARM") {
    if (pcap.armed) {
      pcap.completion = "Disarmed";
      pcap.armed = false;
      if (model_.on_disarm) model_.on_disarm();
    }
    return Reply::ok();
  }
  return Reply::error("Invalid *PCAP field");
}

// ---------------------------------------------------------------- misc writes

Reply SystemCommands::verbose(std::string_view args, std::string_view value) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  if (value != "0" && value != "1") return Reply::error("Invalid bit value");
  return Reply::ok();
}

Reply SystemCommands::savestate(std::string_view args, std::string_view) {
  if (!args.empty()) return Reply::error("Unexpected character after input");
  if (model_.on_save_state) return Reply::from(model_.on_save_state());
  return Reply::ok();
}

// ---------------------------------------------------------------- *METADATA

Reply SystemCommands::get_metadata(std::string_view args) {
  if (args == ".*") {
    std::vector<std::string> keys;
    for (const auto& m : model_.metadata()) keys.push_back(m.key);
    return Reply::list(std::move(keys));
  }
  auto key = metadata_key(args);
  if (!key.ok()) return Reply::error(key.error());
  const MetadataEntry* m = model_.find_metadata(key.value());
  if (m == nullptr) return Reply::error("Metadata key " + std::string(key.value()) + " not found");
  if (m->multiline) return Reply::list(m->lines);
  return Reply::value(m->value);
}

Reply SystemCommands::put_metadata(std::string_view args, std::string_view value) {
  auto key = metadata_key(args);
  if (!key.ok()) return Reply::error(key.error());
  MetadataEntry* m = model_.find_metadata(key.value());
  if (m == nullptr) return Reply::error("Metadata key " + std::string(key.value()) + " not found");
  if (m->multiline) return Reply::error("Cannot write to this field");
  m->value = std::string(value);
  m->stamp = model_.next_stamp();
  return Reply::ok();
}

}  // namespace pandafly::sim
