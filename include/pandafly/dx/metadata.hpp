#pragma once
// ScanMetadata: what the facility's data policy asks every data file to carry
// (shared/seeds/sesame-data-policy.rst: data open after a 3-year embargo,
// publications cite the experiment's persistent identifier) plus the sample
// description, read from the `[metadata]` table of a scan configuration and
// handed to the DXfile writer as NDAttributes, which the layout places
// (layouts/README.md lists where each one lands).
//
// Rules
//   - TOML, table [metadata]; other tables of the scan configuration are
//     left to their readers. Keys:
//       proposal_id            required, non-empty
//       principal_investigator required, non-empty
//       facility               default "SESAME"
//       beamline               default "ID10-BEATS"
//       xray_source            default "3-pole wiggler" (BEATS's source; XDI's
//                              recommended Facility.xray_source)
//       persistent_identifier  default "" (not minted yet; recorded empty)
//       embargo_years          default 3 (the policy's embargo), 0..100
//       embargo_end            "YYYY-MM-DD" (a TOML date or string); when
//                              given it wins over embargo_years
//       license                default "CC-BY-4.0"
//       sample_uuid            the sample's identifier in the facility's
//                              sample database, default "" (recorded empty:
//                              dxchange's create_standard_meta reads it)
//       title, sample_name, sample_description, experimenters (array of
//                              strings), experimenter_affiliation,
//                              experimenter_email   default empty
//     Unknown keys and wrong types are errors: a typo never silently becomes
//     a default. Every error is a MetadataError whose message starts with
//     "<source>:<line>:<column>: metadata.<key>: ".
//   - Times are arguments (no clock here): start_attributes() takes the
//     collection start, end_attributes() the end, both ISO 8601 with a date
//     first ("2026-11-23T17:48:28+03:00"); the embargo ends `embargo_years`
//     after the end's date (29 February → 28 February).
//
// Example:
//   auto m = dx::parse_metadata(text, "scan.toml");
//   writer_options.open_attributes = dx::start_attributes(m, "2026-11-23T09:00:00Z");
//   writer.finish(reason, dx::end_attributes(m, "2026-11-23T09:20:00Z"));
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pandafly::dx {

struct ScanMetadata {
  std::string proposal_id;
  std::string principal_investigator;
  std::string facility = "SESAME";
  std::string beamline = "ID10-BEATS";
  std::string xray_source = "3-pole wiggler";
  std::string persistent_identifier;
  int embargo_years = 3;
  std::string embargo_end;  ///< "YYYY-MM-DD" when set explicitly, else ""
  std::string license = "CC-BY-4.0";
  std::string title;
  std::string sample_name;
  std::string sample_description;
  std::string sample_uuid;
  std::vector<std::string> experimenters;
  std::string experimenter_affiliation;
  std::string experimenter_email;
  friend bool operator==(const ScanMetadata&, const ScanMetadata&) = default;
};

class MetadataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads [metadata] from TOML text; `source` names the text in messages.
/// Throws MetadataError (a missing [metadata] table is one: the policy
/// fields are required).
[[nodiscard]] ScanMetadata parse_metadata(std::string_view toml_text, std::string_view source);

/// "YYYY-MM-DD" `years` after the date that starts `iso_time`. Throws
/// std::invalid_argument if `iso_time` does not start with a valid date.
[[nodiscard]] std::string embargo_end_date(std::string_view iso_time, int years);

/// NDAttribute name → value, known when the file opens: ProposalId,
/// PrincipalInvestigator, Facility, Beamline, PersistentIdentifier, License,
/// ExperimentTitle, SampleName, SampleDescription, SampleUUID, Experimenters (joined by
/// "; "), ExperimenterAffiliation, ExperimenterEmail, DateTimeStart.
using NamedValues = std::vector<std::pair<std::string, std::string>>;
[[nodiscard]] NamedValues start_attributes(const ScanMetadata& m, std::string_view start_time);
/// Known when the file closes: DateTimeEnd and EmbargoEndDate.
[[nodiscard]] NamedValues end_attributes(const ScanMetadata& m, std::string_view end_time);

}  // namespace pandafly::dx
