// One detector finding as JSON: the same shape in the live API's snapshot
// (`findings`, read by top and scripts) and in `analyze --json`.
//   {kind, severity, upstream, server, location, subject, active, onset_ns,
//    evidence, numbers: {name: value}}
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "detect/finding.h"

namespace ngxwatch {

nlohmann::json finding_json(const Finding& f);
nlohmann::json findings_json(const std::vector<Finding>& findings);

}  // namespace ngxwatch
