#pragma once
// The single-exchange commands of the PandA control grammar (reference §1.3-1.4).
// Multi-exchange commands live beside them: info_commands.hpp (blocks, fields),
// changes.hpp (*CHANGES), table_commands.hpp (tables), design.hpp (.sav state).
//
// Every command is a value: construct it, hand it to a connection or client,
// get a Result<T>. A server `ERR` becomes a CommandError naming the request.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "pandafly/panda/command.hpp"

namespace pandafly::panda {

/// `NAME?` → a single value or a list, whichever the server sends.
using Value = std::variant<std::string, std::vector<std::string>>;
class Get final : public SingleCommand<Value> {
 public:
  explicit Get(std::string name) : name_(std::move(name)) {}

 protected:
  [[nodiscard]] Request request() const override;
  [[nodiscard]] Result<Value> parse(const Exchange& ex) const override;

 private:
  std::string name_;
};

/// A read of one name (`NAME?`) whose reply `parse_fn` turns into a T.
template <class T, Result<T> (*parse_fn)(const Exchange&)>
class NamedRead : public SingleCommand<T> {
 public:
  explicit NamedRead(std::string name) : name_(std::move(name)) {}

 protected:
  [[nodiscard]] Request request() const override { return Request::read(name_); }
  [[nodiscard]] Result<T> parse(const Exchange& ex) const override { return parse_fn(ex); }

 private:
  std::string name_;
};

/// `NAME?` → `OK =value`; a list reply is an error.
class GetLine final : public NamedRead<std::string, &expect_value> {
 public:
  using NamedRead::NamedRead;
};

/// `NAME?` → the lines of a `!…`/`.` list (tables, *ENUMS, *BLOCKS, …).
class GetMultiline final : public NamedRead<std::vector<std::string>, &expect_list> {
 public:
  using NamedRead::NamedRead;
};

/// `NAME=VALUE`, or with lines `NAME<` + lines + empty line (multi-line metadata).
class Put final : public SingleCommand<Ack> {
 public:
  Put(std::string name, std::string value) : request_(Request::write(name, value)) {}
  Put(std::string name, std::vector<std::string> lines)
      : request_(Request::write_lines(name, "", std::move(lines))) {}

 protected:
  [[nodiscard]] Request request() const override { return request_; }
  [[nodiscard]] Result<Ack> parse(const Exchange& ex) const override { return expect_ok(ex); }

 private:
  Request request_;
};

/// Any request, sent as given (expert use); the reply is returned whatever its
/// shape, `ERR` included. Multi-line when `data` is given.
class Raw final : public SingleCommand<Reply> {
 public:
  explicit Raw(std::string line) : request_(Request::raw(line)) {}
  Raw(std::string line, std::vector<std::string> data)
      : request_{std::move(line), std::move(data), true} {}

 protected:
  [[nodiscard]] Request request() const override { return request_; }
  [[nodiscard]] Result<Reply> parse(const Exchange& ex) const override { return ex.reply; }

