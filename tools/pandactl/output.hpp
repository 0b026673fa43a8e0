#pragma once
// pandactl output: every result as text for people or JSON for programs.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/info_commands.hpp"
#include "pandafly/panda/table.hpp"

namespace pandactl {

nlohmann::json to_json(const pandafly::panda::Identity& id);
nlohmann::json to_json(const pandafly::panda::BlockInfo& b);
nlohmann::json to_json(const pandafly::panda::FieldInfo& f);
nlohmann::json to_json(const pandafly::panda::TableLayout& t,
                       const std::vector<pandafly::panda::TableRow>& rows);

/// One line per field: `NAME  index type subtype [attributes]`.
std::string field_text(const pandafly::panda::FieldInfo& f);

}  // namespace pandactl
