// make_field(): the one place that maps a field's type string to its kind.
#include <functional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "sim/panda/fields.hpp"
#include "sim/panda/table_field.hpp"

namespace pandafly::sim {

std::optional<std::size_t> Buses::bit_index(std::string_view name) const {
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i] == name) return i;
  }
  return std::nullopt;
}

std::uint64_t Field::attr_stamp(std::string_view attr) const {
  auto it = attr_stamps_.find(attr);
  return it == attr_stamps_.end() ? 1 : it->second;
}

void Field::set_attr_stamp(std::string_view attr, std::uint64_t stamp) {
  attr_stamps_.insert_or_assign(std::string(attr), stamp);
}

namespace {

struct FactoryInput {
  const FieldSpec& spec;
  std::string full_name;
  std::shared_ptr<const Buses> buses;
  std::vector<std::string> args;  // words after the type word
};

using Maker = std::function<std::unique_ptr<Field>(FactoryInput&)>;

std::unique_ptr<Field> make_register(FactoryInput& in, RegisterField::Access access) {
  auto type = make_value_type(
      access == RegisterField::Access::time ? std::vector<std::string>{"time"} : in.args, in.spec);
  return std::make_unique<RegisterField>(in.spec, std::move(in.full_name), access, std::move(type));
}

std::unique_ptr<Field> make_bit_out(FactoryInput& in) {
  auto index = in.buses->bit_index(in.full_name);
  if (!index) throw std::invalid_argument("bit_out not on the bus: " + in.full_name);
  return std::make_unique<BitOutField>(in.spec, std::move(in.full_name), *index);
}

std::unique_ptr<Field> make_ext_out(FactoryInput& in) {
  std::string kind = in.args.empty() ? "timestamp" : in.args[0];
  std::size_t word = in.args.size() > 1 ? std::stoul(in.args[1]) : 0;
  return std::make_unique<ExtOutField>(in.spec, std::move(in.full_name), kind, word, in.buses);
}

const std::unordered_map<std::string, Maker>& makers() {
  using A = RegisterField::Access;
  static const std::unordered_map<std::string, Maker> table{
      {"param", [](FactoryInput& in) { return make_register(in, A::param); }},
      {"read", [](FactoryInput& in) { return make_register(in, A::read); }},
      {"write", [](FactoryInput& in) { return make_register(in, A::write); }},
      {"time", [](FactoryInput& in) { return make_register(in, A::time); }},
      {"bit_out", make_bit_out},
      {"pos_out",
       [](FactoryInput& in) {
         return std::make_unique<PosOutField>(in.spec, std::move(in.full_name));
       }},
      {"ext_out", make_ext_out},
      {"bit_mux",
       [](FactoryInput& in) {
         return std::make_unique<BitMuxField>(in.spec, std::move(in.full_name), in.buses);
       }},
      {"pos_mux",
       [](FactoryInput& in) {
         return std::make_unique<PosMuxField>(in.spec, std::move(in.full_name), in.buses);
       }},
      {"table",
       [](FactoryInput& in) {
         return std::make_unique<TableField>(in.spec, std::move(in.full_name));
       }},
  };
  return table;
}

}  // namespace

std::unique_ptr<Field> make_field(const FieldSpec& spec, std::string full_name,
                                  std::shared_ptr<const Buses> buses) {
  std::istringstream words(spec.type);
  std::string kind;
  words >> kind;
  FactoryInput in{spec, std::move(full_name), std::move(buses), {}};
  for (std::string w; words >> w;) in.args.push_back(w);
  auto it = makers().find(kind);
  if (it == makers().end()) throw std::invalid_argument("unknown field type " + spec.type);
  return it->second(in);
}

}  // namespace pandafly::sim
