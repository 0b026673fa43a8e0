#pragma once
// Test helper: one simulator connection over a fresh model; call it with
// request bytes, get the reply bytes.
#include <string>
#include <string_view>

#include "sim/panda/control_connection.hpp"
#include "sim/panda/model.hpp"

namespace pandafly::sim::test {

struct Panda {
  PandaModel model;
  PandaControlConnection conn{model, "127.0.0.1:40000"};
  std::string operator()(std::string_view bytes) { return conn.receive(bytes); }
};

}  // namespace pandafly::sim::test
