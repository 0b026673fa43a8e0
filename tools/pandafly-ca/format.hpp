#pragma once
// pandafly-ca output: values, time stamps and alarms as text (caget/camonitor
// habits) or JSON.
#include <string>

#include <nlohmann/json.hpp>

#include "pandafly/ca/channel.hpp"
#include "pandafly/ca/value.hpp"

namespace pandafly_ca {

/// How a value is shown.
struct Shape {
  bool array = false;           ///< "COUNT e1 e2 ..." instead of one value
  bool char_as_string = false;  ///< a DBF_CHAR array as text up to its first NUL
};

/// The value as caget prints it: one element, or the count then the elements.
std::string value_text(const pandafly::ca::Value& v, const Shape& shape);
/// The value for JSON: a number or string, or an array of them.
nlohmann::json value_json(const pandafly::ca::Value& v, const Shape& shape);

/// Local time as camonitor prints it: "2024-05-01 14:03:07.123456".
std::string local_time_text(const pandafly::ca::Timestamp& t);
/// UTC in ISO 8601 with nanoseconds: "2024-05-01T12:03:07.123456789Z".
std::string utc_iso_text(const pandafly::ca::Timestamp& t);

/// "" when there is no alarm, else " STATUS SEVERITY" (camonitor's columns).
std::string alarm_text(const pandafly::ca::Alarm& a);
/// timestamp, time, status, severity members.
void add_time_json(nlohmann::json& j, const pandafly::ca::Timestamp& t,
                   const pandafly::ca::Alarm& a);

/// `text` as the elements of a put of type `t`: numbers for numeric types
/// (throws std::invalid_argument naming the word that is not a number),
/// the words themselves for strings and enums.
pandafly::ca::Value parse_values(const std::vector<std::string>& words, pandafly::ca::FieldType t);

}  // namespace pandafly_ca
