#include "sim/panda/fields.hpp"

#include <algorithm>
#include <sstream>

#include "sim/panda/parse.hpp"

namespace pandafly::sim {

// ---------------------------------------------------------------- RegisterField

RegisterField::RegisterField(const FieldSpec& spec, std::string full_name, Access access,
                             std::unique_ptr<ValueType> type)
    : Field(spec, std::move(full_name)), access_(access), type_(std::move(type)) {}

std::string RegisterField::info() const {
  switch (access_) {
    case Access::param:
      return "param " + type_->name();
    case Access::read:
      return "read " + type_->name();
    case Access::write:
      return "write " + type_->name();
    case Access::time:
      return "time";
  }
  return {};
}

std::optional<ChangeGroup> RegisterField::group() const {
  switch (access_) {
    case Access::param:
    case Access::time:
      return ChangeGroup::config;
    case Access::read:
      return ChangeGroup::read;
    case Access::write:
      return std::nullopt;
  }
  return std::nullopt;
}

Expected<ReadValue> RegisterField::get() const {
  if (access_ == Access::write) return Error{"Field not readable"};
  return ReadValue{type_->format()};
}

Status RegisterField::put(std::string_view value) {
  if (access_ == Access::read) return Error{"Field not writeable"};
  return type_->parse(value);
}

// ---------------------------------------------------------------- BitOutField

Expected<ReadValue> BitOutField::get_attr(std::string_view attr) const {
  if (attr == "CAPTURE_WORD") return ReadValue{"PCAP.BITS" + std::to_string(bus_index_ / 32)};
  return ReadValue{std::to_string(bus_index_ % 32)};
}

// ---------------------------------------------------------------- capture options

const std::vector<std::string>& capture_options() {
  static const std::vector<std::string> options{"Value", "Diff", "Sum",   "Min",
                                                "Max",   "Mean", "StdDev"};
  return options;
}

const std::vector<std::string>& capture_enums() {
  static const std::vector<std::string> enums{"No",           "Value",  "Diff",       "Sum",
                                              "Mean",         "Min",    "Max",        "Min Max",
                                              "Min Max Mean", "StdDev", "Mean StdDev"};
  return enums;
}

namespace {

// Splits a capture value into option words and puts them in canonical order.
Expected<std::string> canonical_capture(std::string_view value) {
  std::istringstream words{std::string(value)};
  std::vector<bool> chosen(capture_options().size(), false);
  bool any = false;
  for (std::string word; words >> word; any = true) {
    auto it = std::find(capture_options().begin(), capture_options().end(), word);
    if (it == capture_options().end()) return Error{"Unknown capture option \"" + word + "\""};
    chosen[static_cast<std::size_t>(it - capture_options().begin())] = true;
  }
  if (!any) return Error{"Invalid capture option"};
  std::string result;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (chosen[i]) result += (result.empty() ? "" : " ") + capture_options()[i];
  }
  return result;
}

}  // namespace

// ---------------------------------------------------------------- PosOutField

std::vector<std::string> PosOutField::attributes() const {
  return {"CAPTURE", "OFFSET", "SCALE", "UNITS", "SCALED"};
}

Expected<ReadValue> PosOutField::get_attr(std::string_view attr) const {
  if (attr == "CAPTURE") return ReadValue{capture_};
  if (attr == "OFFSET") return ReadValue{format_double(offset_)};
  if (attr == "SCALE") return ReadValue{format_double(scale_)};
  if (attr == "UNITS") return ReadValue{units_};
  return ReadValue{format_double(static_cast<double>(value_) * scale_ + offset_)};
}

Status PosOutField::put_attr(std::string_view attr, std::string_view value) {
  if (attr == "CAPTURE") return put_capture(value);
  if (attr == "UNITS") {
    units_ = std::string(value);
    return {};
  }
  if (attr == "SCALED") return Error{"Attribute not writeable"};
  auto number = parse_double(value);
  if (!number.ok()) return Error{number.error()};
  (attr == "SCALE" ? scale_ : offset_) = number.value();
  return {};
}

Status PosOutField::put_capture(std::string_view value) {
  if (value == "No" || value.empty()) {  // the server treats an empty value as No
    capture_ = "No";
    return {};
  }
  auto canonical = canonical_capture(value);
  if (!canonical.ok()) return Error{canonical.error()};
  capture_ = canonical.value();
  return {};
}

std::optional<std::vector<std::string>> PosOutField::attr_enums(std::string_view attr) const {
  if (attr != "CAPTURE") return std::nullopt;
  return capture_enums();
}

// ---------------------------------------------------------------- ExtOutField

ExtOutField::ExtOutField(const FieldSpec& spec, std::string full_name, std::string kind,
                         std::size_t word, std::shared_ptr<const Buses> buses)
    : Field(spec, std::move(full_name)),
      kind_(std::move(kind)),
      word_(word),
      buses_(std::move(buses)) {}

std::vector<std::string> ExtOutField::attributes() const {
  if (kind_ == "bits") return {"CAPTURE", "BITS"};
  return {"CAPTURE"};
}

Expected<ReadValue> ExtOutField::get_attr(std::string_view attr) const {
  if (attr == "CAPTURE") return ReadValue{captured_ ? "Value" : "No"};
  std::vector<std::string> names(32);
  for (std::size_t bit = 0; bit < 32; ++bit) {
    std::size_t index = word_ * 32 + bit;
    if (index < buses_->bits.size()) names[bit] = buses_->bits[index];
  }
  return ReadValue{names};
}

Status ExtOutField::put_attr(std::string_view attr, std::string_view value) {
  if (attr != "CAPTURE") return Error{"Attribute not writeable"};
  if (value != "No" && value != "Value") return Error{"Invalid capture option"};
  captured_ = value == "Value";
  return {};
}

std::optional<std::vector<std::string>> ExtOutField::attr_enums(std::string_view attr) const {
  if (attr != "CAPTURE") return std::nullopt;
  return std::vector<std::string>{"No", "Value"};
}

// ---------------------------------------------------------------- muxes

Status BitMuxField::put(std::string_view value) {
  auto choices = enums();
  if (std::find(choices->begin(), choices->end(), value) == choices->end()) {
    return Error{"Invalid bit bus selection"};
  }
  value_ = std::string(value);
  return {};
}

Expected<ReadValue> BitMuxField::get_attr(std::string_view attr) const {
  if (attr == "DELAY") return ReadValue{std::to_string(delay_)};
  return ReadValue{std::to_string(kMaxBitMuxDelay)};
}

Status BitMuxField::put_attr(std::string_view attr, std::string_view value) {
  if (attr != "DELAY") return Error{"Attribute not writeable"};
  auto delay = parse_uint(value, 0xFFFFFFFFu);
  if (!delay.ok()) return Error{delay.error()};
  if (delay.value() > kMaxBitMuxDelay) return Error{"Delay too long"};
  delay_ = delay.value();
  return {};
}

std::optional<std::vector<std::string>> BitMuxField::enums() const {
  std::vector<std::string> choices{"ZERO", "ONE"};
  choices.insert(choices.end(), buses_->bits.begin(), buses_->bits.end());
  return choices;
}

Status PosMuxField::put(std::string_view value) {
  auto choices = enums();
  if (std::find(choices->begin(), choices->end(), value) == choices->end()) {
    return Error{"Invalid position selection"};
  }
  value_ = std::string(value);
  return {};
}

std::optional<std::vector<std::string>> PosMuxField::enums() const {
  std::vector<std::string> choices{"ZERO"};
  choices.insert(choices.end(), buses_->positions.begin(), buses_->positions.end());
  return choices;
}

}  // namespace pandafly::sim
