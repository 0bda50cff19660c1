// The verdict of `ngxwatch gate` as text (for a person and a CI log) and as JSON (for
// scripts), with the reasons the run fails (gate_thresholds.h).
#pragma once

#include <string>
#include <vector>

#include "gate/gate_report.h"

namespace ngxwatch::gate {

std::string format_text(const GateReport& r, const std::vector<std::string>& reasons);
std::string format_json(const GateReport& r, const std::vector<std::string>& reasons);

// The load command as one line (for the report; arguments with spaces quoted).
std::string command_line(const std::vector<std::string>& argv);

}  // namespace ngxwatch::gate
