#pragma once
// Command<T>: a typed PandA control command.
//
// A command knows the request lines it sends and how to turn the replies into
// a T. Most commands are one exchange (`PCAP.TRIG?` → a string). Some need
// several rounds — field info asks `BLOCK.*?` and then, for each field, the
// attributes its type has — so a command is a small state machine:
//
//   start()              → Step: a batch of requests (sent pipelined), or a result
//   on_replies(exchanges) → Step: the next batch, or the result
//
// on_replies() is called once per batch, with every request of the batch and
// its reply, in order. A command never sees another command's replies. An
// `ERR` reply is just a Reply of kind error: the command decides whether it
// fails (most do, naming the request) or carries on (e.g. a missing
// description). The connection turns any exception escaping a command into a
// malformed_reply error for that command alone.
//
// Example (a command of one exchange):
//   class GetClockFrequency final : public Command<std::uint64_t> { ... };
//   auto ticket = connection.send(GetClockFrequency{});
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pandafly/panda/request.hpp"
#include "pandafly/panda/result.hpp"

namespace pandafly::panda {

template <class T>
struct Step {
  std::vector<Request> requests;    // the next batch, when the command is not finished
  std::optional<Result<T>> result;  // set when the command is finished

  [[nodiscard]] static Step send(std::vector<Request> batch) { return {std::move(batch), {}}; }
  [[nodiscard]] static Step send(Request one) {
    std::vector<Request> batch;
    batch.push_back(std::move(one));
    return {std::move(batch), {}};
  }
  [[nodiscard]] static Step done(Result<T> r) { return {{}, std::move(r)}; }
};

template <class T>
class Command {
 public:
  using result_type = T;
  Command() = default;
  Command(const Command&) = default;
  Command(Command&&) noexcept = default;
  Command& operator=(const Command&) = default;
  Command& operator=(Command&&) noexcept = default;
  virtual ~Command() = default;

  /// The first batch of requests (or an immediate result, e.g. an empty design).
  [[nodiscard]] virtual Step<T> start() = 0;
  /// The replies to the last batch, in request order; the next step.
  [[nodiscard]] virtual Step<T> on_replies(std::span<const Exchange> exchanges) = 0;
};

/// The error a server `ERR` reply (or a reply of the wrong shape) means for `ex`.
[[nodiscard]] CommandError error_from(const Exchange& ex);
/// A malformed_reply error naming `ex`'s request, with `why`.
[[nodiscard]] CommandError malformed(const Exchange& ex, std::string why);
/// The first exchange whose reply is ERR, as an error; nullopt when none failed.
[[nodiscard]] std::optional<CommandError> first_error(std::span<const Exchange> exchanges);

/// The value of `OK =value`; an error for any other shape.
[[nodiscard]] Result<std::string> expect_value(const Exchange& ex);
/// The lines of a `!…` list; an error for any other shape.
[[nodiscard]] Result<std::vector<std::string>> expect_list(const Exchange& ex);
/// Ack for `OK`; an error for any other shape.
[[nodiscard]] Result<Ack> expect_ok(const Exchange& ex);

/// A command of one request whose reply is turned into a T by `parse`.
/// The building block of most commands in commands.hpp.
template <class T>
class SingleCommand : public Command<T> {
 public:
  [[nodiscard]] Step<T> start() override { return Step<T>::send(request()); }
  [[nodiscard]] Step<T> on_replies(std::span<const Exchange> exchanges) override {
    return Step<T>::done(parse(exchanges.front()));
  }

 protected:
  [[nodiscard]] virtual Request request() const = 0;
  [[nodiscard]] virtual Result<T> parse(const Exchange& ex) const = 0;
};

}  // namespace pandafly::panda
