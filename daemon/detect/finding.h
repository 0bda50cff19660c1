// What a detector concludes: a named condition at a place, since when, how bad, and
// the numbers behind it. Findings are plain values so `run` (metrics, API) and
// `analyze` (summary) print the same verdicts from the same event stream.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "attribute/config_view.h"

namespace ngxwatch {

struct Finding {
  std::string kind;       // retry_storm | temp_dir_fill | worker_exhaustion
  std::string severity;   // warning | critical
  Place place;            // where it applies (empty fields when host-wide)
  std::string subject;    // what it is about when not a location: a temp path, a worker
  uint64_t onset_ns = 0;  // event time (CLOCK_MONOTONIC) it began
  std::string evidence;   // one line with the measured numbers
  bool active = true;     // false once the condition stopped (kept for the report)
  // The evidence's numbers by name (peak_rate, ratio, ...): advice sizes its changes
  // from them instead of parsing the text.
  std::map<std::string, double> numbers;
};

}  // namespace ngxwatch