 private:
  Request request_;
};

/// `*PCAP.ARM=`: start an acquisition (open the data port first).
class Arm final : public SingleCommand<Ack> {
 protected:
  [[nodiscard]] Request request() const override { return Request::write("*PCAP.ARM", ""); }
  [[nodiscard]] Result<Ack> parse(const Exchange& ex) const override { return expect_ok(ex); }
};

/// `*PCAP.DISARM=`: stop the acquisition (END reason `Disarmed`).
class Disarm final : public SingleCommand<Ack> {
 protected:
  [[nodiscard]] Request request() const override { return Request::write("*PCAP.DISARM", ""); }
  [[nodiscard]] Result<Ack> parse(const Exchange& ex) const override { return expect_ok(ex); }
};

/// `*IDN?` parsed as `PandA SW: <sw> FPGA: <fpga> rootfs: <rootfs>`.
struct Identity {
  std::string text;    // the whole answer
  std::string sw;      // e.g. "4.1"
  std::string fpga;    // e.g. "0.1.17 00000222 00000333"
  std::string rootfs;  // e.g. "Test Server"
  int api_major = 0;   // first two integers of sw
  int api_minor = 0;
};
class Identify final : public SingleCommand<Identity> {
 protected:
  [[nodiscard]] Request request() const override { return Request::read("*IDN"); }
  [[nodiscard]] Result<Identity> parse(const Exchange& ex) const override;
};

/// `*ECHO text?` → text (text may not contain `?`, `=` or `<`).
class Echo final : public NamedRead<std::string, &expect_value> {
 public:
  explicit Echo(const std::string& text) : NamedRead("*ECHO " + text) {}
};

/// `*WHO?`: one entry per connection to the server.
struct Peer {
  std::string time;     // ISO time the connection was made
  std::string kind;     // "config" or "data"
  std::string address;  // ip:port
};
class Who final : public SingleCommand<std::vector<Peer>> {
 protected:
  [[nodiscard]] Request request() const override { return Request::read("*WHO"); }
  [[nodiscard]] Result<std::vector<Peer>> parse(const Exchange& ex) const override;
};

/// `*DESC.<name>?` → description of a block, field, attribute or table sub-field.
class Describe final : public NamedRead<std::string, &expect_value> {
 public:
  explicit Describe(const std::string& name) : NamedRead("*DESC." + name) {}
};

/// `*ENUMS.<name>?` → the labels of an enum field, attribute or table sub-field.
class GetEnums final : public NamedRead<std::vector<std::string>, &expect_list> {
 public:
  explicit GetEnums(const std::string& name) : NamedRead("*ENUMS." + name) {}
};

/// One entry of `*CAPTURE?`: a field and its capture options (e.g. "Min Max Mean").
struct CaptureSetting {
  std::string field;
  std::string options;
  friend bool operator==(const CaptureSetting&, const CaptureSetting&) = default;
};
/// `*CAPTURE?` → what is captured now.
class GetCapture final : public SingleCommand<std::vector<CaptureSetting>> {
 protected:
  [[nodiscard]] Request request() const override { return Request::read("*CAPTURE"); }
  [[nodiscard]] Result<std::vector<CaptureSetting>> parse(const Exchange& ex) const override;
};

/// The list-valued system queries that need no parsing beyond the lines.
enum class Listing {
  capturable,       ///< `*CAPTURE.*?`: every capturable field
  capture_options,  ///< `*CAPTURE.OPTIONS?`: Value Diff Sum Min Max Mean [StdDev]
  capture_enums,    ///< `*CAPTURE.ENUMS?`: the option combinations
  positions,        ///< `*POSITIONS?`: position bus in bus order
  bits,             ///< `*BITS?`: bit bus in bus order (without ZERO, ONE)
  metadata_keys,    ///< `*METADATA.*?`
};
class GetListing final : public SingleCommand<std::vector<std::string>> {
 public:
  explicit GetListing(Listing what) : what_(what) {}

 protected:
  [[nodiscard]] Request request() const override;
  [[nodiscard]] Result<std::vector<std::string>> parse(const Exchange& ex) const override {
    return expect_list(ex);
  }

 private:
  Listing what_;
};

/// `*CAPTURE=`: clear every .CAPTURE.
class ClearCapture final : public SingleCommand<Ack> {
 protected:
  [[nodiscard]] Request request() const override { return Request::write("*CAPTURE", ""); }
  [[nodiscard]] Result<Ack> parse(const Exchange& ex) const override { return expect_ok(ex); }
};

/// `*PCAP.STATUS?` → e.g. `Busy 1 1`.
struct PcapStatus {
  std::string state;     // "Idle" or "Busy"
  int data_readers = 0;  // data clients connected
  int taking_data = 0;   // data clients taking data
};
class GetPcapStatus final : public SingleCommand<PcapStatus> {
 protected:
  [[nodiscard]] Request request() const override { return Request::read("*PCAP.STATUS"); }
  [[nodiscard]] Result<PcapStatus> parse(const Exchange& ex) const override;
};

/// `*PCAP.CAPTURED?` → samples in the current or last capture.
/// `*CLOCK_FREQ?` → FPGA tick rate in Hz.
enum class Counter { captured, clock_frequency };
class GetCounter final : public SingleCommand<std::uint64_t> {
 public:
  explicit GetCounter(Counter what) : what_(what) {}

 protected:
  [[nodiscard]] Request request() const override;
  [[nodiscard]] Result<std::uint64_t> parse(const Exchange& ex) const override;

 private:
  Counter what_;
};

/// `*PCAP.COMPLETION?` → `Ok`, `Busy`, `Disarmed`, `Framing error`, ...
class GetPcapCompletion final : public NamedRead<std::string, &expect_value> {
 public:
  GetPcapCompletion() : NamedRead("*PCAP.COMPLETION") {}
};

/// Parses a decimal integer that must fill `text`; nullopt otherwise.
[[nodiscard]] std::optional<std::int64_t> parse_int(std::string_view text);
[[nodiscard]] std::optional<std::uint64_t> parse_uint(std::string_view text);
[[nodiscard]] std::optional<double> parse_double(std::string_view text);
/// `text` split at runs of spaces.
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

}  // namespace pandafly::panda
