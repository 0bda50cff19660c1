// From rules to what `ngxwatch suggest` shows: each suggestion's edits applied to a
// copy of the configuration files, checked with nginx -t, and turned into a unified
// diff; a suggestion whose change cannot be verified is shown with the reason
// instead of a diff. Text (a patch file: evidence as '#' lines, which patch skips)
// or JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "advise/measurements.h"
#include "advise/suggest.h"
#include "advise/config_check.h"
#include "nginx/config_model.h"

namespace ngxwatch::advise {

struct CheckedSuggestion {
  Suggestion suggestion;
  std::string diff;     // verified change; "" when there is none
  std::string refused;  // why the change is not shown (it failed nginx -t, ...)
};

struct SuggestReport {
  std::string root;  // diff paths are relative to it: `cd ROOT && patch -p1`
  // The configuration as it is does not pass nginx -t here: no change can be verified.
  std::string config_error;
  std::vector<CheckedSuggestion> items;
  std::vector<std::string> notes;  // e.g. files that differ from the recorded ones

  // Nothing refused and the configuration verifiable.
  bool ok() const;
};

// Applies and verifies (with `check`) the suggestions in order, each on top of the ones
// accepted before it; each diff is against that state, so the diffs apply one after
// another.
SuggestReport check_suggestions(std::vector<Suggestion> suggestions, const FileSet& files,
                                const std::string& main_file, const ConfigCheck& check);

// The whole of `suggest` for one configuration: rules, then checks. The daemon's API
// and the trace replay both end here.
SuggestReport run_suggest(const Measurements& measurements, const nginx::Config& config,
                          const ConfigCheck& check);

std::string format_suggest_text(const SuggestReport& report);
std::string format_suggest_json(const SuggestReport& report);
// The JSON document of format_suggest_json, which the daemon's API serves, and back:
// `suggest` prints the daemon's report exactly as it prints one made offline. The
// edits come back only as far as the JSON names them (kind set/insert, no target
// arguments); throws nlohmann::json::exception on a document of the wrong shape.
nlohmann::json suggest_json(const SuggestReport& report);
SuggestReport suggest_report_from_json(const nlohmann::json& j);

}  // namespace ngxwatch::advise
