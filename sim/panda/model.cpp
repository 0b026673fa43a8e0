#include "sim/panda/model.hpp"

#include <cctype>

#include "sim/panda/fields.hpp"
#include "sim/panda/system_commands.hpp"

namespace pandafly::sim {
namespace {

constexpr std::size_t kMaxNameLength = 32;

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// Takes a name (letters, digits, `_`) at `pos`.
Expected<std::string_view> take_name(std::string_view text, std::size_t& pos) {
  std::size_t start = pos;
  while (pos < text.size() && is_name_char(text[pos])) ++pos;
  if (pos == start) return Error{"No name found"};
  if (pos - start >= kMaxNameLength) return Error{"Name too long"};
  return text.substr(start, pos - start);
}

bool take_char(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

std::string join_value(const ReadValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return {};
}

}  // namespace

Session::~Session() {
  model_->close_session(id_);
}

std::string Block::instance_name(std::size_t number) const {
  if (spec->count == 1) return spec->name;
  return spec->name + std::to_string(number + 1);
}

PandaModel::PandaModel() : buses_(std::make_shared<Buses>()) {
  build();
}

void PandaModel::build() {
  for (const auto& spec : panda_blocks()) {
    Block block{&spec, {}};
    for (std::size_t n = 0; n < spec.count; ++n) {
      for (const auto& field : spec.fields) {
        std::string name = block.instance_name(n) + "." + field.name;
        if (field.type == "bit_out") buses_->bits.push_back(name);
        if (field.type == "pos_out") buses_->positions.push_back(name);
      }
    }
    blocks_.push_back(std::move(block));
  }
  for (auto& block : blocks_) {
    block.instances.resize(block.spec->count);
    for (std::size_t n = 0; n < block.spec->count; ++n) {
      for (const auto& field : block.spec->fields) {
        block.instances[n].push_back(
            make_field(field, block.instance_name(n) + "." + field.name, buses_));
      }
      metadata_.push_back({"LABEL_" + block.instance_name(n), false, {}, {}, 1});
    }
  }
  metadata_.insert(
      metadata_.begin(),
      {{"DESIGN", false, {}, {}, 1}, {"LAYOUT", true, {}, {}, 1}, {"YAML", true, {}, {}, 1}});
}

// ---------------------------------------------------------------- names

Expected<EntityRef> PandaModel::resolve(std::string_view name, bool allow_star, bool need_number) {
  EntityRef ref;
  std::size_t pos = 0;
  auto block_name = take_name(name, pos);
  if (!block_name.ok()) return Error{block_name.error()};
  std::string_view text = block_name.value();
  std::size_t digits = text.size();
  while (digits > 0 && is_digit(text[digits - 1])) --digits;
  for (auto& block : blocks_) {
    if (block.spec->name == text.substr(0, digits)) ref.block = &block;
  }
  if (ref.block == nullptr) return Error{"No such block"};
  bool number_present = digits < text.size();
  if (number_present) {
    unsigned long n = std::stoul(std::string(text.substr(digits, 9)));
    if (n == 0 || n > ref.block->spec->count) return Error{"Invalid block number"};
    ref.number = n - 1;
  }
  bool number_missing = need_number && !number_present && ref.block->spec->count != 1;
  if (take_char(name, pos, '.')) {
    auto status = resolve_field_part(name, pos, ref, allow_star, number_missing);
    if (!status.ok()) return Error{status.error()};
  }
  if (pos != name.size()) return Error{"Unexpected character after input"};
  return ref;
}

// Parses `* | FIELD [. (* | ATTR)]` after the block's dot.
Status PandaModel::resolve_field_part(std::string_view name, std::size_t& pos, EntityRef& ref,
                                      bool allow_star, bool number_missing) const {
  if (allow_star && take_char(name, pos, '*')) {
    ref.star = true;
    return {};
  }
  auto field_name = take_name(name, pos);
  if (!field_name.ok()) return Error{field_name.error()};
  const auto& fields = ref.block->spec->fields;
  for (std::size_t i = 0; i < fields.size() && ref.field == nullptr; ++i) {
    if (fields[i].name != field_name.value()) continue;
    ref.field_index = i;
    ref.field = ref.block->instances[ref.number][i].get();
  }
  if (ref.field == nullptr) return Error{"No such field"};
  if (!take_char(name, pos, '.')) {
    if (number_missing) return Error{"Missing block number"};
    return {};
  }
  if (allow_star && take_char(name, pos, '*')) {
    ref.star = true;
    return {};
  }
  if (number_missing) return Error{"Missing block number"};
  auto attr = take_name(name, pos);
  if (!attr.ok()) return Error{attr.error()};
  ref.attr = std::string(attr.value());
  auto attrs = ref.field->attributes();
  bool known = ref.attr == "INFO";
  for (const auto& a : attrs) known = known || a == ref.attr;
  if (!known) return Error{"No such attribute"};
  return {};
}

// An entity command's target: a field, attribute or `*` list.
Expected<EntityRef> PandaModel::resolve_field(std::string_view name) {
  auto ref = resolve(name, true, true);
  if (ref.ok() && !ref.value().star && ref.value().field == nullptr) {
    return Error{"Missing field name"};
  }
  return ref;
}

Field* PandaModel::find_field(std::string_view full_name) {
  auto ref = resolve(full_name, false, true);
  if (!ref.ok() || !ref.value().attr.empty()) return nullptr;
  return ref.value().field;
}

// ---------------------------------------------------------------- requests

Reply PandaModel::read(std::string_view name, Session& session) {
  if (name.starts_with('*')) return SystemCommands(*this, session).read(name.substr(1));
  return read_entity(name);
}

Reply PandaModel::write(std::string_view name, std::string_view value, Session& session) {
  if (name.starts_with('*')) return SystemCommands(*this, session).write(name.substr(1), value);
  return Reply::from(write_entity(name, value));
}

Reply PandaModel::write_table(std::string_view name, const TableWrite& data, Session& session) {
  if (name.starts_with('*')) {
    return SystemCommands(*this, session).write_table(name.substr(1), data);
  }
  return Reply::from(write_table_entity(name, data));
}

Reply PandaModel::read_entity(std::string_view name) {
  auto ref = resolve_field(name);
  if (!ref.ok()) return Reply::error(ref.error());
  const EntityRef& e = ref.value();
  if (e.star && e.field == nullptr) {
    std::vector<std::string> lines;
    const auto& fields = e.block->instances[0];
    for (std::size_t i = 0; i < fields.size(); ++i) {
      lines.push_back(fields[i]->spec().name + " " + std::to_string(i) + " " + fields[i]->info());
    }
    return Reply::list(std::move(lines));
  }
  if (e.star) {
    auto attrs = e.field->attributes();
    attrs.emplace_back("INFO");
    return Reply::list(std::move(attrs));
  }
  if (e.attr == "INFO") return Reply::value(e.field->info());
  if (!e.attr.empty()) return Reply::from(e.field->get_attr(e.attr));
  return Reply::from(e.field->get());
}

Status PandaModel::write_entity(std::string_view name, std::string_view value) {
  auto ref = resolve_field(name);
  if (!ref.ok()) return Error{ref.error()};
  const EntityRef& e = ref.value();
  if (e.star) return Error{"Field not writeable"};
  if (!e.attr.empty()) return write_attr(*e.field, e.attr, value);
  Status status = e.field->put(value);
  if (status.ok()) {
    e.field->value_stamp = next_stamp();
    if (on_field_written) on_field_written(*e.field);
  }
  return status;
}

Status PandaModel::write_attr(Field& field, const std::string& attr, std::string_view value) {
  if (attr == "INFO") return Error{"Attribute not writeable"};
  Status status = field.put_attr(attr, value);
  if (!status.ok()) return status;
  // Attributes outside *CHANGES.ATTR (time RAW) change the field's value instead.
  if (field.attr_reported(attr)) {
    field.set_attr_stamp(attr, next_stamp());
    if (field.attr_rescales_value(attr)) field.value_stamp = field.attr_stamp(attr);
  } else {
    field.value_stamp = next_stamp();
  }
  if (on_field_written) on_field_written(field);
  return status;
}

Status PandaModel::write_table_entity(std::string_view name, const TableWrite& data) {
  auto ref = resolve_field(name);
  if (!ref.ok()) return Error{ref.error()};
  if (ref.value().star || !ref.value().attr.empty()) return Error{"Field not a table"};
  Field& field = *ref.value().field;
  Status status = field.put_table(data);
  if (status.ok()) {
    field.value_stamp = next_stamp();
    if (on_field_written) on_field_written(field);
  }
  return status;
}

// ---------------------------------------------------------------- changes

std::vector<std::string> PandaModel::changes(ChangeGroup group, std::uint64_t since,
                                             bool with_polled) {
  std::vector<std::string> out;
  if (group == ChangeGroup::metadata) {
    for (const auto& m : metadata_) {
      if (m.stamp <= since) continue;
      out.push_back("*METADATA." + m.key + (m.multiline ? "<" : "=" + m.value));
    }
    return out;
  }
  for_each_field([&](Field& field) { field_changes(field, group, since, with_polled, out); });
  return out;
}

void PandaModel::field_changes(Field& field, ChangeGroup group, std::uint64_t since,
                               bool with_polled, std::vector<std::string>& out) {
  if (group == ChangeGroup::attr) {
    for (const auto& attr : field.attributes()) {
      const bool polled = with_polled && field.attr_polled(attr);
      if (!polled && (!field.attr_reported(attr) || field.attr_stamp(attr) <= since)) continue;
      auto value = field.get_attr(attr);
      out.push_back(field.full_name() + "." + attr +
                    (value.ok() ? "=" + join_value(value.value()) : " (error)"));
    }
    return;
  }
  if (field.group() != group || field.value_stamp <= since) return;
  if (field.multiline()) {
    out.push_back(field.full_name() + "<");
    return;
  }
  auto value = field.get();
  out.push_back(field.full_name() + (value.ok() ? "=" + join_value(value.value()) : " (error)"));
}

// ---------------------------------------------------------------- the rest

std::unique_ptr<Session> PandaModel::open_session(std::string kind, std::string peer,
                                                  std::string connected_at) {
  std::uint64_t id = next_session_++;
  sessions_[id] = SessionInfo{std::move(kind), std::move(peer), std::move(connected_at)};
  return std::make_unique<Session>(*this, id);
}

std::size_t PandaModel::data_sessions() const {
  std::size_t n = 0;
  for (const auto& [id, info] : sessions_)
    if (info.kind == "data") ++n;
  return n;
}

MetadataEntry* PandaModel::find_metadata(std::string_view key) {
  for (auto& m : metadata_) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

bool PandaModel::set_bit(std::string_view full_name, bool value) {
  auto* field = dynamic_cast<BitOutField*>(find_field(full_name));
  if (field == nullptr) return false;
  if (field->value() != value) field->value_stamp = next_stamp();
  field->set(value);
  return true;
}

bool PandaModel::set_position(std::string_view full_name, std::int32_t value) {
  auto* field = dynamic_cast<PosOutField*>(find_field(full_name));
  if (field == nullptr) return false;
  if (field->value() != value) field->value_stamp = next_stamp();
  field->set(value);
  return true;
}

bool PandaModel::set_read(std::string_view full_name, std::uint64_t raw) {
  auto* field = dynamic_cast<RegisterField*>(find_field(full_name));
  if (field == nullptr) return false;
  field->set_raw(raw);
  field->value_stamp = next_stamp();
  return true;
}

std::vector<std::string> PandaModel::capture_list() {
  std::vector<std::string> out;
  for_each_field([&](Field& field) {
    auto attrs = field.attributes();
    if (attrs.empty() || attrs[0] != "CAPTURE") return;
    auto value = field.get_attr("CAPTURE");
    std::string options = value.ok() ? join_value(value.value()) : "No";
    if (options != "No") out.push_back(field.full_name() + " " + options);
  });
  return out;
}

}  // namespace pandafly::sim
