#include "pandafly/util/signal_watch.hpp"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace pandafly::util {
namespace {

// The write end of the live watch's pipe, for the handler; -1 when none.
std::atomic<int> g_write_fd{-1};
std::atomic<bool> g_exists{false};
static_assert(std::atomic<int>::is_always_lock_free);  // read in a signal handler

// Async-signal safe: one write() of one byte, errno preserved. The pipe is
// non-blocking: if a flood of signals fills it, the extra ones are dropped
// (the watch has long since seen that a stop was asked for).
extern "C" void write_signal(int signal) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(signal);
  const int fd = g_write_fd.load();
  if (fd >= 0) (void)!::write(fd, &byte, 1);
  errno = saved;
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

SignalWatch::SignalWatch(Callback on_signal)
    : SignalWatch({SIGINT, SIGTERM, SIGHUP}, std::move(on_signal)) {}

SignalWatch::SignalWatch(std::initializer_list<int> signals, Callback on_signal)
    : on_signal_(std::move(on_signal)), signals_(signals) {
  if (g_exists.exchange(true)) throw std::logic_error("only one SignalWatch may exist at a time");
  if (::pipe2(pipe_, O_CLOEXEC) != 0) {
    g_exists = false;
    throw_errno("SignalWatch: pipe2");
  }
  (void)::fcntl(pipe_[1], F_SETFL, O_NONBLOCK);
  g_write_fd = pipe_[1];
  struct sigaction action {};
  action.sa_handler = write_signal;
  action.sa_flags = SA_RESTART;  // as std::signal does on Linux: blocking calls carry on
  sigfillset(&action.sa_mask);
  previous_.resize(signals_.size());
  for (std::size_t i = 0; i < signals_.size(); ++i) {
    if (::sigaction(signals_[i], &action, &previous_[i]) != 0) {
      const int err = errno;
      for (std::size_t j = 0; j < i; ++j) (void)::sigaction(signals_[j], &previous_[j], nullptr);
      g_write_fd = -1;
      ::close(pipe_[0]);
      ::close(pipe_[1]);
      g_exists = false;
      throw std::system_error(err, std::generic_category(), "SignalWatch: sigaction");
    }
  }
  thread_ = std::thread([this] { run(); });
}

SignalWatch::~SignalWatch() {
  // After a signal the program is stopping because of it: a repeat that
  // arrives during the rest of its teardown (the sender's second Ctrl-C or
  // TERM, delayed on a loaded machine) is ignored rather than given the
  // default action, which would kill it with its files half closed.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigemptyset(&ignore.sa_mask);
  const bool stopping = count_.load() > 0;
  for (std::size_t i = 0; i < signals_.size(); ++i)
    (void)::sigaction(signals_[i], stopping ? &ignore : &previous_[i], nullptr);
  const unsigned char quit = 0;  // no signal is numbered 0
  while (::write(pipe_[1], &quit, 1) < 0 && (errno == EINTR || errno == EAGAIN)) {
  }
  thread_.join();
  g_write_fd = -1;
  ::close(pipe_[0]);
  ::close(pipe_[1]);
  g_exists = false;
}

void SignalWatch::run() {
  for (;;) {
    unsigned char byte = 0;
    const auto n = ::read(pipe_[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 0) return;
    const int signal = byte;
    int expected = 0;
    (void)first_.compare_exchange_strong(expected, signal);
    const int count = ++count_;
    stop_ = true;
    if (on_signal_) on_signal_(signal, count);
  }
}

std::string SignalWatch::name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal " + std::to_string(signal);
  }
}

}  // namespace pandafly::util
