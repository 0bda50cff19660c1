// When `ngxwatch gate` fails a run: more client-visible errors than allowed, or any
// failure of a cause named in --fail-on. The reasons are judged per location too, so
// the JUnit report fails exactly the locations that crossed a threshold.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gate/gate_report.h"

namespace ngxwatch::gate {

// The failure causes the classifier and the detectors emit (DESIGN.md's taxonomy).
const std::vector<std::string>& known_causes();

struct Thresholds {
  uint64_t max_client_errors = 0;
  std::set<std::string> fail_on;  // causes: any one of them fails the run
};

// "a,b" -> the set; "" and *error set when a name is not a known cause.
std::set<std::string> parse_causes(const std::string& list, std::string* error);

// Why this location fails the run (empty: it does not): the --fail-on causes that
// occurred there, and its client-visible errors when the run's total is over the limit.
std::vector<std::string> location_reasons(const LocationReport& l, const Thresholds& t,
                                          bool over_client_limit);

// Why the run fails, one line each (empty: it passes the thresholds).
std::vector<std::string> run_reasons(const GateReport& r, const Thresholds& t);

}  // namespace ngxwatch::gate
