// ScanMetadata from TOML (rules in include/pandafly/dx/metadata.hpp).
#include "pandafly/dx/metadata.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace pandafly::dx {
namespace {

struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
};

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

std::optional<int> digits(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty() || s.front() == '-')
    return std::nullopt;
  return v;
}

// "YYYY-MM-DD" at the start of `s` (the rest, e.g. "T12:00:00Z", is ignored).
std::optional<Date> parse_date(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const auto y = digits(s.substr(0, 4));
  const auto m = digits(s.substr(5, 2));
  const auto d = digits(s.substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > days_in(*y, *m)) return std::nullopt;
  if (s.size() > 10 && s[10] != 'T' && s[10] != ' ') return std::nullopt;
  return Date{*y, *m, *d};
}

class Reader {
 public:
  Reader(const toml::table& t, std::string_view source) : t_(t), source_(source) {}

  [[noreturn]] void fail(const toml::source_region& at, std::string_view key,
                         std::string_view message) const {
    throw MetadataError(fmt::format("{}:{}:{}: metadata.{}: {}", source_, at.begin.line,
                                    at.begin.column, key, message));
  }

  void string(std::string_view key, std::string& out, bool required = false) const {
    const toml::node* n = t_.get(key);
    if (!n) {
      if (required) fail(t_.source(), key, "missing (the data policy requires it)");
      return;
    }
    const auto v = n->value<std::string>();
    if (!v) fail(n->source(), key, "must be a string");
    if (required && v->empty()) fail(n->source(), key, "must not be empty");
    out = *v;
  }

  void date(std::string_view key, std::string& out) const {
    const toml::node* n = t_.get(key);
    if (!n) return;
    if (const auto d = n->value<toml::date>()) {
      out = fmt::format("{:04}-{:02}-{:02}", d->year, d->month, d->day);
      return;
    }
    const auto s = n->value<std::string>();
    if (!s || s->size() != 10 || !parse_date(*s))
      fail(n->source(), key, "must be a date YYYY-MM-DD");
    out = *s;
  }

  void years(std::string_view key, int& out) const {
    const toml::node* n = t_.get(key);
    if (!n) return;
    const auto v = n->value<std::int64_t>();
    if (!v || *v < 0 || *v > 100) fail(n->source(), key, "must be an integer 0..100");
    out = static_cast<int>(*v);
  }

  void strings(std::string_view key, std::vector<std::string>& out) const {
    const toml::node* n = t_.get(key);
    if (!n) return;
    const toml::array* a = n->as_array();
    if (!a) fail(n->source(), key, "must be an array of strings");
    for (const auto& e : *a) {
      const auto v = e.value<std::string>();
      if (!v) fail(e.source(), key, "must be an array of strings");
      out.push_back(*v);
    }
  }

  void no_unknown_keys(std::initializer_list<std::string_view> known) const {
    for (const auto& [k, v] : t_)
      if (std::find(known.begin(), known.end(), k.str()) == known.end())
        fail(k.source(), k.str(), "unknown key");
  }

 private:
  const toml::table& t_;
  std::string_view source_;
};

}  // namespace

ScanMetadata parse_metadata(std::string_view toml_text, std::string_view source) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw MetadataError(fmt::format("{}:{}:{}: {}", source, e.source().begin.line,
                                    e.source().begin.column, e.description()));
  }
  const toml::table* t = doc["metadata"].as_table();
  if (!t)
    throw MetadataError(fmt::format(
        "{}: no [metadata] table (proposal_id and principal_investigator are required)", source));
  const Reader r(*t, source);
  r.no_unknown_keys({"proposal_id", "principal_investigator", "facility", "beamline", "xray_source",
                     "persistent_identifier", "embargo_years", "embargo_end", "license", "title",
                     "sample_name", "sample_description", "sample_uuid", "experimenters",
                     "experimenter_affiliation", "experimenter_email"});
  ScanMetadata m;
  r.string("proposal_id", m.proposal_id, true);
  r.string("principal_investigator", m.principal_investigator, true);
  r.string("facility", m.facility);
  r.string("beamline", m.beamline);
  r.string("xray_source", m.xray_source);
  r.string("persistent_identifier", m.persistent_identifier);
  r.years("embargo_years", m.embargo_years);
  r.date("embargo_end", m.embargo_end);
  r.string("license", m.license);
  r.string("title", m.title);
  r.string("sample_name", m.sample_name);
  r.string("sample_description", m.sample_description);
  r.string("sample_uuid", m.sample_uuid);
  r.strings("experimenters", m.experimenters);
  r.string("experimenter_affiliation", m.experimenter_affiliation);
  r.string("experimenter_email", m.experimenter_email);
  return m;
}

std::string embargo_end_date(std::string_view iso_time, int years) {
  const auto d = parse_date(iso_time);
  if (!d)
    throw std::invalid_argument(
        fmt::format("'{}' does not start with a date YYYY-MM-DD", iso_time));
  const int y = d->year + years;
  return fmt::format("{:04}-{:02}-{:02}", y, d->month, std::min(d->day, days_in(y, d->month)));
}

NamedValues start_attributes(const ScanMetadata& m, std::string_view start_time) {
  std::string experimenters;
  for (const auto& e : m.experimenters) experimenters += (experimenters.empty() ? "" : "; ") + e;
  return {{"ProposalId", m.proposal_id},
          {"PrincipalInvestigator", m.principal_investigator},
          {"Facility", m.facility},
          {"Beamline", m.beamline},
          {"PersistentIdentifier", m.persistent_identifier},
          {"License", m.license},
          {"ExperimentTitle", m.title},
          {"SampleName", m.sample_name},
          {"SampleDescription", m.sample_description},
          {"SampleUUID", m.sample_uuid},
          {"Experimenters", experimenters},
          {"ExperimenterAffiliation", m.experimenter_affiliation},
          {"ExperimenterEmail", m.experimenter_email},
          {"DateTimeStart", std::string(start_time)}};
}

NamedValues end_attributes(const ScanMetadata& m, std::string_view end_time) {
  return {{"DateTimeEnd", std::string(end_time)},
          {"EmbargoEndDate",
           m.embargo_end.empty() ? embargo_end_date(end_time, m.embargo_years) : m.embargo_end}};
}

}  // namespace pandafly::dx
