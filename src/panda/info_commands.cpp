#include "pandafly/panda/info_commands.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pandafly/panda/commands.hpp"

namespace pandafly::panda {
namespace {

using Handler = std::function<std::optional<CommandError>(const Exchange&)>;

// Handlers that store a reply into a FieldInfo member.
Handler store_text(std::optional<std::string>& into) {
  return [&into](const Exchange& ex) -> std::optional<CommandError> {
    auto v = expect_value(ex);
    if (!v) return v.error();
    into = std::move(v.value());
    return std::nullopt;
  };
}

template <class N>
Handler store_number(std::optional<N>& into, std::optional<N> (*parse)(std::string_view)) {
  return [&into, parse](const Exchange& ex) -> std::optional<CommandError> {
    auto v = expect_value(ex);
    if (!v) return v.error();
    into = parse(v.value());
    if (!into) return malformed(ex, "expected a number, got '" + printable(v.value()) + "'");
    return std::nullopt;
  };
}

Handler store_list(std::vector<std::string>& into) {
  return [&into](const Exchange& ex) -> std::optional<CommandError> {
    auto v = expect_list(ex);
    if (!v) return v.error();
    into = std::move(v.value());
    return std::nullopt;
  };
}

std::optional<unsigned> parse_unsigned(std::string_view t) {
  auto v = parse_uint(t);
  if (!v || *v > 0xFFFFFFFFU) return std::nullopt;
  return static_cast<unsigned>(*v);
}

}  // namespace

// ---------------------------------------------------------------- GetBlocks

Step<std::vector<BlockInfo>> GetBlocks::start() {
  return Step<std::vector<BlockInfo>>::send(Request::read("*BLOCKS"));
}

Step<std::vector<BlockInfo>> GetBlocks::on_replies(std::span<const Exchange> ex) {
  using S = Step<std::vector<BlockInfo>>;
  if (blocks_.empty()) {
    auto lines = expect_list(ex[0]);
    if (!lines) return S::done(lines.error());
    for (const auto& line : lines.value()) {
      auto w = split_words(line);
      const auto n = w.size() == 2 ? parse_uint(w[1]) : std::nullopt;
      if (!n) return S::done(malformed(ex[0], "bad *BLOCKS line '" + printable(line) + "'"));
      blocks_.push_back({w[0], static_cast<unsigned>(*n), {}});
    }
    std::sort(blocks_.begin(), blocks_.end(), [](auto& a, auto& b) { return a.name < b.name; });
    if (!descriptions_ || blocks_.empty()) return S::done(std::move(blocks_));
    std::vector<Request> more;
    for (const auto& b : blocks_) more.push_back(Request::read("*DESC." + b.name));
    return S::send(std::move(more));
  }
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    if (ex[i].reply.kind == Reply::Kind::value) blocks_[i].description = ex[i].reply.text;
  }
  return S::done(std::move(blocks_));
}

// ---------------------------------------------------------------- GetFieldList

Result<std::vector<FieldListing>> GetFieldList::parse(const Exchange& ex) const {
  auto lines = expect_list(ex);
  if (!lines) return lines.error();
  std::vector<FieldListing> out;
  for (const auto& line : lines.value()) {
    auto w = split_words(line);
    const auto index = w.size() >= 3 ? parse_int(w[1]) : std::nullopt;
    if (!index) return malformed(ex, "bad field line '" + printable(line) + "'");
    FieldListing f{w[0], static_cast<int>(*index), w[2], w.size() > 3 ? w[3] : "", {}};
    if (w.size() > 4) f.extra.assign(w.begin() + 4, w.end());
    out.push_back(std::move(f));
  }
  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.index < b.index; });
  return out;
}

// ---------------------------------------------------------------- GetFieldInfo

void GetFieldInfo::ask(Request r, Handler h) {
  batch_.push_back(std::move(r));
  handlers_.push_back(std::move(h));
}

