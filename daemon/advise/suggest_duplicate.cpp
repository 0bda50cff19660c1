#include "advise/suggest_duplicate.h"

#include "advise/suggest_edits.h"

namespace ngxwatch::advise {

namespace {

// proxy_next_upstream without `non_idempotent` (and its defaults), or "" when it has none.
std::string without_non_idempotent(const std::string& value) {
  std::string out;
  size_t pos = 0;
  bool dropped = false;
  while (pos < value.size()) {
    size_t end = value.find(' ', pos);
    if (end == std::string::npos) end = value.size();
    std::string word = value.substr(pos, end - pos);
    if (word == "non_idempotent")
      dropped = true;
    else if (!word.empty())
      out += (out.empty() ? "" : " ") + word;
    pos = end + 1;
  }
  return dropped ? (out.empty() ? "error timeout" : out) : "";
}

}  // namespace

bool duplicate_risk_suggestion(Suggestion& s, const LocationMeasurements& lm,
                               const nginx::Config& config, const nginx::Location& loc) {
  if (lm.duplicate_risk == 0) return false;
  std::string where = "location " + s.location + " of server " + s.server;
  s.id = "duplicate-risk";
  s.title = where + ": " + count_of(lm.duplicate_risk, "request", "requests") +
            " may have been processed twice (make the backend idempotent)";
  s.evidence = count_of(lm.duplicate_risk, "POST/PUT/PATCH request", "POST/PUT/PATCH requests") +
               " at " + where + " failed after the whole request had reached the backend " +
               (lm.upstream.empty() ? std::string() : lm.upstream + " ") + "(" +
               lm.duplicate_risk_causes +
               "): the backend may have executed them although the client got a 502/504, and "
               "a client that retries runs them again.";
  s.backend_fix =
      "Accept an idempotency key (e.g. an Idempotency-Key header) on these endpoints and "
      "answer a repeated key with the first result, so a retried payment or webhook is "
      "executed once.";
  nginx::EffectiveValue next = config.effective(loc, "proxy_next_upstream");
  std::string fixed = without_non_idempotent(next.value());
  if (!fixed.empty()) {
    s.evidence += " proxy_next_upstream is " + setting(next) +
                  ": with non_idempotent nginx itself sends them to the next server.";
    s.edits.push_back(location_edit(loc, "proxy_next_upstream", fixed));
  } else {
    s.evidence += " proxy_next_upstream is " + setting(next) +
                  " (without non_idempotent: nginx does not resend them itself); keep it so.";
  }
  return true;
}

}  // namespace ngxwatch::advise
