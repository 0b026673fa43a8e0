// PandA simulator over real loopback sockets: one short end-to-end check of the
// Asio shell (control + data port, command log, request counter).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include "sim/panda/data_connection.hpp"
#include "sim/panda/server.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Blocking client helper: sends `request` and reads `lines` reply lines.
std::string exchange(tcp::socket& socket, const std::string& request, int lines) {
  asio::write(socket, asio::buffer(request));
  asio::streambuf buffer;
  std::string out;
  for (int i = 0; i < lines; ++i) {
    asio::read_until(socket, buffer, '\n');
    std::istream in(&buffer);
    std::string line;
    std::getline(in, line);
    out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("data options parsing") {
  using pandafly::sim::DataOptions;
  auto o = pandafly::sim::parse_data_options("XML FRAMED RAW");
  REQUIRE(o);
  CHECK(o->xml);
  CHECK(o->raw);
  CHECK(o->format == DataOptions::Format::framed);
  auto bare = pandafly::sim::parse_data_options("BARE");
  REQUIRE(bare);
  CHECK_FALSE(bare->header);
  CHECK_FALSE(bare->status);
  CHECK(bare->one_shot);
  CHECK_FALSE(pandafly::sim::parse_data_options("FRAMED BOGUS"));
  pandafly::sim::PandaModel model;
  pandafly::sim::PandaDataConnection data(model, "127.0.0.1:1");
  CHECK(data.receive("XML FRA") == "");
  CHECK(data.receive("MED SCALED\nignored bytes\n") == "OK\n");
  CHECK(data.ready());
  CHECK(data.receive("more ignored\n") == "");
  pandafly::sim::PandaDataConnection bad(model, "127.0.0.1:2");
  CHECK(bad.receive("NOPE\n") == "ERR Invalid data capture option\n");
  CHECK(bad.closed());
}

TEST_CASE("PandaServer on 127.0.0.1 with ephemeral ports") {
  const std::string log_path = "sim_panda_server_test_commands.log";
  std::remove(log_path.c_str());
  asio::io_context io;
  pandafly::sim::PandaServer server(io, {0, 0, log_path});
  REQUIRE(server.control_port() != 0);
  REQUIRE(server.data_port() != 0);
  std::thread runner([&] { io.run(); });

  asio::io_context client_io;
  tcp::socket control(client_io);
  control.connect({asio::ip::make_address("127.0.0.1"), server.control_port()});
  tcp::socket control2(client_io);
  control2.connect({asio::ip::make_address("127.0.0.1"), server.control_port()});
  tcp::socket data(client_io);
  data.connect({asio::ip::make_address("127.0.0.1"), server.data_port()});

  CHECK(exchange(data, "XML FRAMED SCALED\n", 1) == "OK\n");
  CHECK(exchange(control, "*ECHO a?\nSEQ1.TABLE<\n1 2 3 4\n\nSEQ1.TABLE.LENGTH?\n", 3) ==
        "OK =a\nOK\nOK =4\n");
  CHECK(exchange(control2, "SEQ1.TABLE.LENGTH?\n*PCAP.STATUS?\n", 2) == "OK =4\nOK =Idle 1 0\n");
  std::string who = exchange(control, "*WHO?\n", 4);
  CHECK(who.find(" config 127.0.0.1:") != std::string::npos);
  CHECK(who.find(" data 127.0.0.1:") != std::string::npos);
  CHECK(server.requests_received() == 6);

  tcp::socket bad(client_io);
  bad.connect({asio::ip::make_address("127.0.0.1"), server.data_port()});
  CHECK(exchange(bad, "NONSENSE\n", 1) == "ERR Invalid data capture option\n");

  server.stop();
  runner.join();
  std::ifstream log(log_path);
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text ==
        "*ECHO a?\nSEQ1.TABLE<\n1 2 3 4\n\nSEQ1.TABLE.LENGTH?\nSEQ1.TABLE.LENGTH?\n"
        "*PCAP.STATUS?\n*WHO?\n");
  std::remove(log_path.c_str());
}

TEST_CASE("PandaServer reports a port in use") {
  asio::io_context io;
  pandafly::sim::PandaServer first(io, {0, 0, ""});
  CHECK_THROWS_AS(pandafly::sim::PandaServer(io, {first.control_port(), 0, ""}),
                  boost::system::system_error);
}