void GetFieldInfo::ask_attributes(FieldInfo& f) {
  const std::string& type = f.listing.type;
  const std::string& sub = f.listing.subtype;
  const std::string field = fmt::format("{}.{}", block_, f.listing.name);
  const std::string attr =
      fmt::format("{}1.{}.", block_, f.listing.name);  // attributes need the instance
  if (descriptions_) {
    ask(Request::read("*DESC." + field), [&f](const Exchange& ex) -> std::optional<CommandError> {
      if (ex.reply.kind == Reply::Kind::value) f.description = ex.reply.text;
      return std::nullopt;  // a missing description is not an error
    });
  }
  const bool is_param = type == "param" || type == "read" || type == "write";
  if (is_param && sub == "uint") ask(Request::read(attr + "MAX"), store_number(f.max, &parse_uint));
  if ((is_param && sub == "scalar") || type == "pos_out") {
    ask(Request::read(attr + "UNITS"), store_text(f.units));
    ask(Request::read(attr + "SCALE"), store_number(f.scale, &parse_double));
    ask(Request::read(attr + "OFFSET"), store_number(f.offset, &parse_double));
  }
  if (type == "time" || (is_param && sub == "time")) {
    ask(Request::read(attr + "UNITS"), store_text(f.units));
    ask(Request::read("*ENUMS." + field + ".UNITS"), store_list(f.units_labels));
  }
  if ((is_param && sub == "enum") || type == "bit_mux" || type == "pos_mux") {
    ask(Request::read("*ENUMS." + field), store_list(f.labels));
  }
  if (type == "bit_out") {
    ask(Request::read(attr + "CAPTURE_WORD"), store_text(f.capture_word));
    ask(Request::read(attr + "OFFSET"), store_number(f.bit_offset, &parse_unsigned));
  }
  if (type == "bit_mux")
    ask(Request::read(attr + "MAX_DELAY"), store_number(f.max_delay, &parse_uint));
  if (type == "pos_out" || type == "ext_out") {
    ask(Request::read("*ENUMS." + field + ".CAPTURE"), store_list(f.capture_labels));
  }
  if (type == "ext_out" && sub == "bits") ask(Request::read(attr + "BITS"), store_list(f.bits));
  if (type == "table") {
    ask(Request::read(attr + "MAX_LENGTH"), store_number(f.max_length, &parse_uint));
    ask(Request::read(attr + "FIELDS"), [&f](const Exchange& ex) -> std::optional<CommandError> {
      auto v = expect_list(ex);
      if (!v) return v.error();
      f.table = TableLayout::parse(v.value());  // ROW_WORDS refined below when the server has it
      return std::nullopt;
    });
    ask(Request::read(attr + "ROW_WORDS"), [&f](const Exchange& ex) -> std::optional<CommandError> {
      const auto rw =
          ex.reply.kind == Reply::Kind::value ? parse_uint(ex.reply.text) : std::nullopt;
      if (rw && f.table) {
        std::vector<std::string> lines;
        for (const auto& tf : f.table->fields())
          lines.push_back(fmt::format("{}:{} {} {}", tf.high, tf.low, tf.name, tf.subtype));
        f.table = TableLayout::parse(lines, static_cast<unsigned>(*rw));
      }
      return std::nullopt;  // servers before 4.0 have no ROW_WORDS
    });
  }
}

Step<std::vector<FieldInfo>> GetFieldInfo::start() {
  return Step<std::vector<FieldInfo>>::send(Request::read(block_ + ".*"));
}

Step<std::vector<FieldInfo>> GetFieldInfo::run_handlers(std::span<const Exchange> ex) {
  for (std::size_t i = 0; i < ex.size() && i < handlers_.size(); ++i) {
    if (auto err = handlers_[i](ex[i])) return Step<std::vector<FieldInfo>>::done(std::move(*err));
  }
  handlers_.clear();
  return {};
}

Step<std::vector<FieldInfo>> GetFieldInfo::on_replies(std::span<const Exchange> ex) {
  using S = Step<std::vector<FieldInfo>>;
  ++phase_;
  if (phase_ == 1) {
    auto list = GetFieldList(block_).on_replies(ex);
    if (!list.result->ok()) return S::done(list.result->error());
    for (auto& l : list.result->value()) {
      fields_.emplace_back();
      fields_.back().listing = std::move(l);
    }
    for (auto& f : fields_) ask_attributes(f);  // fields_ no longer grows: references stay valid
  } else {
    if (auto s = run_handlers(ex); s.result) return s;
    if (phase_ == 2) {  // table sub-field labels and descriptions
      for (auto& f : fields_) {
        if (!f.table) continue;
        const std::string name = block_ + "1." + f.listing.name;
        for (auto& tf : f.table->fields()) {
          if (tf.subtype == "enum")
            ask(Request::read(fmt::format("*ENUMS.{}[].{}", name, tf.name)), store_list(tf.labels));
          if (descriptions_) {
            ask(Request::read(fmt::format("*DESC.{}[].{}", name, tf.name)),
                [&tf](const Exchange& e) -> std::optional<CommandError> {
                  if (e.reply.kind == Reply::Kind::value) tf.description = e.reply.text;
                  return std::nullopt;
                });
          }
        }
      }
    }
  }
  if (batch_.empty()) return S::done(std::move(fields_));
  std::vector<Request> out;
  out.swap(batch_);
  return S::send(std::move(out));
}

}  // namespace pandafly::panda
