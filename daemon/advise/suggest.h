// `ngxwatch suggest`'s rules: measurements (what the daemon saw) against the
// effective configuration (what nginx was told) -> the directive changes that remove
// the cause, each with its evidence in plain words and numbers. Pure: the edits are
// checked with nginx -t and turned into a diff by suggest_report.h.
#pragma once

#include <string>
#include <vector>

#include "advise/config_edit.h"
#include "advise/measurements.h"
#include "nginx/config_model.h"

namespace ngxwatch::advise {

struct Suggestion {
  std::string id;        // rule: keepalive-timeout, read-timeout, body-size, ...
  std::string title;     // what to change, one line
  std::string evidence;  // what was measured, with the numbers, and why it is the cause
  std::string file;      // where the change goes (or the config line it concerns)
  int line = 0;
  std::vector<Edit> edits;  // empty when the fix is not in nginx
  std::string backend_fix;  // what to change on the backend, when the cause is there
  // What it is about, in the daemon's labels, so `top` can show it on that row:
  // a location (server + location) or, for upstream-wide changes, only the upstream.
  std::string server, location, upstream;
};

struct SuggestThresholds {
  // Requests at a location before connection churn is worth a change.
  uint64_t churn_min_requests = 20;
};

// Every rule over every measured location and upstream, in a stable order.
std::vector<Suggestion> suggest(const Measurements& measurements, const nginx::Config& config,
                                const SuggestThresholds& thresholds = {});

}  // namespace ngxwatch::advise
