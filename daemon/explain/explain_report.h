// What `ngxwatch explain` prints for each joined error-log line: the redacted line,
// then what the kernel measured for that request in ngxwatch's words (cause, who
// ended it, bytes, ages, what the client got, duplicate-processing risk) and the
// suggestion of `ngxwatch suggest` that applies, with the directive's file:line.
// Text (one block per line) or a JSON array.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "advise/suggest.h"
#include "explain/explain_join.h"

namespace ngxwatch {

// The cause in plain words (the classifier's cause names stay the key).
std::string cause_words(const std::string& cause);

// The suggestion that applies to a failure (its rule, at its location or upstream),
// and the duplicate-risk one when it may have run twice; nullptr/none when no rule
// fits.
std::vector<const advise::Suggestion*> suggestions_for(
    const FailureRecord& r, const std::vector<advise::Suggestion>& suggestions);

struct ExplainInput {
  std::vector<Explanation> lines;
  std::vector<FailureRecord> records;
  std::vector<advise::Suggestion> suggestions;
  std::vector<std::string> notes;  // printed first (text) / "notes" (JSON)
  uint64_t lines_read = 0;         // every line of the log
};

std::string explain_text(const ExplainInput& in);
nlohmann::json explain_json(const ExplainInput& in);

}  // namespace ngxwatch
