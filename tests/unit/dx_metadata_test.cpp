// Data-policy metadata from the scan configuration's [metadata] table.
#include <string>

#include <doctest/doctest.h>

#include "pandafly/dx/metadata.hpp"

using namespace pandafly;

namespace {

std::string error_of(const std::string& toml) {
  try {
    (void)dx::parse_metadata(toml, "scan.toml");
  } catch (const dx::MetadataError& e) {
    return e.what();
  }
  FAIL("accepted: " << toml);
  return {};
}

std::string value_of(const dx::NamedValues& v, const std::string& name) {
  for (const auto& [n, x] : v)
    if (n == name) return x;
  FAIL("no " << name);
  return {};
}

}  // namespace

TEST_CASE("metadata: the required policy fields, defaults for the rest") {
  const auto m = dx::parse_metadata(R"(
[scan]
kind = "fly"            # other tables belong to other readers
[metadata]
proposal_id = "20261042"
principal_investigator = "R. Haddad"
)",
                                    "scan.toml");
  CHECK(m.proposal_id == "20261042");
  CHECK(m.principal_investigator == "R. Haddad");
  CHECK(m.facility == "SESAME");
  CHECK(m.beamline == "ID10-BEATS");
  CHECK(m.embargo_years == 3);
  CHECK(m.embargo_end.empty());
  CHECK(m.license == "CC-BY-4.0");
  CHECK(m.persistent_identifier.empty());
}

TEST_CASE("metadata: every key read, explicit embargo end as a TOML date or a string") {
  const char* base = R"([metadata]
proposal_id = "P1"
principal_investigator = "PI"
facility = "F"
beamline = "B"
persistent_identifier = "doi:10.1234/abc"
embargo_years = 5
license = "CC0-1.0"
title = "T"
sample_name = "S"
sample_description = "D"
sample_uuid = "5b2f0c1e-sample"
experimenters = ["A", "B"]
experimenter_affiliation = "SESAME"
experimenter_email = "a@example.org"
)";
  auto m = dx::parse_metadata(std::string(base) + "embargo_end = 2030-01-31\n", "s");
  CHECK(m.embargo_end == "2030-01-31");
  CHECK(m.embargo_years == 5);
  CHECK(m.experimenters == std::vector<std::string>{"A", "B"});
  m = dx::parse_metadata(std::string(base) + "embargo_end = \"2031-02-28\"\n", "s");
  CHECK(m.embargo_end == "2031-02-28");
  const auto start = dx::start_attributes(m, "2026-11-23T09:00:00+03:00");
  CHECK(value_of(start, "ProposalId") == "P1");
  CHECK(value_of(start, "PersistentIdentifier") == "doi:10.1234/abc");
  CHECK(value_of(start, "Experimenters") == "A; B");
  CHECK(value_of(start, "ExperimenterAffiliation") == "SESAME");
  CHECK(value_of(start, "ExperimenterEmail") == "a@example.org");
  CHECK(m.sample_uuid == "5b2f0c1e-sample");
  CHECK(value_of(start, "SampleUUID") == "5b2f0c1e-sample");
  CHECK(value_of(start, "DateTimeStart") == "2026-11-23T09:00:00+03:00");
  const auto end = dx::end_attributes(m, "2026-11-23T10:00:00+03:00");
  CHECK(value_of(end, "EmbargoEndDate") == "2031-02-28");  // explicit wins
  CHECK(value_of(end, "DateTimeEnd") == "2026-11-23T10:00:00+03:00");
}

TEST_CASE("metadata: the embargo ends three years after the end of collection by default") {
  dx::ScanMetadata m;
  CHECK(value_of(dx::end_attributes(m, "2026-11-23T23:59:00Z"), "EmbargoEndDate") == "2029-11-23");
  CHECK(dx::embargo_end_date("2028-02-29 10:00:00", 3) == "2031-02-28");
  CHECK(dx::embargo_end_date("2028-02-29", 4) == "2032-02-29");
  CHECK_THROWS_AS((void)dx::embargo_end_date("2026-02-30T00:00:00", 3), std::invalid_argument);
  CHECK_THROWS_AS((void)dx::embargo_end_date("23/11/2026", 3), std::invalid_argument);
}

TEST_CASE("metadata: errors name the file, line, column and key") {
  const std::string ok = "[metadata]\nproposal_id = \"P\"\nprincipal_investigator = \"I\"\n";
  CHECK(error_of("[scan]\n") ==
        "scan.toml: no [metadata] table (proposal_id and "
        "principal_investigator are required)");
  CHECK(error_of("[metadata]\nproposal_id = \"P\"\n")
            .find("metadata.principal_investigator: missing") != std::string::npos);
  CHECK(error_of("[metadata]\nproposal_id = \"\"\nprincipal_investigator = \"I\"\n") ==
        "scan.toml:2:15: metadata.proposal_id: must not be empty");
  CHECK(error_of(ok + "licence = \"CC0\"\n") == "scan.toml:4:1: metadata.licence: unknown key");
  CHECK(error_of(ok + "embargo_years = -1\n") ==
        "scan.toml:4:17: metadata.embargo_years: must be an integer 0..100");
  CHECK(error_of(ok + "embargo_end = \"2029-13-01\"\n") ==
        "scan.toml:4:15: metadata.embargo_end: must be a date YYYY-MM-DD");
  CHECK(error_of(ok + "experimenters = [\"A\", 2]\n")
            .find("metadata.experimenters: must be an "
                  "array of strings") != std::string::npos);
  CHECK(error_of(ok + "facility = 3\n") == "scan.toml:4:12: metadata.facility: must be a string");
  CHECK(error_of("[metadata\n").starts_with("scan.toml:1:"));
}
