// ReplyParser: literal bytes fed whole, one byte at a time, split at every
// index, with trailing data; every malformed shape.
#include <doctest/doctest.h>

#include "pandafly/panda/error.hpp"
#include "pandafly/panda/reply_parser.hpp"

using namespace pandafly::panda;

namespace {

// A stream with every reply shape, including an ERR that interrupts a list.
const std::string stream =
    "OK\n"
    "OK =PandA SW: 4.1 FPGA: 0.1.17 00000222 00000333 rootfs: Test Server\n"
    "OK =\n"
    "OK =Min Max Mean\n"
    "!TTLIN 6\n!PCAP 1\n.\n"
    ".\n"
    "ERR No such field\n"
    "!1048577\n!0\nERR Table read failed\n"
    "ERR\n";

std::vector<Reply> expected() {
  using K = Reply::Kind;
  return {
      {K::ok, "", {}},
      {K::value, "PandA SW: 4.1 FPGA: 0.1.17 00000222 00000333 rootfs: Test Server", {}},
      {K::value, "", {}},
      {K::value, "Min Max Mean", {}},
      {K::list, "", {"TTLIN 6", "PCAP 1"}},
      {K::list, "", {}},
      {K::error, "No such field", {}},
      {K::error, "Table read failed", {}},
      {K::error, "", {}},
  };
}

std::vector<Reply> feed_in_pieces(const std::string& bytes, std::size_t piece) {
  ReplyParser p;
  std::vector<Reply> out;
  for (std::size_t i = 0; i < bytes.size(); i += piece) {
    REQUIRE_FALSE(p.feed(std::string_view(bytes).substr(i, piece), out));
  }
  CHECK(p.idle());
  return out;
}

}  // namespace

TEST_CASE("reply parser: whole stream") {
  CHECK(feed_in_pieces(stream, stream.size()) == expected());
}

TEST_CASE("reply parser: one byte at a time") {
  CHECK(feed_in_pieces(stream, 1) == expected());
}

TEST_CASE("reply parser: split at every index") {
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    ReplyParser p;
    std::vector<Reply> out;
    REQUIRE_FALSE(p.feed(std::string_view(stream).substr(0, cut), out));
    REQUIRE_FALSE(p.feed(std::string_view(stream).substr(cut), out));
    CHECK_MESSAGE(out == expected(), "cut at " << cut);
  }
}

TEST_CASE("reply parser: trailing partial data stays inside") {
  ReplyParser p;
  std::vector<Reply> out;
  REQUIRE_FALSE(p.feed("OK =1\n!a\n!b", out));
  CHECK(out.size() == 1);
  CHECK_FALSE(p.idle());
  REQUIRE_FALSE(p.feed("\n.\nOK", out));
  REQUIRE(out.size() == 2);
  CHECK(out[1].lines == std::vector<std::string>{"a", "b"});
  REQUIRE_FALSE(p.feed("\n", out));
  CHECK(out.size() == 3);
  CHECK(p.idle());
}

TEST_CASE("reply parser: malformed lines are errors naming the line") {
  for (const std::string bad :
       {"HELLO\n", "OK=1\n", "OKAY\n", "ERRor\n", "!a\nOK\n", "\n", "ok\n"}) {
    ReplyParser p;
    std::vector<Reply> out;
    CHECK_MESSAGE(p.feed(bad, out) == Errc::malformed_reply, bad);
    CHECK_FALSE(p.detail().empty());
    // once failed, it stays failed until reset
    CHECK(p.feed("OK\n", out) == Errc::malformed_reply);
    p.reset();
    out.clear();
    REQUIRE_FALSE(p.feed("OK\n", out));
    CHECK(out.size() == 1);
  }
}

TEST_CASE("reply parser: replies before a bad line are kept") {
  ReplyParser p;
  std::vector<Reply> out;
  CHECK(p.feed("OK\nOK =x\n\x01\x02garbage\n", out) == Errc::malformed_reply);
  CHECK(out.size() == 2);
  CHECK(p.detail().find("\\x01") != std::string::npos);
}

TEST_CASE("reply parser: an endless line is bounded") {
  ReplyParser p;
  std::vector<Reply> out;
  const std::string chunk(64 * 1024, 'A');
  std::error_code ec;
  std::size_t fed = 0;
  while (!ec && fed <= ReplyParser::max_reply_line + chunk.size()) {
    ec = p.feed(chunk, out);
    fed += chunk.size();
  }
  CHECK(ec == Errc::malformed_reply);
  CHECK(fed <= ReplyParser::max_reply_line + chunk.size());
}

TEST_CASE("reply parser: a list reply is bounded in lines and bytes") {
  ReplyParser lines({.list_lines = 3, .list_bytes = 1000});
  std::vector<Reply> out;
  CHECK_FALSE(lines.feed("!a\n!b\n!c\n.\n", out));  // at the limit: fine
  REQUIRE(out.size() == 1);
  CHECK(lines.feed("!a\n!b\n!c\n!d\n.\n", out) == Errc::malformed_reply);
  CHECK(lines.detail() == "a list reply has more than 3 lines");
  CHECK(out.size() == 1);

  ReplyParser bytes({.list_lines = 100, .list_bytes = 12});
  CHECK_FALSE(bytes.feed("!1234\n!5678\n.\n", out));  // 12 bytes as received
  CHECK(bytes.feed("!1234\n!56789\n", out) == Errc::malformed_reply);
  CHECK(bytes.detail() == "a list reply is larger than 12 bytes");
  // The byte count starts again with each list.
  ReplyParser again({.list_lines = 100, .list_bytes = 12});
  CHECK_FALSE(again.feed("!1234\n.\n!1234\n!5678\n.\n", out));
}

TEST_CASE("reply parser: the default list bounds hold a full SEQ table and stop a runaway list") {
  ReplyParser p;
  std::vector<Reply> out;
  // SEQ1.TABLE? of a full table (1 048 576 words, one per line) is accepted.
  std::string table;
  for (int i = 0; i < 1 << 20; ++i) table += "!4294967295\n";
  REQUIRE_FALSE(p.feed(table, out));
  REQUIRE_FALSE(p.feed(".\n", out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].lines.size() == std::size_t{1} << 20);
  out.clear();
  // A peer that never ends its list is stopped at 64 MiB.
  const std::string line = "!" + std::string(1023, 'x') + "\n";
  std::string chunk;
  for (int i = 0; i < 1024; ++i) chunk += line;  // 1 MiB
  std::error_code ec;
  std::size_t fed = 0;
  while (!ec && fed <= (std::size_t{65} << 20)) {
    ec = p.feed(chunk, out);
    fed += chunk.size();
  }
  CHECK(ec == Errc::malformed_reply);
  CHECK(fed <= (std::size_t{65} << 20));
  CHECK(p.detail() == "a list reply is larger than 67108864 bytes");
}
