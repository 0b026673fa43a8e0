// panda_stream_peer: a test peer for `pandactl capture` — the PandA simulator
// (sim/) with a script that streams a known sequence to its data clients.
//
//   panda_stream_peer --rows N [--rate ROWS_PER_S] [--acquisitions K] [--same-block] [--row60]
//                     [--pause-at ROWS --pause SECONDS] [--linger SECONDS]
// Listens on ephemeral ports of 127.0.0.1 and prints
// "panda_stream_peer: control 127.0.0.1:P data 127.0.0.1:Q". For each of K
// acquisitions it waits for a ready data client, begins an acquisition of the
// known sequence (known_sequence.hpp), sends N RAW samples in blocks of 1000
// at the given rate (0: as fast as possible), then END Ok. With --pause-at, the
// first acquisition stops for --pause seconds after that many samples (rounded
// up to a block) before its rest and END, as a PandA waiting for triggers does.
// Exits --linger seconds (default 0.5) after the last END, or on SIGTERM/SIGINT.
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "known_sequence.hpp"
#include "sim/panda/server.hpp"

namespace {

using namespace pandafly;
std::atomic<bool> g_quit{false};
extern "C" void on_signal(int) {
  g_quit = true;
}

bool wait_for_client(const sim::PandaServer& server) {
  while (server.data_clients_ready() == 0) {
    if (g_quit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

struct Pause {
  std::size_t at = 0;  // 0: none
  double seconds = 0;
};

void stream(sim::PandaServer& server, std::size_t rows, double rate, bool same_block, bool row60,
            Pause pause) {
  const sim::CaptureLayout layout = row60 ? test::row60_layout() : test::known_layout();
  const auto block = test::known_raw_samples(layout, 0, 1000);
  server.begin_acquisition(layout);
  const auto t0 = std::chrono::steady_clock::now();
  bool paused = false;
  for (std::size_t at = 0; at < rows && !g_quit; at += 1000) {
    if (pause.at > 0 && at >= pause.at && !paused) {
      std::this_thread::sleep_for(std::chrono::duration<double>(pause.seconds));
      paused = true;
    }
    const std::size_t n = std::min<std::size_t>(1000, rows - at);
    server.send_samples(same_block && n == 1000 ? block : test::known_raw_samples(layout, at, n));
    if (rate > 0)
      std::this_thread::sleep_until(
          t0 + std::chrono::duration<double>(static_cast<double>(at + 1000) / rate));
  }
  server.end_acquisition("Ok");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"test peer: the PandA simulator streaming a known sequence", "panda_stream_peer"};
  std::size_t rows = 1000;
  double rate = 0;
  int acquisitions = 1;
  bool same_block = false;
  bool row60 = false;
  app.add_option("--rows", rows, "samples per acquisition");
  app.add_option("--rate", rate, "samples per second, 0: as fast as possible");
  app.add_option("--acquisitions", acquisitions, "acquisitions to stream");
  Pause pause;
  app.add_option("--pause-at", pause.at, "in the first acquisition, pause after this many samples");
  app.add_option("--pause", pause.seconds, "seconds of that pause");
  double linger = 0.5;
  app.add_option("--linger", linger, "seconds to stay connected after the last END");
  app.add_flag("--row60", row60,
               "the 60-byte RAW row of BENCHMARKS.md instead of the known sequence");
  app.add_flag("--same-block", same_block,
               "send samples 0-999 over and over (load tests: no time spent making samples)");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  boost::asio::io_context io;
  sim::PandaServer server(io, {.control_port = 0, .data_port = 0, .command_log = ""});
  std::thread net([&] { io.run(); });
  fmt::print("panda_stream_peer: control 127.0.0.1:{} data 127.0.0.1:{}\n", server.control_port(),
             server.data_port());
  std::fflush(stdout);
  for (int k = 0; k < acquisitions && wait_for_client(server); ++k) {
    stream(server, rows, rate, same_block, row60, k == 0 ? pause : Pause{});
    // The next acquisition starts once a client is ready again (the same one,
    // after it has read END, or a new one).
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Let the last END drain; stay (connections open, no more data) for --linger.
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(linger);
  while (!g_quit && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  server.stop();
  net.join();
  return 0;
}
