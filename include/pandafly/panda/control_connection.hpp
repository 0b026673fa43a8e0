#pragma once
// ControlConnection: the sans-IO client side of the PandA control port (8888).
//
// Rules
//   Commands go in with send(); their request bytes accumulate in an output
//   buffer that the shell writes to the socket (take_output()). Bytes read from
//   the socket go in with receive(); replies are matched to requests strictly
//   in order (the server answers in order), so any number of commands may be
//   in flight, pipelined. When a command's batch is fully answered the command
//   is advanced: it either sends another batch (appended to the output) or
//   finishes. Finished commands are reported by take_completed(); their
//   results are collected with take_result().
//   A request that cannot be sent (newline, NUL, over 1022 characters) fails
//   its command at once and no byte of that batch is produced.
//   A reply that breaks the grammar, or arrives with nothing waiting, means the
//   byte stream can no longer be trusted: every unfinished command fails with
//   that error and the shell should reconnect (receive() returns the error).
//   fail_all() is what a shell calls when the socket is lost.
//   No sockets, threads or clocks; not thread-safe (one owner).
//
// Example:
//   ControlConnection c;
//   auto t = c.send(GetLine{"PCAP.TRIG"});
//   write(socket, c.take_output());
//   c.receive(bytes_read);              // until c.finished(t.id)
//   std::string trig = c.take_result(t).value();
#include <concepts>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pandafly/panda/command.hpp"
#include "pandafly/panda/reply_parser.hpp"

namespace pandafly::panda {

using CommandId = std::uint64_t;

/// Names a sent command and the type of its result.
template <class T>
struct Ticket {
  CommandId id = 0;
};

namespace detail {

/// Type-erased command inside the connection.
class Slot {
 public:
  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  virtual ~Slot() = default;
  /// Starts or advances the command; returns its next batch (empty when finished).
  [[nodiscard]] virtual std::vector<Request> start() = 0;
  [[nodiscard]] virtual std::vector<Request> advance(std::span<const Exchange> exchanges) = 0;
  virtual void fail(CommandError error) = 0;
  [[nodiscard]] virtual bool finished() const = 0;

  std::vector<Exchange> collected;  // replies of the current batch so far
  std::size_t expected = 0;         // requests in the current batch
  std::string current;              // first request line of the current batch (for errors)
  bool abandoned = false;
};

template <class T>
class TypedSlot final : public Slot {
 public:
  explicit TypedSlot(std::unique_ptr<Command<T>> command) : command_(std::move(command)) {}

  [[nodiscard]] std::vector<Request> start() override {
    return apply([&] { return command_->start(); });
  }
  [[nodiscard]] std::vector<Request> advance(std::span<const Exchange> exchanges) override {
    return apply([&] { return command_->on_replies(exchanges); });
  }
  void fail(CommandError error) override { result_.emplace(std::move(error)); }
  [[nodiscard]] bool finished() const override { return result_.has_value(); }
  [[nodiscard]] Result<T> take() { return std::move(*result_); }

 private:
  template <class F>
  [[nodiscard]] std::vector<Request> apply(F step_of) {
    try {
      Step<T> step = step_of();
      if (step.result) {
        result_.emplace(std::move(*step.result));
        return {};
      }
      if (step.requests.empty()) fail({Errc::malformed_reply, current, "command made no progress"});
      return std::move(step.requests);
    } catch (const CommandError& e) {
      fail(e);
    } catch (const std::exception& e) {
      fail({Errc::malformed_reply, current, e.what()});
    }
    return {};
  }

  std::unique_ptr<Command<T>> command_;
  std::optional<Result<T>> result_;
};

}  // namespace detail

class ControlConnection {
 public:
  /// Queues `command`; its first batch is appended to the output (or it
  /// finishes at once: an immediate result or an invalid request).
  template <class C>
  requires std::derived_from<C, Command<typename C::result_type>>
  [[nodiscard]] Ticket<typename C::result_type> send(C command) {
    using T = typename C::result_type;
    return send(std::unique_ptr<Command<T>>(std::make_unique<C>(std::move(command))));
  }
  template <class T>
  [[nodiscard]] Ticket<T> send(std::unique_ptr<Command<T>> command) {
    const CommandId id = next_id_++;
    auto slot = std::make_unique<detail::TypedSlot<T>>(std::move(command));
    auto& ref = *slot;
    slots_.emplace(id, std::move(slot));
    emit(id, ref, ref.start());
    return {id};
  }

  /// The bytes to write, in order; the buffer is emptied.
  [[nodiscard]] std::string take_output();
  [[nodiscard]] bool has_output() const noexcept { return !output_.empty(); }

  /// Consumes bytes read from the socket. Returns a malformed_reply or
  /// unexpected_reply error when the stream cannot be trusted any more (every
  /// unfinished command then fails with it; see error_detail()).
  [[nodiscard]] std::error_code receive(std::string_view bytes);
  [[nodiscard]] const std::string& error_detail() const noexcept { return detail_; }

  /// Commands finished since the last call (abandoned ones excluded).
  [[nodiscard]] std::vector<CommandId> take_completed();
  [[nodiscard]] bool finished(CommandId id) const;

  /// The result of a finished command; the command is forgotten afterwards.
  /// Throws std::logic_error when `t` is unknown or not finished.
  template <class T>
  [[nodiscard]] Result<T> take_result(Ticket<T> t) {
    auto it = slots_.find(t.id);
    if (it == slots_.end() || !it->second->finished()) {
      throw std::logic_error("take_result: command unknown or not finished");
    }
    auto result = static_cast<detail::TypedSlot<T>&>(*it->second).take();
    slots_.erase(it);
    return result;
  }

  /// The caller no longer wants `id`'s result: it is discarded when the
  /// replies arrive (they still have to be read to keep the stream in step).
  void abandon(CommandId id);
  /// The connection is gone: every unfinished command fails with `code`,
  /// output and partial input are discarded. The connection can be reused
  /// for a new socket afterwards.
  void fail_all(Errc code, std::string_view why);

  /// Requests written (or queued) whose replies have not arrived.
  [[nodiscard]] std::size_t in_flight() const noexcept { return waiting_.size(); }
  /// Commands not yet collected (finished or not).
  [[nodiscard]] std::size_t commands() const noexcept { return slots_.size(); }

 private:
  struct Waiting {
    CommandId id;
    Request request;
  };

  void emit(CommandId id, detail::Slot& slot, std::vector<Request> batch);
  void on_reply(Reply reply);
  void finish(CommandId id, detail::Slot& slot);

  CommandId next_id_ = 1;
  std::unordered_map<CommandId, std::unique_ptr<detail::Slot>> slots_;
  std::deque<Waiting> waiting_;
  std::vector<CommandId> completed_;
  std::vector<Reply> replies_;  // reused between receive() calls
  std::string output_;
  ReplyParser parser_;
  std::string detail_;
};

}  // namespace pandafly::panda
