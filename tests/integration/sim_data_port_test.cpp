// The simulator's data port over real loopback sockets: exact bytes for a
// client in XML FRAMED RAW, several clients in their own options, a late
// joiner (missed), ONE_SHOT closing, re-arming, Data overrun, and the
// "close the data connection at row k" fault.
//
// Clients are plain POSIX sockets with a 10 s receive timeout, so a missing
// byte fails the test instead of hanging it.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pandafly/panda/commands.hpp"
#include "pandafly/panda/io/blocking_client.hpp"
#include "sim/panda/capture_layout.hpp"
#include "sim/panda/server.hpp"
#include "sim_fixture.hpp"

using namespace std::chrono_literals;
using pandafly::sim::CapturedField;
using pandafly::sim::CaptureLayout;
using pandafly::sim::PandaServer;
using pandafly::test::Simulator;

namespace {

constexpr auto kArm = "2026-01-15T10:00:00.000000001Z";
constexpr auto kStart = "2026-01-15T10:00:00.004000000Z";

/// A blocking POSIX client of 127.0.0.1:port.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { ::close(fd_); }

  void send(std::string_view bytes) {
    CHECK(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
  }
  /// Exactly `n` bytes ("" plus a failed check on timeout or EOF).
  std::string read_exact(std::size_t n) {
    while (buf_.size() < n && fill()) {
    }
    REQUIRE_MESSAGE(buf_.size() >= n, "timeout or EOF after ", buf_.size(), " bytes");
    return take(n);
  }
  /// Everything up to and including `marker`.
  std::string read_until(std::string_view marker) {
    std::size_t from = 0;
    for (;;) {
      auto at = buf_.find(marker, from);
      if (at != std::string::npos) return take(at + marker.size());
      from = buf_.size() >= marker.size() ? buf_.size() - marker.size() + 1 : 0;
      REQUIRE_MESSAGE(fill(), "no \"", std::string(marker), "\" in: ", buf_.substr(0, 200));
    }
  }
  /// Everything until the server closes (true) or 10 s pass (false).
  bool read_to_eof(std::string& out) {
    while (fill()) {
    }
    out = take(buf_.size());
    return eof_;
  }
  /// A header, the payload of its BIN frames, and the END line.
  struct Framed {
    std::string header, payload, end;
    std::size_t frames = 0;
  };
  Framed read_framed() {
    Framed f;
    f.header = read_until("</header>\n\n");
    for (std::string unit = read_exact(4); unit == "BIN "; unit = read_exact(4)) {
      std::uint32_t length;
      std::memcpy(&length, read_exact(4).data(), 4);
      f.payload += read_exact(length - 8);
      ++f.frames;
    }
    f.end = "END " + read_until("\n");
    return f;
  }

 private:
  bool fill() {
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = n == 0;
      return false;
    }
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  std::string take(std::size_t n) {
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }

  int fd_;
  std::string buf_;
  bool eof_ = false;
};

CaptureLayout small_layout() {
  return CaptureLayout({CapturedField::bits("PCAP.BITS0"),
                        CapturedField::pos_out("INENC1.VAL", {"Value"}, 0.000125, 0, "deg"),
                        CapturedField::timestamp("PCAP.TS_TRIG")});
}

// RAW samples of small_layout(): bits 0x10000|i, position 1000·i, TS 125000·(i+1).
std::vector<std::byte> raw_samples(std::size_t first, std::size_t count) {
  std::vector<std::byte> out;
  for (std::size_t i = first; i < first + count; ++i) {
    auto bits = static_cast<std::uint32_t>(0x10000 | i);
    auto pos = static_cast<std::int32_t>(1000 * i);
    auto ts = static_cast<std::int64_t>(125000 * (i + 1));
    std::byte b[16];
    std::memcpy(b, &bits, 4);
    std::memcpy(b + 4, &pos, 4);
    std::memcpy(b + 8, &ts, 8);
    out.insert(out.end(), b, b + 16);
  }
  return out;
}

std::string as_string(const std::vector<std::byte>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

}  // namespace

TEST_CASE("sim data port: XML FRAMED RAW, byte for byte") {
  Simulator sim;
  Client client(sim->data_port());
  client.send("XML FRAMED RAW\n");
  CHECK(client.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(1));

  sim->begin_acquisition(small_layout(), kArm, kStart);
  sim->send_samples(raw_samples(0, 3));
  sim->end_acquisition();
  std::string expected =
      "<header>\n"
      "<data arm_time=\"2026-01-15T10:00:00.000000001Z\" "
      "start_time=\"2026-01-15T10:00:00.004000000Z\" missed=\"0\" process=\"Raw\" "
      "format=\"Framed\" sample_bytes=\"16\" />\n"
      "<fields>\n"
      "<field name=\"PCAP.BITS0\" type=\"uint32\" capture=\"Value\" />\n"
      "<field name=\"INENC1.VAL\" type=\"int32\" capture=\"Value\" scale=\"0.000125\" "
      "offset=\"0\" units=\"deg\" />\n"
      "<field name=\"PCAP.TS_TRIG\" type=\"int64\" capture=\"Value\" scale=\"8e-09\" "
      "offset=\"0\" units=\"s\" />\n"
      "</fields>\n"
      "</header>\n"
      "\n" +
      std::string("BIN \x38\x00\x00\x00", 8) + as_string(raw_samples(0, 3)) + "END 3 Ok\n";
  CHECK(client.read_until("END 3 Ok\n") == expected);

  // Not ONE_SHOT: the next arm brings a fresh header on the same connection.
  sim->begin_acquisition(CaptureLayout({CapturedField::timestamp("PCAP.TS_TRIG")}), kArm, kStart);
  sim->end_acquisition("Disarmed");
  auto second = client.read_framed();
  CHECK(second.header.find("sample_bytes=\"8\"") != std::string::npos);
  CHECK(second.frames == 0);
  CHECK(second.end == "END 0 Disarmed\n");
}

TEST_CASE("sim data port: each client in its own options, a late joiner, ONE_SHOT") {
  Simulator sim;
  Client ascii(sim->data_port()), bare(sim->data_port()), base64(sim->data_port());
  ascii.send("ASCII SCALED\n");
  bare.send("BARE\n");
  base64.send("XML BASE64 RAW NO_STATUS ONE_SHOT\n");
  CHECK(ascii.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(3));

  sim->begin_acquisition(small_layout(), kArm, kStart);
  sim->send_samples(raw_samples(0, 3));
  Client late(sim->data_port());  // joins after 3 samples
  late.send("XML FRAMED SCALED\n");
  CHECK(late.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(4));
  sim->send_samples(raw_samples(3, 2));
  sim->end_acquisition();

  CHECK(ascii.read_until("END 5 Ok\n")
            .ends_with("fields:\n"
                       " PCAP.BITS0 uint32 Value\n"
                       " INENC1.VAL double Value scale: 0.000125 offset: 0 units: deg\n"
                       " PCAP.TS_TRIG double Value scale: 8e-09 offset: 0 units: s\n"
                       "\n"
                       " 65536 0 0.001\n 65537 0.125 0.002\n 65538 0.25 0.003\n"
                       " 65539 0.375 0.004\n 65540 0.5 0.005\nEND 5 Ok\n"));
  std::string bare_bytes;
  CHECK(bare.read_to_eof(bare_bytes));  // ONE_SHOT: closed after the acquisition
  CHECK(bare_bytes == as_string(raw_samples(0, 5)));
  std::string base64_bytes;
  CHECK(base64.read_to_eof(base64_bytes));
  CHECK(base64_bytes.find("missed=\"0\" process=\"Raw\" format=\"Base64\" sample_bytes=\"16\"") !=
        std::string::npos);
  CHECK(base64_bytes.ends_with(std::string("=") + '\0' + "\n"));  // 80 bytes: 57 + 23

  auto joined = late.read_framed();
  CHECK(joined.header.find("missed=\"3\" process=\"Scaled\" format=\"Framed\" "
                           "sample_bytes=\"20\"") != std::string::npos);
  CHECK(joined.payload.size() == 2 * 20);
  double position;
  std::memcpy(&position, joined.payload.data() + 4, 8);
  CHECK(position == 3000 * 0.000125);
  CHECK(joined.end == "END 2 Ok\n");
  CHECK(sim.wait_for_data_clients(2));  // the ONE_SHOT clients have gone
}

TEST_CASE("sim data port: a client too far behind gets Data overrun") {
  Simulator sim(
      {.fpga = false, .design = {}, .max_backlog_bytes = std::size_t{1} << 20});  // 1 MiB backlog
  Client slow(sim->data_port());
  slow.send("XML FRAMED RAW\n");
  CHECK(slow.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(1));

  // 24 MiB cannot all sit in the loopback socket buffers while the client does
  // not read: the first batch is still queued when the second arrives.
  const std::size_t batch = (std::size_t{24} << 20) / 16;
  sim->begin_acquisition(small_layout(), kArm, kStart);
  sim->send_samples(std::vector<std::byte>(batch * 16));
  sim->send_samples(std::vector<std::byte>(16 * 10));
  sim->send_samples(std::vector<std::byte>(16 * 10));
  sim->end_acquisition();

  auto first = slow.read_framed();
  CHECK(first.payload.size() == batch * 16);
  CHECK(first.end == "END " + std::to_string(batch) + " Data overrun\n");
  // Once the client has caught up, the next acquisition is clean (the real
  // server refuses to arm before that: "Data clients still taking data").
  sim->begin_acquisition(small_layout(), kArm, kStart);
  sim->send_samples(raw_samples(0, 1));
  sim->end_acquisition();
  auto second = slow.read_framed();
  CHECK(second.payload == as_string(raw_samples(0, 1)));
  CHECK(second.end == "END 1 Ok\n");
}

TEST_CASE("sim data port: a rejected options line gets ERR and the connection closes") {
  Simulator sim;
  Client client(sim->data_port());
  client.send("FRAMED NONSENSE\n");
  std::string bytes;
  CHECK(client.read_to_eof(bytes));
  CHECK(bytes == "ERR Invalid data capture option\n");
  CHECK(sim->data_clients_ready() == 0);
}

TEST_CASE("sim data port: close_data_connections() closes after the queued bytes, no END") {
  Simulator sim;
  Client client(sim->data_port()), early(sim->data_port());
  client.send("XML FRAMED RAW\n");
  CHECK(client.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(1));  // `early` never sent its options line
  sim->begin_acquisition(small_layout(), kArm, kStart);
  sim->send_samples(raw_samples(0, 3));
  sim->close_data_connections();
  sim->send_samples(raw_samples(3, 2));  // nobody gets these
  sim->end_acquisition();
  std::string got;
  REQUIRE(client.read_to_eof(got));  // closed by the server within the 10 s guard
  const auto body = got.find("</header>\n\n");
  REQUIRE(body != std::string::npos);
  CHECK(got.substr(body + 11) ==
        std::string("BIN \x38\x00\x00\x00", 8) + as_string(raw_samples(0, 3)));
  CHECK(got.find("END") == std::string::npos);
  std::string nothing;
  CHECK(early.read_to_eof(nothing));
  CHECK(nothing.empty());
  CHECK(sim->data_clients_ready() == 0);
  // The data port still accepts clients, and they get the next acquisition whole.
  Client later(sim->data_port());
  later.send("XML FRAMED RAW\n");
  CHECK(later.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(1));
  sim->begin_acquisition(small_layout(), kArm, kStart);
  sim->send_samples(raw_samples(0, 1));
  sim->end_acquisition();
  const auto f = later.read_framed();
  CHECK(f.payload == as_string(raw_samples(0, 1)));
  CHECK(f.end == "END 1 Ok\n");
}

TEST_CASE("sim data port fault: every data connection closes after captured row k, no END") {
  // PCAP triggered by CLOCK1 at 1 kHz under the fast clock, TS_TRIG captured:
  // with the fault at row 5 an ASCII client reads exactly 5 rows and then EOF,
  // a FRAMED RAW client exactly 5 samples; the control port goes on, and the
  // fault fires once (the next acquisition reaches its END).
  std::mutex mutex;
  std::vector<std::string> log;
  Simulator::Options options;
  options.fpga = true;
  options.faults.close_data_at_row = 5;
  options.log = [&](std::string_view line) {
    std::scoped_lock lock(mutex);
    log.emplace_back(line);
  };
  Simulator sim(options);
  pandafly::panda::BlockingClient control;
  control.connect("127.0.0.1", sim.port(), 5s);
  auto put = [&](const std::string& name, const std::string& value) {
    auto r = control.call(pandafly::panda::Put(name, value), 5s);
    REQUIRE_MESSAGE(r.ok(), name, "=", value);
  };
  put("CLOCK1.PERIOD.RAW", "125000");
  put("CLOCK1.ENABLE", "ONE");
  put("PCAP.TRIG", "CLOCK1.OUT");
  put("PCAP.GATE", "ONE");
  put("PCAP.ENABLE", "ONE");
  put("PCAP.TS_TRIG.CAPTURE", "Value");

  Client ascii(sim.data_port()), framed(sim.data_port());
  ascii.send("ASCII\n");
  framed.send("XML FRAMED RAW\n");
  CHECK(ascii.read_exact(3) == "OK\n");
  CHECK(framed.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(2));
  REQUIRE(control.call(pandafly::panda::Arm{}, 5s).ok());

  std::string text;
  REQUIRE(ascii.read_to_eof(text));
  const auto rows_at = text.find("\n\n");
  REQUIRE(rows_at != std::string::npos);
  CHECK(text.find("fields:\n PCAP.TS_TRIG double Value") != std::string::npos);
  std::istringstream rows(text.substr(rows_at + 2));
  std::vector<double> ts;
  for (std::string line; std::getline(rows, line);) {
    INFO("row line: ", line);
    REQUIRE(line.size() > 1);
    CHECK(line[0] == ' ');
    ts.push_back(std::stod(line));
  }
  CHECK(ts.size() == 5);
  for (std::size_t k = 1; k < ts.size(); ++k) CHECK(ts[k] - ts[k - 1] == doctest::Approx(0.001));
  CHECK(text.find("END") == std::string::npos);
  CHECK(text.back() == '\n');  // the 5th row whole

  std::string bytes;
  REQUIRE(framed.read_to_eof(bytes));
  const auto body = bytes.find("</header>\n\n");
  REQUIRE(body != std::string::npos);
  CHECK(bytes.find("sample_bytes=\"8\"") != std::string::npos);
  std::size_t payload = 0;
  for (std::size_t at = body + 11; at + 8 <= bytes.size();) {
    REQUIRE(bytes.substr(at, 4) == "BIN ");
    std::uint32_t length;
    std::memcpy(&length, bytes.data() + at + 4, 4);
    payload += length - 8;
    at += length;
  }
  CHECK(payload == 5 * 8);
  CHECK(bytes.find("END") == std::string::npos);
  {
    std::scoped_lock lock(mutex);
    REQUIRE(log.size() == 1);
    CHECK(log[0].rfind("fault: closed the PandA data connections after row 5 (t=", 0) == 0);
    CHECK(log[0].back() == ')');
  }

  // The control port keeps working; a new client gets the next acquisition to its END.
  REQUIRE(control.call(pandafly::panda::Disarm{}, 5s).ok());
  Client again(sim.data_port());
  again.send("XML FRAMED RAW\n");
  CHECK(again.read_exact(3) == "OK\n");
  REQUIRE(sim.wait_for_data_clients(1));
  put("CLOCK1.ENABLE", "ZERO");
  REQUIRE(control.call(pandafly::panda::Arm{}, 5s).ok());
  REQUIRE(control.call(pandafly::panda::Disarm{}, 5s).ok());
  const auto f = again.read_framed();
  CHECK(f.end == "END 0 Disarmed\n");
  std::scoped_lock lock(mutex);
  CHECK(log.size() == 1);
}
